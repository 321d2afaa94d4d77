//! `ca:store`: which bundle is chosen and why, and what is wrong with it.

mod support;

use support::pki_tls::*;

fn store_check(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["check", "--only", "ca", "--format", "json"];
    all.extend_from_slice(args);
    let run = pen_doctor(&all, &[]);
    check(&run.json(), "ca:store").clone()
}

#[test]
fn healthy_bundle_with_isrg_root_x1() {
    let pki = Pki::new();
    let b = pki.write("bundle.pem", isrg_x1() + &pki.root.pem());
    let chk = store_check(&["--target", "tramita", "--ca-bundle", b.to_str().unwrap()]);
    assert_eq!(chk["status"], "ok", "{chk:#}");
    assert_eq!(chk["evidence"]["count"], 2);
    assert_eq!(chk["evidence"]["source"], "--ca-bundle");
    assert_eq!(chk["evidence"]["well_known_roots"][0]["name"], "ISRG Root X1");
}

#[test]
fn missing_isrg_fails_for_tramita_only() {
    let pki = Pki::new();
    let b = pki.write("bundle.pem", pki.root.pem());
    let chk = store_check(&["--target", "tramita", "--ca-bundle", b.to_str().unwrap()]);
    assert_eq!(finding(&chk, "CA_STORE_MISSING_ISRG_ROOT_X1")["severity"], "fail");
    assert_eq!(chk["status"], "fail");
    let chk = store_check(&["--target", "protocolo-integrado", "--ca-bundle", b.to_str().unwrap()]);
    assert_eq!(finding(&chk, "CA_STORE_MISSING_ISRG_ROOT_X1")["severity"], "info");
    assert_eq!(chk["status"], "ok");
}

#[test]
fn expired_roots_and_icp_brasil() {
    let pki = Pki::new();
    let b = pki.write("bundle.pem", isrg_x1() + &pki.old_root.pem());
    let chk = store_check(&["--target", "tramita,pucomex", "--ca-bundle", b.to_str().unwrap()]);
    let f = finding(&chk, "CA_STORE_EXPIRED_ROOTS");
    // Not a root a target's chain goes through (DST Root CA X3 is: tests/diagnosis.rs): info.
    assert_eq!(f["severity"], "info");
    assert!(f["message"].as_str().unwrap().contains("Teste Old Root X3"));
    finding(&chk, "CA_STORE_MISSING_ICP_BRASIL");

    // The real root ITI publishes is recognised by its fingerprint...
    let real = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/real-certs/icp-brasil/ICP-Brasilv10.pem"),
    )
    .unwrap();
    let b = pki.write("icp.pem", isrg_x1() + &real);
    let chk = store_check(&["--target", "pucomex", "--ca-bundle", b.to_str().unwrap()]);
    assert!(!codes(&chk).contains(&"CA_STORE_MISSING_ICP_BRASIL".to_string()), "{chk:#}");
    assert_eq!(chk["evidence"]["well_known_roots"][1]["name"], "ICP-Brasil v10");

    // ...a root that only borrows its name is not.
    let fake =
        issue(&Spec { org: "ICP-Brasil", ..Spec::ca("Autoridade Certificadora Raiz Brasileira v10") }, ec_key(), None);
    let b = pki.write("fake-icp.pem", isrg_x1() + &fake.pem());
    let chk = store_check(&["--target", "pucomex", "--ca-bundle", b.to_str().unwrap()]);
    finding(&chk, "CA_STORE_MISSING_ICP_BRASIL");
}

#[test]
fn bad_bundles() {
    let pki = Pki::new();
    let chk = store_check(&["--target", "tramita", "--ca-bundle", pki.path("none.pem").to_str().unwrap()]);
    assert_eq!(codes(&chk), vec!["CA_STORE_NOT_FOUND"]);

    let root = pki.root.pem();
    let damaged = root.replacen("MII", "M!I", 1);
    let garbage = format!("{}\nsome text is fine\n{damaged}\n\x00\x01\x02binary\n{}", isrg_x1(), pki.inter.pem());
    let b = pki.write("garbage.pem", garbage);
    let chk = store_check(&["--target", "tramita", "--ca-bundle", b.to_str().unwrap()]);
    assert_eq!(codes(&chk), vec!["CA_STORE_GARBAGE"], "{chk:#}");
    assert_eq!(chk["evidence"]["count"], 2);

    let big = pki.path("big.pem");
    std::fs::File::create(&big).unwrap().set_len(17 * 1024 * 1024).unwrap();
    let chk = store_check(&["--target", "tramita", "--ca-bundle", big.to_str().unwrap()]);
    assert_eq!(codes(&chk), vec!["CA_STORE_UNREADABLE"]);

    let empty = pki.write("empty.pem", "");
    let chk = store_check(&["--target", "tramita", "--ca-bundle", empty.to_str().unwrap()]);
    assert_eq!(codes(&chk), vec!["CA_STORE_UNREADABLE"]);
}

#[test]
fn php_ini_names_the_bundle() {
    let pki = Pki::new();
    let b = pki.write("php-bundle.pem", isrg_x1());
    let ini = pki.write("php.ini", format!("[openssl]\n;openssl.cafile=/nope\nopenssl.cafile = \"{}\"\n", b.display()));
    let chk = store_check(&["--target", "tramita", "--php-ini", ini.to_str().unwrap()]);
    assert_eq!(chk["status"], "ok", "{chk:#}");
    assert_eq!(chk["evidence"]["path"], b.to_str().unwrap());
    assert!(chk["evidence"]["source"].as_str().unwrap().contains("openssl.cafile"));
}

#[test]
fn environment_and_distribution_default() {
    let run = pen_doctor(
        &["check", "--only", "ca", "--target", "tramita", "--format", "json"],
        &[("SSL_CERT_DIR", "/etc/ssl/certs")],
    );
    let json = run.json();
    let chk = check(&json, "ca:store");
    assert_eq!(chk["evidence"]["source"], "SSL_CERT_DIR", "{chk:#}");
    assert!(chk["evidence"]["count"].as_u64().unwrap() > 50);
    assert!(!codes(chk).contains(&"CA_STORE_MISSING_ISRG_ROOT_X1".to_string()), "{chk:#}");

    let run = pen_doctor(&["check", "--only", "ca", "--target", "tramita", "--format", "json"], &[]);
    let json = run.json();
    let chk = check(&json, "ca:store");
    if std::path::Path::new("/etc/php").exists() || std::path::Path::new("/etc/php.ini").exists() {
        return; // a php.ini on this machine may name its own bundle
    }
    assert_eq!(chk["evidence"]["path"], "/etc/ssl/certs/ca-certificates.crt");
    assert_eq!(chk["evidence"]["source"], "OpenSSL default for this distribution");
    // The distribution's bundle may carry expired roots (a warning), never a failure.
    assert_ne!(chk["status"], "fail", "{chk:#}");
    assert!(codes(chk).iter().all(|c| c == "CA_STORE_EXPIRED_ROOTS"), "{chk:#}");
}
