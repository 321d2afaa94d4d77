//! Certificates for tests, made with the `openssl` command in a temporary directory: roots,
//! intermediates, server and client leaves with any validity window, encrypted keys (PKCS#8
//! and traditional), PKCS#12 files and the combined PEM files mod-sei-pen reads.
//!
//! Validity is set with `openssl ca -startdate/-enddate` (OpenSSL 3.0's `x509 -req` cannot
//! set a start date), so expired and not-yet-valid certificates are real. Keys are EC P-256
//! unless a spec asks for RSA 2048 (slower to generate).

use super::{must, temp_dir, which};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

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

/// A certificate factory in its own temporary directory (removed on drop).
///
/// ```ignore
/// let pki = Pki::new();
/// let root = pki.root("Test Root");
/// let int = pki.intermediate(&root, "Test Intermediate");
/// let server = pki.leaf(&int, LeafSpec::server("127.0.0.2"));
/// let client = pki.leaf(&int, LeafSpec::client("orgao.example"));
/// let pem = pki.combined_pem(&client, "s3cret");  // cert + encrypted PKCS#8 key
/// ```
pub struct Pki {
    dir: tempfile::TempDir,
    counter: AtomicUsize,
    /// `openssl ca` databases are not safe for concurrent signing.
    signing: Mutex<()>,
}

impl Default for Pki {
    fn default() -> Self {
        Pki::new()
    }
}

impl Pki {
    pub fn new() -> Pki {
        let dir = temp_dir("pdt-pki-");
        fs::write(dir.path().join("req.cnf"), "[ req ]\ndistinguished_name = dn\nprompt = no\n[ dn ]\n")
            .unwrap_or_else(|e| panic!("cannot write req.cnf: {e}"));
        Pki { dir, counter: AtomicUsize::new(0), signing: Mutex::new(()) }
    }

    /// The Pki's directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A path in the Pki's directory for a file of the test's own.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A self-signed root CA valid from yesterday for ten years.
    pub fn root(&self, cn: &str) -> Cert {
        self.root_with(CaSpec::new(cn))
    }

    pub fn root_with(&self, spec: CaSpec) -> Cert {
        let dir = self.new_dir(&spec.cn);
        init_ca_db(&dir);
        let key = gen_key(&dir, spec.key);
        let subject = spec.subject.clone().unwrap_or_else(|| default_subject(&spec.cn));
        let csr = make_csr(&self.path("req.cnf"), &dir, &key, &subject);
        let ext = "basicConstraints = critical, CA:true\n\
                   keyUsage = critical, keyCertSign, cRLSign\n\
                   subjectKeyIdentifier = hash\n";
        let cert = dir.join("cert.pem");
        let _guard = self.signing.lock().unwrap_or_else(|e| e.into_inner());
        sign(&dir, None, &key, &csr, &cert, ext, spec.not_before_days, spec.not_after_days);
        finish(spec.cn, dir, cert, key, true, Vec::new())
    }

    /// An intermediate CA under `issuer`, valid from yesterday for ten years.
    pub fn intermediate(&self, issuer: &Cert, cn: &str) -> Cert {
        self.intermediate_with(issuer, CaSpec::new(cn))
    }

    pub fn intermediate_with(&self, issuer: &Cert, spec: CaSpec) -> Cert {
        assert!(issuer.is_ca, "{} is not a CA", issuer.cn);
        let dir = self.new_dir(&spec.cn);
        init_ca_db(&dir);
        let key = gen_key(&dir, spec.key);
        let subject = spec.subject.clone().unwrap_or_else(|| default_subject(&spec.cn));
        let csr = make_csr(&self.path("req.cnf"), &dir, &key, &subject);
        let ext = "basicConstraints = critical, CA:true\n\
                   keyUsage = critical, keyCertSign, cRLSign\n\
                   subjectKeyIdentifier = hash\n\
                   authorityKeyIdentifier = keyid:always\n";
        let cert = dir.join("cert.pem");
        let _guard = self.signing.lock().unwrap_or_else(|e| e.into_inner());
        sign(&issuer.dir, Some(issuer), &key, &csr, &cert, ext, spec.not_before_days, spec.not_after_days);
        finish(spec.cn, dir, cert, key, true, issuer_line(issuer))
    }

    /// A leaf certificate signed by `issuer`.
    pub fn leaf(&self, issuer: &Cert, spec: LeafSpec) -> Cert {
        assert!(issuer.is_ca, "{} is not a CA", issuer.cn);
        let dir = self.new_dir(&spec.cn);
        let key = gen_key(&dir, spec.key);
        let subject = spec.subject.clone().unwrap_or_else(|| default_subject(&spec.cn));
        let csr = make_csr(&self.path("req.cnf"), &dir, &key, &subject);
        let ext = leaf_ext(&spec, true);
        let cert = dir.join("cert.pem");
        let _guard = self.signing.lock().unwrap_or_else(|e| e.into_inner());
        sign(&issuer.dir, Some(issuer), &key, &csr, &cert, &ext, spec.not_before_days, spec.not_after_days);
        finish(spec.cn, dir, cert, key, false, issuer_line(issuer))
    }

    /// A self-signed leaf (not a CA): the certificate a server uses when nobody issued one.
    pub fn self_signed(&self, spec: LeafSpec) -> Cert {
        let dir = self.new_dir(&spec.cn);
        init_ca_db(&dir);
        let key = gen_key(&dir, spec.key);
        let subject = spec.subject.clone().unwrap_or_else(|| default_subject(&spec.cn));
        let csr = make_csr(&self.path("req.cnf"), &dir, &key, &subject);
        let ext = leaf_ext(&spec, false);
        let cert = dir.join("cert.pem");
        let _guard = self.signing.lock().unwrap_or_else(|e| e.into_inner());
        sign(&dir, None, &key, &csr, &cert, &ext, spec.not_before_days, spec.not_after_days);
        finish(spec.cn, dir, cert, key, false, Vec::new())
    }

    /// `cert`'s key in `format`, encrypted with `password` (AES-256-CBC).
    pub fn encrypted_key(&self, cert: &Cert, password: &str, format: KeyFormat) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let out = cert.dir.join(format!("key-{n}-{}.pem", format_name(format)));
        write_key(&cert.key, &out, Some(password), format);
        out
    }

    /// A PKCS#12 file with `cert`, its key and its issuers (without the root), protected by
    /// `password` (OpenSSL 3 defaults: AES-256-CBC, PBKDF2).
    pub fn pkcs12(&self, cert: &Cert, password: &str) -> PathBuf {
        self.pkcs12_with(cert, password, true, &[])
    }

    /// [`Pki::pkcs12`] with a choice of chain and extra `openssl pkcs12 -export` arguments
    /// (e.g. `["-legacy"]`, `["-nomac"]`, `["-certpbe", "AES-128-CBC"]`).
    pub fn pkcs12_with(&self, cert: &Cert, password: &str, with_chain: bool, extra: &[&str]) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let out = cert.dir.join(format!("bundle-{n}.p12"));
        let mut cmd = Command::new(which("openssl"));
        cmd.args(["pkcs12", "-export", "-name", &cert.cn])
            .arg("-inkey")
            .arg(&cert.key)
            .arg("-in")
            .arg(&cert.cert)
            .arg("-out")
            .arg(&out)
            .args(["-passout", "env:PDT_PKI_PASS"])
            .env("PDT_PKI_PASS", password)
            .args(extra);
        let parents: Vec<&PathBuf> = cert.issuers.iter().take(cert.issuers.len().saturating_sub(1)).collect();
        if with_chain && !parents.is_empty() {
            let certfile = cert.dir.join(format!("bundle-{n}-chain.pem"));
            concat(&certfile, &parents);
            cmd.arg("-certfile").arg(certfile);
        }
        must(&mut cmd);
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

fn leaf_ext(spec: &LeafSpec, with_aki: bool) -> String {
    let mut ext = String::from("basicConstraints = critical, CA:false\nsubjectKeyIdentifier = hash\n");
    ext.push_str(match spec.key {
        KeyType::Ec => "keyUsage = critical, digitalSignature\n",
        KeyType::Rsa => "keyUsage = critical, digitalSignature, keyEncipherment\n",
    });
    if with_aki {
        ext.push_str("authorityKeyIdentifier = keyid:always\n");
    }
    let mut eku = Vec::new();
    if spec.server_auth {
        eku.push("serverAuth");
    }
    if spec.client_auth {
        eku.push("clientAuth");
    }
    if !eku.is_empty() {
        ext.push_str(&format!("extendedKeyUsage = {}\n", eku.join(", ")));
    }
    if !spec.sans.is_empty() {
        let sans: Vec<String> = spec
            .sans
            .iter()
            .map(|s| if s.parse::<std::net::IpAddr>().is_ok() { format!("IP:{s}") } else { format!("DNS:{s}") })
            .collect();
        ext.push_str(&format!("subjectAltName = {}\n", sans.join(", ")));
    }
    ext
}

fn init_ca_db(dir: &Path) {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    // A random-looking first serial, so two CAs of the same name never repeat one.
    let serial = format!("{:016X}", ((nanos as u64) ^ ((std::process::id() as u64) << 40)) | (1 << 60));
    fs::write(dir.join("index.txt"), "").unwrap_or_else(|e| panic!("cannot write index.txt: {e}"));
    fs::write(dir.join("serial"), format!("{serial}\n")).unwrap_or_else(|e| panic!("cannot write serial: {e}"));
    let cnf = format!(
        "[ ca ]\ndefault_ca = ca_default\n\
         [ ca_default ]\n\
         database = {d}/index.txt\n\
         new_certs_dir = {d}\n\
         serial = {d}/serial\n\
         default_md = sha256\n\
         policy = policy_any\n\
         unique_subject = no\n\
         email_in_dn = no\n\
         copy_extensions = none\n\
         [ policy_any ]\n\
         commonName = optional\n",
        d = dir.display()
    );
    fs::write(dir.join("ca.cnf"), cnf).unwrap_or_else(|e| panic!("cannot write ca.cnf: {e}"));
}

fn gen_key(dir: &Path, key: KeyType) -> PathBuf {
    let out = dir.join("key.pem");
    let mut cmd = Command::new(which("openssl"));
    cmd.arg("genpkey");
    match key {
        KeyType::Ec => cmd.args(["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]),
        KeyType::Rsa => cmd.args(["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]),
    };
    must(cmd.arg("-out").arg(&out));
    out
}

fn make_csr(req_cnf: &Path, dir: &Path, key: &Path, subject: &str) -> PathBuf {
    let out = dir.join("req.csr");
    must(
        Command::new(which("openssl"))
            .args(["req", "-new", "-config"])
            .arg(req_cnf)
            .arg("-key")
            .arg(key)
            .args(["-subj", subject, "-out"])
            .arg(&out),
    );
    out
}

/// Signs `csr` with the CA whose database is `ca_dir` (`issuer`'s key, or self-signed with
/// `key` when `issuer` is `None`).
#[allow(clippy::too_many_arguments)]
fn sign(
    ca_dir: &Path,
    issuer: Option<&Cert>,
    key: &Path,
    csr: &Path,
    out: &Path,
    ext: &str,
    not_before_days: i64,
    not_after_days: i64,
) {
    let ext_file = out.with_extension("ext");
    fs::write(&ext_file, format!("[ ext ]\n{ext}")).unwrap_or_else(|e| panic!("cannot write extensions: {e}"));
    let mut cmd = Command::new(which("openssl"));
    cmd.args(["ca", "-batch", "-notext", "-preserveDN", "-md", "sha256", "-config"])
        .arg(ca_dir.join("ca.cnf"))
        .arg("-extfile")
        .arg(&ext_file)
        .args(["-extensions", "ext"])
        .args(["-startdate", &asn1_time(not_before_days), "-enddate", &asn1_time(not_after_days)])
        .arg("-in")
        .arg(csr)
        .arg("-out")
        .arg(out);
    match issuer {
        Some(ca) => cmd.arg("-cert").arg(&ca.cert).arg("-keyfile").arg(&ca.key),
        None => cmd.arg("-selfsign").arg("-keyfile").arg(key),
    };
    must(&mut cmd);
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

fn write_key(key: &Path, out: &Path, password: Option<&str>, format: KeyFormat) {
    let mut cmd = Command::new(which("openssl"));
    match (format, password) {
        (KeyFormat::Pkcs8, Some(_)) => cmd.args(["pkcs8", "-topk8", "-v2", "aes-256-cbc"]),
        (KeyFormat::Pkcs8, None) => cmd.args(["pkcs8", "-topk8", "-nocrypt"]),
        (KeyFormat::Traditional, Some(_)) => cmd.args(["pkey", "-traditional", "-aes256"]),
        (KeyFormat::Traditional, None) => cmd.args(["pkey", "-traditional"]),
    };
    cmd.arg("-in").arg(key).arg("-out").arg(out);
    if let Some(pw) = password {
        cmd.args(["-passout", "env:PDT_PKI_PASS"]).env("PDT_PKI_PASS", pw);
    }
    must(&mut cmd);
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
