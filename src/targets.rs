//! The systems pen-doctor checks (SPEC §2), loaded from `checks/targets.toml`, and the URL each
//! target resolves to for a run: `--endpoint` over the host's SEI configuration over the table.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use url::Url;

pub use crate::model::{TargetName, TARGET_NAMES};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Environment {
    Desenvolvimento,
    Homologacao,
    Producao,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Desenvolvimento => "desenvolvimento",
            Environment::Homologacao => "homologacao",
            Environment::Producao => "producao",
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct TargetSpec {
    pub name: String,
    pub mutual_tls: bool,
    /// Names one of which a certificate of the service's genuine chain is issued by.
    #[serde(default)]
    pub expected_issuers: Vec<String>,
    /// The hosts whose issuer is known to be one of `expected_issuers`; absent: every host of
    /// the table for this target. A host of the table not listed is judged by the vendor
    /// patterns only.
    #[serde(default)]
    pub expected_issuers_hosts: Option<Vec<String>>,
    pub desenvolvimento: String,
    pub homologacao: String,
    pub producao: String,
}

impl TargetSpec {
    pub fn url(&self, env: Environment) -> &str {
        match env {
            Environment::Desenvolvimento => &self.desenvolvimento,
            Environment::Homologacao => &self.homologacao,
            Environment::Producao => &self.producao,
        }
    }
}

/// The table of `checks/targets.toml`, parsed once.
pub fn table() -> &'static BTreeMap<String, TargetSpec> {
    static TABLE: OnceLock<BTreeMap<String, TargetSpec>> = OnceLock::new();
    TABLE.get_or_init(|| {
        toml::from_str(include_str!("../checks/targets.toml")).expect("checks/targets.toml is valid (tested)")
    })
}

/// The expected issuers of target `name` when `host` is one of the table's hosts for it whose
/// issuer is known (`expected_issuers_hosts`, or every host of the target when that is absent).
/// A service moved elsewhere by `--endpoint` or the SEI configuration is not judged by them,
/// nor a host of the table whose issuer nobody recorded.
pub fn expected_issuers(name: TargetName, host: &str) -> &'static [String] {
    let Some(spec) = table().get(name.as_str()) else { return &[] };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let known = match &spec.expected_issuers_hosts {
        Some(hosts) => hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)),
        None => [Environment::Desenvolvimento, Environment::Homologacao, Environment::Producao].iter().any(|env| {
            Url::parse(spec.url(*env)).ok().and_then(|u| u.host_str().map(str::to_ascii_lowercase))
                == Some(host.clone())
        }),
    };
    if known {
        &spec.expected_issuers
    } else {
        &[]
    }
}

/// The environment a URL belongs to, judged by the table's hosts.
pub fn environment_of(url: &str) -> Option<Environment> {
    let host = Url::parse(url).ok()?.host_str()?.to_ascii_lowercase();
    for spec in table().values() {
        for env in [Environment::Producao, Environment::Homologacao, Environment::Desenvolvimento] {
            if Url::parse(spec.url(env)).ok().and_then(|u| u.host_str().map(str::to_ascii_lowercase))
                == Some(host.clone())
            {
                return Some(env);
            }
        }
    }
    None
}

/// The REST address of a Tramita SOAP address of the table (`…/soap/v3/` → `…/rest/v3/`).
pub fn rest_variant(url: &str) -> String {
    url.replacen("/soap/", "/rest/", 1)
}

/// Where a target's URL came from, for the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UrlSource {
    Table,
    SeiConfig,
    Endpoint,
}

/// One target of this run.
#[derive(Clone, Debug)]
pub struct Target {
    pub name: TargetName,
    pub url: Url,
    pub source: UrlSource,
    pub mutual_tls: bool,
}

impl Target {
    pub fn host(&self) -> String {
        match self.url.host() {
            Some(url::Host::Ipv6(a)) => a.to_string(),
            Some(h) => h.to_string(),
            None => String::new(),
        }
    }

    pub fn port(&self) -> u16 {
        self.url.port_or_known_default().unwrap_or(443)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_every_target_and_environment() {
        for name in TARGET_NAMES {
            let spec = &table()[*name];
            for env in [Environment::Desenvolvimento, Environment::Homologacao, Environment::Producao] {
                let url = Url::parse(spec.url(env)).unwrap();
                assert_eq!(url.scheme(), "https", "{name} {env:?}");
            }
        }
        assert_eq!(table().len(), TARGET_NAMES.len());
    }

    #[test]
    fn expected_issuers_only_where_known() {
        assert!(!expected_issuers(TargetName::ProtocoloIntegrado, "protocolointegrado.gov.br").is_empty());
        assert!(!expected_issuers(TargetName::ProtocoloIntegrado, "ProtocoloIntegrado.gov.br.").is_empty());
        assert!(expected_issuers(TargetName::ProtocoloIntegrado, "protocolointegrado.preprod.nuvem.gov.br").is_empty());
        assert!(!expected_issuers(TargetName::Tramita, "homolog.api.processoeletronico.gov.br").is_empty());
        assert!(expected_issuers(TargetName::Tramita, "example.invalid").is_empty());
        assert!(expected_issuers(TargetName::Pucomex, "portalunico.siscomex.gov.br").is_empty());
        // Every listed host is one of the target's own hosts (a typo would silently disable it).
        for (name, spec) in table() {
            for h in spec.expected_issuers_hosts.iter().flatten() {
                let ours = [Environment::Desenvolvimento, Environment::Homologacao, Environment::Producao]
                    .iter()
                    .any(|e| Url::parse(spec.url(*e)).unwrap().host_str() == Some(h.as_str()));
                assert!(ours, "{name}: {h} is not one of its hosts");
                assert!(!spec.expected_issuers.is_empty(), "{name}: hosts without issuers");
            }
        }
    }

    #[test]
    fn environment_from_host() {
        assert_eq!(
            environment_of("https://homolog.api.processoeletronico.gov.br/interoperabilidade/rest/v3/"),
            Some(Environment::Homologacao)
        );
        assert_eq!(
            environment_of("https://pendencias.conectagov.processoeletronico.gov.br/"),
            Some(Environment::Producao)
        );
        assert_eq!(environment_of("https://example.invalid/"), None);
    }
}
