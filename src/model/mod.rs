//! The ground floor: the plain types every layer above speaks in. A check's `Outcome` and
//! `Finding`s and `Measures`, their `Status` and `Severity`, the knowledge-base reference of a
//! reported finding, the `Lang` of the words, the output `Format` and the host's `OsFamily`, and
//! the facts `pen-doctor cert` shows, the catalog of check kinds (`Kind`), the typed check ids (`CheckId`) and target names
//! (`TargetName`). Nothing here imports the rest of the crate.

pub mod cert_fact;
pub mod check_id;
pub mod check_kind;
pub mod code;
pub mod finding;
pub mod format;
pub mod host;
pub mod kb_ref;
pub mod lang;
pub mod measures;
pub mod outcome;
mod spelled;
pub mod status;
pub mod target_name;

pub use cert_fact::{CertFact, CertFactLabel, CertFactValue};
pub use check_id::CheckId;
pub use check_kind::{catalog_rank, Kind, CATALOG};
pub use code::Code;
pub use finding::Finding;
pub use format::Format;
pub use host::{HostInfo, OsFamily};
pub use kb_ref::KbRef;
pub use lang::Lang;
pub use measures::Measures;
pub use outcome::{Fact, Outcome};
pub use status::{Severity, Status};
pub use target_name::{TargetName, TARGET_NAMES};
