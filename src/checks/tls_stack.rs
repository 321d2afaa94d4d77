//! The TLS stack SEI's PHP really uses, found statically: PHP's curl extension (`curl.so` in
//! the `extension_dir` of the php.ini files SEI loads, else the distributions' module
//! directories), the libraries it links (`DT_NEEDED`, followed through libcurl), and from their
//! names the TLS library: OpenSSL with its version, NSS (CentOS 6/7's PHP), or GnuTLS. No
//! library is loaded and no program run; every file is read through the bounded reader.

use crate::elf;
use crate::hostfs::{self, Kind};
use std::path::{Path, PathBuf};

/// The library directories searched for a `DT_NEEDED` name (besides the object's own).
const LIB_DIRS: &[&str] = &[
    "/lib64",
    "/usr/lib64",
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/lib",
    "/usr/lib",
];
/// Objects read at most while following the dependencies.
const MAX_OBJECTS: usize = 16;

/// What PHP's curl extension is built on.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TlsStack {
    /// The extension file (host path).
    pub curl_extension: String,
    /// The libcurl it links (host path, when found).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub libcurl: Option<String>,
    /// `OpenSSL`, `NSS`, `GnuTLS`; `None` when no TLS library was named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// The library's version as its file name gives it (`1.0.2k`, `1.1`, `3`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The TLS library (its `DT_NEEDED` name, and the file it resolves to when found).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
    /// How this stack words an unknown issuer (what the user sees in cURL error 60).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_issuer_wording: Option<&'static str>,
    /// Files that could not be read on the way.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
}

impl TlsStack {
    /// OpenSSL before 1.1.0: builds the Let's Encrypt path through an expired DST Root CA X3.
    pub fn old_openssl(&self) -> bool {
        self.backend.as_deref() == Some("OpenSSL")
            && self.version.as_deref().is_some_and(|v| v.starts_with("1.0") || v.starts_with("0."))
    }
}

/// The `curl.so` candidates: each `extension_dir` the php.ini files set, then the usual
/// module directories of Debian (`/usr/lib/php/API`), RHEL and Remi's collections.
fn curl_candidates(php_ini: Option<&Path>) -> Vec<String> {
    let mut out = Vec::new();
    let inis = crate::phpini::discover_host(php_ini);
    for cfg in inis.web().chain(inis.configs.iter().filter(|c| !c.role.web())) {
        if let Some(s) = cfg.get("extension_dir").filter(|s| !s.value.is_empty()) {
            out.push(format!("{}/curl.so", s.value.trim_end_matches('/')));
        }
    }
    for dir in hostfs::list_dir("/usr/lib/php") {
        out.push(format!("{}/curl.so", hostfs::display(&dir)));
    }
    out.extend(["/usr/lib64/php/modules/curl.so".to_string(), "/usr/lib/php/modules/curl.so".to_string()]);
    for dir in hostfs::list_dir("/opt/remi") {
        out.push(format!("{}/root/usr/lib64/php/modules/curl.so", hostfs::display(&dir)));
    }
    out
}

/// Where a `DT_NEEDED` name resolves: the requesting object's directory, then [`LIB_DIRS`].
fn resolve(name: &str, from: &Path) -> Option<PathBuf> {
    if name.contains('/') {
        return None;
    }
    let own = from.parent().map(|p| p.join(name));
    own.into_iter().chain(LIB_DIRS.iter().map(|d| hostfs::path(format!("{d}/{name}")))).find(|p| p.is_file())
}

/// The version a library's file name carries after `.so.` (`libssl.so.1.0.2k` → `1.0.2k`).
fn so_version(file: &str) -> Option<String> {
    file.split_once(".so.").map(|(_, v)| v.to_string()).filter(|v| !v.is_empty())
}

/// OpenSSL's version from its soname and the file it resolves to: RHEL's `libssl.so.10` is
/// 1.0.x, and the real file (`libssl.so.1.0.2k`) says which.
fn openssl_version(needed: &str, real: Option<&Path>) -> Option<String> {
    let real_name = real
        .and_then(|p| std::fs::canonicalize(p).ok())
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
    let from_real = real_name.as_deref().and_then(so_version).filter(|v| v.contains('.'));
    from_real.or_else(|| match so_version(needed)?.as_str() {
        "10" | "6" => Some("1.0".into()),
        v => Some(v.to_string()),
    })
}

/// The libcurl an executable or library links directly (host path), when it names one that
/// resolves; `None` for a file that is not ELF (a script) or links none.
pub fn libcurl_of(object: &Path) -> Option<PathBuf> {
    let bytes = hostfs::read_file(object, Kind::Library).ok()?;
    let dynamic = elf::dynamic(&bytes).ok()?;
    dynamic.needed.iter().filter(|n| n.starts_with("libcurl")).find_map(|n| resolve(n, object))
}

/// Finds PHP's curl extension and what it links.
pub fn detect(php_ini: Option<&Path>) -> Option<TlsStack> {
    let curl = curl_candidates(php_ini).into_iter().map(hostfs::path).find(|p| p.is_file())?;
    let mut stack = TlsStack { curl_extension: hostfs::display(&curl), ..TlsStack::default() };
    let mut queue = vec![curl];
    let mut seen = Vec::new();
    while let Some(obj) = queue.pop() {
        if seen.len() >= MAX_OBJECTS || seen.contains(&obj) {
            continue;
        }
        seen.push(obj.clone());
        let bytes = match hostfs::read_file(&obj, Kind::Library) {
            Ok(b) => b,
            Err(e) => {
                stack.unreadable.push(format!("{}: {}", hostfs::display(&obj), e.reason));
                continue;
            }
        };
        let Ok(dynamic) = elf::dynamic(&bytes) else { continue };
        for name in &dynamic.needed {
            let found = resolve(name, &obj);
            let backend = if name.starts_with("libnss3.so") {
                Some(("NSS", None))
            } else if name.starts_with("libssl.so") {
                Some(("OpenSSL", openssl_version(name, found.as_deref())))
            } else if name.starts_with("libgnutls.so") {
                Some(("GnuTLS", so_version(name)))
            } else {
                None
            };
            if let (Some((b, v)), None) = (backend, &stack.backend) {
                stack.backend = Some(b.to_string());
                stack.version = v;
                stack.library = Some(match &found {
                    Some(p) => format!("{name} ({})", hostfs::display(p)),
                    None => name.clone(),
                });
                stack.unknown_issuer_wording = Some(match b {
                    "NSS" => "Peer's Certificate issuer is not recognized.",
                    "GnuTLS" => "The certificate issuer is unknown.",
                    _ => "unable to get local issuer certificate",
                });
            }
            if name.starts_with("libcurl") {
                if let Some(p) = &found {
                    stack.libcurl.get_or_insert_with(|| hostfs::display(p));
                    queue.push(p.clone());
                }
            }
        }
    }
    Some(stack)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_names() {
        assert_eq!(so_version("libssl.so.1.0.2k").as_deref(), Some("1.0.2k"));
        assert_eq!(so_version("libssl.so.3").as_deref(), Some("3"));
        assert_eq!(so_version("libnss3.so"), None);
        assert_eq!(openssl_version("libssl.so.10", None).as_deref(), Some("1.0"));
        assert_eq!(openssl_version("libssl.so.1.1", None).as_deref(), Some("1.1"));
        let old = TlsStack { backend: Some("OpenSSL".into()), version: Some("1.0.2k".into()), ..Default::default() };
        assert!(old.old_openssl());
        let new = TlsStack { backend: Some("OpenSSL".into()), version: Some("3".into()), ..Default::default() };
        assert!(!new.old_openssl());
    }
}
