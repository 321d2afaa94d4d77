//! A CA bundle as the checks see it: reading a bundle file or certificate directory, the
//! store `ca:store` hands on, and the anchors OpenSSL would use from it.

use crate::hostfs::{self, Kind, Reason};
use crate::net::tls;
use crate::pki::{self, CertInfo};
use rustls::RootCertStore;
use std::path::Path;

/// One certificate of the store.
#[derive(Clone, Debug)]
pub struct StoreCert {
    pub der: Vec<u8>,
    pub info: CertInfo,
}

/// The fact of `ca:store`: the bundle, where it came from, and its certificates.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    pub path: String,
    pub source: String,
    pub certs: Vec<StoreCert>,
    /// The TLS library PHP's curl extension links (its `DT_NEEDED` name), when found.
    pub tls_library: Option<String>,
    /// PHP's curl extension on this host, and the libcurl it links: whose verdict the host's
    /// `curl` command can stand for.
    pub php_curl: Option<PhpCurl>,
}

/// PHP's curl extension as found on the host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PhpCurl {
    pub extension: String,
    /// The libcurl it links (host path), when found.
    pub libcurl: Option<String>,
}

impl TrustStore {
    /// Certificates whose subject is `name_raw` (DER of the name).
    pub fn by_subject<'a>(&'a self, name_raw: &'a [u8]) -> impl Iterator<Item = &'a StoreCert> + 'a {
        self.certs.iter().filter(move |c| c.info.subject_raw == name_raw)
    }
}

/// The trust anchors of a store, as OpenSSL would use them: expired certificates are left out,
/// because OpenSSL rejects a chain that ends in an expired root.
pub fn roots_of(store: &TrustStore) -> RootCertStore {
    let now = pki::now_ts();
    tls::root_store(store.certs.iter().filter(|c| !c.info.expired_at(now)).map(|c| c.der.as_slice()))
}

/// The result of reading a bundle (file or directory).
#[derive(Debug, Default)]
pub struct Parsed {
    pub certs: Vec<StoreCert>,
    /// Blocks or files that are not certificates (damaged base64/DER, truncated, binary).
    pub garbage: usize,
}

/// Reads the certificates of a PEM bundle's bytes.
pub fn parse_bundle(bytes: &[u8], out: &mut Parsed) {
    if bytes.contains(&0) {
        out.garbage += 1;
    }
    let text = String::from_utf8_lossy(bytes);
    let pem = pki::split_pem(&text);
    if pem.truncated.is_some() {
        out.garbage += 1;
    }
    for b in pem.blocks.iter().filter(|b| b.label == "CERTIFICATE" || b.label == "TRUSTED CERTIFICATE") {
        match b.der.as_deref().and_then(|d| pki::cert_info(d).map(|i| (d, i))) {
            Some((d, info)) => out.certs.push(StoreCert { der: d.to_vec(), info }),
            None => out.garbage += 1,
        }
    }
}

/// Reads a bundle file or a certificate directory (at most [`Kind::CaBundle`]'s limit in all).
pub fn load(path: &Path) -> Result<Parsed, Reason> {
    let mut out = Parsed::default();
    let limit = Kind::CaBundle.limit();
    if path.is_dir() {
        let mut total = 0u64;
        for p in hostfs::list_real_dir(path).iter().filter(|p| !p.is_dir()).take(5000) {
            // Entries that are not readable certificate files (a FIFO, a broken link) are skipped,
            // as OpenSSL skips them.
            let Ok(bytes) = hostfs::read_file(p, Kind::CaBundle) else { continue };
            total += bytes.len() as u64;
            if total > limit {
                return Err(Reason::TooLarge { size: None, limit });
            }
            parse_bundle(&bytes, &mut out);
        }
        // The same certificate linked under several names counts once.
        let mut seen = std::collections::HashSet::new();
        out.certs.retain(|c| seen.insert(c.info.sha256.clone()));
        return Ok(out);
    }
    let bytes = hostfs::read_file(path, Kind::CaBundle).map_err(|e| e.reason)?;
    parse_bundle(&bytes, &mut out);
    Ok(out)
}
