//! `ca:store`: finds the CA bundle that SEI's PHP/OpenSSL really uses (`--ca-bundle`, else
//! `openssl.cafile`/`curl.cainfo` of php.ini, else `SSL_CERT_FILE`/`SSL_CERT_DIR`, else the
//! distribution's OpenSSL default), says why, and analyses it: count, well-known roots, expired
//! roots, damaged blocks. Its fact is the loaded store that `tls:<target>` verifies against.

use super::core::{Check, Ctx};
pub use super::trust::{load, parse_bundle, Parsed, StoreCert, TrustStore};
use crate::hostfs::{FileError, Reason};
use crate::model::check_id::CA_STORE;
use crate::model::code;
use crate::model::OsFamily;
use crate::model::Outcome;
use crate::model::{CheckId, Finding, Severity, TargetName};
use crate::pki::{self, CertInfo};
use crate::settings::Settings;
use async_trait::async_trait;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A well-known root, recognised by the SHA-256 of its DER or, where that could not be checked
/// against the real certificate, by its subject.
struct WellKnown {
    name: &'static str,
    sha256: Option<&'static str>,
    subject_cn: &'static str,
}

// ISRG Root X1 and X2: fingerprints computed from the certificates shipped by ca-certificates.
// DST Root CA X3: the fingerprint published in Mozilla's certdata and in the JDK's cacerts list
// (the certificate left the distributions' bundles in 2021).
// ICP-Brasil roots v5, v10, v11, v12: fingerprints of the certificates ITI publishes (copies in
// fixtures/real-certs/icp-brasil/). A root that only borrows the name is not recognised.
const WELL_KNOWN: &[WellKnown] = &[
    WellKnown {
        name: "ISRG Root X1",
        sha256: Some("96:BC:EC:06:26:49:76:F3:74:60:77:9A:CF:28:C5:A7:CF:E8:A3:C0:AA:E1:1A:8F:FC:EE:05:C0:BD:DF:08:C6"),
        subject_cn: "ISRG Root X1",
    },
    WellKnown {
        name: "ISRG Root X2",
        sha256: Some("69:72:9B:8E:15:A8:6E:FC:17:7A:57:AF:B7:17:1D:FC:64:AD:D2:8C:2F:CA:8C:F1:50:7E:34:45:3C:CB:14:70"),
        subject_cn: "ISRG Root X2",
    },
    WellKnown {
        name: "DST Root CA X3",
        sha256: Some("06:87:26:03:31:A7:24:03:D9:09:F1:05:E6:9B:CF:0D:32:E1:BD:24:93:FF:C6:D9:20:6D:11:BC:D6:77:07:39"),
        subject_cn: "DST Root CA X3",
    },
    WellKnown {
        name: "ICP-Brasil v5",
        sha256: Some("CA:A5:3F:C6:09:1C:69:51:88:7C:97:6E:37:8F:6E:F8:9A:A6:37:7C:55:D9:7B:64:75:42:2B:71:ED:7E:9B:17"),
        subject_cn: "Autoridade Certificadora Raiz Brasileira v5",
    },
    WellKnown {
        name: "ICP-Brasil v10",
        sha256: Some("6E:0B:FF:06:9A:26:99:4C:15:DE:2C:48:88:CC:54:AF:84:88:2E:54:95:B7:FB:F6:6B:E9:CC:FF:EC:74:89:F6"),
        subject_cn: "Autoridade Certificadora Raiz Brasileira v10",
    },
    WellKnown {
        name: "ICP-Brasil v11",
        sha256: Some("14:06:71:00:58:18:0F:A4:08:1A:AB:3F:24:6F:17:02:42:9C:55:2A:11:FA:31:43:B8:4C:88:CB:3A:B8:E5:E7"),
        subject_cn: "Autoridade Certificadora Raiz Brasileira v11",
    },
    WellKnown {
        name: "ICP-Brasil v12",
        sha256: Some("D8:47:8E:37:CE:19:C6:90:CF:65:73:81:E6:8F:E6:00:E4:E1:A0:42:53:68:30:F0:68:47:E0:3E:55:4C:4B:01"),
        subject_cn: "Autoridade Certificadora Raiz Brasileira v12",
    },
];

fn well_known_name(info: &CertInfo) -> Option<&'static str> {
    WELL_KNOWN
        .iter()
        .find(|w| match w.sha256 {
            Some(fp) => info.sha256 == fp,
            None => {
                info.subject.split(", ").any(|p| p == format!("CN={}", w.subject_cn))
                    && info.subject.contains("O=ICP-Brasil")
            }
        })
        .map(|w| w.name)
}

/// Which bundle, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub path: PathBuf,
    pub source: String,
    /// php.ini files that exist but could not be read (the first is `--php-ini` when it was
    /// given and is unreadable, missing included).
    pub unreadable_ini: Vec<FileError>,
}

/// The value of `key` in php.ini text (last assignment wins, `;` comments ignored).
pub fn php_ini_value(text: &str, key: &str) -> Option<String> {
    crate::phpini::value_in(text, key)
}

/// Picks the bundle as SEI's PHP/OpenSSL would.
pub fn choose(
    ca_bundle: Option<&Path>,
    php_ini: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
    family: OsFamily,
) -> Choice {
    let choice =
        |path: PathBuf, source: String, unreadable_ini: Vec<FileError>| Choice { path, source, unreadable_ini };
    if let Some(p) = ca_bundle {
        return choice(p.to_path_buf(), "--ca-bundle".into(), Vec::new());
    }
    // The php.ini files SEI's PHP loads: the web server's first, then the command line's.
    let inis = crate::phpini::discover_host(php_ini);
    let unreadable = inis.unreadable.clone();
    let ordered = inis.web().chain(inis.configs.iter().filter(|c| !c.role.web()));
    for cfg in ordered {
        for key in ["openssl.cafile", "curl.cainfo", "openssl.capath"] {
            if let Some(s) = cfg.get(key).filter(|s| !s.value.is_empty()) {
                let from = s.file.clone().unwrap_or_else(|| s.from.clone());
                return choice(PathBuf::from(&s.value), format!("{key} in {from}"), unreadable);
            }
        }
    }
    for var in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
        if let Some(v) = env(var).filter(|v| !v.is_empty()) {
            return choice(PathBuf::from(v), var.into(), unreadable);
        }
    }
    let debian = "/etc/ssl/certs/ca-certificates.crt";
    let rhel = "/etc/pki/tls/certs/ca-bundle.crt";
    let order = match family {
        OsFamily::Rhel6 | OsFamily::Rhel7 | OsFamily::Rhel8 => [rhel, debian],
        _ => [debian, rhel],
    };
    if let Some(path) = order.iter().find(|p| Path::new(p).exists()) {
        return choice(PathBuf::from(path), "OpenSSL default for this distribution".into(), unreadable);
    }
    // No bundle file: OpenSSL still looks in its certificate directory.
    for dir in ["/etc/ssl/certs", "/etc/pki/tls/certs"] {
        if Path::new(dir).is_dir() {
            return choice(PathBuf::from(dir), "OpenSSL default directory".into(), unreadable);
        }
    }
    choice(PathBuf::from(order[0]), "OpenSSL default for this distribution".into(), unreadable)
}

pub struct StoreCheck;

/// The `ca:store` check (always part of a run).
pub fn checks(_settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    vec![Box::new(StoreCheck)]
}

#[async_trait]
impl Check for StoreCheck {
    fn id(&self) -> CheckId {
        CA_STORE
    }
    async fn run(&self, ctx: &Ctx) -> Outcome {
        let settings = Arc::clone(&ctx.settings);
        tokio::task::spawn_blocking(move || analyse(&settings))
            .await
            .unwrap_or_else(|_| Outcome::error(Finding::new(code::CHECK_INTERNAL_ERROR).with("error", "panic")))
    }
}

fn analyse(settings: &Settings) -> Outcome {
    let choice = choose(
        settings.ca_bundle.as_deref(),
        settings.php_ini.as_deref(),
        |v| std::env::var(v).ok(),
        settings.os_family,
    );
    let shown = choice.path.display().to_string();
    let mut o = Outcome::new().evidence("path", &shown).evidence("source", &choice.source);
    for e in &choice.unreadable_ini {
        let path = e.path.display();
        if settings.php_ini.as_deref() == Some(e.path.as_path()) {
            // The operator named this php.ini: which bundle SEI's PHP uses is unknown.
            o.push(Finding::new(code::INPUT_UNREADABLE).with("path", path).with("error", &e.reason));
        } else {
            o.push(super::core::host_file_unreadable(e));
        }
    }
    let mut store = TrustStore { path: shown.clone(), source: choice.source.clone(), ..TrustStore::default() };
    let parsed = match load(&choice.path) {
        Ok(p) => p,
        Err(Reason::NotFound) => {
            o.push(Finding::new(code::CA_STORE_NOT_FOUND).with("path", &shown).with("source", &choice.source));
            o.set_fact(store);
            return o;
        }
        Err(e) => {
            o.push(Finding::new(code::CA_STORE_UNREADABLE).with("path", &shown).with("error", e));
            o.set_fact(store);
            return o;
        }
    };
    let now = pki::now_ts();
    // The TLS library PHP's curl extension links: how this store is used, and with which words.
    let stack = super::tls_stack::detect(settings.php_ini.as_deref());
    if let Some(st) = &stack {
        o.set_evidence("tls_stack", st);
        store.tls_library = st.library.as_deref().and_then(|l| l.split_whitespace().next()).map(str::to_string);
        store.php_curl =
            Some(super::trust::PhpCurl { extension: st.curl_extension.clone(), libcurl: st.libcurl.clone() });
    }
    o.set_evidence("count", parsed.certs.len());
    if parsed.certs.is_empty() {
        o.push(Finding::new(code::CA_STORE_UNREADABLE).with("path", &shown).with("error", "no certificate in it"));
    }
    if parsed.garbage > 0 {
        o.push(Finding::new(code::CA_STORE_GARBAGE).with("path", &shown).with("count", parsed.garbage));
        o.set_evidence("damaged_blocks", parsed.garbage);
    }
    let mut known = Vec::new();
    for c in &parsed.certs {
        if let Some(n) = well_known_name(&c.info) {
            known.push(json!({"name": n, "sha256": c.info.sha256, "not_after": c.info.not_after,
                               "expired": c.info.expired_at(now)}));
        }
    }
    o.set_evidence("well_known_roots", &known);
    let has = |name: &str| known.iter().any(|k| k["name"] == name);
    let expired: Vec<&StoreCert> = parsed.certs.iter().filter(|c| c.info.expired_at(now)).collect();
    if !expired.is_empty() {
        let list: Vec<String> =
            expired.iter().map(|c| format!("{} ({})", pki::short_name(&c.info), c.info.not_after)).collect();
        o.set_evidence("expired", &list);
        let f = expired_roots_finding(&shown, &expired, &list);
        // OpenSSL before 1.1.0 builds Let's Encrypt's path through an expired DST Root CA X3
        // still in the store and fails: for such a stack this is a failure, not a warning.
        let dst = expired.iter().any(|c| well_known_name(&c.info) == Some("DST Root CA X3"));
        o.push(if dst && stack.as_ref().is_some_and(|s| s.old_openssl()) { f.severity(Severity::Fail) } else { f });
    }
    let targets: Vec<TargetName> = settings.targets.iter().map(|t| t.name).collect();
    if !parsed.certs.is_empty() && !has("ISRG Root X1") {
        let f = Finding::new(code::CA_STORE_MISSING_ISRG_ROOT_X1).with("path", &shown);
        let pen = targets.iter().any(|t| matches!(t, TargetName::Tramita | TargetName::Pendencias));
        o.push(if pen { f } else { f.severity(Severity::Info) });
    }
    if targets.contains(&TargetName::Pucomex)
        && !known.iter().any(|k| k["name"].as_str().is_some_and(|n| n.starts_with("ICP-Brasil")))
    {
        let f = Finding::new(code::CA_STORE_MISSING_ICP_BRASIL).with("path", &shown);
        o.push(f.with("target", TargetName::Pucomex.as_str()));
    }
    store.certs = parsed.certs;
    o.summary("path", &shown).summary("count", store.certs.len()).fact(store)
}

/// Expired roots that can sit on a target's chain: an old OpenSSL builds Let's Encrypt's chain
/// through DST Root CA X3 (and Sectigo's through AddTrust) and rejects it. Only these warn.
const EXPIRED_ON_TARGET_PATHS: &[&str] = &["DST Root CA X3", "AddTrust External CA Root"];

/// `CA_STORE_EXPIRED_ROOTS`: a warning when one of the roots can be on a target's path (the
/// fix names its entry in /etc/ca-certificates.conf), info otherwise (harmless leftovers).
fn expired_roots_finding(shown: &str, expired: &[&StoreCert], list: &[String]) -> Finding {
    let on_path = expired.iter().find(|c| {
        let name = pki::short_name(&c.info);
        EXPIRED_ON_TARGET_PATHS.iter().any(|n| name.contains(n))
    });
    let entry = |c: &StoreCert| format!("mozilla/{}.crt", pki::short_name(&c.info).replace(' ', "_"));
    let f = Finding::new(code::CA_STORE_EXPIRED_ROOTS).with("path", shown).with("roots", list.join("; "));
    match (on_path, expired.first()) {
        (Some(c), _) => f.with("conf_entry", entry(c)),
        (None, Some(c)) => f.with("conf_entry", entry(c)).severity(Severity::Info),
        (None, None) => f.severity(Severity::Info),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{self, Given};
    use crate::hostfs::{self, Kind};
    use crate::model::Status;

    #[test]
    fn php_ini_values() {
        let ini = "[openssl]\n;openssl.cafile=/commented\nopenssl.cafile = \"/etc/x.pem\" ; note\ncurl.cainfo=\n";
        assert_eq!(php_ini_value(ini, "openssl.cafile").as_deref(), Some("/etc/x.pem"));
        assert_eq!(php_ini_value(ini, "curl.cainfo"), None);
    }

    #[test]
    fn flag_wins_then_env() {
        let c = choose(Some(Path::new("/x.pem")), None, |_| None, OsFamily::Debian);
        assert_eq!(c.source, "--ca-bundle");
        let c = choose(
            None,
            Some(Path::new("/nonexistent/php.ini")),
            |v| (v == "SSL_CERT_FILE").then(|| "/y".into()),
            OsFamily::Debian,
        );
        assert_eq!(c.path, PathBuf::from("/y"));
        assert_eq!(c.source, "SSL_CERT_FILE");
        // A missing --php-ini is not passed over in silence.
        assert_eq!(c.unreadable_ini.len(), 1);
        assert_eq!(c.unreadable_ini[0].to_string(), "/nonexistent/php.ini: not found");
    }

    #[test]
    fn system_store_has_isrg_x1() {
        let Ok(p) = load(Path::new("/etc/ssl/certs/ISRG_Root_X1.pem")) else { return };
        assert_eq!(p.certs.len(), 1);
        assert_eq!(well_known_name(&p.certs[0].info), Some("ISRG Root X1"));
    }

    /// `ca:store` run in-process on a bundle made of the given real roots (`fixtures/real-certs/`).
    fn run_on_bundle(roots: &[&str]) -> (Outcome, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/real-certs");
        let pem: String = roots.iter().map(|r| std::fs::read_to_string(fixtures.join(r)).expect(r)).collect();
        let bundle = dir.path().join("bundle.pem");
        std::fs::write(&bundle, pem).expect("the bundle");
        let mut settings = testing::settings();
        settings.ca_bundle = Some(bundle);
        (testing::run_one_blocking(settings, &CA_STORE, Given::new()), dir)
    }

    fn codes(o: &Outcome) -> Vec<&str> {
        o.findings.iter().map(|f| f.code.as_ref()).collect()
    }

    #[test]
    fn a_bundle_with_the_roots_the_targets_need_is_handed_to_the_tls_checks() {
        let (o, dir) = run_on_bundle(&["letsencrypt/isrg-root-x1.pem", "icp-brasil/ICP-Brasilv5.pem"]);
        assert_eq!(o.resolved_status(|c| crate::kb::kb().severity(c)), Status::Ok, "{:?}", codes(&o));
        let store = o.fact.as_ref().and_then(|f| f.downcast_ref::<TrustStore>()).expect("the store as the fact");
        assert_eq!(store.certs.len(), 2);
        assert_eq!(store.path, dir.path().join("bundle.pem").display().to_string());
        assert_eq!(store.source, "--ca-bundle");
    }

    #[test]
    fn an_expired_root_on_a_target_path_and_a_missing_root_are_told() {
        let (o, _dir) = run_on_bundle(&["letsencrypt/dst-root-ca-x3.pem"]);
        let c = codes(&o);
        assert!(c.contains(&"CA_STORE_EXPIRED_ROOTS"), "{c:?}");
        assert!(c.contains(&"CA_STORE_MISSING_ISRG_ROOT_X1"), "{c:?}");
        assert!(o.fact.is_some(), "the TLS checks still get the store");
    }

    #[test]
    fn a_missing_bundle_is_not_found_and_still_a_fact() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut settings = testing::settings();
        settings.ca_bundle = Some(dir.path().join("absent.pem"));
        let o = testing::run_one_blocking(settings, &CA_STORE, Given::new());
        assert_eq!(codes(&o), ["CA_STORE_NOT_FOUND"]);
        let store = o.fact.as_ref().and_then(|f| f.downcast_ref::<TrustStore>()).expect("a fact");
        assert!(store.certs.is_empty());
    }

    #[test]
    fn damaged_bundles_never_panic() {
        let Ok(isrg) = hostfs::read_file(Path::new("/etc/ssl/certs/ISRG_Root_X1.pem"), Kind::CaBundle) else {
            return;
        };
        crate::mutation::mutants(&[&isrg], 400, |v| {
            let mut out = Parsed::default();
            parse_bundle(v, &mut out);
        });
    }
}
