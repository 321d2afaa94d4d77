//! The id of one check instance (`CheckId`): its kind and, for most kinds, an instance (a
//! target, `sei`, `store`, a webhook's name…). `Display` spells it as the report, `--only` and
//! `--skip` do (`tls:tramita`, `config:sei`, `gearman`); the ids several families share are
//! named here, once.

use super::check_kind::Kind;
use super::target_name::TargetName;
use std::borrow::Cow;
use std::fmt;

/// A check instance's id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CheckId {
    kind: Kind,
    instance: Option<Cow<'static, str>>,
}

/// `config:sei`: reads the SEI installation; its fact carries it.
pub const CONFIG_SEI: CheckId = CheckId::fixed(Kind::Config, "sei");
/// `ca:store`: the trust store PHP's curl uses.
pub const CA_STORE: CheckId = CheckId::fixed(Kind::Ca, "store");
/// `cert:client`: the PEN client certificate.
pub const CERT_CLIENT: CheckId = CheckId::fixed(Kind::Cert, "client");
/// `cert:pucomex`: the Portal Único's client certificate.
pub const CERT_PUCOMEX: CheckId = CheckId::fixed(Kind::Cert, "pucomex");

impl CheckId {
    /// A kind with one instance per run (`gearman`, `ntp`).
    pub const fn of(kind: Kind) -> CheckId {
        CheckId { kind, instance: None }
    }

    /// A kind's instance named by a constant (`config:sei`).
    pub const fn fixed(kind: Kind, instance: &'static str) -> CheckId {
        CheckId { kind, instance: Some(Cow::Borrowed(instance)) }
    }

    /// A kind's instance with a name of its own (`webhook:default`, `pen:agendamentos`).
    pub fn new(kind: Kind, instance: impl Into<Cow<'static, str>>) -> CheckId {
        CheckId { kind, instance: Some(instance.into()) }
    }

    /// A per-target check (`tls:tramita`).
    pub const fn target(kind: Kind, target: TargetName) -> CheckId {
        CheckId::fixed(kind, target.as_str())
    }

    /// The `cert:*` check that holds the client identity for a target.
    pub const fn cert_for(target: TargetName) -> CheckId {
        match target {
            TargetName::Pucomex => CERT_PUCOMEX,
            _ => CERT_CLIENT,
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// What follows the `:` (`tramita` of `tls:tramita`), if anything does.
    pub fn instance(&self) -> Option<&str> {
        self.instance.as_deref()
    }

    /// The id of a text (`tls:tramita`, `gearman`); `None` for an unknown kind.
    pub fn parse(text: &str) -> Option<CheckId> {
        match text.split_once(':') {
            Some((kind, instance)) => Some(CheckId::new(Kind::parse(kind)?, instance.to_string())),
            None => Some(CheckId::of(Kind::parse(text)?)),
        }
    }

    /// Whether this id is spelled `text`, without building the string.
    pub fn is(&self, text: &str) -> bool {
        match (&self.instance, text.split_once(':')) {
            (None, None) => text == self.kind.as_str(),
            (Some(i), Some((k, rest))) => k == self.kind.as_str() && rest == i,
            _ => false,
        }
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.instance {
            None => f.write_str(self.kind.as_str()),
            Some(i) => write!(f, "{}:{i}", self.kind.as_str()),
        }
    }
}

impl PartialEq<str> for CheckId {
    fn eq(&self, other: &str) -> bool {
        self.is(other)
    }
}

impl PartialEq<&str> for CheckId {
    fn eq(&self, other: &&str) -> bool {
        self.is(other)
    }
}

impl PartialEq<CheckId> for String {
    fn eq(&self, other: &CheckId) -> bool {
        other.is(self)
    }
}

impl PartialEq<CheckId> for &str {
    fn eq(&self, other: &CheckId) -> bool {
        other.is(self)
    }
}

impl From<CheckId> for String {
    fn from(id: CheckId) -> String {
        id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelled_as_today() {
        assert_eq!(CheckId::target(Kind::Tls, TargetName::Tramita).to_string(), "tls:tramita");
        assert_eq!(CheckId::target(Kind::Http, TargetName::ProtocoloIntegrado).to_string(), "http:protocolo-integrado");
        assert_eq!(CONFIG_SEI.to_string(), "config:sei");
        assert_eq!(CA_STORE.to_string(), "ca:store");
        assert_eq!(CERT_CLIENT.to_string(), "cert:client");
        assert_eq!(CheckId::cert_for(TargetName::Pucomex).to_string(), "cert:pucomex");
        assert_eq!(CheckId::cert_for(TargetName::Pendencias), CERT_CLIENT);
        assert_eq!(CheckId::of(Kind::Gearman).to_string(), "gearman");
        assert_eq!(CheckId::new(Kind::Webhook, "default".to_string()).to_string(), "webhook:default");
    }

    #[test]
    fn parsed_and_compared_with_text() {
        for text in ["tls:tramita", "config:sei", "gearman", "webhook:default", "pen:agendamentos"] {
            let id = CheckId::parse(text).expect(text);
            assert_eq!(id.to_string(), text);
            assert!(id == text, "{text}");
        }
        assert_eq!(CheckId::parse("tls:tramita"), Some(CheckId::target(Kind::Tls, TargetName::Tramita)));
        assert_eq!(CheckId::parse("nope:x"), None);
        assert!(CA_STORE != "ca");
        assert!(CheckId::of(Kind::Ntp) != "ntp:x");
        assert!(CA_STORE != "ca:stor");
    }
}
