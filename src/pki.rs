//! Certificates and keys as files: PEM splitting, certificate facts (subject, validity,
//! fingerprint, key, EKU, ICP-Brasil fields), loading a client identity from PEM or PKCS#12
//! (encrypted keys in both PEM forms), and who on the host may read a file.

use crate::secret::Secret;
use openssl::pkey::{Id, PKey, Private};
use openssl::x509::X509;
use serde::Serialize;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// Files larger than this are refused (no certificate or bundle is anywhere near it).
pub const MAX_FILE: u64 = 16 * 1024 * 1024;

/// One `-----BEGIN X-----` … `-----END X-----` block.
#[derive(Clone, Debug)]
pub struct PemBlock {
    pub label: String,
    /// The whole block, markers included (what OpenSSL's PEM readers take).
    pub text: String,
    /// The decoded body; `None` when the base64 is damaged.
    pub der: Option<Vec<u8>>,
    /// Legacy OpenSSL encryption headers (`Proc-Type: 4,ENCRYPTED`).
    pub legacy_encrypted: bool,
}

/// A PEM file split into blocks.
#[derive(Debug, Default)]
pub struct PemFile {
    pub blocks: Vec<PemBlock>,
    /// A `BEGIN` line without its `END` (a truncated file).
    pub truncated: Option<String>,
}

/// Splits PEM text into blocks; text between blocks is ignored, as OpenSSL does.
pub fn split_pem(text: &str) -> PemFile {
    struct Open {
        label: String,
        text: String,
        b64: String,
        legacy: bool,
    }
    let begin = |line: &str| {
        line.strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----")).map(|label| Open {
            label: label.to_string(),
            text: format!("{line}\n"),
            b64: String::new(),
            legacy: false,
        })
    };
    let mut out = PemFile::default();
    let mut current: Option<Open> = None;
    for raw in text.lines() {
        let line = raw.trim();
        let Some(open) = current.as_mut() else {
            current = begin(line);
            continue;
        };
        if line.starts_with("-----END ") {
            open.text.push_str(line);
            open.text.push('\n');
            let der = openssl::base64::decode_block(&open.b64).ok().filter(|d| !d.is_empty());
            if let Some(o) = current.take() {
                out.blocks.push(PemBlock { label: o.label, text: o.text, der, legacy_encrypted: o.legacy });
            }
        } else if line.starts_with("-----BEGIN ") {
            // A new block before the end of the previous one: the previous one is cut.
            out.truncated.get_or_insert(open.label.clone());
            current = begin(line);
        } else {
            open.text.push_str(line);
            open.text.push('\n');
            if line.contains(':') {
                if line.starts_with("Proc-Type:") && line.contains("ENCRYPTED") {
                    open.legacy = true;
                }
            } else {
                open.b64.push_str(line);
            }
        }
    }
    if let Some(o) = current {
        out.truncated.get_or_insert(o.label);
    }
    out
}

/// SHA-256 of DER, as upper-case hex pairs separated by colons (as `openssl x509 -fingerprint`).
pub fn sha256_hex(der: &[u8]) -> String {
    openssl::sha::sha256(der).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// A Unix timestamp as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn format_time(ts: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| ts.to_string())
}

pub fn now_ts() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The facts of one certificate, for evidence and findings.
#[derive(Clone, Debug, Serialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    #[serde(skip)]
    pub not_before_ts: i64,
    #[serde(skip)]
    pub not_after_ts: i64,
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_bits: Option<u32>,
    pub is_ca: bool,
    /// Extended key usages; `None` when the extension is absent (any usage allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended_key_usage: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icp_cnpj: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icp_cpf: Option<String>,
    /// Raw DER of subject and issuer names, to link certificates into chains.
    #[serde(skip)]
    pub subject_raw: Vec<u8>,
    #[serde(skip)]
    pub issuer_raw: Vec<u8>,
}

impl CertInfo {
    pub fn expired_at(&self, now: i64) -> bool {
        now > self.not_after_ts
    }
    pub fn self_issued(&self) -> bool {
        self.subject_raw == self.issuer_raw
    }
    /// Whole days until `notAfter` (negative when expired).
    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after_ts - now).div_euclid(86_400)
    }
    pub fn allows_client_auth(&self) -> bool {
        match &self.extended_key_usage {
            None => true,
            Some(list) => list.iter().any(|u| u == "clientAuth" || u == "any"),
        }
    }
}

/// One DER TLV: (tag, content, rest). Short and long length forms; `None` when malformed.
fn der_tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)? as usize;
    let (len, head) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = head.checked_add(len)?;
    Some((tag, b.get(head..end)?, b.get(end..)?))
}

/// The text of an ICP-Brasil otherName value: `[0] EXPLICIT` around an OCTET STRING or a string.
fn other_name_text(value: &[u8]) -> Option<String> {
    let (mut tag, mut content, _) = der_tlv(value)?;
    if tag == 0xA0 {
        (tag, content, _) = der_tlv(content)?;
    }
    matches!(tag, 0x04 | 0x0C | 0x13 | 0x16).then(|| String::from_utf8_lossy(content).into_owned())
}

/// Parses a DER certificate's facts; `None` when it is not a certificate.
pub fn cert_info(der: &[u8]) -> Option<CertInfo> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let validity = cert.validity();
    let (key_type, key_bits) = match X509::from_der(der).ok().and_then(|x| x.public_key().ok()) {
        Some(k) => {
            let name = match k.id() {
                Id::RSA => "RSA",
                Id::EC => "EC",
                Id::ED25519 => "Ed25519",
                Id::ED448 => "Ed448",
                Id::DSA => "DSA",
                _ => "other",
            };
            (Some(name.to_string()), Some(k.bits()))
        }
        None => (None, None),
    };
    let extended_key_usage = match cert.extended_key_usage() {
        Ok(Some(ext)) => {
            let e = ext.value;
            let mut v = Vec::new();
            for (on, name) in [
                (e.any, "any"),
                (e.server_auth, "serverAuth"),
                (e.client_auth, "clientAuth"),
                (e.code_signing, "codeSigning"),
                (e.email_protection, "emailProtection"),
                (e.time_stamping, "timeStamping"),
                (e.ocsp_signing, "OCSPSigning"),
            ] {
                if on {
                    v.push(name.to_string());
                }
            }
            v.extend(e.other.iter().map(|o| o.to_id_string()));
            Some(v)
        }
        _ => None,
    };
    let mut dns_names = Vec::new();
    let (mut icp_cnpj, mut icp_cpf) = (None, None);
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => dns_names.push(d.to_string()),
                GeneralName::IPAddress(b) if b.len() == 4 => {
                    dns_names.push(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string())
                }
                GeneralName::OtherName(oid, value) => {
                    let text = other_name_text(value).unwrap_or_default();
                    let digits_at = |from: usize, len: usize| {
                        text.get(from..from + len).filter(|d| d.bytes().all(|b| b.is_ascii_digit())).map(str::to_string)
                    };
                    match oid.to_id_string().as_str() {
                        "2.16.76.1.3.3" => icp_cnpj = digits_at(0, 14),
                        // The holder's birth date (8 digits), then the CPF (11 digits), NIS, RG…
                        "2.16.76.1.3.1" => icp_cpf = digits_at(8, 11).filter(|c| c.bytes().any(|b| b != b'0')),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }
    Some(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: cert.raw_serial_as_string(),
        not_before: format_time(validity.not_before.timestamp()),
        not_after: format_time(validity.not_after.timestamp()),
        not_before_ts: validity.not_before.timestamp(),
        not_after_ts: validity.not_after.timestamp(),
        sha256: sha256_hex(der),
        key_type,
        key_bits,
        is_ca: cert.is_ca(),
        extended_key_usage,
        dns_names,
        icp_cnpj,
        icp_cpf,
        subject_raw: cert.subject().as_raw().to_vec(),
        issuer_raw: cert.issuer().as_raw().to_vec(),
    })
}

/// The common name of a certificate's subject, else the whole subject.
pub fn short_name(info: &CertInfo) -> String {
    info.subject
        .split(", ")
        .find_map(|p| p.strip_prefix("CN="))
        .map(str::to_string)
        .unwrap_or_else(|| info.subject.clone())
}

/// Why a file could not be read at all.
#[derive(Debug, Clone, PartialEq)]
pub enum FileError {
    Missing,
    /// Larger than [`MAX_FILE`] (size in bytes).
    TooLarge(u64),
    /// Permission denied to the user pen-doctor runs as (named).
    Denied(String),
    /// Another I/O error, or content that is not what was expected.
    Invalid(String),
}

impl FileError {
    pub fn describe(&self) -> String {
        match self {
            FileError::Missing => "not found".into(),
            FileError::TooLarge(n) => format!("file too large ({n} bytes, limit {MAX_FILE})"),
            FileError::Denied(u) => format!("permission denied for {u}"),
            FileError::Invalid(e) => e.clone(),
        }
    }
}

/// Reads a file of at most [`MAX_FILE`] bytes.
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, FileError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(FileError::Missing),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => return Err(FileError::Denied(current_user())),
        Err(e) => return Err(FileError::Invalid(e.to_string())),
    };
    if meta.is_dir() {
        return Err(FileError::Invalid("is a directory".into()));
    }
    if meta.len() > MAX_FILE {
        return Err(FileError::TooLarge(meta.len()));
    }
    match std::fs::read(path) {
        Ok(b) if b.len() as u64 > MAX_FILE => Err(FileError::TooLarge(b.len() as u64)),
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(FileError::Denied(current_user())),
        Err(e) => Err(FileError::Invalid(e.to_string())),
    }
}

/// The state of the private key in a certificate file.
pub enum KeyState {
    Present(PKey<Private>),
    Absent,
    /// The key is encrypted and the password (or its absence) does not open it.
    BadPassword {
        configured: bool,
    },
}

/// A certificate file, loaded: the certificates (leaf first once a key picked it) and the key.
pub struct Loaded {
    pub format: &'static str,
    pub certs: Vec<Vec<u8>>,
    pub key: KeyState,
    /// Whether the key matches the leaf (only meaningful when the key is present).
    pub key_matches: bool,
}

/// Loads a client identity from a PEM (certificate + key, key encrypted or not) or PKCS#12 file.
pub fn load_identity(path: &Path, password: Option<&Secret>) -> Result<Loaded, FileError> {
    load_identity_bytes(&read_bounded(path)?, password)
}

/// Loads a client identity from the bytes of a PEM or PKCS#12 file.
pub fn load_identity_bytes(bytes: &[u8], password: Option<&Secret>) -> Result<Loaded, FileError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(FileError::Invalid("empty file".into()));
    }
    let looks_pem = bytes.windows(11).any(|w| w == b"-----BEGIN ");
    if looks_pem {
        let text = String::from_utf8_lossy(bytes);
        return load_pem(&text, password);
    }
    if bytes.first() == Some(&0x30) {
        if let Ok(p12) = openssl::pkcs12::Pkcs12::from_der(bytes) {
            return load_p12(&p12, password);
        }
        if let Ok(x) = X509::from_der(bytes) {
            let der = x.to_der().unwrap_or_default();
            return Ok(Loaded { format: "DER", certs: vec![der], key: KeyState::Absent, key_matches: false });
        }
    }
    Err(FileError::Invalid("neither PEM nor PKCS#12 (unrecognised binary data)".into()))
}

fn load_pem(text: &str, password: Option<&Secret>) -> Result<Loaded, FileError> {
    let pem = split_pem(text);
    if let Some(label) = &pem.truncated {
        return Err(FileError::Invalid(format!("truncated PEM: '{label}' block without its END line")));
    }
    let mut certs = Vec::new();
    let mut key_blocks = Vec::new();
    for b in &pem.blocks {
        match b.label.as_str() {
            "CERTIFICATE" | "TRUSTED CERTIFICATE" => match &b.der {
                Some(der) if X509::from_der(der).is_ok() => certs.push(der.clone()),
                _ => return Err(FileError::Invalid("damaged CERTIFICATE block (bad base64 or DER)".into())),
            },
            l if l.ends_with("PRIVATE KEY") => key_blocks.push(b),
            _ => {}
        }
    }
    if certs.is_empty() {
        let what = if key_blocks.is_empty() { "no certificate" } else { "only a private key, no certificate" };
        return Err(FileError::Invalid(what.into()));
    }
    let key = match key_blocks.first() {
        None => KeyState::Absent,
        Some(b) => {
            let encrypted = b.label == "ENCRYPTED PRIVATE KEY" || b.legacy_encrypted;
            if encrypted {
                match password {
                    Some(p) => match PKey::private_key_from_pem_passphrase(b.text.as_bytes(), p.expose().as_bytes()) {
                        Ok(k) => KeyState::Present(k),
                        Err(_) => KeyState::BadPassword { configured: true },
                    },
                    None => KeyState::BadPassword { configured: false },
                }
            } else {
                match PKey::private_key_from_pem(b.text.as_bytes()) {
                    Ok(k) => KeyState::Present(k),
                    Err(_) => return Err(FileError::Invalid(format!("damaged '{}' block", b.label))),
                }
            }
        }
    };
    Ok(order(Loaded { format: "PEM", certs, key, key_matches: false }))
}

fn load_p12(p12: &openssl::pkcs12::Pkcs12, password: Option<&Secret>) -> Result<Loaded, FileError> {
    // Old exports use RC2/3DES, which OpenSSL 3 keeps in its legacy provider.
    static LEGACY: std::sync::OnceLock<Option<openssl::provider::Provider>> = std::sync::OnceLock::new();
    LEGACY.get_or_init(|| openssl::provider::Provider::try_load(None, "legacy", true).ok());
    let pass = password.map(|p| p.expose()).unwrap_or("");
    if pass.contains('\0') {
        return Ok(Loaded {
            format: "PKCS#12",
            certs: Vec::new(),
            key: KeyState::BadPassword { configured: password.is_some() },
            key_matches: false,
        });
    }
    match p12.parse2(pass) {
        Ok(parsed) => {
            let mut certs = Vec::new();
            if let Some(c) = parsed.cert.and_then(|c| c.to_der().ok()) {
                certs.push(c);
            }
            for c in parsed.ca.into_iter().flatten() {
                if let Ok(d) = c.to_der() {
                    certs.push(d);
                }
            }
            if certs.is_empty() {
                return Err(FileError::Invalid("PKCS#12 without a certificate".into()));
            }
            let key = parsed.pkey.map(KeyState::Present).unwrap_or(KeyState::Absent);
            Ok(order(Loaded { format: "PKCS#12", certs, key, key_matches: false }))
        }
        Err(e) => {
            let text = e.to_string().to_ascii_lowercase();
            if text.contains("unsupported") {
                Err(FileError::Invalid(
                    "PKCS#12 protected with an algorithm this OpenSSL does not offer (a legacy RC2/3DES export?)"
                        .into(),
                ))
            } else if text.contains("mac") || text.contains("decrypt") || text.contains("pkcs12") || text.is_empty() {
                Ok(Loaded {
                    format: "PKCS#12",
                    certs: Vec::new(),
                    key: KeyState::BadPassword { configured: password.is_some() },
                    key_matches: false,
                })
            } else {
                Err(FileError::Invalid(format!(
                    "PKCS#12: {}",
                    e.errors().first().map(|e| e.to_string()).unwrap_or_default()
                )))
            }
        }
    }
}

/// Puts the certificate that matches the key first; else the first non-CA certificate.
fn order(mut l: Loaded) -> Loaded {
    let idx = match &l.key {
        KeyState::Present(k) => {
            let found = l
                .certs
                .iter()
                .position(|d| X509::from_der(d).ok().and_then(|x| x.public_key().ok()).is_some_and(|p| p.public_eq(k)));
            l.key_matches = found.is_some();
            found
        }
        _ => None,
    };
    let idx = idx.or_else(|| l.certs.iter().position(|d| cert_info(d).is_some_and(|i| !i.is_ca))).unwrap_or(0);
    if idx < l.certs.len() {
        let leaf = l.certs.remove(idx);
        l.certs.insert(0, leaf);
    }
    l
}

// ----------------------------------------------------------------------------- file access

/// The user pen-doctor runs as.
pub fn current_user() -> String {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    users().into_iter().find(|u| u.uid == uid).map(|u| u.name).unwrap_or_else(|| format!("uid {uid}"))
}

struct User {
    name: String,
    uid: u32,
    gid: u32,
}

fn users() -> Vec<User> {
    std::fs::read_to_string("/etc/passwd")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some(User { name: f.first()?.to_string(), uid: f.get(2)?.parse().ok()?, gid: f.get(3)?.parse().ok()? })
        })
        .collect()
}

fn group_members(gid: u32) -> Vec<String> {
    std::fs::read_to_string("/etc/group")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.get(2)?.parse::<u32>().ok()? == gid)
                .then(|| f.get(3).map(|m| m.split(',').map(str::to_string).collect()).unwrap_or_default())
        })
        .unwrap_or_default()
}

fn owner_name(uid: u32) -> String {
    users().into_iter().find(|u| u.uid == uid).map(|u| u.name).unwrap_or_else(|| uid.to_string())
}

/// The owner (`user:group`) and mode (`0640`) of a file.
pub fn owner_and_mode(path: &Path) -> Option<(String, String)> {
    let m = std::fs::metadata(path).ok()?;
    let group = std::fs::read_to_string("/etc/group")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.get(2)?.parse::<u32>().ok()? == m.gid()).then(|| f[0].to_string())
        })
        .unwrap_or_else(|| m.gid().to_string());
    Some((format!("{}:{group}", owner_name(m.uid())), format!("{:04o}", m.mode() & 0o7777)))
}

/// The web-server users present on this host (`www-data`, `apache`, `nginx`).
pub fn web_users() -> Vec<String> {
    let all = users();
    ["www-data", "apache", "nginx"]
        .iter()
        .filter(|n| all.iter().any(|u| u.name == **n))
        .map(|n| n.to_string())
        .collect()
}

/// Whether `user` may read the file by its mode bits (directories on the way are not judged).
pub fn user_can_read(path: &Path, user: &str) -> bool {
    let Ok(m) = std::fs::metadata(path) else { return false };
    let Some(u) = users().into_iter().find(|u| u.name == user) else { return false };
    let mode = m.mode();
    if u.uid == 0 {
        return true;
    }
    if u.uid == m.uid() {
        return mode & 0o400 != 0;
    }
    if u.gid == m.gid() || group_members(m.gid()).iter().any(|n| n == user) {
        return mode & 0o040 != 0;
    }
    mode & 0o004 != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_split_handles_garbage_and_truncation() {
        let p = split_pem("junk\n-----BEGIN X-----\nQUJD\n-----END X-----\ntext\n-----BEGIN Y-----\nQUJD\n");
        assert_eq!(p.blocks.len(), 1);
        assert_eq!(p.blocks[0].der.as_deref(), Some(&b"ABC"[..]));
        assert_eq!(p.truncated.as_deref(), Some("Y"));
        let p = split_pem("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES,00\n\nQUJD\n-----END RSA PRIVATE KEY-----\n");
        assert!(p.blocks[0].legacy_encrypted);
    }

    #[test]
    fn icp_brasil_other_names() {
        // [0] { OCTET STRING "00394460000141" }
        let mut v = vec![0xA0, 16, 0x04, 14];
        v.extend_from_slice(b"00394460000141");
        assert_eq!(other_name_text(&v).as_deref(), Some("00394460000141"));
        // Long form lengths and a length byte that looks like a digit (0x33 = '3').
        let body = "01011980123456789010000000000000000000000000000SSPDF";
        let mut v = vec![0xA0, 0x81, body.len() as u8 + 2, 0x04, body.len() as u8];
        v.extend_from_slice(body.as_bytes());
        assert_eq!(other_name_text(&v).as_deref(), Some(body));
        assert_eq!(other_name_text(&[0xA0, 0x85, 1]), None);
        assert_eq!(other_name_text(&[0xA0, 10, 0x04]), None);
    }

    #[test]
    fn bad_input_is_not_a_certificate() {
        assert!(cert_info(b"").is_none());
        assert!(cert_info(&[0x30, 0x82, 0xff]).is_none());
    }

    #[test]
    fn mutated_certificate_files_never_panic() {
        use openssl::asn1::Asn1Time;
        use openssl::hash::MessageDigest;
        let key = PKey::from_ec_key(
            openssl::ec::EcKey::generate(
                &openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        let mut name = openssl::x509::X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "fuzz").unwrap();
        let name = name.build();
        let mut b = openssl::x509::X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::days_from_now(30).unwrap()).unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        let cert = b.build();
        let mut pem = cert.to_pem().unwrap();
        pem.extend(key.private_key_to_pem_pkcs8_passphrase(openssl::symm::Cipher::aes_128_cbc(), b"pw").unwrap());
        let p12 = openssl::pkcs12::Pkcs12::builder().pkey(&key).cert(&cert).build2("pw").unwrap().to_der().unwrap();
        let der = cert.to_der().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let pw = Secret::new("pw");
        crate::mutation::mutants(&[&pem, &p12, &der], 600, |m| {
            let _ = cert_info(m);
            let _ = split_pem(&String::from_utf8_lossy(m));
            std::fs::write(&path, m).unwrap();
            let _ = load_identity(&path, Some(&pw));
            let _ = load_identity(&path, None);
        });
    }
}
