//! The verdict of the host's own `curl` command on a target, asked the way PHP's curl would go:
//! the CA store SEI's PHP uses, the module's client certificate and its password, the address
//! pen-doctor reached pinned with `resolve`, the same proxy (or none). Everything, the password
//! included, goes to curl as a configuration on its stdin (`-K -`): its command line holds only
//! `-K -` and its environment only `PATH`. Bounded in time (the check's timeout and what is
//! left of `--deadline`, killed on expiry) and in output. The result is evidence of `http:<target>`
//! and is compared with pen-doctor's own judgement there.

use crate::hostfs;
use crate::net::{proxy, Path as NetPath};
use crate::secret::Secret;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use url::Url;

/// The most of curl's body, and of its error output, that is kept.
const MAX_OUTPUT: u64 = 4096;
/// The line curl's `write-out` adds to its error output, with the HTTP status.
const CODE_MARK: &str = "pen-doctor-http-code:";

/// What a request needs to go as PHP's would.
pub struct CurlRequest<'a> {
    pub url: &'a Url,
    /// The CA store (a file or a directory) SEI's PHP uses.
    pub store: &'a str,
    /// The client certificate file (PEM with its key, or PKCS#12) and its password.
    pub cert: Option<(&'a Path, Option<&'a Secret>)>,
    /// The path pen-doctor reached the host by: the address to pin, or the proxy.
    pub path: &'a NetPath,
    pub timeout: Duration,
}

/// What curl's answer says about the certificates, in pen-doctor's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CurlSays {
    /// An HTTP answer that is not a refusal of the client certificate.
    Ok,
    /// The server's chain did not verify against the store (exit 60, 77, 83, 51).
    ServerUntrusted,
    /// curl could not use the client certificate or its key (exit 58).
    ClientCertUnusable,
    /// The server refused the client certificate (a TLS alert, or nginx's 400 page).
    ClientCertRejected,
    /// Something else (a timeout, a network or proxy failure): not compared.
    Other,
}

/// What the host's curl did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CurlVerdict {
    pub tool: String,
    /// The TLS library the tool links (`DT_NEEDED` of libcurl), when found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
    /// Its exit code; `None` when it was killed at the time limit.
    pub exit: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_code: Option<u16>,
    pub says: CurlSays,
    /// Its own words (bounded, secrets masked).
    pub result: String,
}

/// Whether the host's `curl` can stand for PHP's curl extension whose libcurl is `php_libcurl`:
/// not when both libcurls are known and are different files (another build, another TLS
/// library, another default store). Unknown on either side (a script in front of curl, a
/// libcurl not found) is given the benefit of the doubt.
pub fn stands_for_php(php_libcurl: Option<&str>) -> bool {
    let Some(php) = php_libcurl else { return true };
    // The command's libcurl, read from its ELF once per run (every target asks).
    static OURS: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    let Some(ours) = OURS.get_or_init(|| find_curl().and_then(|c| super::tls_stack::libcurl_of(&c))) else {
        return true;
    };
    let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    real(&hostfs::path(php)) == real(ours)
}

/// The `curl` executable: the first on `PATH`, then the usual places.
pub fn find_curl() -> Option<PathBuf> {
    let from_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).filter(|d| d.is_absolute()).map(|d| d.join("curl")).collect())
        .unwrap_or_default();
    let usual = ["/usr/bin/curl", "/bin/curl", "/usr/local/bin/curl"].into_iter().map(hostfs::path);
    from_path.into_iter().chain(usual).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A value in curl's configuration syntax: double-quoted, with `\\`, `\"` and the control
/// characters escaped (curl unescapes exactly these inside quotes).
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A file name as `--cert` reads it: `:` separates a password, so it and `\` are escaped.
fn cert_file_arg(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "\\\\").replace(':', "\\:")
}

/// Whether a client certificate file is PKCS#12 (binary, no PEM block).
fn is_pkcs12(p: &Path) -> bool {
    hostfs::read_file(p, hostfs::Kind::Certificate)
        .map(|b| !b.windows(11).any(|w| w == b"-----BEGIN "))
        .unwrap_or(false)
}

/// The configuration given to curl on its stdin. `None` when a value cannot be said in it (a
/// NUL, which curl's configuration cannot carry).
pub fn config_text(req: &CurlRequest<'_>) -> Option<String> {
    let secs = req.timeout.as_secs().max(1);
    let mut lines = vec![
        format!("url = {}", quote(req.url.as_str())),
        "silent".to_string(),
        "show-error".to_string(),
        // To stderr where curl knows `%{stderr}` (7.63+); an older one writes it after the body.
        format!("write-out = {}", quote(&format!("%{{stderr}}\n{CODE_MARK}%{{http_code}}\n"))),
        // Whole seconds: older curls read no fraction.
        format!("max-time = {secs}"),
        format!("connect-timeout = {secs}"),
    ];
    let store_key = if Path::new(req.store).is_dir() { "capath" } else { "cacert" };
    lines.push(format!("{store_key} = {}", quote(req.store)));
    if let Some((file, password)) = req.cert {
        lines.push(format!("cert = {}", quote(&cert_file_arg(file))));
        if is_pkcs12(file) {
            lines.push("cert-type = \"P12\"".to_string());
        }
        if let Some(p) = password {
            lines.push(format!("pass = {}", quote(p.expose())));
        }
    }
    let host = req.path.host.as_str();
    match &req.path.proxy {
        Some(url) => lines.push(format!("proxy = {}", quote(url.as_str()))),
        None => {
            lines.push("noproxy = \"*\"".to_string());
            if let Some(addr) = req.path.reachable.first() {
                let ip = match addr.ip() {
                    std::net::IpAddr::V6(a) => format!("[{a}]"),
                    a => a.to_string(),
                };
                let name = host.trim_start_matches('[').trim_end_matches(']');
                lines.push(format!("resolve = {}", quote(&format!("{name}:{}:{ip}", req.path.port))));
            }
        }
    }
    let text = lines.join("\n") + "\n";
    (!text.contains('\0')).then_some(text)
}

/// Reads a stream to its end, keeping at most `MAX_OUTPUT` bytes (the rest is drained, so
/// curl never blocks on a full pipe).
async fn bounded(mut r: impl tokio::io::AsyncRead + Unpin) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = (MAX_OUTPUT as usize).saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    kept
}

/// Whether a body is nginx's page for a refused client certificate.
pub fn cert_page(status: u16, body: &str) -> bool {
    status == 400
        && (body.contains("No required SSL certificate was sent")
            || body.contains("The SSL certificate error")
            || body.contains("SSL certificate error"))
}

/// Names what curl's exit code, status and words mean. `mtls`: the target wants a client
/// certificate (only then can an HTTP 401/403 or an alert be the certificate's refusal).
pub fn classify(exit: Option<i32>, http_code: Option<u16>, words: &str, body: &str, mtls: bool) -> CurlSays {
    let lower = words.to_ascii_lowercase();
    match exit {
        Some(0) => match http_code {
            Some(c) if mtls && (cert_page(c, body) || c == 401 || c == 403) => CurlSays::ClientCertRejected,
            Some(c) if c > 0 => CurlSays::Ok,
            _ => CurlSays::Other,
        },
        Some(60 | 77 | 83 | 51) => CurlSays::ServerUntrusted,
        Some(58) => CurlSays::ClientCertUnusable,
        Some(35 | 56)
            if mtls
                && lower.contains("alert")
                && (lower.contains("certificate")
                    || lower.contains("unknown ca")
                    || lower.contains("access denied")) =>
        {
            CurlSays::ClientCertRejected
        }
        _ => CurlSays::Other,
    }
}

/// The `libssl`/`libnss3` libcurl links, for the evidence: curl's own `DT_NEEDED` names libcurl,
/// whose file (in the usual library directories) names the TLS library.
fn tls_library_of(exe: &Path) -> Option<String> {
    let bytes = hostfs::read_file(exe, hostfs::Kind::Library).ok()?;
    let needed = crate::elf::dynamic(&bytes).ok()?.needed;
    let libcurl = needed.iter().find(|n| n.starts_with("libcurl"))?;
    let dirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib64", "/lib/x86_64-linux-gnu"];
    let file = dirs.iter().map(|d| hostfs::path(d).join(libcurl)).find(|p| p.is_file())?;
    let bytes = hostfs::read_file(&file, hostfs::Kind::Library).ok()?;
    crate::elf::dynamic(&bytes)
        .ok()?
        .needed
        .into_iter()
        .find(|n| n.starts_with("libssl.so") || n.starts_with("libnss3") || n.starts_with("libgnutls"))
}

/// Runs the host's curl for `req`, when the host has one. `mtls`: whether the target wants a
/// client certificate. `None`: no curl, or nothing curl's configuration can carry.
pub async fn curl_verdict(req: &CurlRequest<'_>, mtls: bool) -> Option<CurlVerdict> {
    let exe = find_curl()?;
    let config = config_text(req)?;
    let mut cmd = tokio::process::Command::new(&exe);
    cmd.arg("-K").arg("-");
    cmd.env_clear().env("PATH", "/usr/bin:/bin").kill_on_drop(true);
    cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().ok()?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let io = async {
        let write = async {
            if let Some(mut s) = stdin {
                let _ = tokio::io::AsyncWriteExt::write_all(&mut s, config.as_bytes()).await;
            }
        };
        let out = async {
            match stdout {
                Some(s) => bounded(s).await,
                None => Vec::new(),
            }
        };
        let err = async {
            match stderr {
                Some(s) => bounded(s).await,
                None => Vec::new(),
            }
        };
        let ((), out, err) = tokio::join!(write, out, err);
        (out, err)
    };
    // A little more than curl's own max-time, so its own words say what happened (the caller
    // keeps a second of `--deadline` for it).
    let limit = req.timeout + Duration::from_millis(500);
    let (exit, out, err) = match tokio::time::timeout(limit, async {
        let (out, err) = io.await;
        let status = child.wait().await.ok();
        (status, out, err)
    })
    .await
    {
        Ok((status, out, err)) => (status.and_then(|s| s.code()), out, err),
        Err(_) => {
            let _ = child.kill().await;
            (None, Vec::new(), b"killed at the time limit".to_vec())
        }
    };
    let err_text = String::from_utf8_lossy(&err);
    let body = String::from_utf8_lossy(&out);
    let http_code = err_text
        .lines()
        .chain(body.lines())
        .find_map(|l| l.trim().strip_prefix(CODE_MARK))
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|c| *c > 0);
    let words: String = err_text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with(CODE_MARK))
        .take(3)
        .collect::<Vec<_>>()
        .join("; ");
    let says = classify(exit, http_code, &words, &body, mtls);
    let mut result = match (exit, http_code) {
        (None, _) => format!("killed after {}", crate::duration::humanize(limit)),
        (Some(0), Some(c)) => format!("HTTP {c}"),
        (Some(e), _) if words.is_empty() => format!("exit {e}"),
        (Some(e), _) => format!("exit {e}: {words}"),
    };
    result = crate::redact::redact(&result.chars().take(300).collect::<String>());
    Some(CurlVerdict {
        tool: format!("{} (via {})", hostfs::display(&exe), route_text(req.path)),
        library: tls_library_of(&exe),
        exit,
        http_code,
        says,
        result,
    })
}

fn route_text(path: &NetPath) -> String {
    match &path.proxy {
        Some(p) => format!("proxy {}", proxy::display_url(p)),
        None => path.reachable.first().map(|a| a.to_string()).unwrap_or_else(|| "direct".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_as_curl_reads_it() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quote("x\ny\tz"), r#""x\ny\tz""#);
        assert_eq!(cert_file_arg(Path::new("/a:b\\c.pem")), r"/a\:b\\c.pem");
    }

    #[test]
    fn verdicts() {
        assert_eq!(classify(Some(0), Some(200), "", "", true), CurlSays::Ok);
        assert_eq!(
            classify(Some(0), Some(400), "", "<html>No required SSL certificate was sent</html>", true),
            CurlSays::ClientCertRejected
        );
        assert_eq!(classify(Some(0), Some(400), "", "bad request", true), CurlSays::Ok);
        assert_eq!(classify(Some(0), Some(403), "", "", false), CurlSays::Ok);
        assert_eq!(classify(Some(60), None, "SSL certificate problem", "", false), CurlSays::ServerUntrusted);
        assert_eq!(classify(Some(58), None, "unable to set private key file", "", true), CurlSays::ClientCertUnusable);
        assert_eq!(
            classify(Some(56), None, "OpenSSL SSL_read: tlsv13 alert certificate required", "", true),
            CurlSays::ClientCertRejected
        );
        assert_eq!(classify(Some(28), None, "timed out", "", true), CurlSays::Other);
        assert_eq!(classify(None, None, "", "", true), CurlSays::Other);
    }

    #[test]
    fn the_password_goes_in_the_configuration_quoted() {
        let path = NetPath {
            host: "api.test".into(),
            port: 8443,
            reachable: vec!["127.0.0.1:8443".parse().unwrap(), "[::1]:8443".parse().unwrap()],
            proxy: None,
        };
        let url = Url::parse("https://api.test:8443/x").unwrap();
        let secret = Secret::new("p\"a\\ss:w");
        let req = CurlRequest {
            url: &url,
            store: "/nonexistent/store.pem",
            cert: Some((Path::new("/nonexistent/c:1.pem"), Some(&secret))),
            path: &path,
            timeout: Duration::from_secs(2),
        };
        let text = config_text(&req).unwrap();
        assert!(text.contains("pass = \"p\\\"a\\\\ss:w\"\n"), "{text}");
        assert!(text.contains("cert = \"/nonexistent/c\\\\:1.pem\"\n"), "{text}");
        assert!(text.contains("resolve = \"api.test:8443:127.0.0.1\"\n"), "{text}");
        assert!(text.contains("noproxy = \"*\"") && text.contains("cacert = "), "{text}");
        let nul = Secret::new("a\0b");
        let req = CurlRequest { cert: Some((Path::new("/x.pem"), Some(&nul))), ..req };
        assert_eq!(config_text(&req), None);
    }
}
