//! The check kinds of SPEC §3 in catalog order (`Kind`): the order of the report, and the names
//! `--only`/`--skip` and the knowledge base's summaries accept.

use super::spelled::spelled;

/// A check kind (SPEC §3). Declared in catalog order, so `Ord` is the report's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Config,
    Cert,
    Ca,
    Dns,
    Tcp,
    Tls,
    Http,
    Gearman,
    Supervisor,
    Process,
    Cron,
    Ntp,
    Pi,
    Pen,
    Sei,
    Webhook,
}

impl Kind {
    /// Every kind, in catalog order.
    pub const ALL: [Kind; 16] = [
        Kind::Config,
        Kind::Cert,
        Kind::Ca,
        Kind::Dns,
        Kind::Tcp,
        Kind::Tls,
        Kind::Http,
        Kind::Gearman,
        Kind::Supervisor,
        Kind::Process,
        Kind::Cron,
        Kind::Ntp,
        Kind::Pi,
        Kind::Pen,
        Kind::Sei,
        Kind::Webhook,
    ];

    /// The name of SPEC §3 (`tls`), as reports and `--only` spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Config => "config",
            Kind::Cert => "cert",
            Kind::Ca => "ca",
            Kind::Dns => "dns",
            Kind::Tcp => "tcp",
            Kind::Tls => "tls",
            Kind::Http => "http",
            Kind::Gearman => "gearman",
            Kind::Supervisor => "supervisor",
            Kind::Process => "process",
            Kind::Cron => "cron",
            Kind::Ntp => "ntp",
            Kind::Pi => "pi",
            Kind::Pen => "pen",
            Kind::Sei => "sei",
            Kind::Webhook => "webhook",
        }
    }
}

spelled!(Kind);

/// Check names in catalog order (SPEC §3): the order of the report, whatever order they finish in.
pub const CATALOG: &[&str] = &Kind::NAMES;

/// Position of a check kind in the catalog (unknown kinds last).
pub fn catalog_rank(kind: &str) -> usize {
    Kind::parse(kind).map_or(CATALOG.len(), |k| k as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_catalog_order() {
        assert_eq!(
            CATALOG,
            [
                "config",
                "cert",
                "ca",
                "dns",
                "tcp",
                "tls",
                "http",
                "gearman",
                "supervisor",
                "process",
                "cron",
                "ntp",
                "pi",
                "pen",
                "sei",
                "webhook"
            ]
        );
        for (i, k) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert_eq!(catalog_rank(k.as_str()), i);
        }
        assert!(Kind::ALL.windows(2).all(|w| w[0] < w[1]), "Ord is catalog order");
        assert_eq!(Kind::parse("TLS"), None);
        assert_eq!(catalog_rank("nope"), CATALOG.len());
    }
}
