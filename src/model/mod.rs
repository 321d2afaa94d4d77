//! The ground floor: the plain types every layer above speaks in. A check's `Outcome` and
//! `Finding`s and `Measures`, their `Status` and `Severity`, the knowledge-base reference of a
//! reported finding, the `Lang` of the words, the output `Format` and the host's `OsFamily`, and
//! the catalog of check kinds. Nothing
//! here imports the rest of the crate.

pub mod check_kind;
pub mod code;
pub mod finding;
pub mod format;
pub mod host;
pub mod kb_ref;
pub mod lang;
pub mod measures;
pub mod outcome;
pub mod status;

pub use check_kind::{catalog_rank, CATALOG};
pub use code::Code;
pub use finding::Finding;
pub use format::Format;
pub use host::{HostInfo, OsFamily};
pub use kb_ref::KbRef;
pub use lang::Lang;
pub use measures::Measures;
pub use outcome::{Fact, Outcome};
pub use status::{Severity, Status};
