//! No secret ever leaves: certificate, database and web-service passwords and private keys are
//! absent from stdout, stderr and `--output` in every format and language, on the happy path
//! and on the error paths (wrong password, unreachable database with the password in its URL,
//! a PHP parse error on the line that holds a password).

mod support;
use support::*;

const CERT_PW: &str = "Cert-Pw-9f3a1c!";
const DB_URL_PW: &str = "Db-Url-Pw-7d2e";
const DB_ENV_PW: &str = "Db-Env-Pw-4b8c";
const PI_PW: &str = "Pi-Ws-Pw-1e6f";
/// The passwords written in fixtures/sei/*.
const FIXTURE_SECRETS: &[&str] = &["S3nh4-Cert-Fixture!", "S3nh4-Banco-Fixture!", "S3nh4-PI-Fixture!"];
const FORMATS: &[&str] = &["human", "json", "markdown", "junit", "nagios", "prometheus"];

/// The base64 lines of a PEM file's private-key blocks: none may be printed.
fn key_lines(pem: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(pem).unwrap();
    let mut out = Vec::new();
    let mut in_key = false;
    for line in text.lines() {
        if line.starts_with("-----BEGIN") {
            in_key = line.contains("PRIVATE KEY");
        } else if line.starts_with("-----END") {
            in_key = false;
        } else if in_key && line.len() >= 16 && !line.contains(':') {
            out.push(line.to_string());
        }
    }
    assert!(!out.is_empty(), "{} holds a private key", pem.display());
    out
}

struct Secrets(Vec<String>);

impl Secrets {
    fn assert_absent(&self, what: &str, text: &str) {
        for s in &self.0 {
            assert!(!text.contains(s.as_str()), "{what} shows a secret ({}…):\n{text}", &s[..6.min(s.len())]);
        }
        assert!(!text.contains("PRIVATE KEY-----"), "{what} shows a private key block");
    }
}

fn run_every_format(secrets: &Secrets, base: &[&str], envs: &[(&str, &str)]) {
    let out_dir = temp_dir("secrets-out");
    for format in FORMATS {
        for lang in ["pt", "en"] {
            let output = out_dir.path().join(format!("report-{format}-{lang}"));
            let mut cmd = pen_doctor(Host);
            cmd.args(base).args(["--format", format, "--lang", lang, "--color", "always"]);
            for (k, v) in envs {
                cmd.env(k, v);
            }
            let run = cmd.run();
            assert!(matches!(run.code, Some(0..=3)), "{format}: {}\n{}", run.cmdline, run.stderr);
            let what = format!("{format}/{lang}");
            secrets.assert_absent(&format!("stdout {what}"), &run.stdout);
            secrets.assert_absent(&format!("stderr {what}"), &run.stderr);
            let mut cmd = pen_doctor(Host);
            cmd.args(base).args(["--format", format, "--lang", lang]).arg("--output").arg(&output);
            for (k, v) in envs {
                cmd.env(k, v);
            }
            let run = cmd.run();
            secrets.assert_absent(&format!("stderr {what} --output"), &run.stderr);
            let written = std::fs::read_to_string(&output).unwrap_or_default();
            assert!(!written.is_empty(), "{what}: --output written");
            secrets.assert_absent(&format!("--output {what}"), &written);
        }
    }
}

fn common_flags(closed: u16) -> Vec<String> {
    CheckArgs::new()
        .timeout("500ms")
        .flag("--deadline", "20s")
        .flag("--ntp-server", format!("127.0.0.1:{closed}"))
        .endpoints_at(&format!("https://127.0.0.1:{closed}"))
        .argv()
        .to_vec()
}

#[test]
fn no_secret_in_any_format_with_a_full_configuration() {
    let closed = free_port(Host);
    let pki = Pki::new();
    let root = pki.root("Secrets Test Root");
    let client = pki.leaf(&root, LeafSpec::client("orgao-teste.gov.br"));
    let combined = pki.combined_pem(&client, CERT_PW);
    let p12 = pki.pkcs12(&client, CERT_PW);
    let mut secrets: Vec<String> = [CERT_PW, DB_URL_PW, DB_ENV_PW, PI_PW].iter().map(|s| s.to_string()).collect();
    secrets.extend(FIXTURE_SECRETS.iter().map(|s| s.to_string()));
    secrets.extend(key_lines(&combined));
    secrets.extend(key_lines(&client.key));
    let secrets = Secrets(secrets);
    let sei = support::node::sei_copy("modpen4");

    let mut base = common_flags(closed);
    base.extend(
        [
            "--sei-dir",
            sei.path().to_str().unwrap(),
            "--cert",
            combined.to_str().unwrap(),
            "--cert-password-env",
            "PDT_CERT_PW",
            "--pucomex-cert",
            p12.to_str().unwrap(),
            "--pucomex-password-env",
            "PDT_CERT_PW",
            "--target",
            "tramita,pendencias,protocolo-integrado,pucomex",
            "--endpoint",
            &format!("pucomex=https://127.0.0.1:{closed}/"),
            "--pi-user",
            "usuario-pi",
            "--pi-password-env",
            "PDT_PI_PW",
            "--db",
            &format!("mysql://sei_user:{DB_URL_PW}@127.0.0.1:{closed}/sei"),
            "--webhook",
            &format!("https://hook-user:{PI_PW}@127.0.0.1:{closed}/pucomex"),
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let base: Vec<&str> = base.iter().map(String::as_str).collect();
    let envs = [("PDT_CERT_PW", CERT_PW), ("PDT_PI_PW", PI_PW), ("PEN_DOCTOR_DB_PASSWORD", DB_ENV_PW)];
    run_every_format(&secrets, &base, &envs);
    assert_bundle_clean(&secrets, &base, &envs);
}

/// The ticket bundle of the same run, unpacked with the real `tar`: no member shows a secret.
fn assert_bundle_clean(secrets: &Secrets, base: &[&str], envs: &[(&str, &str)]) {
    let dir = temp_dir("secrets-bundle");
    let bundle = dir.path().join("chamado.tar.gz");
    let mut cmd = pen_doctor(Host);
    cmd.args(base).arg("--bundle").arg(&bundle);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let run = cmd.run();
    secrets.assert_absent("stdout with --bundle", &run.stdout);
    secrets.assert_absent("stderr with --bundle", &run.stderr);
    let out = std::process::Command::new("tar").arg("-xzf").arg(&bundle).arg("-C").arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{run}\ntar: {}", String::from_utf8_lossy(&out.stderr));
    let mut members = 0;
    let mut pending = vec![dir.path().join("pen-doctor-bundle")];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                pending.push(p);
            } else {
                members += 1;
                let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
                secrets.assert_absent(&format!("bundle member {}", p.display()), &text);
            }
        }
    }
    assert!(members >= 8, "the bundle holds the reports, the configuration files and the manifest");
}

#[test]
fn no_secret_on_error_paths() {
    let closed = free_port(Host);
    let pki = Pki::new();
    let root = pki.root("Secrets Error Root");
    let client = pki.leaf(&root, LeafSpec::client("orgao-erro.gov.br"));
    let combined = pki.combined_pem(&client, CERT_PW);
    let mut secrets: Vec<String> = [CERT_PW, DB_URL_PW].iter().map(|s| s.to_string()).collect();
    secrets.extend(FIXTURE_SECRETS.iter().map(|s| s.to_string()));
    secrets.extend(key_lines(&combined));
    let secrets = Secrets(secrets);

    // The SEI configuration's certificate password is the fixture's, wrong for this key.
    let sei = support::node::sei_copy("modpen4");
    let mut base = common_flags(closed);
    base.extend(
        ["--sei-dir", sei.path().to_str().unwrap(), "--cert", combined.to_str().unwrap()].iter().map(|s| s.to_string()),
    );
    base.extend(["--db".to_string(), format!("mysql://sei_user:{DB_URL_PW}@127.0.0.1:{closed}/sei")]);
    let base_refs: Vec<&str> = base.iter().map(String::as_str).collect();
    run_every_format(&secrets, &base_refs, &[]);

    // A configuration cut off on the line that holds the database password.
    let broken = support::node::sei_copy("broken");
    let mut base = common_flags(closed);
    base.extend(["--sei-dir".to_string(), broken.path().to_str().unwrap().to_string()]);
    let base_refs: Vec<&str> = base.iter().map(String::as_str).collect();
    run_every_format(&secrets, &base_refs, &[]);

    // `pen-doctor cert` with a wrong password.
    for format in ["human", "json", "markdown"] {
        let run = pen_doctor(Host)
            .args(["cert", combined.to_str().unwrap(), "--password-env", "PDT_WRONG", "--format", format])
            .env("PDT_WRONG", "S3nh4-Cert-Fixture!")
            .run();
        secrets.assert_absent(&format!("cert {format} stdout"), &run.stdout);
        secrets.assert_absent(&format!("cert {format} stderr"), &run.stderr);
    }
}

#[test]
fn the_scan_sees_a_leak() {
    // Guards the tests above: the same scan over a text that does hold the secrets fails.
    let pki = Pki::new();
    let root = pki.root("Secrets Scan Root");
    let client = pki.leaf(&root, LeafSpec::client("scan.gov.br"));
    let combined = pki.combined_pem(&client, CERT_PW);
    let secrets = Secrets(key_lines(&combined));
    let leaked = std::fs::read_to_string(&combined).unwrap().replace("PRIVATE KEY-----", "");
    let caught = std::panic::catch_unwind(|| secrets.assert_absent("leak", &leaked));
    assert!(caught.is_err(), "a printed key body must be caught");
    let caught =
        std::panic::catch_unwind(|| Secrets(vec![CERT_PW.into()]).assert_absent("leak", &format!("x {CERT_PW} y")));
    assert!(caught.is_err(), "a printed password must be caught");
}
