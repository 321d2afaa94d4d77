//! Certificates and keys as bytes: PEM splitting, certificate facts (subject, validity,
//! fingerprint, key, EKU, ICP-Brasil fields), loading a client identity from PEM or PKCS#12
//! (encrypted keys in both PEM forms), telling a wrong password from an algorithm OpenSSL
//! lacks, and refusing key derivations too costly to try. Reading the files is `hostfs`'s job.

use crate::secret::Secret;
use openssl::pkey::{Id, PKey, Private};
use openssl::x509::X509;
use serde::Serialize;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

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

/// Content that is not a certificate file pen-doctor can read (the text says what is wrong and
/// never quotes the file).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// The state of the private key in a certificate file.
pub enum KeyState {
    Present(PKey<Private>),
    Absent,
    /// The key is encrypted and the password (or its absence) does not open it.
    BadPassword {
        configured: bool,
    },
    /// The key (or the PKCS#12 container) is protected with an algorithm this OpenSSL cannot
    /// use: the password could not even be tried. `detail` is OpenSSL's reason.
    Unsupported {
        detail: String,
    },
    /// The file demands more key-derivation work than [`MAX_KDF_ITERATIONS`]: refused before
    /// any password is tried (OpenSSL would spend minutes on it).
    TooCostly {
        iterations: u64,
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

/// Loads a client identity from the bytes of a PEM or PKCS#12 file.
pub fn load_identity_bytes(bytes: &[u8], password: Option<&Secret>) -> Result<Loaded, Invalid> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Invalid("empty file".into()));
    }
    let looks_pem = bytes.windows(11).any(|w| w == b"-----BEGIN ");
    if looks_pem {
        let text = String::from_utf8_lossy(bytes);
        return load_pem(&text, password);
    }
    if bytes.first() == Some(&0x30) {
        if let Ok(p12) = openssl::pkcs12::Pkcs12::from_der(bytes) {
            let iterations = kdf_iterations(bytes);
            if iterations > MAX_KDF_ITERATIONS {
                return Ok(Loaded {
                    format: "PKCS#12",
                    certs: Vec::new(),
                    key: KeyState::TooCostly { iterations },
                    key_matches: false,
                });
            }
            return load_p12(&p12, password);
        }
        if let Ok(x) = X509::from_der(bytes) {
            let der = x.to_der().unwrap_or_default();
            return Ok(Loaded { format: "DER", certs: vec![der], key: KeyState::Absent, key_matches: false });
        }
    }
    Err(Invalid("neither PEM nor PKCS#12 (unrecognised binary data)".into()))
}

fn load_pem(text: &str, password: Option<&Secret>) -> Result<Loaded, Invalid> {
    let pem = split_pem(text);
    if let Some(label) = &pem.truncated {
        return Err(Invalid(format!("truncated PEM: '{label}' block without its END line")));
    }
    let mut certs = Vec::new();
    let mut key_blocks = Vec::new();
    for b in &pem.blocks {
        match b.label.as_str() {
            "CERTIFICATE" | "TRUSTED CERTIFICATE" => match &b.der {
                Some(der) if X509::from_der(der).is_ok() => certs.push(der.clone()),
                _ => return Err(Invalid("damaged CERTIFICATE block (bad base64 or DER)".into())),
            },
            l if l.ends_with("PRIVATE KEY") => key_blocks.push(b),
            _ => {}
        }
    }
    if certs.is_empty() {
        let what = if key_blocks.is_empty() { "no certificate" } else { "only a private key, no certificate" };
        return Err(Invalid(what.into()));
    }
    let key = match key_blocks.first() {
        None => KeyState::Absent,
        Some(b) => {
            let encrypted = b.label == "ENCRYPTED PRIVATE KEY" || b.legacy_encrypted;
            let iterations = b.der.as_deref().map(kdf_iterations).unwrap_or(0);
            if encrypted && iterations > MAX_KDF_ITERATIONS {
                KeyState::TooCostly { iterations }
            } else if encrypted {
                match password {
                    Some(p) => match PKey::private_key_from_pem_passphrase(b.text.as_bytes(), p.expose().as_bytes()) {
                        Ok(k) => KeyState::Present(k),
                        Err(e) => decrypt_failure(&e, true),
                    },
                    None => KeyState::BadPassword { configured: false },
                }
            } else {
                match PKey::private_key_from_pem(b.text.as_bytes()) {
                    Ok(k) => KeyState::Present(k),
                    Err(_) => return Err(Invalid(format!("damaged '{}' block", b.label))),
                }
            }
        }
    };
    Ok(order(Loaded { format: "PEM", certs, key, key_matches: false }))
}

/// What a failed decryption means: OpenSSL could not use the algorithm (the password was never
/// tried), or the password does not open the key. Shared by the PEM and PKCS#12 paths.
fn decrypt_failure(e: &openssl::error::ErrorStack, configured: bool) -> KeyState {
    // The store layer adds a generic "unsupported" to every failed load; only the reasons of
    // the cipher, the key derivation and the PEM header tell an algorithm OpenSSL lacks.
    let unsupported = e.errors().iter().find(|err| {
        let reason = err.reason().unwrap_or("").to_ascii_lowercase();
        let library = err.library().unwrap_or("").to_ascii_lowercase();
        !library.contains("store")
            && (reason.contains("unsupported")
                || reason.contains("unknown cipher")
                || reason.contains("unknown algorithm"))
    });
    match unsupported {
        Some(err) => KeyState::Unsupported {
            detail: match err.data() {
                Some(d) if !d.is_empty() => format!("{} ({d})", err.reason().unwrap_or("unsupported")),
                _ => err.reason().unwrap_or("unsupported").to_string(),
            },
        },
        None => KeyState::BadPassword { configured },
    }
}

fn load_p12(p12: &openssl::pkcs12::Pkcs12, password: Option<&Secret>) -> Result<Loaded, Invalid> {
    // Old exports use RC2/3DES, which OpenSSL 3 keeps in its legacy provider.
    static LEGACY: std::sync::OnceLock<Option<openssl::provider::Provider>> = std::sync::OnceLock::new();
    LEGACY.get_or_init(|| openssl::provider::Provider::try_load(None, "legacy", true).ok());
    let pass = password.map(|p| p.expose()).unwrap_or("");
    let without_key = |key| Ok(Loaded { format: "PKCS#12", certs: Vec::new(), key, key_matches: false });
    if pass.contains('\0') {
        return without_key(KeyState::BadPassword { configured: password.is_some() });
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
                return Err(Invalid("PKCS#12 without a certificate".into()));
            }
            let key = parsed.pkey.map(KeyState::Present).unwrap_or(KeyState::Absent);
            Ok(order(Loaded { format: "PKCS#12", certs, key, key_matches: false }))
        }
        Err(e) => {
            let text = e.to_string().to_ascii_lowercase();
            match decrypt_failure(&e, password.is_some()) {
                KeyState::Unsupported { detail } => without_key(KeyState::Unsupported { detail }),
                _ if text.contains("mac") || text.contains("decrypt") || text.contains("pkcs12") || text.is_empty() => {
                    without_key(KeyState::BadPassword { configured: password.is_some() })
                }
                _ => {
                    Err(Invalid(format!("PKCS#12: {}", e.errors().first().map(|e| e.to_string()).unwrap_or_default())))
                }
            }
        }
    }
}

// ----------------------------------------------------------------------------- key derivation cost

/// The most key-derivation iterations a certificate file may demand. Exports use 2 048 (OpenSSL),
/// 2 000 (Windows) or 10 000 (Java); ten million already costs seconds per use.
pub const MAX_KDF_ITERATIONS: u64 = 10_000_000;

/// PBKDF2 (RFC 8018): params `SEQUENCE { salt, iterationCount, … }`.
const OID_PBKDF2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c];
/// scrypt (RFC 7914): params `SEQUENCE { salt, N, r, p, … }`.
const OID_SCRYPT: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x04, 0x0b];
/// PKCS#5 v1.5 PBES1 schemes (`1.2.840.113549.1.5.{1,3,4,6,10,11}`).
const OID_PBES1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05];
/// PKCS#12 PBE schemes (`1.2.840.113549.1.12.1.1`–`6`).
const OID_PKCS12_PBE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01];

/// The TLVs of a DER sequence's content, as (tag, content); stops at the first malformed one.
fn der_children(mut b: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while let Some((tag, content, rest)) = der_tlv(b) {
        out.push((tag, content));
        b = rest;
    }
    out
}

/// A non-negative DER INTEGER as u64 (saturating); `None` when negative or empty.
fn der_uint(content: &[u8]) -> Option<u64> {
    if content.first()? & 0x80 != 0 {
        return None;
    }
    let digits: Vec<u8> = content.iter().copied().skip_while(|b| *b == 0).collect();
    if digits.len() > 8 {
        return Some(u64::MAX);
    }
    Some(digits.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)))
}

/// The iteration count an `AlgorithmIdentifier { oid, params }` of a password-based scheme
/// asks for, if it is one.
fn algorithm_iterations(oid: &[u8], params: Option<&[u8]>) -> Option<u64> {
    let fields = der_children(params?);
    let int = |i: usize| fields.get(i).filter(|(t, _)| *t == 0x02).and_then(|(_, c)| der_uint(c));
    if oid == OID_PBKDF2 {
        int(1)
    } else if oid == OID_SCRYPT {
        // N·r·p block mixes of 128·r bytes each: the work, in the same unit as iterations.
        Some(int(1)?.saturating_mul(int(2)?).saturating_mul(int(3)?))
    } else if (oid.len() == OID_PBES1.len() + 1 && oid.starts_with(OID_PBES1) && [1, 3, 4, 6, 10, 11].contains(&oid[8]))
        || (oid.len() == OID_PKCS12_PBE.len() + 1 && oid.starts_with(OID_PKCS12_PBE))
    {
        int(1)
    } else {
        None
    }
}

fn walk_kdf(b: &[u8], depth: u32, most: &mut u64) {
    if depth > 64 {
        return;
    }
    for (tag, content) in der_children(b) {
        match tag {
            0x30 => {
                let fields = der_children(content);
                if let Some((0x06, oid)) = fields.first() {
                    let params = fields.get(1).filter(|(t, _)| *t == 0x30).map(|(_, c)| *c);
                    if let Some(n) = algorithm_iterations(oid, params) {
                        *most = (*most).max(n);
                    }
                }
                walk_kdf(content, depth + 1, most);
            }
            // The content of a PKCS#7 `data` (and certificate bags) is DER inside an OCTET STRING.
            0x04 if content.first() == Some(&0x30) => walk_kdf(content, depth + 1, most),
            t if t & 0x20 != 0 => walk_kdf(content, depth + 1, most),
            _ => {}
        }
    }
}

/// The most key-derivation iterations a PKCS#12 file or a PKCS#8 encrypted key asks for, read
/// from its DER before any password is tried: the PKCS#12 MAC, every PBES1/PBES2/PKCS#12 PBE
/// and scrypt parameter set in the clear (bags inside encrypted content are not visible).
pub fn kdf_iterations(der: &[u8]) -> u64 {
    let mut most = 0;
    // PFX ::= SEQUENCE { version INTEGER, authSafe ContentInfo,
    //                    macData SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER } }
    if let Some((0x30, pfx, _)) = der_tlv(der) {
        let top = der_children(pfx);
        if let (Some((0x02, _)), Some((0x30, mac))) = (top.first(), top.get(2)) {
            let mac = der_children(mac);
            if let (Some((0x30, _)), Some((0x04, _)), Some((0x02, n))) = (mac.first(), mac.get(1), mac.get(2)) {
                most = der_uint(n).unwrap_or(0);
            }
        }
    }
    walk_kdf(der, 0, &mut most);
    most
}

// ----------------------------------------------------------------------------- legacy PKCS#12

/// Password-based encryption schemes of old PKCS#12 exports (RC2, RC4, DES, 3DES): readable
/// here, refused by an OpenSSL 3 without its legacy provider. `(OID content, name)`.
const LEGACY_PBE: &[(&[u8], &str)] = &[
    (&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x01], "pbeWithSHA1And128BitRC4"),
    (&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x02], "pbeWithSHA1And40BitRC4"),
    (&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x03], "pbeWithSHA1And3-KeyTripleDES-CBC"),
    (&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x04], "pbeWithSHA1And2-KeyTripleDES-CBC"),
    (&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x05], "pbeWithSHA1And128BitRC2-CBC"),
    (&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x06], "pbeWithSHA1And40BitRC2-CBC"),
    (&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x01], "pbeWithMD2AndDES-CBC"),
    (&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x03], "pbeWithMD5AndDES-CBC"),
    (&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x04], "pbeWithMD2AndRC2-CBC"),
    (&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x06], "pbeWithMD5AndRC2-CBC"),
    (&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0a], "pbeWithSHA1AndDES-CBC"),
    (&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0b], "pbeWithSHA1AndRC2-CBC"),
    (&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x03, 0x07], "des-ede3-cbc"),
    (&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x03, 0x02], "rc2-cbc"),
    (&[0x2b, 0x0e, 0x03, 0x02, 0x07], "des-cbc"),
];

fn walk_legacy(b: &[u8], depth: u32, found: &mut Vec<&'static str>) {
    if depth > 64 || found.len() >= 8 {
        return;
    }
    for (tag, content) in der_children(b) {
        match tag {
            0x06 => {
                if let Some((_, name)) = LEGACY_PBE.iter().find(|(oid, _)| *oid == content) {
                    if !found.contains(name) {
                        found.push(name);
                    }
                }
            }
            0x04 if content.first() == Some(&0x30) => walk_legacy(content, depth + 1, found),
            t if t & 0x20 != 0 => walk_legacy(content, depth + 1, found),
            _ => {}
        }
    }
}

/// The legacy encryption schemes (RC2, RC4, DES, 3DES) a PKCS#12 file uses, read from its DER
/// in the clear (the certificate bag's and the key bag's algorithm identifiers); empty for a
/// modern (AES, PBES2) export.
pub fn pkcs12_legacy_algorithms(der: &[u8]) -> Vec<&'static str> {
    let mut found = Vec::new();
    walk_legacy(der, 0, &mut found);
    found
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_pkcs12_is_told_from_a_modern_one() {
        let key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
        let mut name = openssl::x509::X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "legacy").unwrap();
        let name = name.build();
        let mut b = X509::builder().unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap()).unwrap();
        b.set_not_after(&openssl::asn1::Asn1Time::days_from_now(1).unwrap()).unwrap();
        b.sign(&key, openssl::hash::MessageDigest::sha256()).unwrap();
        let cert = b.build();
        let modern = openssl::pkcs12::Pkcs12::builder().pkey(&key).cert(&cert).build2("pw").unwrap().to_der().unwrap();
        assert!(pkcs12_legacy_algorithms(&modern).is_empty());
        assert!(pkcs12_legacy_algorithms(b"\x30\x84\xff\xff\xff\xff").is_empty());
    }

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

    /// A tiny DER writer for crafted structures.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let n = content.len();
        if n < 0x80 {
            out.push(n as u8);
        } else {
            let bytes: Vec<u8> = n.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
        out.extend_from_slice(content);
        out
    }

    fn int(n: u64) -> Vec<u8> {
        let mut b: Vec<u8> = n.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        if b.first().is_none_or(|f| f & 0x80 != 0) {
            b.insert(0, 0);
        }
        tlv(0x02, &b)
    }

    fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }

    fn test_key_and_cert() -> (PKey<Private>, X509) {
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
        name.append_entry_by_text("CN", "test").unwrap();
        let name = name.build();
        let mut b = openssl::x509::X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::days_from_now(30).unwrap()).unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        (key, b.build())
    }

    fn pem_of(label: &str, der: &[u8]) -> String {
        let b64 = openssl::base64::encode_block(der);
        let body: Vec<String> = b64.as_bytes().chunks(64).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", body.join("\n"))
    }

    #[test]
    fn an_unknown_key_cipher_is_not_a_wrong_password() {
        let (key, cert) = test_key_and_cert();
        let pem = key.private_key_to_pem_pkcs8_passphrase(openssl::symm::Cipher::aes_256_cbc(), b"pw").unwrap();
        let der = split_pem(&String::from_utf8_lossy(&pem)).blocks[0].der.clone().unwrap();
        // aes-256-cbc (2.16.840.1.101.3.4.1.42) becomes the unassigned 2.16.840.1.101.3.4.1.127.
        let aes = [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a];
        let at = der.windows(aes.len()).position(|w| w == aes).unwrap();
        let mut unknown = der.clone();
        unknown[at + aes.len() - 1] = 0x7f;
        let cert_pem = String::from_utf8(cert.to_pem().unwrap()).unwrap();
        let pw = Secret::new("pw");
        let state = |key_pem: &str, pw: &Secret| {
            load_identity_bytes((cert_pem.clone() + key_pem).as_bytes(), Some(pw)).map(|l| l.key).unwrap()
        };
        match state(&pem_of("ENCRYPTED PRIVATE KEY", &unknown), &pw) {
            KeyState::Unsupported { detail } => assert!(detail.contains("unsupported"), "{detail}"),
            _ => panic!("an unknown cipher must not read as a wrong password"),
        }
        assert!(matches!(
            state(&pem_of("ENCRYPTED PRIVATE KEY", &der), &Secret::new("wrong")),
            KeyState::BadPassword { configured: true }
        ));
        assert!(matches!(state(&pem_of("ENCRYPTED PRIVATE KEY", &der), &pw), KeyState::Present(_)));

        // The legacy form names its cipher in a header.
        let legacy =
            key.ec_key().unwrap().private_key_to_pem_passphrase(openssl::symm::Cipher::aes_128_cbc(), b"pw").unwrap();
        let legacy = String::from_utf8(legacy).unwrap().replace("AES-128-CBC", "FOO-128-CBC");
        assert!(matches!(state(&legacy, &pw), KeyState::Unsupported { .. }));
    }

    #[test]
    fn key_derivation_costs_are_read_before_any_password() {
        let (key, cert) = test_key_and_cert();
        let p12 = openssl::pkcs12::Pkcs12::builder().pkey(&key).cert(&cert).build2("pw").unwrap().to_der().unwrap();
        let n = kdf_iterations(&p12);
        assert!((1..=MAX_KDF_ITERATIONS).contains(&n), "{n}");

        // PBES2 { PBKDF2 { salt, 2^31 }, aes-256-cbc { iv } } around some encrypted bytes.
        let pbkdf2 = seq(&[tlv(0x06, OID_PBKDF2), seq(&[tlv(0x04, &[1; 8]), int(1 << 31)])]);
        let aes = seq(&[tlv(0x06, &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a]), tlv(0x04, &[0; 16])]);
        let pbes2 = seq(&[tlv(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d]), seq(&[pbkdf2, aes])]);
        let epki = seq(&[pbes2, tlv(0x04, &[0; 48])]);
        assert_eq!(kdf_iterations(&epki), 1 << 31);
        let cert_pem = String::from_utf8(cert.to_pem().unwrap()).unwrap();
        let file = cert_pem + &pem_of("ENCRYPTED PRIVATE KEY", &epki);
        let loaded = load_identity_bytes(file.as_bytes(), Some(&Secret::new("pw"))).unwrap();
        assert!(matches!(loaded.key, KeyState::TooCostly { iterations } if iterations == 1 << 31));
        assert_eq!(loaded.certs.len(), 1, "the certificate is still read");

        // A PKCS#12 MAC (the third field of the PFX) and scrypt's N·r·p.
        let mac = seq(&[
            seq(&[seq(&[tlv(0x06, &[0x2b, 0x0e, 0x03, 0x02, 0x1a])]), tlv(0x04, &[0; 20])]),
            tlv(0x04, &[0; 8]),
            int(50_000_000),
        ]);
        let pfx = seq(&[int(3), seq(&[tlv(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01])]), mac]);
        assert_eq!(kdf_iterations(&pfx), 50_000_000);
        let scrypt = seq(&[tlv(0x06, OID_SCRYPT), seq(&[tlv(0x04, &[1; 8]), int(1 << 20), int(8), int(4)])]);
        assert_eq!(kdf_iterations(&seq(&[scrypt])), (1 << 20) * 8 * 4);
        // Huge and negative integers.
        let big = seq(&[tlv(0x06, OID_PBKDF2), seq(&[tlv(0x04, &[1; 8]), tlv(0x02, &[0x7f; 12])])]);
        assert_eq!(kdf_iterations(&seq(&[big])), u64::MAX);
        let negative = seq(&[tlv(0x06, OID_PBKDF2), seq(&[tlv(0x04, &[1; 8]), tlv(0x02, &[0xff, 0x00])])]);
        assert_eq!(kdf_iterations(&seq(&[negative])), 0);
        // Deep nesting ends.
        let mut deep = int(1);
        for _ in 0..500 {
            deep = seq(&[deep]);
        }
        assert_eq!(kdf_iterations(&deep), 0);
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
        let pw = Secret::new("pw");
        crate::mutation::mutants(&[&pem, &p12, &der], 600, |m| {
            let _ = cert_info(m);
            let _ = split_pem(&String::from_utf8_lossy(m));
            let _ = load_identity_bytes(m, Some(&pw));
            let _ = load_identity_bytes(m, None);
            let _ = kdf_iterations(m);
        });
    }
}
