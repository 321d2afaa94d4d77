//! Every `check` option value is validated where it is read, with the same rules for both
//! sources: clap's value parsers for the command line (the error names the flag) and serde
//! deserializers for the `--config` file (the error names the key, and the file and line come
//! from the TOML span). A bad value is a one-line usage error before anything runs.
//!
//! Messages show the offending value escaped (no control characters reach a terminal),
//! shortened, and with any password inside a URL masked.

use crate::model::CATALOG;
use crate::targets::TARGET_NAMES;
use serde::{Deserialize, Deserializer};
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};
use url::Url;

/// At most this many values for one option (repeated flags or list entries).
pub const MAX_VALUES: usize = 64;
/// Values longer than this are refused (a path, a URL, a name).
const MAX_LEN: usize = 4096;
/// How much of a bad value an error message quotes.
const QUOTE_LEN: usize = 120;

/// A value checker: the value to keep, or why it is wrong (without the flag's name).
type Checker = fn(&str) -> Result<String, String>;

/// Text from outside made safe for one line on a terminal: at most `max` characters (then `…`),
/// control characters, bidi overrides and newlines escaped as everywhere else (`\x1b`).
pub fn safe(text: &str, max: usize) -> String {
    let cut: String = text.chars().take(max).collect();
    let mut out = crate::redact::escape_controls(&cut).into_owned();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// A value quoted in a message: safe, short, the password of a URL masked.
pub fn quote(text: &str) -> String {
    format!("'{}'", safe(&mask_password(text), QUOTE_LEN))
}

/// `scheme://user:PASSWORD@host…` with the password replaced by `***`, found by position so
/// that even a URL that does not parse keeps its password to itself.
pub fn mask_password(text: &str) -> String {
    let Some(start) = text.find("://").map(|i| i + 3) else { return text.to_string() };
    let rest = &text[start..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let Some(at) = authority.rfind('@') else { return text.to_string() };
    let Some(colon) = authority[..at].find(':') else { return text.to_string() };
    format!("{}{}:***{}", &text[..start], &authority[..colon], &text[start + at..])
}

fn plain_text(v: &str) -> Result<(), String> {
    if v.len() > MAX_LEN {
        return Err(format!("value too long ({} bytes; at most {MAX_LEN})", v.len()));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("{} contains control characters", quote(v)));
    }
    Ok(())
}

/// A port number 1–65535.
fn port(text: &str, whole: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(0) => Err(format!("{}: port 0 is not a port to connect to", quote(whole))),
        Ok(p) if text.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err(format!("{}: invalid port '{}' (expected 1-65535)", quote(whole), safe(text, 20))),
    }
}

/// A host name or IPv4 address as written in `HOST:PORT`.
fn host_name(host: &str, whole: &str) -> Result<(), String> {
    let ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| !l.is_empty() && l.len() <= 63)
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!("{}: invalid host name '{}'", quote(whole), safe(host, 60)))
    }
}

/// `HOST[:PORT]`, `[V6][:PORT]` or a bare IPv6 address.
fn host_port(v: &str, expected: &str) -> Result<String, String> {
    plain_text(v)?;
    let shape = || format!("{} (expected {expected})", quote(v));
    if let Some(rest) = v.strip_prefix('[') {
        let (ip, after) = rest.split_once(']').ok_or_else(shape)?;
        ip.parse::<std::net::Ipv6Addr>().map_err(|_| shape())?;
        match after {
            "" => {}
            p => {
                port(p.strip_prefix(':').ok_or_else(shape)?, v)?;
            }
        }
        return Ok(v.to_string());
    }
    if v.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok(v.to_string());
    }
    match v.split_once(':') {
        None => host_name(v, v)?,
        Some((host, p)) => {
            if p.contains(':') {
                return Err(shape());
            }
            host_name(host, v)?;
            port(p, v)?;
        }
    }
    Ok(v.to_string())
}

/// A URL with one of `schemes`, a host, and a port (when given) other than 0.
fn url_with(v: &str, schemes: &[&str]) -> Result<Url, String> {
    plain_text(v)?;
    let url = Url::parse(v).map_err(|e| format!("{} is not a URL ({e})", quote(v)))?;
    if !schemes.contains(&url.scheme()) {
        return Err(format!(
            "{}: scheme '{}' is not supported (use {})",
            quote(v),
            safe(url.scheme(), 20),
            schemes.iter().map(|s| format!("{s}://")).collect::<Vec<_>>().join(" or ")
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{} has no host", quote(v)));
    }
    if url.port() == Some(0) {
        return Err(format!("{}: port 0 is not a port to connect to", quote(v)));
    }
    Ok(url)
}

/// `500ms`, `5s`, `1m`: more than zero, at most a day.
pub fn duration(v: &str) -> Result<String, String> {
    match crate::duration::parse(v) {
        Some(d) if !d.is_zero() => Ok(v.to_string()),
        _ => Err(format!("invalid duration {} (use e.g. 500ms, 5s, 1m; more than 0, at most 24h)", quote(v))),
    }
}

/// How far back `sei:log` reads SEI's log: `30m`, `6h`, `2d`; more than 0, at most 90 days.
pub fn since(v: &str) -> Result<String, String> {
    match crate::duration::parse_window(v) {
        Some(d) if !d.is_zero() => Ok(v.to_string()),
        _ => Err(format!("invalid duration {} (use e.g. 30m, 6h, 2d; more than 0, at most 90d)", quote(v))),
    }
}

/// `mysql://user@host:port/db` (the engines SEI runs on; only MySQL/MariaDB is queried, the
/// others are reported as unsupported by the check).
pub fn db(v: &str) -> Result<String, String> {
    url_with(v, &["mysql", "mariadb", "sqlserver", "oracle", "postgres", "postgresql"])?;
    Ok(v.to_string())
}

/// `HOST[:PORT]` of gearmand.
pub fn gearman(v: &str) -> Result<String, String> {
    host_port(v, "HOST:PORT, e.g. 127.0.0.1:4730")
}

/// `HOST[:PORT]` of an NTP server.
pub fn ntp_server(v: &str) -> Result<String, String> {
    host_port(v, "HOST[:PORT], e.g. a.ntp.br or 127.0.0.1:123")
}

/// `unix:///absolute/path.sock` or `http://host:port` (supervisord's XML-RPC speaks plain
/// HTTP; its credentials come from supervisord.conf, never from the command line).
pub fn supervisor(v: &str) -> Result<String, String> {
    plain_text(v)?;
    if let Some(path) = v.strip_prefix("unix://") {
        if !path.starts_with('/') || path.len() < 2 {
            return Err(format!("{}: expected unix:///absolute/path.sock", quote(v)));
        }
        return Ok(v.to_string());
    }
    if v.starts_with("https://") {
        return Err(format!(
            "{}: supervisord's XML-RPC interface speaks plain HTTP; use http://host:port or unix:///path.sock",
            quote(v)
        ));
    }
    let url = url_with(v, &["http"]).map_err(|e| format!("{e}; expected unix:///path.sock or http://host:port"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{}: no credentials in the URL (they are read from supervisord.conf's [inet_http_server])",
            quote(v)
        ));
    }
    if url.path() != "/" && !url.path().is_empty() || url.query().is_some() {
        return Err(format!("{}: expected http://host:port with no path", quote(v)));
    }
    Ok(v.to_string())
}

/// `NAME=https://…` with NAME a target.
pub fn endpoint(v: &str) -> Result<String, String> {
    plain_text(v)?;
    let (name, url) = v.split_once('=').ok_or_else(|| format!("{} (expected NAME=URL)", quote(v)))?;
    target(name)?;
    url_with(url, &["https", "http"])?;
    Ok(v.to_string())
}

/// A webhook name: letters, digits, `.`, `_` and `-` (it becomes the check id
/// `webhook:NAME`, a JUnit test name and a Nagios perfdata label).
fn webhook_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!("invalid webhook name {} (1-64 letters, digits, '.', '_' or '-')", quote(name)))
    }
}

/// `[NAME=]URL` of a webhook receiver. The name and URL split at the first `=` unless that
/// part holds `://` (a bare URL with `=` in its query).
pub fn split_webhook(v: &str) -> (Option<&str>, &str) {
    match v.split_once('=') {
        Some((n, u)) if !n.contains("://") && !n.is_empty() => (Some(n), u),
        _ => (None, v),
    }
}

/// `[NAME=]URL` of a webhook receiver (http is accepted so the check can say it must be https).
pub fn webhook(v: &str) -> Result<String, String> {
    if v.len() > MAX_LEN {
        return plain_text(v).map(|_| v.to_string());
    }
    let (name, url) = split_webhook(v);
    if let Some(n) = name {
        webhook_name(n)?;
    }
    url_with(url, &["https", "http"])?;
    Ok(v.to_string())
}

/// `HOST:PORT:ADDR`, as curl.
pub fn resolve(v: &str) -> Result<String, String> {
    plain_text(v)?;
    let shape = || format!("{} (expected HOST:PORT:ADDR)", quote(v));
    let (host, rest) = v.split_once(':').ok_or_else(shape)?;
    let (p, addr) = rest.split_once(':').ok_or_else(shape)?;
    host_name(host, v)?;
    port(p, v)?;
    addr.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().map_err(|_| shape())?;
    Ok(v.to_string())
}

/// The address of a DNS server written `IP[:PORT]` (port 53 when absent), if it is one.
pub fn dns_server_addr(text: &str) -> Option<SocketAddr> {
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Some(sa);
    }
    let ip: IpAddr = text.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
    Some(SocketAddr::new(ip, 53))
}

/// `IP[:PORT]` of a DNS server.
pub fn dns_server(v: &str) -> Result<String, String> {
    plain_text(v)?;
    let sa = dns_server_addr(v).ok_or_else(|| format!("{} (expected IP[:PORT])", quote(v)))?;
    if sa.port() == 0 {
        return Err(format!("{}: port 0 is not a port to connect to", quote(v)));
    }
    Ok(v.to_string())
}

/// `http://[user:pass@]host:port` of an HTTPS proxy (a bare `host:port` means http://).
pub fn proxy(v: &str) -> Result<String, String> {
    let with_scheme = if v.contains("://") { v.to_string() } else { format!("http://{v}") };
    url_with(&with_scheme, &["http", "https"]).map_err(|e| e.replace(&quote(&with_scheme), &quote(v)))?;
    Ok(v.to_string())
}

/// A target name.
pub fn target(v: &str) -> Result<String, String> {
    if TARGET_NAMES.contains(&v) {
        Ok(v.to_string())
    } else {
        Err(format!("unknown target {} (known: {})", quote(v), TARGET_NAMES.join(", ")))
    }
}

/// An entry of `--only`/`--skip`: a check name, a target, or an id `name:…`. Whether an id
/// exists in this run is known only once the run is planned (see `crate::selectors`).
pub fn selector(v: &str) -> Result<String, String> {
    plain_text(v)?;
    let entry = v.trim();
    if entry.is_empty() {
        return Err("empty entry in the list (a stray comma?)".into());
    }
    let kind = entry.split_once(':').map_or(entry, |(k, _)| k);
    let known =
        CATALOG.contains(&kind) && !entry.ends_with(':') || TARGET_NAMES.contains(&entry) && !entry.contains(':');
    if known {
        Ok(entry.to_string())
    } else {
        Err(unknown_selectors(&[entry.to_string()], &[]))
    }
}

/// Edit distance counting a swap of two neighbours as one edit (`tsl` is one from `tls`),
/// for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The one-line message for unknown `--only`/`--skip` entries: what was given, the closest valid name, and the
/// valid names (the ids only when the run is planned).
pub fn unknown_selectors(unknown: &[String], ids: &[String]) -> String {
    let mut valid: Vec<&str> = CATALOG.to_vec();
    valid.extend(TARGET_NAMES);
    valid.extend(ids.iter().map(String::as_str));
    let shown: Vec<String> = unknown.iter().take(5).map(|u| quote(u)).collect();
    let mut msg = format!("unknown check {}", shown.join(", "));
    if unknown.len() > 5 {
        let _ = write!(msg, " and {} more", unknown.len() - 5);
    }
    if let [one] = unknown {
        if one.chars().count() > 64 {
            return msg + &valid_names(ids);
        }
        let lower = one.to_lowercase();
        let best = valid.iter().map(|v| (distance(&lower, v), *v)).min();
        if let Some((_, v)) = best.filter(|(d, _)| *d <= 1.max(one.chars().count() / 3)) {
            let _ = write!(msg, " (did you mean '{v}'?)");
        }
    }
    msg + &valid_names(ids)
}

fn valid_names(ids: &[String]) -> String {
    let mut msg = format!("; valid: checks {}; targets {}", CATALOG.join(", "), TARGET_NAMES.join(", "));
    if !ids.is_empty() {
        let _ = write!(msg, "; ids of this run {}", ids.join(", "));
    }
    msg.push_str(" (see `pen-doctor check --list`)");
    msg
}

/// A finding code of the knowledge base (`--ignore`), any case; an unknown one names the nearest.
pub fn finding_code(v: &str) -> Result<String, String> {
    plain_text(v)?;
    let code = v.trim().to_ascii_uppercase().replace('-', "_");
    if code.is_empty() {
        return Err("empty entry in the list (a stray comma?)".into());
    }
    let kb = crate::kb::kb();
    if kb.code(&code).is_some() {
        return Ok(code);
    }
    let near = nearest(&code, kb.codes.iter().map(|c| c.code.as_str()));
    let hint = if near.is_empty() { String::new() } else { format!("; did you mean {}?", near.join(", ")) };
    Err(format!("unknown finding code {} (see `pen-doctor kb list --codes`){hint}", quote(v)))
}

/// The name of an environment variable.
pub fn env_var(v: &str) -> Result<String, String> {
    plain_text(v)?;
    if v.is_empty() || v.contains('=') {
        return Err(format!("invalid environment variable name {}", quote(v)));
    }
    Ok(v.to_string())
}

/// Free text (a user name): no control characters, bounded.
pub fn text(v: &str) -> Result<String, String> {
    plain_text(v)?;
    if v.is_empty() {
        return Err("empty value".into());
    }
    Ok(v.to_string())
}

/// A path: not empty, bounded.
pub fn path(v: &str) -> Result<std::path::PathBuf, String> {
    if v.is_empty() {
        return Err("empty path".into());
    }
    if v.len() > MAX_LEN {
        return Err(format!("path too long ({} bytes; at most {MAX_LEN})", v.len()));
    }
    Ok(std::path::PathBuf::from(v))
}

/// The clap value parser running a checker; the error is one line naming the flag, and quotes
/// the value only as the checker did (masked and escaped), never raw.
pub struct Parser<T = String>(pub fn(&str) -> Result<T, String>);

impl<T> Clone for Parser<T> {
    fn clone(&self) -> Self {
        Parser(self.0)
    }
}

impl<T: Clone + Send + Sync + 'static> clap::builder::TypedValueParser for Parser<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let flag = arg.and_then(|a| a.get_long()).map(|l| format!("--{l}")).unwrap_or_else(|| "value".into());
        let fail = |msg: String| {
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("{flag}: {msg}\n")).with_cmd(cmd)
        };
        let text = value.to_str().ok_or_else(|| fail("not valid UTF-8".into()))?;
        (self.0)(text).map_err(fail)
    }
}

fn one<'de, D: Deserializer<'de>>(d: D, key: &str, check: Checker) -> Result<Option<String>, D::Error> {
    let v = String::deserialize(d)?;
    check(&v).map(Some).map_err(|e| serde::de::Error::custom(format!("{key}: {e}")))
}

/// Marks a message with the byte offset of the list element it is about (the TOML reader
/// only knows the span of the whole list); [`element_offset`] takes it back out.
const AT: &str = "\u{0}at ";

/// The offset marked by a list element's error, and the message without the mark.
pub fn element_offset(message: &str) -> Option<(usize, &str)> {
    let rest = message.strip_prefix(AT)?;
    let (offset, msg) = rest.split_once(' ')?;
    Some((offset.parse().ok()?, msg))
}

fn many<'de, D: Deserializer<'de>>(d: D, key: &str, check: Checker) -> Result<Option<Vec<String>>, D::Error> {
    let list = Vec::<toml::Spanned<String>>::deserialize(d)?;
    if list.len() > MAX_VALUES {
        return Err(serde::de::Error::custom(format!("{key}: {} values; at most {MAX_VALUES}", list.len())));
    }
    list.iter()
        .map(|v| check(v.get_ref()).map_err(|e| serde::de::Error::custom(format!("{AT}{} {key}: {e}", v.span().start))))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn one_path<'de, D: Deserializer<'de>>(d: D, key: &str) -> Result<Option<std::path::PathBuf>, D::Error> {
    let v = String::deserialize(d)?;
    path(&v).map(Some).map_err(|e| serde::de::Error::custom(format!("{key}: {e}")))
}

/// The serde deserializers of the `--config` keys, each running its key's checker.
pub mod de {
    use super::*;

    macro_rules! single {
        ($($name:ident: $key:literal => $check:path),* $(,)?) => {$(
            pub fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
                one(d, $key, $check)
            }
        )*};
    }
    macro_rules! list {
        ($($name:ident: $key:literal => $check:path),* $(,)?) => {$(
            pub fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
                many(d, $key, $check)
            }
        )*};
    }
    macro_rules! paths {
        ($($name:ident: $key:literal),* $(,)?) => {$(
            pub fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<std::path::PathBuf>, D::Error> {
                one_path(d, $key)
            }
        )*};
    }

    single!(
        dns_server: "dns-server" => super::dns_server,
        cert_password_env: "cert-password-env" => super::env_var,
        pucomex_password_env: "pucomex-password-env" => super::env_var,
        proxy: "proxy" => super::proxy,
        gearman: "gearman" => super::gearman,
        supervisor: "supervisor" => super::supervisor,
        ntp_warn: "ntp-warn" => super::duration,
        ntp_crit: "ntp-crit" => super::duration,
        db: "db" => super::db,
        pi_user: "pi-user" => super::text,
        pi_password_env: "pi-password-env" => super::env_var,
        timeout: "timeout" => super::duration,
        deadline: "deadline" => super::duration,
        since: "since" => super::since,
    );
    list!(
        only: "only" => super::selector,
        skip: "skip" => super::selector,
        ignore: "ignore" => super::finding_code,
        target: "target" => super::target,
        endpoint: "endpoint" => super::endpoint,
        resolve: "resolve" => super::resolve,
        ntp_server: "ntp-server" => super::ntp_server,
        webhook: "webhook" => super::webhook,
    );
    paths!(
        sei_dir: "sei-dir",
        ca_bundle: "ca-bundle",
        php_ini: "php-ini",
        cert: "cert",
        cert_password_file: "cert-password-file",
        pucomex_cert: "pucomex-cert",
        output: "output",
        bundle: "bundle",
    );
}

/// The candidates nearest to `wanted` (a mistyped code or article id): close in edit distance
/// first, then those sharing words (`CERT_EXPIRED` for `EXPIRED_CERT`); at most five.
pub fn nearest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let wanted: String = wanted.chars().take(100).collect();
    let words: std::collections::BTreeSet<&str> = wanted.split(['_', '-']).filter(|w| w.len() >= 3).collect();
    let mut scored: Vec<(bool, std::cmp::Reverse<usize>, usize, &str)> = candidates
        .filter_map(|c| {
            let distance = strsim::levenshtein(&wanted, &c.to_ascii_uppercase());
            let shared = c.to_ascii_uppercase().split(['_', '-']).filter(|w| words.contains(w)).count();
            let close = distance <= (wanted.len().max(c.len()) / 4).max(2);
            (close || shared > 0).then_some((!close, std::cmp::Reverse(shared), distance, c))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(5).map(|(_, _, _, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_a_swap_as_one() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("tsl", "tls"), 1);
    }

    #[test]
    fn host_and_port_forms() {
        for ok in ["127.0.0.1:4730", "gearman.local", "[::1]:4730", "::1", "[::1]", "a.ntp.br:123"] {
            assert!(gearman(ok).is_ok(), "{ok}");
        }
        for bad in ["127.0.0.1:4730:4730", "h:0", "h:", ":4730", "h:65536", "h:+1", "[::1]:x", "a b:1", "h\n:1"] {
            assert!(gearman(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_by_scheme_host_and_port() {
        assert!(endpoint("tramita=https://h.test/rest/").is_ok());
        assert!(endpoint("tramita=ftp://h.test/").unwrap_err().contains("ftp"));
        assert!(endpoint("tramita=https://h.test:0/").unwrap_err().contains("port 0"));
        assert!(endpoint("tramita=http://ftp::").is_err());
        assert!(db("mysql://u@h:3306/sei").is_ok());
        assert!(db("sqlserver://u@h:1433/sei").is_ok());
        assert!(db("mysql://u@h:0/sei").is_err());
        assert!(db("ftp://u@h/sei").is_err());
        assert!(db("mysql:///sei").is_err());
        assert!(supervisor("unix:///run/supervisor.sock").is_ok());
        assert!(supervisor("http://127.0.0.1:9001").is_ok());
        assert!(supervisor("unix://relative.sock").is_err());
        assert!(supervisor("ftp://h:1").is_err());
        assert!(supervisor("http://u:pw@h:9001").unwrap_err().contains("***"));
        assert!(webhook("sefaz=https://h.test/ok").is_ok());
        assert!(webhook("https://h.test/ok?a=b").is_ok());
        assert!(webhook("bad\nname=https://h.test/").is_err());
        assert!(proxy("proxy.test:3128").is_ok());
        assert!(proxy("socks5://proxy.test:1080").is_err());
        assert!(proxy("proxy.test:0").is_err());
    }

    #[test]
    fn messages_mask_passwords_and_escape_control_characters() {
        let e = webhook("https://u:S3cret@h.test:0/").unwrap_err();
        assert!(!e.contains("S3cret") && e.contains("***"), "{e}");
        let e = db("ftp://u:S3cret@h:99999/x").unwrap_err();
        assert!(!e.contains("S3cret"), "{e}");
        let e = text("a\u{1b}[31mb").unwrap_err();
        assert!(!e.contains('\u{1b}') && e.contains("\\x1b"), "{e}");
        assert_eq!(mask_password("http://u:p@h/x@y"), "http://u:***@h/x@y");
        assert_eq!(mask_password("http://h/?a=b:c@d"), "http://h/?a=b:c@d");
        assert!(safe(&"x".repeat(1000), 10).chars().count() <= 11);
    }

    #[test]
    fn durations_are_positive() {
        assert!(duration("2s").is_ok());
        for bad in ["-5s", "0s", "2 fortnights", "", "NaN"] {
            assert!(duration(bad).is_err(), "{bad}");
            assert!(since(bad).is_err(), "{bad}");
        }
        assert!(since("2d").is_ok() && since("90d").is_ok() && since("30m").is_ok());
        assert!(since("91d").unwrap_err().contains("at most 90d"));
    }
}
