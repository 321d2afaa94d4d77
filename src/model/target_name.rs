//! The names of the systems pen-doctor checks (SPEC §2), typed: what `--target`, `--endpoint`,
//! check ids (`tls:tramita`) and the report spell as text.

use super::spelled::spelled;

/// One of the systems of SPEC §2. Declared in the order targets are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetName {
    Tramita,
    Pendencias,
    ProtocoloIntegrado,
    Pucomex,
}

impl TargetName {
    /// Every target, in report order.
    pub const ALL: [TargetName; 4] =
        [TargetName::Tramita, TargetName::Pendencias, TargetName::ProtocoloIntegrado, TargetName::Pucomex];

    /// The name as the command line and the report spell it (`protocolo-integrado`).
    pub const fn as_str(self) -> &'static str {
        match self {
            TargetName::Tramita => "tramita",
            TargetName::Pendencias => "pendencias",
            TargetName::ProtocoloIntegrado => "protocolo-integrado",
            TargetName::Pucomex => "pucomex",
        }
    }
}

spelled!(TargetName);

/// Target names in the order they are reported.
pub const TARGET_NAMES: &[&str] = &TargetName::NAMES;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(TARGET_NAMES, ["tramita", "pendencias", "protocolo-integrado", "pucomex"]);
        for t in TargetName::ALL {
            assert_eq!(TargetName::parse(t.as_str()), Some(t));
        }
        assert_eq!(TargetName::parse("Tramita"), None);
    }
}
