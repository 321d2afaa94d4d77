//! `dns:<target>`: resolves the target's host the way the host does — `--resolve` first, then
//! `/etc/hosts`, then DNS with the host's resolver configuration (or `--dns-server`) through
//! hickory-resolver — and tells NXDOMAIN, SERVFAIL, no address and timeout apart.

use super::{proxy, Check, Ctx, Outcome};
use crate::report::model::{Finding, Severity};
use crate::targets::Target;
use async_trait::async_trait;
use hickory_resolver::config::{LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::Resolver;
use std::net::{IpAddr, SocketAddr};

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

/// The resolver configuration: `--dns-server`, else the host's (`/etc/resolv.conf`).
fn resolver_config(dns_server: Option<SocketAddr>) -> Result<(ResolverConfig, Vec<String>), String> {
    let config = match dns_server {
        Some(sa) => {
            let mut ns = NameServerConfig::udp_and_tcp(sa.ip());
            for c in &mut ns.connections {
                c.port = sa.port();
            }
            ResolverConfig::from_name_servers(vec![ns])
        }
        None => hickory_resolver::system_conf::read_system_conf().map_err(|e| format!("/etc/resolv.conf: {e}"))?.0,
    };
    let servers = config
        .name_servers
        .iter()
        .map(|ns| {
            let port = ns.connections.first().map(|c| c.port).unwrap_or(53);
            SocketAddr::new(ns.ip, port).to_string()
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
            if let Ok(text) = tokio::fs::read_to_string("/etc/hosts").await {
                let found = hosts_lookup(&text, &host);
                if !found.is_empty() {
                    return done(resolved(found, "/etc/hosts"), Some("/etc/hosts".into()));
                }
            }
        }

        // With a proxy, the proxy resolves the name: a local failure only informs.
        let via_proxy = proxy::route(&ctx.settings.proxy, &host, port).proxy().is_some();
        let sev = |f: Finding| if via_proxy { f.severity(Severity::Info) } else { f };

        let (config, servers) = match resolver_config(ctx.settings.dns_server) {
            Ok(c) => c,
            Err(e) => {
                return Outcome::new()
                    .finding(sev(Finding::new("DNS_ERROR").with("host", &host).with("server", "-").with("error", e)))
                    .evidence("host", &host);
            }
        };
        let server = servers.join(", ");
        let mut builder = Resolver::builder_with_config(config, TokioRuntimeProvider::default());
        let opts = builder.options_mut();
        opts.timeout = ctx.timeout();
        opts.attempts = 1;
        opts.use_hosts_file = ResolveHosts::Never;
        opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        opts.cache_size = 0;
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
        let result = match tokio::time::timeout(timeout + timeout / 2, resolver.lookup_ip(host.as_str())).await {
            Ok(r) => r.map_err(|e| classify(&e)),
            Err(_) => Err(Failure::Timeout),
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
                    Failure::Timeout => base("DNS_TIMEOUT").with("timeout", crate::engine::humanize(timeout)),
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
}
