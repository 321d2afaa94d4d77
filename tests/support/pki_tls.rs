//! The certificate/TLS tests' fixed hierarchy, made in memory with the OpenSSL library (roots,
//! intermediates, a cross-signing expired root, client CAs, leaves with any dates to the second
//! and usages, encrypted keys in both PEM forms, PKCS#12), hostile TCP servers, and the run of
//! the binary these tests make. nginx, the run's result and the report lookups are the
//! harness's own ([`super::Nginx`], [`super::Run`], [`super::report`]).

pub use super::isrg_x1;
pub use super::report::{check, codes, finding};
use super::{Host, RunExt};
pub use super::{Nginx, Run};
use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::symm::Cipher;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName, SubjectKeyIdentifier,
};
use openssl::x509::{X509Builder, X509NameBuilder, X509};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const DAY: i64 = 86_400;

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

pub fn ec_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

pub fn rsa_key() -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
}

/// A certificate and its key.
pub struct Issued {
    pub cert: X509,
    pub key: PKey<Private>,
}

impl Issued {
    pub fn pem(&self) -> String {
        String::from_utf8(self.cert.to_pem().unwrap()).unwrap()
    }
    pub fn key_pem(&self) -> String {
        String::from_utf8(self.key.private_key_to_pem_pkcs8().unwrap()).unwrap()
    }
    /// PKCS#8 `ENCRYPTED PRIVATE KEY`.
    pub fn key_pem_pkcs8_encrypted(&self, pass: &str) -> String {
        String::from_utf8(self.key.private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), pass.as_bytes()).unwrap())
            .unwrap()
    }
    /// Legacy OpenSSL form: `Proc-Type: 4,ENCRYPTED` (RSA keys).
    pub fn key_pem_legacy_encrypted(&self, pass: &str) -> String {
        let rsa = self.key.rsa().unwrap();
        String::from_utf8(rsa.private_key_to_pem_passphrase(Cipher::aes_128_cbc(), pass.as_bytes()).unwrap()).unwrap()
    }
    pub fn p12(&self, pass: &str, chain: &[&Issued]) -> Vec<u8> {
        let mut stack = openssl::stack::Stack::new().unwrap();
        for c in chain {
            stack.push(c.cert.clone()).unwrap();
        }
        let mut b = openssl::pkcs12::Pkcs12::builder();
        b.name("client").pkey(&self.key).cert(&self.cert).ca(stack);
        b.build2(pass).unwrap().to_der().unwrap()
    }
}

/// What to put in a certificate.
pub struct Spec<'a> {
    pub cn: &'a str,
    pub org: &'a str,
    pub not_before: i64,
    pub not_after: i64,
    pub ca: bool,
    pub dns: Vec<&'a str>,
    /// `Some(["serverAuth"])`, `Some(["clientAuth"])`, `Some(["emailProtection"])`, or `None`.
    pub eku: Option<Vec<&'a str>>,
    /// otherName entries of the SAN: (OID, text stored as an OCTET STRING), as ICP-Brasil does.
    pub other_names: Vec<(&'a str, String)>,
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
        }
    }
    pub fn valid(mut self, from: i64, until: i64) -> Self {
        self.not_before = from;
        self.not_after = until;
        self
    }
}

static SERIAL: AtomicU32 = AtomicU32::new(1);

/// Issues a certificate for `key` (self-signed when `issuer` is `None`).
pub fn issue(spec: &Spec, key: PKey<Private>, issuer: Option<&Issued>) -> Issued {
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("C", "BR").unwrap();
    name.append_entry_by_text("O", spec.org).unwrap();
    name.append_entry_by_text("CN", spec.cn).unwrap();
    let name = name.build();
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    let serial = BigNum::from_u32(SERIAL.fetch_add(1, Ordering::SeqCst) + std::process::id() % 100_000 * 1000).unwrap();
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
        b.append_extension(BasicConstraints::new().build().unwrap()).unwrap();
        b.append_extension(KeyUsage::new().critical().digital_signature().key_encipherment().build().unwrap()).unwrap();
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
            san.dns(d);
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

/// Clones a key (for cross-signing: the same key under two certificates).
pub fn same_key(k: &PKey<Private>) -> PKey<Private> {
    PKey::private_key_from_der(&k.private_key_to_der().unwrap()).unwrap()
}

/// The whole test PKI.
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
}

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
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
        Pki { dir, root, inter, old_root, cross, stranger, client_ca, unknown_ca }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    /// A server leaf issued by the intermediate.
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

    /// The client CA's certificate as a file (nginx `ssl_client_certificate`).
    pub fn client_ca_file(&self) -> PathBuf {
        self.write("client-ca.pem", self.client_ca.pem())
    }

    /// The trust store of a healthy host: ISRG Root X1 (the public root Tramita's chain ends
    /// in) and this hierarchy's root, written as `store.pem`.
    pub fn healthy_store(&self) -> PathBuf {
        self.write("store.pem", isrg_x1() + &self.root.pem())
    }

    /// A client certificate issued by the client CA (RSA, for the legacy PEM encryption).
    pub fn client(&self, spec: &Spec) -> Issued {
        issue(spec, rsa_key(), Some(&self.client_ca))
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    super::free_port(Host)
}

/// A hostile TLS "server": accepts connections and misbehaves in the given way.
pub enum Hostile {
    /// Reads the ClientHello and closes.
    CloseMidHandshake,
    /// Answers garbage bytes.
    Garbage,
    /// Accepts and says nothing.
    Silent,
}

/// Starts a hostile server on a free port; it lives as long as the test process.
pub fn hostile(kind: Hostile) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            match kind {
                Hostile::CloseMidHandshake => {
                    let _ = s.read(&mut buf);
                    drop(s);
                }
                Hostile::Garbage => {
                    let _ = s.read(&mut buf);
                    let _ = s.write_all(b"\x00\x01garbage that is not TLS at all\r\n\r\n");
                    held.push(s);
                }
                Hostile::Silent => held.push(s),
            }
        }
    });
    port
}

/// A listener that accepts TCP connections and never answers (a held long-poll upstream).
pub fn black_hole() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    addr
}

/// Runs pen-doctor with `args` and extra environment variables, in the harness's clean
/// environment (no proxy, no CA bundle from the environment) and without colours.
pub fn pen_doctor(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = super::pen_doctor(Host);
    cmd.args(args).env("NO_COLOR", "1").envs(env.iter().copied());
    cmd.run()
}
