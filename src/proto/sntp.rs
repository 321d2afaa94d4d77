//! An SNTP client (RFC 4330): one request per server (its name resolved through `net` like every
//! target), bounded by a timeout, with the reply checked (length, mode, kiss-o'-death, originate
//! timestamp) before the offset is computed.

use crate::net::resolve::{self, ResolveConfig, ResolveError};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::UdpSocket;

/// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01.
const NTP_UNIX_DELTA: u64 = 2_208_988_800;

/// A valid server answer.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Sample {
    /// The server's clock minus ours, in seconds.
    pub offset: f64,
    /// Round-trip delay, in seconds.
    pub delay: f64,
    pub stratum: u8,
    /// The reference id: an IPv4 address or a 4-letter source code.
    pub reference: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// The server's name did not resolve (`--resolve`, `/etc/hosts`, DNS).
    Resolve(ResolveError),
    Io(String),
    Timeout,
    Short(usize),
    WrongMode(u8),
    /// Stratum 0: the server refuses us (`RATE`, `DENY`, `RSTR`…).
    KissOfDeath(String),
    /// The reply does not answer our request.
    OriginMismatch,
    /// The server says its own clock is not synchronised (leap indicator 3, or no time).
    ServerUnsynchronized,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Resolve(e) => write!(f, "resolve: {e}"),
            Error::Io(e) => write!(f, "{e}"),
            Error::Timeout => f.write_str("no reply (timeout)"),
            Error::Short(n) => write!(f, "short reply ({n} bytes)"),
            Error::WrongMode(m) => write!(f, "reply in mode {m}, not a server reply"),
            Error::KissOfDeath(c) => write!(f, "kiss-o'-death {c}"),
            Error::OriginMismatch => f.write_str("reply does not match the request (originate timestamp)"),
            Error::ServerUnsynchronized => f.write_str("server clock not synchronised"),
        }
    }
}

/// An instant as a 64-bit NTP timestamp.
pub fn to_ntp(t: SystemTime) -> u64 {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = (d.as_secs() + NTP_UNIX_DELTA) & 0xffff_ffff;
    let frac = ((d.subsec_nanos() as u64) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// A 64-bit NTP timestamp as seconds since the Unix epoch (era 0, or era 1 after 2036).
pub fn from_ntp(ts: u64) -> f64 {
    let secs = ts >> 32;
    let frac = (ts & 0xffff_ffff) as f64 / 4_294_967_296.0;
    // Timestamps with the high bit clear are in era 1 (after 2036-02-07).
    let secs = if secs & 0x8000_0000 == 0 { secs + (1u64 << 32) } else { secs };
    secs as f64 - NTP_UNIX_DELTA as f64 + frac
}

fn now_unix() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

/// The 48-byte client request carrying `transmit` (NTP version 4, mode 3).
pub fn request(transmit: u64) -> [u8; 48] {
    let mut p = [0u8; 48];
    p[0] = (4 << 3) | 3;
    p[40..48].copy_from_slice(&transmit.to_be_bytes());
    p
}

fn be64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

/// Checks a reply to a request sent at `t1` (the transmit timestamp we sent, raw) and computes
/// the offset with `t4` (when the reply arrived, Unix seconds).
pub fn parse_reply(reply: &[u8], sent: u64, t4: f64) -> Result<Sample, Error> {
    if reply.len() < 48 {
        return Err(Error::Short(reply.len()));
    }
    let li = reply[0] >> 6;
    let mode = reply[0] & 7;
    let stratum = reply[1];
    if mode != 4 {
        return Err(Error::WrongMode(mode));
    }
    let refid = &reply[12..16];
    if stratum == 0 {
        let code: String = refid.iter().filter(|c| c.is_ascii_graphic()).map(|&c| c as char).collect();
        return Err(Error::KissOfDeath(if code.is_empty() { "?".into() } else { code }));
    }
    if be64(&reply[24..32]) != sent {
        return Err(Error::OriginMismatch);
    }
    let (t2, t3) = (be64(&reply[32..40]), be64(&reply[40..48]));
    if li == 3 || stratum > 15 || t3 == 0 || t2 == 0 {
        return Err(Error::ServerUnsynchronized);
    }
    let t1 = from_ntp(sent);
    let (t2, t3) = (from_ntp(t2), from_ntp(t3));
    let offset = ((t2 - t1) + (t3 - t4)) / 2.0;
    let delay = ((t4 - t1) - (t3 - t2)).max(0.0);
    let reference = if stratum == 1 {
        refid.iter().filter(|c| c.is_ascii_graphic()).map(|&c| c as char).collect()
    } else {
        format!("{}.{}.{}.{}", refid[0], refid[1], refid[2], refid[3])
    };
    Ok(Sample { offset, delay, stratum, reference })
}

/// Splits `HOST[:PORT]` (`[v6]:port` or a bare v6 address too); default port 123.
pub fn split_server(server: &str) -> (String, u16) {
    let s = server.trim();
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((host, port)) = rest.split_once(']') {
            let port = port.strip_prefix(':').and_then(|p| p.parse().ok()).unwrap_or(123);
            return (host.to_string(), port);
        }
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => match p.parse() {
            Ok(port) => (h.to_string(), port),
            Err(_) => (s.to_string(), 123),
        },
        _ => (s.to_string(), 123),
    }
}

/// Queries `server` once, its name resolved under `config`; the whole exchange (resolution
/// included) is bounded by `timeout`.
pub async fn query(
    server: &str,
    config: &ResolveConfig,
    timeout: Duration,
) -> (Option<SocketAddr>, Result<Sample, Error>) {
    let (host, port) = split_server(server);
    let addr = match tokio::time::timeout(timeout, resolve::resolve(config, &host, port)).await {
        Err(_) => return (None, Err(Error::Resolve(ResolveError::Timeout))),
        Ok(Err(failure)) => return (None, Err(Error::Resolve(failure.error))),
        Ok(Ok(resolved)) => match resolved.socket_addrs().first() {
            Some(a) => *a,
            None => return (None, Err(Error::Resolve(ResolveError::NoAddress))),
        },
    };
    let result = tokio::time::timeout(timeout, exchange(addr)).await.unwrap_or(Err(Error::Timeout));
    (Some(addr), result)
}

async fn exchange(addr: SocketAddr) -> Result<Sample, Error> {
    let bind = if addr.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
    let sock = UdpSocket::bind(bind).await.map_err(|e| Error::Io(e.to_string()))?;
    sock.connect(addr).await.map_err(|e| Error::Io(e.to_string()))?;
    let sent = to_ntp(SystemTime::now());
    sock.send(&request(sent)).await.map_err(|e| Error::Io(e.to_string()))?;
    let mut buf = [0u8; 512];
    let n = sock.recv(&mut buf).await.map_err(|e| Error::Io(e.to_string()))?;
    parse_reply(&buf[..n], sent, now_unix())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(sent: u64, server_time: f64, mode: u8, stratum: u8) -> Vec<u8> {
        let mut p = vec![0u8; 48];
        p[0] = (4 << 3) | mode;
        p[1] = stratum;
        p[24..32].copy_from_slice(&sent.to_be_bytes());
        let st = to_ntp(UNIX_EPOCH + Duration::from_secs_f64(server_time));
        p[32..40].copy_from_slice(&st.to_be_bytes());
        p[40..48].copy_from_slice(&st.to_be_bytes());
        p
    }

    #[test]
    fn offsets_and_bad_replies() {
        let t1 = 1_700_000_000.25;
        let sent = to_ntp(UNIX_EPOCH + Duration::from_secs_f64(t1));
        assert!((from_ntp(sent) - t1).abs() < 1e-6);
        let s = parse_reply(&reply(sent, t1 + 30.0, 4, 2), sent, t1).unwrap();
        assert!((s.offset - 30.0).abs() < 1e-3, "{s:?}");
        assert_eq!(parse_reply(&reply(sent, t1, 4, 2)[..20], sent, t1), Err(Error::Short(20)));
        assert_eq!(parse_reply(&reply(sent, t1, 3, 2), sent, t1), Err(Error::WrongMode(3)));
        let mut kod = reply(sent, t1, 4, 0);
        kod[12..16].copy_from_slice(b"RATE");
        assert_eq!(parse_reply(&kod, sent, t1), Err(Error::KissOfDeath("RATE".into())));
        assert_eq!(parse_reply(&reply(sent + 1, t1, 4, 2), sent, t1), Err(Error::OriginMismatch));
        assert_eq!(split_server("a.ntp.br"), ("a.ntp.br".into(), 123));
        assert_eq!(split_server("127.0.0.1:1234"), ("127.0.0.1".into(), 1234));
        assert_eq!(split_server("[::1]:99"), ("::1".into(), 99));
        assert_eq!(split_server("::1"), ("::1".into(), 123));
    }
}
