//! The machine a report speaks of: its OS family (which fix steps apply) and the report's host
//! facts.

use serde::{Deserialize, Serialize};

/// The OS families fix steps are written for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OsFamily {
    Debian,
    Rhel6,
    Rhel7,
    Rhel8,
    #[default]
    Other,
}

impl OsFamily {
    /// The family name of the JSON report: `debian`, `rhel` or `other`.
    pub fn report_name(self) -> &'static str {
        match self {
            OsFamily::Debian => "debian",
            OsFamily::Rhel6 | OsFamily::Rhel7 | OsFamily::Rhel8 => "rhel",
            OsFamily::Other => "other",
        }
    }

    /// The key of the fix steps in `checks/codes/*.toml`.
    pub fn fix_key(self) -> Option<&'static str> {
        match self {
            OsFamily::Debian => Some("debian"),
            OsFamily::Rhel6 => Some("rhel6"),
            OsFamily::Rhel7 => Some("rhel7"),
            OsFamily::Rhel8 => Some("rhel8"),
            OsFamily::Other => None,
        }
    }
}

/// The host's facts as the report carries them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HostInfo {
    pub hostname: String,
    pub os: String,
    pub os_family: String,
    pub kernel: String,
}
