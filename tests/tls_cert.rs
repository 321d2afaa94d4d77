//! `pen-doctor cert FILE` and `check --only cert`: the client certificate file in every shape a
//! user may have (PEM with key encrypted both ways, PKCS#12, expired, broken, hostile input).

mod support;

use std::os::unix::fs::PermissionsExt;
use support::pki_tls::*;

const PASS: &str = "s3nh@-Secreta-42";

fn cert_json(file: &std::path::Path, password: Option<&str>) -> (Run, serde_json::Value) {
    let mut args = vec!["cert", file.to_str().unwrap(), "--format", "json"];
    let mut env = Vec::new();
    if let Some(p) = password {
        args.extend(["--password-env", "CERT_PASS"]);
        env.push(("CERT_PASS", p));
    }
    let run = pen_doctor(&args, &env);
    assert!(!run.stdout.contains(PASS) && !run.stderr.contains(PASS), "password leaked");
    let json = run.json();
    let c = check(&json, "cert:file").clone();
    (run, c)
}

fn good_client(pki: &Pki) -> Issued {
    pki.client(&Spec::client("ORGAO TESTE:00394460000141", "ICP-Brasil"))
}

#[test]
fn good_pem_with_pkcs8_encrypted_key_prints_facts_in_every_format() {
    let pki = Pki::new();
    let c = good_client(&pki);
    let file = pki.write("good.pem", c.pem() + &c.key_pem_pkcs8_encrypted(PASS));
    let (run, chk) = cert_json(&file, Some(PASS));
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(chk["status"], "ok", "{chk:#}");
    let ev = &chk["evidence"]["certificate"];
    assert!(ev["subject"].as_str().unwrap().contains("ORGAO TESTE"));
    assert_eq!(ev["key_type"], "RSA");
    assert_eq!(ev["key_bits"], 2048);
    assert!(ev["sha256"].as_str().unwrap().len() == 95);
    assert!(chk["evidence"]["days_left"].as_i64().unwrap() >= 298);
    for format in ["human", "markdown"] {
        let run = pen_doctor(
            &["cert", file.to_str().unwrap(), "--password-env", "CERT_PASS", "--format", format, "--lang", "en"],
            &[("CERT_PASS", PASS)],
        );
        assert_eq!(run.code, Some(0), "{}", run.stdout);
        assert!(run.stdout.contains("ORGAO TESTE") && run.stdout.contains("SHA-256"), "{}", run.stdout);
        assert!(!run.stdout.contains(PASS));
    }
}

#[test]
fn icp_brasil_cnpj_and_cpf_are_shown() {
    let pki = Pki::new();
    let mut spec = Spec::client("ORGAO TESTE:00394460000141", "ICP-Brasil");
    spec.other_names = vec![
        ("2.16.76.1.3.3", "00394460000141".to_string()),
        // Birth date, CPF, NIS, RG and issuer: longer than 48 bytes, so its length byte is a digit.
        ("2.16.76.1.3.1", format!("01011980{}{}{}SSPDF", "12345678909", "0".repeat(11), "0".repeat(15))),
    ];
    let c = pki.client(&spec);
    let file = pki.write("icp.pem", c.pem() + &c.key_pem());
    let (_, chk) = cert_json(&file, None);
    assert_eq!(chk["evidence"]["certificate"]["icp_cnpj"], "00394460000141", "{chk:#}");
    assert_eq!(chk["evidence"]["certificate"]["icp_cpf"], "12345678909");
    let human = pen_doctor(&["cert", file.to_str().unwrap()], &[]);
    assert!(human.stdout.contains("CNPJ") && human.stdout.contains("00394460000141"), "{}", human.stdout);
}

#[test]
fn legacy_encrypted_key_and_pkcs12_load() {
    let pki = Pki::new();
    let c = good_client(&pki);
    let file = pki.write("legacy.pem", c.pem() + &c.key_pem_legacy_encrypted(PASS));
    assert!(std::fs::read_to_string(&file).unwrap().contains("Proc-Type: 4,ENCRYPTED"));
    let (run, chk) = cert_json(&file, Some(PASS));
    assert_eq!(chk["status"], "ok", "{chk:#}");
    assert_eq!(run.code, Some(0));

    let p12 = pki.write("a1.p12", c.p12(PASS, &[&pki.client_ca]));
    let (_, chk) = cert_json(&p12, Some(PASS));
    assert_eq!(chk["status"], "ok", "{chk:#}");
    assert_eq!(chk["evidence"]["format"], "PKCS#12");

    let (run, chk) = cert_json(&p12, Some("wrong password"));
    assert_eq!(codes(&chk), vec!["CLIENT_CERT_BAD_PASSWORD"]);
    assert_eq!(run.code, Some(1));

    // An old-style export (RC2/3DES, as older Windows tools write), made by the openssl CLI.
    let pem = pki.write("plain.pem", c.pem() + &c.key_pem());
    let legacy = pki.pkcs12_cli("legacy.p12", &pem, PASS, &["-legacy"]);
    std::fs::set_permissions(&legacy, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let (_, chk) = cert_json(&legacy, Some(PASS));
    assert_eq!(chk["status"], "ok", "{chk:#}");
    // Readable, and said to be legacy (info) with the re-export command.
    assert_eq!(codes(&chk), vec!["CLIENT_CERT_LEGACY_PKCS12"]);
    let f = finding(&chk, "CLIENT_CERT_LEGACY_PKCS12");
    assert_eq!(f["severity"], "info");
    let algorithms = f["params"]["algorithms"].as_str().unwrap();
    assert!(algorithms.contains("RC2") && algorithms.contains("3-KeyTripleDES"), "{f:#}");
    assert!(f["fix"].to_string().contains("openssl pkcs12 -legacy -in"), "{f:#}");
    let (_, chk) = cert_json(&legacy, Some("wrong password"));
    assert_eq!(codes(&chk), vec!["CLIENT_CERT_BAD_PASSWORD", "CLIENT_CERT_LEGACY_PKCS12"]);

    // The same certificate exported by OpenSSL 3's defaults (AES, PBKDF2) is not legacy.
    let modern = pki.pkcs12_cli("modern.p12", &pem, PASS, &[]);
    std::fs::set_permissions(&modern, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let (_, chk) = cert_json(&modern, Some(PASS));
    assert!(codes(&chk).is_empty(), "{chk:#}");
}

#[test]
fn wrong_or_missing_password() {
    let pki = Pki::new();
    let c = good_client(&pki);
    let file = pki.write("enc.pem", c.pem() + &c.key_pem_pkcs8_encrypted(PASS));
    let (run, chk) = cert_json(&file, Some("not the password"));
    assert_eq!(codes(&chk), vec!["CLIENT_CERT_BAD_PASSWORD"]);
    assert_eq!(run.code, Some(1));
    let (_, chk) = cert_json(&file, None);
    assert_eq!(codes(&chk), vec!["CLIENT_CERT_NO_PASSWORD"]);
}

#[test]
fn expired_certificate_maps_to_cause_1() {
    let pki = Pki::new();
    let c = pki.client(&Spec::client("ORGAO VENCIDO", "ICP-Brasil").valid(now() - 400 * DAY, now() - 5 * DAY));
    let file = pki.write("expired.pem", c.pem() + &c.key_pem());
    let (run, chk) = cert_json(&file, None);
    assert_eq!(run.code, Some(1));
    let f = finding(&chk, "CLIENT_CERT_EXPIRED");
    assert_eq!(f["kb"]["article"], "TRAMITA-FALHA-COMUNICACAO");
    assert_eq!(f["kb"]["cause"], 1);
    let human = pen_doctor(&["cert", file.to_str().unwrap(), "--lang", "en"], &[]);
    assert_eq!(human.code, Some(1));
    assert!(human.stdout.contains("CLIENT_CERT_EXPIRED") && human.stdout.contains("TRAMITA-FALHA-COMUNICACAO"));
    assert!(human.stdout.contains("ORGAO VENCIDO"));
}

#[test]
fn validity_usage_and_issuer_findings() {
    let pki = Pki::new();
    let future = pki.client(&Spec::client("ORGAO FUTURO", "ICP-Brasil").valid(now() + 5 * DAY, now() + 300 * DAY));
    let f = pki.write("future.pem", future.pem() + &future.key_pem());
    assert_eq!(codes(&cert_json(&f, None).1), vec!["CLIENT_CERT_NOT_YET_VALID"]);

    let soon = pki.client(&Spec::client("ORGAO QUASE", "ICP-Brasil").valid(now() - 300 * DAY, now() + 10 * DAY));
    let f = pki.write("soon.pem", soon.pem() + &soon.key_pem());
    let (run, chk) = cert_json(&f, None);
    assert_eq!(codes(&chk), vec!["CLIENT_CERT_EXPIRING"]);
    assert_eq!(chk["status"], "warn");
    assert_eq!(run.code, Some(0));

    let mut spec = Spec::client("ORGAO EMAIL", "ICP-Brasil");
    spec.eku = Some(vec!["emailProtection"]);
    let email = pki.client(&spec);
    let f = pki.write("email.pem", email.pem() + &email.key_pem());
    assert_eq!(codes(&cert_json(&f, None).1), vec!["CLIENT_CERT_NO_CLIENT_AUTH"]);

    let stranger = issue(&Spec::client("ORGAO X", "Outra"), rsa_key(), Some(&pki.unknown_ca));
    let f = pki.write("stranger.pem", stranger.pem() + &stranger.key_pem());
    let (run, chk) = cert_json(&f, None);
    assert_eq!(codes(&chk), vec!["CLIENT_CERT_ISSUER_UNKNOWN"]);
    assert_eq!(finding(&chk, "CLIENT_CERT_ISSUER_UNKNOWN")["severity"], "info");
    assert_eq!(run.code, Some(0));

    // For Pucomex an issuer outside ICP-Brasil is a failure.
    let run = pen_doctor(
        &[
            "check",
            "--only",
            "cert:pucomex",
            "--target",
            "pucomex",
            "--pucomex-cert",
            f.to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
    );
    let json = run.json();
    let chk = check(&json, "cert:pucomex");
    let f = finding(chk, "CLIENT_CERT_ISSUER_UNKNOWN");
    assert_eq!(f["severity"], "fail");
    assert_eq!(f["kb"]["article"], "PUCOMEX-WEBHOOKS", "{f:#}");
    assert_eq!(chk["status"], "fail");
}

#[test]
fn key_problems() {
    let pki = Pki::new();
    let c = good_client(&pki);
    let other = good_client(&pki);
    let f = pki.write("mismatch.pem", c.pem() + &other.key_pem());
    assert_eq!(codes(&cert_json(&f, None).1), vec!["CLIENT_CERT_KEY_MISMATCH"]);
    let f = pki.write("nokey.pem", c.pem());
    assert_eq!(codes(&cert_json(&f, None).1), vec!["CLIENT_CERT_NO_KEY"]);
}

#[test]
fn bad_input_gives_a_finding_never_a_panic() {
    let pki = Pki::new();
    let c = good_client(&pki);
    let pem = c.pem();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.pem", Vec::new(), "CLIENT_CERT_INVALID_FORMAT"),
        ("binary.bin", (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect(), "CLIENT_CERT_INVALID_FORMAT"),
        ("keyonly.pem", c.key_pem().into_bytes(), "CLIENT_CERT_INVALID_FORMAT"),
        ("truncated.pem", pem.as_bytes()[..pem.len() / 2].to_vec(), "CLIENT_CERT_INVALID_FORMAT"),
        ("der-garbage.p12", vec![0x30, 0x82, 0x10, 0x00, 1, 2, 3], "CLIENT_CERT_INVALID_FORMAT"),
    ];
    for (name, bytes, code) in cases {
        let f = pki.write(name, bytes);
        let (run, chk) = cert_json(&f, Some(PASS));
        assert_eq!(codes(&chk), vec![code], "{name}: {chk:#}");
        assert_eq!(run.code, Some(1), "{name}");
        let msg = finding(&chk, code)["message"].as_str().unwrap().to_string();
        assert!(msg.contains(name), "{name}: message names the file: {msg}");
    }
    let (_, chk) = cert_json(&pki.path("does-not-exist.pem"), None);
    assert_eq!(codes(&chk), vec!["CLIENT_CERT_MISSING"]);

    let big = pki.path("big.pem");
    std::fs::File::create(&big).unwrap().set_len(17 * 1024 * 1024).unwrap();
    assert_eq!(codes(&cert_json(&big, None).1), vec!["CLIENT_CERT_TOO_LARGE"]);
    // A 2 GiB "certificate" (sparse: no disk used) is refused from its size, not read.
    let huge = pki.path("huge.pem");
    std::fs::File::create(&huge).unwrap().set_len(2 * 1024 * 1024 * 1024).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(codes(&cert_json(&huge, None).1), vec!["CLIENT_CERT_TOO_LARGE"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "the file was read: {:?}", started.elapsed());
    let _ = std::fs::remove_file(&huge);
}

/// `check --only cert --target tramita --cert FILE --cert-password-env CP`.
fn cert_args(file: &std::path::Path) -> CheckArgs {
    CheckArgs::new().only("cert").target("tramita").cert(file, "CP")
}

#[test]
fn web_server_user_must_read_the_file() {
    let pki = Pki::new();
    let c = good_client(&pki);
    let f = pki.write("private.pem", c.pem() + &c.key_pem_pkcs8_encrypted(PASS));
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = pen_doctor(&cert_args(&f).json().strs(), &[("CP", PASS)]);
    assert!(!run.stdout.contains(PASS));
    let json = run.json();
    let chk = check(&json, "cert:client");
    let f = finding(chk, "CLIENT_CERT_UNREADABLE");
    assert_eq!(f["params"]["mode"], "0600");
    assert!(f["params"]["web_user"].as_str().unwrap().contains("www-data"));
    assert_eq!(run.code, Some(1));
}

#[test]
fn certificate_and_password_from_the_sei_configuration() {
    const FIXTURE_PASS: &str = "S3nh4-Cert-Fixture!";
    let pki = Pki::new();
    let c = good_client(&pki);
    let cert = pki.write("certificado.pem", c.pem() + &c.key_pem_pkcs8_encrypted(FIXTURE_PASS));
    let sei = pki.path("sei");
    support::node::copy_sei_tree("modpen4", &sei);
    let conf = sei.join("config/mod-pen/ConfiguracaoModPEN.php");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, text.replace("/opt/sei/config/mod-pen/certificado.pem", cert.to_str().unwrap())).unwrap();

    let run = pen_doctor(&["check", "--sei-dir", sei.to_str().unwrap(), "--only", "cert", "--format", "json"], &[]);
    assert!(!run.stdout.contains(FIXTURE_PASS) && !run.stderr.contains(FIXTURE_PASS), "password leaked");
    let json = run.json();
    let chk = check(&json, "cert:client");
    assert_eq!(chk["status"], "ok", "{chk:#}");
    assert_eq!(chk["evidence"]["file"], cert.to_str().unwrap());
    assert_eq!(chk["evidence"]["password"], "configured");
    // The path came from the SEI configuration: config:sei ran as its prerequisite.
    check(&json, "config:sei");
}

#[test]
fn the_password_never_shows_in_any_format() {
    let pki = Pki::new();
    let c = good_client(&pki);
    let file = pki.write("enc.pem", c.pem() + &c.key_pem_pkcs8_encrypted(PASS));
    let other = "Outra-Senha-Errada-31";
    for format in ["human", "json", "markdown", "junit", "nagios", "prometheus"] {
        for pass in [PASS, other] {
            let run = pen_doctor(&cert_args(&file).format(format).strs(), &[("CP", pass)]);
            assert!(!run.stdout.contains(pass) && !run.stderr.contains(pass), "{format}: password leaked");
            assert!(!run.stdout.is_empty(), "{format}: no output");
        }
        if format != "junit" && format != "nagios" && format != "prometheus" {
            let run = pen_doctor(
                &["cert", file.to_str().unwrap(), "--password-env", "CP", "--format", format],
                &[("CP", other)],
            );
            assert!(!run.stdout.contains(other) && !run.stderr.contains(other), "cert {format}: password leaked");
            assert!(run.stdout.contains("CLIENT_CERT_BAD_PASSWORD"), "{}", run.stdout);
        }
    }
}
