//! The host's own `curl` asked the way PHP's curl goes, against a real nginx that verifies
//! client certificates (`ssl_verify_client on`) with a client PKI the suite makes: its verdict
//! agrees with pen-doctor's for a good certificate and for a wrong password, disagrees for a
//! PKCS#12 only pen-doctor opens (RC2/3DES, which OpenSSL 3 refuses without its legacy
//! provider); the password never reaches curl's command line or environment (a stand-in curl
//! on `PATH` records both, then runs the real one) nor any report. The host's curl is asked
//! only where it can stand for PHP's: PHP's curl extension (a `curl.so` gcc builds here, named
//! by the php.ini given) links the same libcurl as the curl command, or one not found.

mod support;
use support::pki_tls;

use pki_tls::*;
use std::path::{Path, PathBuf};
use support::{Mtls, Running, Scenario, Site};

const PASS: &str = "Senha-Do-Curl-7";
const WRONG: &str = "Errada-Do-Curl-9";

/// A [`Scenario`] serving Pucomex's base URL with mutual TLS on `api.test`, with a client
/// certificate in a PEM file (key encrypted with [`PASS`]).
struct Lab {
    lab: Running,
    /// A php.ini whose `extension_dir` holds a `curl.so` linking the system's libcurl.
    php_ini: PathBuf,
}

/// The system's libcurl (the one the `curl` command links).
fn system_libcurl() -> PathBuf {
    ["/usr/lib/x86_64-linux-gnu/libcurl.so.4", "/usr/lib/aarch64-linux-gnu/libcurl.so.4", "/usr/lib64/libcurl.so.4"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("libcurl is installed with curl")
}

/// A php.ini under `dir` whose `extension_dir` holds a `curl.so` (built by gcc) linking
/// `libcurl`: the system's, or a copy of it in the extension directory (another libcurl file).
fn php_with_curl(dir: &Path, own_copy: bool) -> PathBuf {
    let modules = dir.join("modules");
    std::fs::create_dir_all(&modules).unwrap();
    std::fs::write(modules.join("stub.c"), "int pen_doctor_stub(void) { return 0; }\n").unwrap();
    let lib = if own_copy {
        let copy = modules.join("libcurl.so.4");
        std::fs::copy(system_libcurl(), &copy).unwrap();
        copy
    } else {
        system_libcurl()
    };
    let out = std::process::Command::new("gcc")
        .args(["-shared", "-fPIC", "-o", "curl.so", "stub.c", "-Wl,--no-as-needed"])
        .arg(&lib)
        .current_dir(&modules)
        .output()
        .expect("gcc is installed");
    assert!(out.status.success(), "gcc: {}", String::from_utf8_lossy(&out.stderr));
    let ini = dir.join("php.ini");
    std::fs::write(&ini, format!("extension_dir = \"{}\"\n", modules.display())).unwrap();
    ini
}

impl Lab {
    fn new() -> Lab {
        let lab = Scenario::new()
            .host("api.test")
            .mtls(Mtls::On)
            .client_cn("ORGAO CURL:00394460000141")
            .password(PASS)
            .site(Site::ok())
            .target("pucomex", "api.test", "/")
            .start();
        let php_ini = php_with_curl(&lab.pki().dir().join("php"), false);
        Lab { lab, php_ini }
    }

    /// `check --only http` of Pucomex (mutual TLS, the base URL asked as is) with `cert` and
    /// `password`, in `format`; `path` is prepended to `PATH` (a stand-in curl).
    fn run(&self, cert: &Path, password: &str, format: &str, path: Option<&Path>) -> Run {
        self.run_with(cert, password, format, path, &self.php_ini)
    }

    fn run_with(&self, cert: &Path, password: &str, format: &str, path: Option<&Path>, php_ini: &Path) -> Run {
        let search = match path {
            Some(p) => format!("{}:{}", p.display(), support::CLEAN_PATH),
            None => support::CLEAN_PATH.to_string(),
        };
        let args = self
            .lab
            .target_args()
            .only("http")
            .timeout("3s")
            .format(format)
            .ca_bundle(self.lab.store())
            .flag("--pucomex-cert", cert.to_str().unwrap())
            .flag("--pucomex-password-env", "CP")
            .flag("--php-ini", php_ini.to_str().unwrap());
        let run = pen_doctor(&args.strs(), &[("CP", password), ("PATH", &search)]);
        assert!(!run.stderr.contains("panicked"), "{run}");
        for secret in [PASS, WRONG] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "the password leaked ({format})\n{run}"
            );
        }
        run
    }

    fn http(&self, cert: &Path, password: &str) -> serde_json::Value {
        let run = self.run(cert, password, "json", None);
        for format in ["human", "markdown"] {
            self.run(cert, password, format, None);
        }
        check(&run.json(), "http:pucomex").clone()
    }

    fn encrypted_pem(&self) -> PathBuf {
        self.lab.client_pem().to_path_buf()
    }
}

#[test]
fn a_good_certificate_curl_and_pen_doctor_agree() {
    let lab = Lab::new();
    let http = lab.http(&lab.encrypted_pem(), PASS);
    assert_eq!(http["status"], "ok", "{http:#}");
    assert!(codes(&http).is_empty(), "{http:#}");
    let curl = &http["evidence"]["host_curl"];
    assert_eq!(curl["says"], "ok", "{http:#}");
    assert_eq!(curl["exit"], 0);
    assert_eq!(curl["http_code"], 200);
    // Both went in, each with the client certificate (nginx answers 400 without one): one
    // request of ours and one of curl per run (json, human, markdown).
    let log = lab.lab.nginx().access_log();
    let ok = |agent: &str| log.lines().filter(|l| l.contains("\" 200 ") && l.contains(agent)).count();
    assert_eq!((ok("pen-doctor/"), ok("curl/")), (3, 3), "{log}");
}

#[test]
fn a_wrong_password_both_refuse_and_it_shows_nowhere() {
    let lab = Lab::new();
    let http = lab.http(&lab.encrypted_pem(), WRONG);
    assert!(!codes(&http).contains(&"HOST_CURL_DISAGREES".to_string()), "{http:#}");
    let curl = &http["evidence"]["host_curl"];
    assert_eq!(curl["says"], "client-cert-unusable", "{http:#}");
    assert_eq!(curl["exit"], 58, "{http:#}");
}

#[test]
fn a_pkcs12_only_pen_doctor_opens_is_a_disagreement() {
    let lab = Lab::new();
    let (pki, client) = (lab.lab.pki(), lab.lab.client());
    let pem = pki.write("plain.pem", client.pem() + &client.key_pem());
    let legacy = pki.path("legacy.p12");
    let out = std::process::Command::new("openssl")
        .args(["pkcs12", "-export", "-legacy", "-in", pem.to_str().unwrap(), "-out", legacy.to_str().unwrap()])
        .args(["-passout", &format!("pass:{PASS}")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let http = lab.http(&legacy, PASS);
    // Ours: accepted. curl (OpenSSL 3 without the legacy provider): cannot open it.
    assert_eq!(codes(&http), vec!["HOST_CURL_DISAGREES"], "{http:#}");
    assert_eq!(http["status"], "warn");
    assert_eq!(http["evidence"]["host_curl"]["says"], "client-cert-unusable", "{http:#}");
    let f = finding(&http, "HOST_CURL_DISAGREES");
    assert!(f["params"]["curl"].as_str().unwrap().contains("could not be used"), "{f:#}");
    assert_eq!(f["params"]["ours"], "the server answered over TLS");
    assert!(f["message"].as_str().unwrap().contains("api.test"), "{f:#}");
    // Said in Portuguese in a Portuguese report, the verdicts' words too.
    let human = lab.run(&legacy, PASS, "human", None);
    assert!(human.stdout.contains("o certificado do cliente não pôde ser usado"), "{human}");
}

#[test]
fn the_password_reaches_curl_on_its_stdin_only() {
    let lab = Lab::new();
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("record");
    std::fs::create_dir(&record).unwrap();
    let wrapper = dir.path().join("curl");
    // The stand-in: records its own command line, stdin and environment as the kernel shows
    // them, then becomes the real curl (same process, same stdin).
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\ncat /proc/$$/cmdline > {r}/cmdline\nreadlink /proc/$$/fd/0 > {r}/stdin\n\
             cat /proc/$$/environ > {r}/environ\nexec /usr/bin/curl \"$@\"\n",
            r = record.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let run = lab.run(&lab.encrypted_pem(), PASS, "json", Some(dir.path()));
    let http = check(&run.json(), "http:pucomex").clone();
    assert_eq!(http["evidence"]["host_curl"]["says"], "ok", "{http:#}");
    assert!(http["evidence"]["host_curl"]["tool"].as_str().unwrap().contains(wrapper.to_str().unwrap()), "{http:#}");
    let cmdline = std::fs::read(record.join("cmdline")).unwrap();
    let args: Vec<String> =
        cmdline.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    assert_eq!(&args[args.len() - 2..], ["-K", "-"], "{args:?}");
    assert!(!args.iter().any(|a| a.contains(PASS)), "{args:?}");
    let environ = std::fs::read(record.join("environ")).unwrap();
    assert!(!String::from_utf8_lossy(&environ).contains(PASS), "the password is in curl's environment");
    assert!(!String::from_utf8_lossy(&environ).contains("CP="), "pen-doctor's environment reached curl");
    let stdin = std::fs::read_to_string(record.join("stdin")).unwrap();
    assert!(stdin.starts_with("pipe:"), "curl's stdin is {stdin}");
}

#[test]
fn a_curl_on_another_libcurl_than_phps_is_not_asked() {
    let lab = Lab::new();
    // PHP's curl extension links a libcurl of its own (another file than the curl command's):
    // the command's verdict would not be PHP's, and its connection would be one more for nothing.
    let other = php_with_curl(&lab.lab.pki().dir().join("php-other"), true);
    let run = lab.run_with(&lab.encrypted_pem(), PASS, "json", None, &other);
    let http = check(&run.json(), "http:pucomex").clone();
    assert_eq!(http["status"], "ok", "{http:#}");
    assert!(http["evidence"]["host_curl"].is_null(), "{http:#}");
    let log = lab.lab.nginx().access_log();
    assert_eq!(log.lines().filter(|l| l.contains("curl/")).count(), 0, "{log}");
    assert_eq!(log.lines().filter(|l| l.contains("pen-doctor/")).count(), 1, "{log}");
}
