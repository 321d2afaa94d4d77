//! `dns:<target>`: resolves the target's host the way the host does — `--resolve` first, then
//! `/etc/hosts`, then DNS with the host's resolver configuration (or `--dns-server`) through
//! hickory-resolver — and tells NXDOMAIN, SERVFAIL, no address and timeout apart.

use super::{proxy, Check, Ctx, Outcome};
use crate::hostfs::{self, Kind};
use crate::report::model::{Finding, Severity};
use crate::targets::Target;
use async_trait::async_trait;
use hickory_resolver::config::{LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::Resolver;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;
use tokio::net::UdpSocket;

/// The addresses a target resolved to: the fact `tcp:<target>` connects to.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub host: String,
    pub port: u16,
    pub addrs: Vec<IpAddr>,
    /// `literal`, `--resolve`, `/etc/hosts` or `dns`.
    pub source: &'static str,
}

pub struct DnsCheck {
    target: Target,
}

impl DnsCheck {
    pub fn new(target: &Target) -> Self {
        DnsCheck { target: target.clone() }
    }
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

enum Failure {
    NxDomain,
    ServFail,
    NoAddress,
    Timeout,
    Other(String),
}

fn classify(err: &NetError) -> Failure {
    match err {
        NetError::Dns(DnsError::NoRecordsFound(nr)) if nr.response_code == ResponseCode::NXDomain => Failure::NxDomain,
        NetError::Dns(DnsError::NoRecordsFound(_)) => Failure::NoAddress,
        NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail)) => Failure::ServFail,
        NetError::Dns(DnsError::ResponseCode(code)) => Failure::Other(format!("{code}")),
        NetError::Timeout => Failure::Timeout,
        NetError::NoConnections => Failure::Other("no DNS server configured".into()),
        other => Failure::Other(other.to_string()),
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

#[async_trait]
impl Check for DnsCheck {
    fn id(&self) -> String {
        format!("dns:{}", self.target.name)
    }
    fn kind(&self) -> &'static str {
        "dns"
    }
    fn target(&self) -> Option<String> {
        Some(self.target.name.clone())
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        let host = self.target.host();
        let port = self.target.port();
        let resolved = |addrs: Vec<IpAddr>, source: &'static str| Resolved { host: host.clone(), port, addrs, source };
        let done = |r: Resolved, server: Option<String>| {
            let list: Vec<String> = r.addrs.iter().map(|a| a.to_string()).collect();
            let mut o = Outcome::new()
                .evidence("host", &r.host)
                .evidence("addresses", &list)
                .evidence("source", r.source)
                .summary("host", &r.host)
                .summary("addresses", list.join(", "));
            if let Some(s) = server {
                o.set_evidence("server", s);
            }
            o.fact(r)
        };

        if let Ok(ip) = host.parse::<IpAddr>() {
            return done(resolved(vec![ip], "literal"), None);
        }
        let over: Vec<IpAddr> = ctx
            .settings
            .resolve
            .iter()
            .filter(|r| r.host.eq_ignore_ascii_case(&host) && r.port == port)
            .map(|r| r.addr)
            .collect();
        if !over.is_empty() {
            return done(resolved(over, "--resolve"), None);
        }
        if ctx.settings.dns_server.is_none() {
            let hosts = || hostfs::read_lossy(Path::new("/etc/hosts"), Kind::HostConfig);
            if let Ok(Ok(text)) = tokio::task::spawn_blocking(hosts).await {
                let found = hosts_lookup(&text, &host);
                if !found.is_empty() {
                    return done(resolved(found, "/etc/hosts"), Some("/etc/hosts".into()));
                }
            }
        }

        // With a proxy, the proxy resolves the name: a local failure only informs.
        let via_proxy = proxy::route(&ctx.settings.proxy, &host, port).proxy().is_some();
        let sev = |f: Finding| if via_proxy { f.severity(Severity::Info) } else { f };

        let dns_server = ctx.settings.dns_server;
        let config = tokio::task::spawn_blocking(move || resolver_config(dns_server)).await;
        let (config, servers) = match config.unwrap_or_else(|e| Err(e.to_string())) {
            Ok(c) => c,
            Err(e) => {
                return Outcome::new()
                    .finding(sev(Finding::new("DNS_ERROR").with("host", &host).with("server", "-").with("error", e)))
                    .evidence("host", &host);
            }
        };
        let server = servers.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ");
        let mut builder = Resolver::builder_with_config(config, TokioRuntimeProvider::default());
        let opts = builder.options_mut();
        opts.timeout = ctx.timeout();
        opts.attempts = 1;
        opts.use_hosts_file = ResolveHosts::Never;
        opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        opts.cache_size = 0;
        // Ask every configured server at once: a dead server first in resolv.conf must not
        // hide a live one behind the whole timeout.
        opts.num_concurrent_reqs = servers.len().max(1);
        let resolver = match builder.build() {
            Ok(r) => r,
            Err(e) => {
                return Outcome::new().finding(sev(Finding::new("DNS_ERROR")
                    .with("host", &host)
                    .with("server", &server)
                    .with("error", e)));
            }
        };
        let timeout = ctx.timeout();
        // The resolver cannot see a closed DNS port (its UDP socket is not connected, so the
        // ICMP error is lost) and would wait for the timeout: a connected probe tells at once.
        let refused = async {
            match all_refused(&servers, &host, timeout).await {
                Some(error) => error,
                None => std::future::pending().await,
            }
        };
        let result = tokio::select! {
            r = tokio::time::timeout(timeout, resolver.lookup_ip(host.as_str())) => match r {
                Ok(r) => r.map_err(|e| classify(&e)),
                Err(_) => Err(Failure::Timeout),
            },
            error = refused => Err(Failure::Other(error)),
        };
        let base = |code: &'static str| Finding::new(code).with("host", &host).with("server", &server);
        match result {
            Ok(lookup) => {
                let addrs: Vec<IpAddr> = lookup.iter().collect();
                if addrs.is_empty() {
                    return Outcome::new().finding(sev(base("DNS_NO_ADDRESS"))).evidence("server", &server);
                }
                done(resolved(addrs, "dns"), Some(server))
            }
            Err(f) => {
                let finding = match f {
                    Failure::NxDomain => base("DNS_NXDOMAIN"),
                    Failure::ServFail => base("DNS_SERVFAIL"),
                    Failure::NoAddress => base("DNS_NO_ADDRESS"),
                    Failure::Timeout => base("DNS_TIMEOUT").with("timeout", crate::duration::humanize(timeout)),
                    Failure::Other(e) => base("DNS_ERROR").with("error", e),
                };
                let mut o = Outcome::new().finding(sev(finding)).evidence("host", &host).evidence("server", &server);
                if via_proxy {
                    o.set_evidence("note", "proxy resolves the name");
                }
                o
            }
        }
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
