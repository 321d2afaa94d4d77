//! `dns:<target>`: resolves the target's host the way the host does (`net::resolve`:
//! `--resolve` first, then `/etc/hosts`, then DNS with the host's resolver configuration or
//! `--dns-server`) and tells NXDOMAIN, SERVFAIL, no address and timeout apart. Through a proxy
//! the proxy resolves the name, so a local failure only informs.

use super::core::{Check, Ctx};
pub use super::facts::Resolved;
use crate::model::code::{self, Code};
use crate::model::Outcome;
use crate::model::{CheckId, Finding, Kind, Severity, TargetName};
use crate::net::resolve::{self, ResolveError};
use crate::targets::Target;
use async_trait::async_trait;

pub struct DnsCheck {
    target: Target,
}

impl DnsCheck {
    pub fn new(target: &Target) -> Self {
        DnsCheck { target: target.clone() }
    }
}

#[async_trait]
impl Check for DnsCheck {
    fn id(&self) -> CheckId {
        CheckId::target(Kind::Dns, self.target.name)
    }
    fn target(&self) -> Option<TargetName> {
        Some(self.target.name)
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        let host = self.target.host();
        let port = self.target.port();
        let failure = match resolve::resolve(&ctx.settings.resolve_config(), &host, port).await {
            Ok(r) => {
                let list: Vec<String> = r.addrs.iter().map(|a| a.to_string()).collect();
                let mut o = Outcome::new()
                    .evidence("host", &r.host)
                    .evidence("addresses", &list)
                    .evidence("source", r.source.as_str())
                    .summary("host", &r.host)
                    .summary("addresses", list.join(", "));
                if let Some(s) = &r.server {
                    o.set_evidence("server", s);
                }
                return o.fact(r);
            }
            Err(f) => f,
        };

        // With a proxy, the proxy resolves the name: a local failure only informs.
        let via_proxy = ctx.settings.proxy.policy().route(&host, port).proxy().is_some();
        let server = failure.server.clone().unwrap_or_else(|| "-".into());
        let base = |code: Code| Finding::new(code).with("host", &host).with("server", &server);
        let finding = match failure.error {
            ResolveError::NxDomain => base(code::DNS_NXDOMAIN),
            ResolveError::ServFail => base(code::DNS_SERVFAIL),
            ResolveError::NoAddress => base(code::DNS_NO_ADDRESS),
            ResolveError::Timeout => base(code::DNS_TIMEOUT).with("timeout", crate::duration::humanize(ctx.timeout())),
            ResolveError::Config(e) | ResolveError::Other(e) => base(code::DNS_ERROR).with("error", e),
        };
        let finding = if via_proxy { finding.severity(Severity::Info) } else { finding };
        let mut o = Outcome::new().finding(finding).evidence("host", &host);
        if let Some(s) = &failure.server {
            o.set_evidence("server", s);
        }
        if via_proxy {
            o.set_evidence("note", "proxy resolves the name");
        }
        o
    }
}
