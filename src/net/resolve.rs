//! Name resolution as the host does it: a literal address as is, then `--resolve` pins (as
//! curl), then `/etc/hosts` (unless a DNS server was named), then DNS with the host's resolver
//! configuration (or `--dns-server`) through hickory-resolver, asking every server at once.
//! NXDOMAIN, SERVFAIL, no address, timeout and a closed DNS port are told apart.

use crate::hostfs::{self, Kind};
use hickory_resolver::config::{LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::Resolver;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;
use tokio::net::UdpSocket;

/// The hosts file read before DNS.
pub const HOSTS_FILE: &str = "/etc/hosts";

/// A `--resolve HOST:PORT:ADDR` pin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pin {
    pub host: String,
    pub port: u16,
    pub addr: IpAddr,
}

/// How names are resolved in this run.
#[derive(Clone, Debug, Default)]
pub struct ResolveConfig {
    /// `--dns-server`: ask this server instead of the host's, and skip `/etc/hosts`.
    pub dns_server: Option<SocketAddr>,
    pub pins: Vec<Pin>,
    /// The bound of one DNS exchange.
    pub timeout: Duration,
}

/// Where the addresses came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Literal,
    Pinned,
    HostsFile,
    Dns,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Literal => "literal",
            Source::Pinned => "--resolve",
            Source::HostsFile => "/etc/hosts",
            Source::Dns => "dns",
        }
    }
}

/// The addresses a host resolved to.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub host: String,
    pub port: u16,
    pub addrs: Vec<IpAddr>,
    pub source: Source,
    /// Who answered: the hosts file, or the DNS servers asked.
    pub server: Option<String>,
}

impl Resolved {
    pub fn socket_addrs(&self) -> Vec<SocketAddr> {
        self.addrs.iter().map(|ip| SocketAddr::new(*ip, self.port)).collect()
    }
}

/// Why a name did not resolve.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("NXDOMAIN")]
    NxDomain,
    #[error("SERVFAIL")]
    ServFail,
    #[error("no address")]
    NoAddress,
    #[error("DNS timeout")]
    Timeout,
    /// The resolver configuration could not be read or used (`server` is then `None`).
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Other(String),
}

/// A failed resolution: the error and the servers that were asked.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{host}: {error}")]
pub struct ResolveFailure {
    pub host: String,
    /// The DNS servers asked (`None` when the configuration could not be read).
    pub server: Option<String>,
    pub error: ResolveError,
}

/// Addresses for `host` in a hosts file (`/etc/hosts` format).
pub fn hosts_lookup(text: &str, host: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let Some(addr) = fields.next().and_then(|a| a.parse::<IpAddr>().ok()) else { continue };
        if fields.any(|name| name.eq_ignore_ascii_case(host)) && !out.contains(&addr) {
            out.push(addr);
        }
    }
    out
}

/// `/etc/hosts` through the bounded reader (a FIFO or a huge file is refused), off the runtime.
async fn read_hosts_file() -> Option<String> {
    let read = || hostfs::read_lossy(Path::new(HOSTS_FILE), Kind::HostConfig);
    tokio::task::spawn_blocking(read).await.ok()?.ok()
}

fn classify(err: &NetError) -> ResolveError {
    match err {
        NetError::Dns(DnsError::NoRecordsFound(nr)) if nr.response_code == ResponseCode::NXDomain => {
            ResolveError::NxDomain
        }
        NetError::Dns(DnsError::NoRecordsFound(_)) => ResolveError::NoAddress,
        NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail)) => ResolveError::ServFail,
        NetError::Dns(DnsError::ResponseCode(code)) => ResolveError::Other(format!("{code}")),
        NetError::Timeout => ResolveError::Timeout,
        NetError::NoConnections => ResolveError::Other("no DNS server configured".into()),
        other => ResolveError::Other(other.to_string()),
    }
}

/// The resolver configuration: `--dns-server`, else the host's (`/etc/resolv.conf`), and the
/// servers it names.
fn resolver_config(dns_server: Option<SocketAddr>) -> Result<(ResolverConfig, Vec<SocketAddr>), String> {
    let config = match dns_server {
        Some(sa) => {
            let mut ns = NameServerConfig::udp_and_tcp(sa.ip());
            for c in &mut ns.connections {
                c.port = sa.port();
            }
            ResolverConfig::from_name_servers(vec![ns])
        }
        None => {
            // Read through the bounded reader (a FIFO or a huge file is refused), then parsed.
            let text = hostfs::read_file(Path::new("/etc/resolv.conf"), Kind::HostConfig).map_err(|e| e.to_string())?;
            hickory_resolver::system_conf::parse_resolv_conf(text).map_err(|e| format!("/etc/resolv.conf: {e}"))?.0
        }
    };
    let servers = config
        .name_servers
        .iter()
        .map(|ns| {
            let port = ns.connections.first().map(|c| c.port).unwrap_or(53);
            SocketAddr::new(ns.ip, port)
        })
        .fold(Vec::new(), |mut v, s| {
            if !v.contains(&s) {
                v.push(s);
            }
            v
        });
    Ok((config, servers))
}

/// Resolves `host` (for `port`, which `--resolve` pins are keyed by) under `config`.
pub async fn resolve(config: &ResolveConfig, host: &str, port: u16) -> Result<Resolved, ResolveFailure> {
    let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let found = |addrs: Vec<IpAddr>, source: Source, server: Option<String>| {
        Ok(Resolved { host: host.clone(), port, addrs, source, server })
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        return found(vec![ip], Source::Literal, None);
    }
    let pinned: Vec<IpAddr> =
        config.pins.iter().filter(|p| p.host.eq_ignore_ascii_case(&host) && p.port == port).map(|p| p.addr).collect();
    if !pinned.is_empty() {
        return found(pinned, Source::Pinned, None);
    }
    if config.dns_server.is_none() {
        if let Some(text) = read_hosts_file().await {
            let addrs = hosts_lookup(&text, &host);
            if !addrs.is_empty() {
                return found(addrs, Source::HostsFile, Some(HOSTS_FILE.into()));
            }
        }
    }
    let fail = |server: Option<String>, error: ResolveError| ResolveFailure { host: host.clone(), server, error };
    let (resolver_conf, servers) = tokio::task::spawn_blocking({
        let dns_server = config.dns_server;
        move || resolver_config(dns_server)
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()))
    .map_err(|e| fail(None, ResolveError::Config(e)))?;
    let server = servers.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ");
    let timeout = config.timeout;
    let mut builder = Resolver::builder_with_config(resolver_conf, TokioRuntimeProvider::default());
    let opts = builder.options_mut();
    opts.timeout = timeout;
    opts.attempts = 1;
    opts.use_hosts_file = ResolveHosts::Never;
    opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    opts.cache_size = 0;
    // Ask every configured server at once: a dead server first in resolv.conf must not hide a
    // live one behind the whole timeout.
    opts.num_concurrent_reqs = servers.len().max(1);
    let resolver = builder.build().map_err(|e| fail(Some(server.clone()), ResolveError::Other(e.to_string())))?;
    // The resolver cannot see a closed DNS port (its UDP socket is not connected, so the ICMP
    // error is lost) and would wait for the timeout: a connected probe tells at once.
    let refused = async {
        match all_refused(&servers, &host, timeout).await {
            Some(error) => error,
            None => std::future::pending().await,
        }
    };
    let result = tokio::select! {
        r = tokio::time::timeout(timeout, resolver.lookup_ip(host.as_str())) => match r {
            Ok(r) => r.map_err(|e| classify(&e)),
            Err(_) => Err(ResolveError::Timeout),
        },
        error = refused => Err(ResolveError::Other(error)),
    };
    match result {
        Ok(lookup) => {
            let addrs: Vec<IpAddr> = lookup.iter().collect();
            if addrs.is_empty() {
                return Err(fail(Some(server), ResolveError::NoAddress));
            }
            found(addrs, Source::Dns, Some(server))
        }
        Err(e) => Err(fail(Some(server), e)),
    }
}

/// A DNS query (id, recursion desired) for the A record of `host`; `None` for a name that
/// cannot be put on the wire.
fn a_query(id: u16, host: &str) -> Option<Vec<u8>> {
    let mut q = Vec::with_capacity(32 + host.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in host.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 || !label.is_ascii() {
            return None;
        }
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&[0, 1, 0, 1]);
    (q.len() <= 512).then_some(q)
}

/// Sends one query to `server` over a connected UDP socket and reports the error when the
/// server's host answers that nothing listens on the port (ICMP port unreachable).
async fn refused(server: SocketAddr, query: &[u8], timeout: Duration) -> Option<std::io::Error> {
    let bind: SocketAddr =
        if server.is_ipv4() { (Ipv4Addr::UNSPECIFIED, 0).into() } else { (Ipv6Addr::UNSPECIFIED, 0).into() };
    let probe = async {
        let socket = UdpSocket::bind(bind).await?;
        socket.connect(server).await?;
        socket.send(query).await?;
        let mut buf = [0u8; 512];
        socket.recv(&mut buf).await.map(|_| ())
    };
    match tokio::time::timeout(timeout, probe).await {
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => Some(e),
        _ => None,
    }
}

/// When every server refused the query (nothing listens on their DNS port), the error to
/// report; `None` as soon as one of them may be alive.
async fn all_refused(servers: &[SocketAddr], host: &str, timeout: Duration) -> Option<String> {
    let id = std::process::id() as u16 ^ 0x5a5a;
    let query = a_query(id, host)?;
    if servers.is_empty() {
        return None;
    }
    let results = futures::future::join_all(servers.iter().map(|s| refused(*s, &query, timeout))).await;
    let mut errors = Vec::new();
    for (server, result) in servers.iter().zip(results) {
        errors.push(format!("{server}: {}", result?));
    }
    Some(errors.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_file() {
        let text =
            "127.0.0.1 localhost\n# comment 10.0.0.1 api.example\n10.1.1.1  api.example  api # x\n::1 api.example\n";
        let found = hosts_lookup(text, "API.example");
        assert_eq!(found, vec!["10.1.1.1".parse::<IpAddr>().unwrap(), "::1".parse().unwrap()]);
        assert!(hosts_lookup(text, "other").is_empty());
    }

    #[test]
    fn probe_query_wire_format() {
        let q = a_query(0x1234, "api.gov.br").unwrap();
        assert_eq!(&q[..4], &[0x12, 0x34, 0x01, 0x00]);
        assert_eq!(&q[12..], b"\x03api\x03gov\x02br\x00\x00\x01\x00\x01");
        assert!(a_query(1, "a..b").is_none());
        assert!(a_query(1, &"x".repeat(64)).is_none());
    }

    #[tokio::test]
    async fn literals_and_pins_need_no_dns() {
        let config = ResolveConfig {
            dns_server: Some("127.0.0.1:9".parse().unwrap()),
            pins: vec![Pin { host: "api.test".into(), port: 443, addr: "10.0.0.7".parse().unwrap() }],
            timeout: Duration::from_secs(1),
        };
        let r = resolve(&config, "[::1]", 443).await.unwrap();
        assert_eq!((r.addrs, r.source), (vec!["::1".parse::<IpAddr>().unwrap()], Source::Literal));
        let r = resolve(&config, "API.test", 443).await.unwrap();
        assert_eq!(r.socket_addrs(), vec!["10.0.0.7:443".parse::<SocketAddr>().unwrap()]);
        assert_eq!(r.source.as_str(), "--resolve");
    }

    #[tokio::test]
    async fn closed_dns_port_is_refused_at_once() {
        // A UDP port that was just free on loopback: nothing listens, the kernel refuses.
        let port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let server: SocketAddr = (Ipv4Addr::LOCALHOST, port).into();
        let started = std::time::Instant::now();
        let error = all_refused(&[server], "api.gov.br", Duration::from_secs(5)).await;
        assert!(error.is_some_and(|e| e.contains(&server.to_string())));
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_live_server_is_not_refused() {
        let live = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let server = live.local_addr().unwrap();
        assert!(all_refused(&[server], "api.gov.br", Duration::from_millis(200)).await.is_none());
    }
}
