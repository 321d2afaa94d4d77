//! TLS interception: whether the chain a server presented was made by a TLS-inspecting device
//! (a firewall or web proxy that terminates TLS and signs its own certificate for the host).
//! Two signs, as data: an issuer naming a vendor of `checks/interception.toml`, or, for a
//! built-in target reached at its own host, a chain in which no certificate is issued by the
//! expected issuers of `checks/targets.toml`.

use crate::pki::CertInfo;
use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
struct Table {
    vendor: Vec<Vendor>,
}

/// A TLS-inspecting product and the words its generated CA is named with.
#[derive(Debug, Deserialize)]
pub struct Vendor {
    pub name: String,
    pub patterns: Vec<String>,
}

/// The vendors of `checks/interception.toml`, parsed once.
pub fn vendors() -> &'static [Vendor] {
    static TABLE: OnceLock<Vec<Vendor>> = OnceLock::new();
    TABLE.get_or_init(|| {
        toml::from_str::<Table>(include_str!("../checks/interception.toml"))
            .map(|t| t.vendor)
            .expect("checks/interception.toml is valid (tested)")
    })
}

/// Why a chain is judged intercepted.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Interception {
    /// The vendor named (or, for an unexpected issuer, the issuer's organisation or name).
    pub vendor: String,
    /// The issuer name that gave it away.
    pub issuer: String,
    /// `vendor` (a vendor pattern matched) or `unexpected-issuer`.
    pub by: &'static str,
}

fn attribute(name: &str, key: &str) -> Option<String> {
    name.split(", ").find_map(|p| p.strip_prefix(key).map(str::to_string))
}

/// Judges a presented chain (leaf first). `expected`: the target's expected issuers (empty when
/// the target is not at a host of the table).
pub fn detect(chain: &[CertInfo], expected: &[String]) -> Option<Interception> {
    let leaf = chain.first()?;
    // Issuers of every certificate, and the subject of the last (the top the device sent).
    let mut names: Vec<&str> = chain.iter().map(|c| c.issuer.as_str()).collect();
    if let Some(top) = chain.last() {
        names.push(top.subject.as_str());
    }
    for name in &names {
        let lower = name.to_lowercase();
        if let Some(v) = vendors().iter().find(|v| v.patterns.iter().any(|p| lower.contains(&p.to_lowercase()))) {
            return Some(Interception { vendor: v.name.clone(), issuer: name.to_string(), by: "vendor" });
        }
    }
    if expected.is_empty() {
        return None;
    }
    let genuine = names.iter().any(|n| {
        let lower = n.to_lowercase();
        expected.iter().any(|e| lower.contains(&e.to_lowercase()))
    });
    if genuine {
        return None;
    }
    let vendor =
        attribute(&leaf.issuer, "O=").or_else(|| attribute(&leaf.issuer, "CN=")).unwrap_or_else(|| leaf.issuer.clone());
    Some(Interception { vendor, issuer: leaf.issuer.clone(), by: "unexpected-issuer" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(subject: &str, issuer: &str) -> CertInfo {
        CertInfo {
            subject: subject.into(),
            issuer: issuer.into(),
            serial: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            not_before_ts: 0,
            not_after_ts: 0,
            sha256: String::new(),
            key_type: None,
            key_bits: None,
            is_ca: false,
            extended_key_usage: None,
            dns_names: Vec::new(),
            icp_cnpj: None,
            icp_cpf: None,
            subject_raw: Vec::new(),
            issuer_raw: Vec::new(),
        }
    }

    #[test]
    fn table_parses_and_every_vendor_has_patterns() {
        assert!(vendors().len() >= 10);
        assert!(vendors().iter().all(|v| !v.name.is_empty() && v.patterns.iter().all(|p| !p.trim().is_empty())));
    }

    #[test]
    fn vendor_and_expected_issuers() {
        let le = vec![
            cert("CN=api.example", "C=US, O=Let's Encrypt, CN=R11"),
            cert("C=US, O=Let's Encrypt, CN=R11", "C=US, O=Internet Security Research Group, CN=ISRG Root X1"),
        ];
        let expected = vec!["Let's Encrypt".to_string(), "ISRG".to_string()];
        assert_eq!(detect(&le, &expected), None);
        assert_eq!(detect(&le, &[]), None);
        let forti = vec![cert("CN=api.example", "C=US, O=Fortinet, CN=FortiGate CA")];
        let i = detect(&forti, &expected).unwrap();
        assert_eq!((i.vendor.as_str(), i.by), ("Fortinet FortiGate", "vendor"));
        let other = vec![cert("CN=api.example", "O=Orgao, CN=Firewall Interno")];
        let i = detect(&other, &expected).unwrap();
        assert_eq!((i.vendor.as_str(), i.by), ("Orgao", "unexpected-issuer"));
        assert_eq!(detect(&other, &[]), None);
        assert_eq!(detect(&[], &expected), None);
    }
}
