//! The test suite's one certificate factory. Certificates are made in memory with the OpenSSL
//! library ([`issue`] from a [`Spec`]) and, for the tests that work with files, written out as
//! PEM ([`Pki::root`], [`Pki::leaf`]… give a [`Cert`] of paths): roots, intermediates, server
//! and client leaves with any validity window (to the second; expired and not-yet-valid
//! certificates are real), encrypted keys (PKCS#8 and the traditional `Proc-Type` form),
//! PKCS#12 files and the combined PEM files mod-sei-pen reads. [`Pki::new`] also holds a fixed
//! hierarchy the TLS tests share (a root and intermediate, an expired cross-signing root, an
//! untrusted root, client CAs).
//!
//! The `openssl` command is used for one thing only: PKCS#12 exports with command-line options
//! (`-legacy`, `-nomac`…) the library does not offer ([`Pki::pkcs12_cli`]). Keys are EC P-256
//! unless a spec asks for RSA 2048 (slower to generate).

use super::{must, temp_dir, which};
use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::rsa::Rsa;
use openssl::symm::Cipher;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName, SubjectKeyIdentifier,
};
use openssl::x509::{X509Builder, X509Name, X509NameBuilder, X509};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Now, in seconds since the epoch.
pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// A new EC P-256 key.
pub fn ec_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

/// A new RSA 2048 key.
pub fn rsa_key() -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
}

/// Clones a key (for cross-signing: the same key under two certificates).
pub fn same_key(k: &PKey<Private>) -> PKey<Private> {
    PKey::private_key_from_der(&k.private_key_to_der().unwrap()).unwrap()
}

/// A certificate and its key, in memory.
pub struct Issued {
    pub cert: X509,
    pub key: PKey<Private>,
}

impl Issued {
    /// The subject's common name.
    pub fn cn(&self) -> String {
        self.cert
            .subject_name()
            .entries_by_nid(openssl::nid::Nid::COMMONNAME)
            .next()
            .map(|e| String::from_utf8_lossy(e.data().as_slice()).into_owned())
            .unwrap_or_default()
    }

    pub fn pem(&self) -> String {
        String::from_utf8(self.cert.to_pem().unwrap()).unwrap()
    }
    /// The key, unencrypted PKCS#8 (`BEGIN PRIVATE KEY`).
    pub fn key_pem(&self) -> String {
        String::from_utf8(self.key.private_key_to_pem_pkcs8().unwrap()).unwrap()
    }
    /// PKCS#8 `ENCRYPTED PRIVATE KEY` (AES-256-CBC, PBKDF2).
    pub fn key_pem_pkcs8_encrypted(&self, pass: &str) -> String {
        key_text(&self.key, KeyFormat::Pkcs8, Some(pass))
    }
    /// Legacy OpenSSL form: `Proc-Type: 4,ENCRYPTED` (RSA keys, AES-128-CBC).
    pub fn key_pem_legacy_encrypted(&self, pass: &str) -> String {
        traditional_pem(&self.key, Some((Cipher::aes_128_cbc(), pass)))
    }
    /// A PKCS#12 file (DER) named `client` with this certificate, its key and `chain`.
    pub fn p12(&self, pass: &str, chain: &[&Issued]) -> Vec<u8> {
        let chain: Vec<&X509> = chain.iter().map(|c| &c.cert).collect();
        p12_der("client", &self.key, &self.cert, &chain, pass)
    }
}

/// What to put in a certificate. Times are seconds since the epoch (see [`now`], [`DAY`]).
pub struct Spec<'a> {
    pub cn: &'a str,
    pub org: &'a str,
    pub not_before: i64,
    pub not_after: i64,
    pub ca: bool,
    /// Subject alternative names: an entry that reads as an IP address is an `IP:` name, any
    /// other a `DNS:` name.
    pub dns: Vec<&'a str>,
    /// `Some(["serverAuth"])`, `Some(["clientAuth"])`, `Some(["emailProtection"])`, or `None`.
    pub eku: Option<Vec<&'a str>>,
    /// otherName entries of the SAN: (OID, text stored as an OCTET STRING), as ICP-Brasil does.
    pub other_names: Vec<(&'a str, String)>,
    /// The whole subject in `openssl -subj` form (`/C=US/O=Org/CN=name`, `\/` for a slash);
    /// `None`: `C=BR, O=org, CN=cn`.
    pub subject: Option<String>,
}

impl<'a> Spec<'a> {
    pub fn ca(cn: &'a str) -> Self {
        Spec {
            cn,
            org: "pen-doctor test",
            not_before: now() - 400 * DAY,
            not_after: now() + 3650 * DAY,
            ca: true,
            dns: vec![],
            eku: None,
            other_names: vec![],
            subject: None,
        }
    }
    pub fn server(dns: &'a str) -> Self {
        Spec {
            cn: dns,
            org: "pen-doctor test",
            not_before: now() - 10 * DAY,
            not_after: now() + 300 * DAY,
            ca: false,
            dns: vec![dns],
            eku: Some(vec!["serverAuth"]),
            other_names: vec![],
            subject: None,
        }
    }
    pub fn client(cn: &'a str, org: &'a str) -> Self {
        Spec {
            cn,
            org,
            not_before: now() - 10 * DAY,
            not_after: now() + 300 * DAY,
            ca: false,
            dns: vec![],
            eku: Some(vec!["clientAuth"]),
            other_names: vec![],
            subject: None,
        }
    }
    pub fn valid(mut self, from: i64, until: i64) -> Self {
        self.not_before = from;
        self.not_after = until;
        self
    }
}

/// The subject name of `spec`.
fn subject_name(spec: &Spec) -> X509Name {
    let mut name = X509NameBuilder::new().unwrap();
    match &spec.subject {
        Some(subj) => {
            for (field, value) in parse_subj(subj) {
                name.append_entry_by_text(&field, &value)
                    .unwrap_or_else(|e| panic!("subject `{subj}`: cannot add {field}={value}: {e}"));
            }
        }
        None => {
            name.append_entry_by_text("C", "BR").unwrap();
            name.append_entry_by_text("O", spec.org).unwrap();
            name.append_entry_by_text("CN", spec.cn).unwrap();
        }
    }
    name.build()
}

/// `/C=US/O=Org/CN=a\/b` as (field, value) pairs.
fn parse_subj(subj: &str) -> Vec<(String, String)> {
    let mut parts = vec![String::new()];
    let mut chars = subj.trim_start_matches('/').chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => parts.last_mut().unwrap().extend(chars.next()),
            '/' => parts.push(String::new()),
            c => parts.last_mut().unwrap().push(c),
        }
    }
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => panic!("subject `{subj}`: `{p}` is not FIELD=value"),
        })
        .collect()
}

/// Issues a certificate for `key` (self-signed when `issuer` is `None`). A CA gets critical
/// basicConstraints and keyCertSign/cRLSign; a leaf critical `CA:FALSE` and digitalSignature
/// (and keyEncipherment for an RSA key); an issued certificate names its issuer's key.
pub fn issue(spec: &Spec, key: PKey<Private>, issuer: Option<&Issued>) -> Issued {
    let name = subject_name(spec);
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    let mut serial = BigNum::new().unwrap();
    serial.rand(63, MsbOption::ONE, false).unwrap();
    b.set_serial_number(&Asn1Integer::from_bn(&serial).unwrap()).unwrap();
    b.set_subject_name(&name).unwrap();
    match issuer {
        Some(i) => b.set_issuer_name(i.cert.subject_name()).unwrap(),
        None => b.set_issuer_name(&name).unwrap(),
    }
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::from_unix(spec.not_before).unwrap()).unwrap();
    b.set_not_after(&Asn1Time::from_unix(spec.not_after).unwrap()).unwrap();
    if spec.ca {
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap()).unwrap();
        b.append_extension(KeyUsage::new().critical().key_cert_sign().crl_sign().build().unwrap()).unwrap();
    } else {
        b.append_extension(BasicConstraints::new().critical().build().unwrap()).unwrap();
        let mut ku = KeyUsage::new();
        ku.critical().digital_signature();
        if key.id() == Id::RSA {
            ku.key_encipherment();
        }
        b.append_extension(ku.build().unwrap()).unwrap();
    }
    if let Some(eku) = &spec.eku {
        let mut e = ExtendedKeyUsage::new();
        for u in eku {
            match *u {
                "serverAuth" => e.server_auth(),
                "clientAuth" => e.client_auth(),
                "emailProtection" => e.email_protection(),
                other => e.other(other),
            };
        }
        b.append_extension(e.build().unwrap()).unwrap();
    }
    if !spec.dns.is_empty() || !spec.other_names.is_empty() {
        let mut san = SubjectAlternativeName::new();
        for d in &spec.dns {
            if d.parse::<std::net::IpAddr>().is_ok() {
                san.ip(d);
            } else {
                san.dns(d);
            }
        }
        for (oid, text) in &spec.other_names {
            let mut der = vec![0x04, text.len() as u8];
            der.extend_from_slice(text.as_bytes());
            san.other_name2(openssl::asn1::Asn1Object::from_str(oid).unwrap(), &der);
        }
        let ext = san.build(&b.x509v3_context(issuer.map(|i| &*i.cert), None)).unwrap();
        b.append_extension(ext).unwrap();
    }
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(issuer.map(|i| &*i.cert), None)).unwrap();
    b.append_extension(ski).unwrap();
    if issuer.is_some() {
        let aki =
            AuthorityKeyIdentifier::new().keyid(true).build(&b.x509v3_context(issuer.map(|i| &*i.cert), None)).unwrap();
        b.append_extension(aki).unwrap();
    }
    let signer = issuer.map(|i| &i.key).unwrap_or(&key);
    b.sign(signer, MessageDigest::sha256()).unwrap();
    Issued { cert: b.build(), key }
}
/// A certificate the [`Pki`] made, and the files around it. All paths are PEM.
#[derive(Debug, Clone)]
pub struct Cert {
    /// The subject's common name.
    pub cn: String,
    /// This certificate alone.
    pub cert: PathBuf,
    /// Its private key, unencrypted PKCS#8 (`BEGIN PRIVATE KEY`).
    pub key: PathBuf,
    /// This certificate, then the intermediates above it, without the root: what a server
    /// sends (nginx `ssl_certificate`).
    pub chain: PathBuf,
    /// [`Cert::chain`] followed by the root.
    pub fullchain: PathBuf,
    /// The root certificate of its hierarchy (itself for a root or a self-signed leaf): what a
    /// trust store or nginx `ssl_client_certificate` needs.
    pub root: PathBuf,
    /// Whether it may sign certificates.
    pub is_ca: bool,
    /// The issuers' certificates, from the direct issuer up to the root.
    pub issuers: Vec<PathBuf>,
    /// Its folder (for a CA, also its `openssl ca` database).
    pub dir: PathBuf,
}

/// The key type of a new certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// EC P-256: fast.
    Ec,
    /// RSA 2048: for tests that need RSA.
    Rsa,
}

/// What a leaf certificate looks like. Days are relative to now (negative: in the past).
#[derive(Debug, Clone)]
pub struct LeafSpec {
    pub cn: String,
    /// Full subject in `openssl -subj` form (`/C=BR/O=Org/CN=name`); default `/O=pen-doctor tests/CN=<cn>`.
    pub subject: Option<String>,
    /// Subject alternative names: each an IP address (`IP:`) or a DNS name (`DNS:`).
    pub sans: Vec<String>,
    pub not_before_days: i64,
    pub not_after_days: i64,
    pub server_auth: bool,
    pub client_auth: bool,
    pub key: KeyType,
}

impl LeafSpec {
    /// A server certificate for `name` (CN and SAN), valid from yesterday for a year.
    pub fn server(name: &str) -> LeafSpec {
        LeafSpec {
            cn: name.to_string(),
            subject: None,
            sans: vec![name.to_string()],
            not_before_days: -1,
            not_after_days: 365,
            server_auth: true,
            client_auth: false,
            key: KeyType::Ec,
        }
    }

    /// A client certificate (clientAuth, no SAN) for `cn`, valid from yesterday for a year.
    pub fn client(cn: &str) -> LeafSpec {
        LeafSpec { sans: Vec::new(), server_auth: false, client_auth: true, ..LeafSpec::server(cn) }
    }

    /// Replaces the subject alternative names.
    pub fn sans(mut self, sans: &[&str]) -> LeafSpec {
        self.sans = sans.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Valid from `not_before` days to `not_after` days from now.
    pub fn valid_days(mut self, not_before: i64, not_after: i64) -> LeafSpec {
        self.not_before_days = not_before;
        self.not_after_days = not_after;
        self
    }

    /// Expired: valid from a year ago until yesterday.
    pub fn expired(self) -> LeafSpec {
        self.valid_days(-365, -1)
    }

    /// Not yet valid: valid from tomorrow for a year.
    pub fn not_yet_valid(self) -> LeafSpec {
        self.valid_days(1, 366)
    }

    pub fn subject(mut self, subject: &str) -> LeafSpec {
        self.subject = Some(subject.to_string());
        self
    }

    pub fn server_auth(mut self, yes: bool) -> LeafSpec {
        self.server_auth = yes;
        self
    }

    pub fn client_auth(mut self, yes: bool) -> LeafSpec {
        self.client_auth = yes;
        self
    }

    pub fn rsa(mut self) -> LeafSpec {
        self.key = KeyType::Rsa;
        self
    }
}

/// What a CA certificate looks like. Days are relative to now.
#[derive(Debug, Clone)]
pub struct CaSpec {
    pub cn: String,
    pub subject: Option<String>,
    pub not_before_days: i64,
    pub not_after_days: i64,
    pub key: KeyType,
}

impl CaSpec {
    /// Valid from yesterday for ten years.
    pub fn new(cn: &str) -> CaSpec {
        CaSpec { cn: cn.to_string(), subject: None, not_before_days: -1, not_after_days: 3650, key: KeyType::Ec }
    }

    pub fn valid_days(mut self, not_before: i64, not_after: i64) -> CaSpec {
        self.not_before_days = not_before;
        self.not_after_days = not_after;
        self
    }

    /// Expired (like DST Root CA X3): valid from ten years ago until yesterday.
    pub fn expired(self) -> CaSpec {
        self.valid_days(-3650, -1)
    }

    pub fn subject(mut self, subject: &str) -> CaSpec {
        self.subject = Some(subject.to_string());
        self
    }

    pub fn rsa(mut self) -> CaSpec {
        self.key = KeyType::Rsa;
        self
    }
}

/// How a private key is written into a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    /// PKCS#8: `BEGIN ENCRYPTED PRIVATE KEY` (AES-256-CBC, PBKDF2) with a password,
    /// `BEGIN PRIVATE KEY` without.
    Pkcs8,
    /// The older OpenSSL form: `BEGIN RSA PRIVATE KEY` / `BEGIN EC PRIVATE KEY`, with
    /// `Proc-Type: 4,ENCRYPTED` and `DEK-Info: AES-256-CBC,…` headers when encrypted.
    Traditional,
}

/// A certificate and its key in one PEM file, as `LocalizacaoCertificado` names it.
#[derive(Debug, Clone, Copy)]
pub struct PemBundle<'a> {
    /// Encrypts the key with this password (`None`: key in clear).
    pub password: Option<&'a str>,
    pub key_format: KeyFormat,
    /// Key before the certificate (the order `openssl pkcs12 -in … -nodes` writes) or after.
    pub key_first: bool,
    /// Also include the issuers' certificates (without the root).
    pub with_chain: bool,
}

impl Default for PemBundle<'_> {
    fn default() -> Self {
        PemBundle { password: None, key_format: KeyFormat::Pkcs8, key_first: false, with_chain: false }
    }
}

/// The certificate factory, in its own temporary directory (removed on drop), with a fixed
/// hierarchy made at once.
///
/// ```ignore
/// let pki = Pki::new();
/// let root = pki.root("Test Root");
/// let int = pki.intermediate(&root, "Test Intermediate");
/// let server = pki.leaf(&int, LeafSpec::server("127.0.0.2"));
/// let client = pki.leaf(&int, LeafSpec::client("orgao.example"));
/// let pem = pki.combined_pem(&client, "s3cret");  // cert + encrypted PKCS#8 key
/// // The fixed hierarchy, in memory:
/// let (key, chain) = pki.serve("api.test");     // leaf from `pki.inter`
/// let store = pki.write("store.pem", pki.root.pem());
/// ```
pub struct Pki {
    pub dir: tempfile::TempDir,
    /// The "public" root and its intermediate.
    pub root: Issued,
    pub inter: Issued,
    /// An old root, expired, that cross-signs `root` (the DST Root CA X3 / ISRG Root X1 shape).
    pub old_root: Issued,
    pub cross: Issued,
    /// A root nobody trusts.
    pub stranger: Issued,
    /// The client CA (ICP-Brasil-like) and a client CA the server does not know.
    pub client_ca: Issued,
    pub unknown_ca: Issued,
    counter: AtomicUsize,
}

impl Default for Pki {
    fn default() -> Self {
        Pki::new()
    }
}

impl Pki {
    pub fn new() -> Pki {
        let dir = temp_dir("pdt-pki-");
        let root = issue(&Spec::ca("Teste Root X1"), ec_key(), None);
        let inter = issue(&Spec::ca("Teste Intermediaria R3"), ec_key(), Some(&root));
        let old_root =
            issue(&Spec::ca("Teste Old Root X3").valid(now() - 3000 * DAY, now() - 30 * DAY), ec_key(), None);
        let cross = Issued {
            cert: issue(&Spec::ca("Teste Root X1"), same_key(&root.key), Some(&old_root)).cert,
            key: same_key(&root.key),
        };
        let stranger = issue(&Spec::ca("Teste Stranger Root"), ec_key(), None);
        let client_ca = issue(
            &Spec { org: "ICP-Brasil", ..Spec::ca("Autoridade Certificadora Raiz Brasileira Teste") },
            ec_key(),
            None,
        );
        let unknown_ca = issue(&Spec::ca("AC Desconhecida"), ec_key(), None);
        Pki { dir, root, inter, old_root, cross, stranger, client_ca, unknown_ca, counter: AtomicUsize::new(0) }
    }

    /// The Pki's directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A path in the Pki's directory for a file of the test's own.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `content` to `name` in the Pki's directory.
    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        fs::write(&p, content).unwrap_or_else(|e| panic!("cannot write {}: {e}", p.display()));
        p
    }

    /// A server leaf issued by the fixed intermediate.
    pub fn server_leaf(&self, spec: &Spec) -> Issued {
        issue(spec, ec_key(), Some(&self.inter))
    }

    /// What nginx serves for `host` (a leaf from the intermediate naming `host` only): its key
    /// and its chain (leaf, then intermediate), written as `HOST.key` and `HOST-chain.pem`.
    pub fn serve(&self, host: &str) -> (PathBuf, PathBuf) {
        let mut spec = Spec::server(host);
        spec.dns = vec![host];
        let leaf = self.server_leaf(&spec);
        let key = self.write(&format!("{host}.key"), leaf.key_pem());
        let chain = self.write(&format!("{host}-chain.pem"), leaf.pem() + &self.inter.pem());
        (key, chain)
    }

    /// What nginx serves for all of `hosts` (one leaf from the intermediate naming each): its
    /// key and its chain (leaf, then intermediate), written as `FIRST.key` and
    /// `FIRST-chain.pem`.
    pub fn serve_names(&self, hosts: &[&str]) -> (PathBuf, PathBuf) {
        let mut spec = Spec::server(hosts[0]);
        spec.dns = hosts.to_vec();
        let leaf = self.server_leaf(&spec);
        let key = self.write(&format!("{}.key", hosts[0]), leaf.key_pem());
        let chain = self.write(&format!("{}-chain.pem", hosts[0]), leaf.pem() + &self.inter.pem());
        (key, chain)
    }

    /// What a server presents for all of `hosts` with a leaf issued by `issuer` (one of the
    /// fixed hierarchy's CAs, e.g. [`Pki::stranger`] for a chain nobody trusts): its key and
    /// its chain (the leaf, then `issuer` unless it is self-signed), in files of their own.
    pub fn serve_from(&self, issuer: &Issued, hosts: &[&str]) -> (PathBuf, PathBuf) {
        let mut spec = Spec::server(hosts[0]);
        spec.dns = hosts.to_vec();
        let leaf = issue(&spec, ec_key(), Some(issuer));
        let self_signed = issuer.cert.issued(&issuer.cert) == openssl::x509::X509VerifyResult::OK;
        let chain = if self_signed { leaf.pem() } else { leaf.pem() + &issuer.pem() };
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let key = self.write(&format!("{}-{n}.key", hosts[0]), leaf.key_pem());
        let chain = self.write(&format!("{}-{n}-chain.pem", hosts[0]), chain);
        (key, chain)
    }

    /// The client CA as a file-based [`Cert`], to issue client leaves from it with
    /// [`Pki::leaf`] and a [`LeafSpec`].
    pub fn client_ca_cert(&self) -> Cert {
        let dir = self.new_dir("client-ca");
        let cert = dir.join("cert.pem");
        fs::write(&cert, self.client_ca.pem()).unwrap_or_else(|e| panic!("cannot write {}: {e}", cert.display()));
        let key = dir.join("key.pem");
        fs::write(&key, self.client_ca.key_pem()).unwrap_or_else(|e| panic!("cannot write {}: {e}", key.display()));
        finish("client-ca".to_string(), dir, cert, key, true, Vec::new())
    }

    /// The client CA's certificate as a file (nginx `ssl_client_certificate`).
    pub fn client_ca_file(&self) -> PathBuf {
        self.write("client-ca.pem", self.client_ca.pem())
    }

    /// The trust store of a healthy host: ISRG Root X1 (the public root Tramita's chain ends
    /// in) and this hierarchy's root, written as `store.pem`.
    pub fn healthy_store(&self) -> PathBuf {
        self.write("store.pem", super::isrg_x1() + &self.root.pem())
    }

    /// A client certificate issued by the client CA (RSA, for the legacy PEM encryption).
    pub fn client(&self, spec: &Spec) -> Issued {
        issue(spec, rsa_key(), Some(&self.client_ca))
    }

    /// A self-signed root CA valid from yesterday for ten years, as files.
    pub fn root(&self, cn: &str) -> Cert {
        self.root_with(CaSpec::new(cn))
    }

    pub fn root_with(&self, spec: CaSpec) -> Cert {
        self.make(&spec.cn, spec.spec(), spec.key, None, true)
    }

    /// An intermediate CA under `issuer`, valid from yesterday for ten years.
    pub fn intermediate(&self, issuer: &Cert, cn: &str) -> Cert {
        self.intermediate_with(issuer, CaSpec::new(cn))
    }

    pub fn intermediate_with(&self, issuer: &Cert, spec: CaSpec) -> Cert {
        assert!(issuer.is_ca, "{} is not a CA", issuer.cn);
        self.make(&spec.cn, spec.spec(), spec.key, Some(issuer), true)
    }

    /// A leaf certificate signed by `issuer`.
    pub fn leaf(&self, issuer: &Cert, spec: LeafSpec) -> Cert {
        assert!(issuer.is_ca, "{} is not a CA", issuer.cn);
        self.make(&spec.cn, spec.spec(), spec.key, Some(issuer), false)
    }

    /// A self-signed leaf (not a CA): the certificate a server uses when nobody issued one.
    pub fn self_signed(&self, spec: LeafSpec) -> Cert {
        self.make(&spec.cn, spec.spec(), spec.key, None, false)
    }

    /// Issues `spec` (signed by `issuer`, or self-signed) and writes it with its files.
    fn make(&self, cn: &str, spec: Spec, key: KeyType, issuer: Option<&Cert>, is_ca: bool) -> Cert {
        let dir = self.new_dir(cn);
        let key = match key {
            KeyType::Ec => ec_key(),
            KeyType::Rsa => rsa_key(),
        };
        let issued = match issuer {
            Some(ca) => issue(&spec, key, Some(&ca.load())),
            None => issue(&spec, key, None),
        };
        let cert = dir.join("cert.pem");
        fs::write(&cert, issued.pem()).unwrap_or_else(|e| panic!("cannot write {}: {e}", cert.display()));
        let key = dir.join("key.pem");
        fs::write(&key, issued.key_pem()).unwrap_or_else(|e| panic!("cannot write {}: {e}", key.display()));
        finish(cn.to_string(), dir, cert, key, is_ca, issuer.map(issuer_line).unwrap_or_default())
    }

    /// `cert`'s key in `format`, encrypted with `password` (AES-256-CBC).
    pub fn encrypted_key(&self, cert: &Cert, password: &str, format: KeyFormat) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let out = cert.dir.join(format!("key-{n}-{}.pem", format_name(format)));
        write_key(&cert.key, &out, Some(password), format);
        out
    }

    /// `cert`'s key as encrypted PKCS#8 DER (AES-256-CBC, PBKDF2), for tests that edit its bytes.
    pub fn encrypted_key_der(&self, cert: &Cert, password: &str) -> Vec<u8> {
        read_key(&cert.key).private_key_to_pkcs8_passphrase(Cipher::aes_256_cbc(), password.as_bytes()).unwrap()
    }

    /// A PKCS#12 file with `cert`, its key and its issuers (without the root), protected by
    /// `password` (OpenSSL 3 defaults: AES-256-CBC, PBKDF2).
    pub fn pkcs12(&self, cert: &Cert, password: &str) -> PathBuf {
        self.pkcs12_with(cert, password, true, &[])
    }

    /// [`Pki::pkcs12`] with a choice of chain and extra `openssl pkcs12 -export` arguments
    /// (e.g. `["-legacy"]`, `["-nomac"]`, `["-certpbe", "AES-128-CBC"]`; with any, the file
    /// is made by the `openssl` command).
    pub fn pkcs12_with(&self, cert: &Cert, password: &str, with_chain: bool, extra: &[&str]) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let out = cert.dir.join(format!("bundle-{n}.p12"));
        let parents: Vec<&PathBuf> =
            if with_chain { cert.issuers.iter().take(cert.issuers.len().saturating_sub(1)).collect() } else { vec![] };
        if extra.is_empty() {
            let me = cert.load();
            let chain: Vec<X509> = parents.iter().map(|p| read_cert(p)).collect();
            let chain: Vec<&X509> = chain.iter().collect();
            let der = p12_der(&cert.cn, &me.key, &me.cert, &chain, password);
            fs::write(&out, der).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
        } else {
            let input = cert.dir.join(format!("bundle-{n}-in.pem"));
            let mut parts = vec![&cert.cert, &cert.key];
            parts.extend(parents);
            concat(&input, &parts);
            let mut args = vec!["-name", cert.cn.as_str()];
            args.extend(extra);
            openssl_pkcs12(&input, &out, password, &args);
        }
        out
    }

    /// A PKCS#12 file `name` in the Pki's directory exported by the `openssl` command from
    /// `pem` (a certificate and its unencrypted key, maybe a chain), with `extra` options
    /// (`["-legacy"]` for the RC2/3DES files older Windows tools write; none: OpenSSL 3's
    /// defaults).
    pub fn pkcs12_cli(&self, name: &str, pem: &Path, password: &str, extra: &[&str]) -> PathBuf {
        let out = self.path(name);
        openssl_pkcs12(pem, &out, password, extra);
        out
    }

    /// `cert` and its key encrypted with `password` as PKCS#8, in one PEM file (certificate
    /// first): the usual `LocalizacaoCertificado` file.
    pub fn combined_pem(&self, cert: &Cert, password: &str) -> PathBuf {
        self.combined_pem_with(cert, PemBundle { password: Some(password), ..PemBundle::default() })
    }

    /// A certificate-and-key PEM file laid out as `how` says.
    pub fn combined_pem_with(&self, cert: &Cert, how: PemBundle<'_>) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let key = cert.dir.join(format!("combined-{n}-key.pem"));
        write_key(&cert.key, &key, how.password, how.key_format);
        let mut certs = vec![&cert.cert];
        if how.with_chain {
            certs.extend(cert.issuers.iter().take(cert.issuers.len().saturating_sub(1)));
        }
        let mut parts: Vec<&PathBuf> = Vec::new();
        if how.key_first {
            parts.push(&key);
            parts.extend(certs);
        } else {
            parts.extend(certs);
            parts.push(&key);
        }
        let out = cert.dir.join(format!("combined-{n}.pem"));
        concat(&out, &parts);
        out
    }

    /// A file in the Pki's directory holding these PEM files one after the other (a CA bundle).
    pub fn bundle(&self, name: &str, parts: &[&Path]) -> PathBuf {
        let out = self.path(name);
        concat(&out, parts);
        out
    }

    fn new_dir(&self, cn: &str) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let slug: String =
            cn.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).take(40).collect();
        let dir = self.dir.path().join(format!("{n:03}-{slug}"));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        dir
    }
}

impl Cert {
    /// The certificate and its key, read back into memory.
    pub fn load(&self) -> Issued {
        Issued { cert: read_cert(&self.cert), key: read_key(&self.key) }
    }
}

impl LeafSpec {
    fn spec(&self) -> Spec<'_> {
        let mut eku = Vec::new();
        if self.server_auth {
            eku.push("serverAuth");
        }
        if self.client_auth {
            eku.push("clientAuth");
        }
        Spec {
            dns: self.sans.iter().map(String::as_str).collect(),
            eku: if eku.is_empty() { None } else { Some(eku) },
            ..file_spec(&self.cn, &self.subject, self.not_before_days, self.not_after_days, false)
        }
    }
}

impl CaSpec {
    fn spec(&self) -> Spec<'_> {
        file_spec(&self.cn, &self.subject, self.not_before_days, self.not_after_days, true)
    }
}

/// The [`Spec`] of a file-based certificate: days from now, the `openssl -subj` subject (by
/// default `/O=pen-doctor tests/CN=<cn>`), no SAN, no extended usage.
fn file_spec<'a>(
    cn: &'a str,
    subject: &Option<String>,
    not_before_days: i64,
    not_after_days: i64,
    ca: bool,
) -> Spec<'a> {
    Spec {
        cn,
        org: "pen-doctor tests",
        not_before: now() + not_before_days * DAY,
        not_after: now() + not_after_days * DAY,
        ca,
        dns: vec![],
        eku: None,
        other_names: vec![],
        subject: Some(subject.clone().unwrap_or_else(|| default_subject(cn))),
    }
}

fn default_subject(cn: &str) -> String {
    format!("/O=pen-doctor tests/CN={}", cn.replace('\\', "\\\\").replace('/', "\\/"))
}

fn format_name(f: KeyFormat) -> &'static str {
    match f {
        KeyFormat::Pkcs8 => "pkcs8",
        KeyFormat::Traditional => "traditional",
    }
}

fn issuer_line(issuer: &Cert) -> Vec<PathBuf> {
    let mut line = vec![issuer.cert.clone()];
    line.extend(issuer.issuers.iter().cloned());
    line
}

fn read_cert(path: &Path) -> X509 {
    let pem = fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    X509::from_pem(&pem).unwrap_or_else(|e| panic!("{} is not a PEM certificate: {e}", path.display()))
}

fn read_key(path: &Path) -> PKey<Private> {
    let pem = fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    PKey::private_key_from_pem(&pem).unwrap_or_else(|e| panic!("{} is not a PEM key: {e}", path.display()))
}

fn finish(cn: String, dir: PathBuf, cert: PathBuf, key: PathBuf, is_ca: bool, issuers: Vec<PathBuf>) -> Cert {
    let root = issuers.last().cloned().unwrap_or_else(|| cert.clone());
    let mut chain_parts = vec![&cert];
    chain_parts.extend(issuers.iter().take(issuers.len().saturating_sub(1)));
    let chain = dir.join("chain.pem");
    concat(&chain, &chain_parts);
    let fullchain = dir.join("fullchain.pem");
    let mut full_parts = vec![&cert];
    full_parts.extend(issuers.iter());
    concat(&fullchain, &full_parts);
    Cert { cn, cert, key, chain, fullchain, root, is_ca, issuers, dir }
}

/// `key` as PEM text in `format`, encrypted with `password` (AES-256-CBC) when given.
fn key_text(key: &PKey<Private>, format: KeyFormat, password: Option<&str>) -> String {
    let bytes = match (format, password) {
        (KeyFormat::Pkcs8, Some(pw)) => key.private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), pw.as_bytes()),
        (KeyFormat::Pkcs8, None) => key.private_key_to_pem_pkcs8(),
        (KeyFormat::Traditional, pw) => return traditional_pem(key, pw.map(|pw| (Cipher::aes_256_cbc(), pw))),
    };
    String::from_utf8(bytes.unwrap()).unwrap()
}

/// `BEGIN RSA PRIVATE KEY` / `BEGIN EC PRIVATE KEY`, with `Proc-Type: 4,ENCRYPTED` headers when
/// a cipher and password are given.
fn traditional_pem(key: &PKey<Private>, encrypt: Option<(Cipher, &str)>) -> String {
    let bytes = match (key.id(), encrypt) {
        (Id::RSA, Some((c, pw))) => key.rsa().unwrap().private_key_to_pem_passphrase(c, pw.as_bytes()),
        (Id::RSA, None) => key.rsa().unwrap().private_key_to_pem(),
        (Id::EC, Some((c, pw))) => key.ec_key().unwrap().private_key_to_pem_passphrase(c, pw.as_bytes()),
        (Id::EC, None) => key.ec_key().unwrap().private_key_to_pem(),
        (other, _) => panic!("no traditional PEM form for {other:?} keys"),
    };
    String::from_utf8(bytes.unwrap()).unwrap()
}

fn write_key(key: &Path, out: &Path, password: Option<&str>, format: KeyFormat) {
    let text = key_text(&read_key(key), format, password);
    fs::write(out, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

/// A PKCS#12 file (DER) with OpenSSL 3's defaults (AES-256-CBC, PBKDF2, SHA-256 MAC).
fn p12_der(name: &str, key: &PKey<Private>, cert: &X509, chain: &[&X509], pass: &str) -> Vec<u8> {
    let mut stack = openssl::stack::Stack::new().unwrap();
    for c in chain {
        stack.push((*c).clone()).unwrap();
    }
    let mut b = openssl::pkcs12::Pkcs12::builder();
    b.name(name).pkey(key).cert(cert).ca(stack);
    b.build2(pass).unwrap().to_der().unwrap()
}

/// `openssl pkcs12 -export -in PEM -out OUT` with `extra` options, the password given through
/// the environment.
fn openssl_pkcs12(pem: &Path, out: &Path, password: &str, extra: &[&str]) {
    must(
        Command::new(which("openssl"))
            .args(["pkcs12", "-export", "-in"])
            .arg(pem)
            .arg("-out")
            .arg(out)
            .args(["-passout", "env:PDT_PKI_PASS"])
            .env("PDT_PKI_PASS", password)
            .args(extra),
    );
}

fn concat(out: &Path, parts: &[impl AsRef<Path>]) {
    let mut text = Vec::new();
    for p in parts {
        let bytes = fs::read(p.as_ref()).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.as_ref().display()));
        text.extend_from_slice(&bytes);
        if !text.ends_with(b"\n") {
            text.push(b'\n');
        }
    }
    fs::write(out, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

/// Now plus `days`, as `YYYYMMDDHHMMSSZ` for `openssl ca -startdate/-enddate`.
pub fn asn1_time(days: i64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let t = now + days * 86_400;
    let (day, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}{m:02}{d:02}{:02}{:02}{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
