//! The host's own TLS stack, found statically: shared objects built by gcc in the test stand
//! for PHP's curl extension and the libraries it links (a `curl.so` linked against the real
//! libnss3, as CentOS 6/7's PHP is; a libcurl linked against an OpenSSL 1.0.2 or 3 soname), under
//! a test root. With OpenSSL 1.0.x, an expired DST Root CA X3 in the store is a failure.

mod support;

use std::path::Path;
use std::process::Command;
use support::{pen_doctor, Host, RunExt};

fn gcc(args: &[&str], cwd: &Path) {
    let out = Command::new("gcc").args(args).current_dir(cwd).output().expect("gcc is installed");
    assert!(out.status.success(), "gcc {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn stub(dir: &Path) {
    std::fs::write(dir.join("stub.c"), "int pen_doctor_stub(void) { return 0; }\n").unwrap();
}

/// `check --only ca` under `root`, the store being `bundle`: the `ca:store` entry.
fn store_check(root: &Path, bundle: &Path) -> serde_json::Value {
    let run = pen_doctor(Host)
        .args(["check", "--only", "ca", "--format", "json", "--target", "tramita", "--ca-bundle"])
        .arg(bundle)
        .env("PEN_DOCTOR_ROOT", root)
        .run();
    run.check("ca:store").clone()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/real-certs").join(name)).unwrap()
}

/// A root with an empty `/proc` (no process of the test machine is read) and the bundle ISRG
/// Root X1 + the expired DST Root CA X3.
fn root_and_bundle() -> (tempfile::TempDir, std::path::PathBuf) {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("proc")).unwrap();
    let bundle = root.path().join("bundle.pem");
    std::fs::write(&bundle, fixture("letsencrypt/isrg-root-x1.pem") + &fixture("letsencrypt/dst-root-ca-x3.pem"))
        .unwrap();
    (root, bundle)
}

/// A CentOS-7-shaped tree: libssl under `usr/lib64` (soname `libssl.so.10`, file `version`),
/// libcurl linked against it, and PHP's `curl.so` linked against libcurl.
fn rhel_tree(root: &Path, ssl_file: &str, ssl_soname: &str) {
    let lib = root.join("usr/lib64");
    let modules = lib.join("php/modules");
    std::fs::create_dir_all(&modules).unwrap();
    stub(&lib);
    gcc(&["-shared", "-fPIC", &format!("-Wl,-soname,{ssl_soname}"), "-o", ssl_file, "stub.c"], &lib);
    if ssl_file != ssl_soname {
        std::os::unix::fs::symlink(ssl_file, lib.join(ssl_soname)).unwrap();
    }
    gcc(
        &[
            "-shared",
            "-fPIC",
            "-Wl,-soname,libcurl.so.4",
            "-o",
            "libcurl.so.4",
            "stub.c",
            "-Wl,--no-as-needed",
            ssl_soname,
        ],
        &lib,
    );
    gcc(&["-shared", "-fPIC", "-o", "php/modules/curl.so", "stub.c", "-Wl,--no-as-needed", "libcurl.so.4"], &lib);
}

#[test]
fn a_curl_extension_linked_against_nss_is_named() {
    let (root, bundle) = root_and_bundle();
    let dir = root.path().join("usr/lib64/php/modules");
    std::fs::create_dir_all(&dir).unwrap();
    stub(&dir);
    let nss = ["/usr/lib/x86_64-linux-gnu/libnss3.so", "/usr/lib64/libnss3.so"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("libnss3 is installed (scripts/setup-test-deps)");
    gcc(&["-shared", "-fPIC", "-o", "curl.so", "stub.c", "-Wl,--no-as-needed", nss], &dir);
    let c = store_check(root.path(), &bundle);
    let stack = &c["evidence"]["tls_stack"];
    assert_eq!(stack["curl_extension"], "/usr/lib64/php/modules/curl.so", "{c:#}");
    assert_eq!(stack["backend"], "NSS", "{c:#}");
    assert_eq!(stack["unknown_issuer_wording"], "Peer's Certificate issuer is not recognized.");
    // NSS does not take the expired cross-sign path: the expired root stays a warning.
    let f = c["findings"].as_array().unwrap().iter().find(|f| f["code"] == "CA_STORE_EXPIRED_ROOTS").unwrap();
    assert_eq!(f["severity"], "warn");
}

#[test]
fn openssl_1_0_2_with_dst_root_ca_x3_in_the_store_is_a_failure() {
    let (root, bundle) = root_and_bundle();
    rhel_tree(root.path(), "libssl.so.1.0.2k", "libssl.so.10");
    let c = store_check(root.path(), &bundle);
    let stack = &c["evidence"]["tls_stack"];
    assert_eq!(stack["backend"], "OpenSSL", "{c:#}");
    assert_eq!(stack["version"], "1.0.2k");
    assert_eq!(stack["libcurl"], "/usr/lib64/libcurl.so.4");
    let f = c["findings"].as_array().unwrap().iter().find(|f| f["code"] == "CA_STORE_EXPIRED_ROOTS").unwrap();
    assert_eq!(f["severity"], "fail", "{c:#}");
    assert_eq!(c["status"], "fail");
}

#[test]
fn openssl_3_with_the_same_store_keeps_it_a_warning() {
    let (root, bundle) = root_and_bundle();
    rhel_tree(root.path(), "libssl.so.3", "libssl.so.3");
    let c = store_check(root.path(), &bundle);
    assert_eq!(c["evidence"]["tls_stack"]["version"], "3", "{c:#}");
    let f = c["findings"].as_array().unwrap().iter().find(|f| f["code"] == "CA_STORE_EXPIRED_ROOTS").unwrap();
    assert_eq!(f["severity"], "warn");
}

#[test]
fn a_hostile_curl_so_gives_no_stack_and_no_crash() {
    let (root, bundle) = root_and_bundle();
    let dir = root.path().join("usr/lib64/php/modules");
    std::fs::create_dir_all(&dir).unwrap();
    let mut bytes = b"\x7fELF\x02\x01\x01".to_vec();
    bytes.extend(std::iter::repeat_n(0xffu8, 4096));
    std::fs::write(dir.join("curl.so"), bytes).unwrap();
    let c = store_check(root.path(), &bundle);
    assert_eq!(c["evidence"]["tls_stack"]["curl_extension"], "/usr/lib64/php/modules/curl.so", "{c:#}");
    assert!(c["evidence"]["tls_stack"]["backend"].is_null());
}
