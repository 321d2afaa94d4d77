//! pen-doctor: diagnoses why an SEI server cannot talk to the Processo Eletrônico Nacional
//! (Tramita.GOV.BR), Protocolo Integrado and Pucomex, and maps every failure to the knowledge
//! base article, its cause and the fix for this host's OS.

pub mod app;
pub mod bundle;
pub mod checks;
pub mod cli;
pub mod correlate;
pub mod db;
pub mod discovery_db;
pub mod duration;
pub mod elf;
pub mod engine;
pub mod eras;
pub mod flagvalue;
pub mod fleet;
pub mod host;
pub mod hostenv;
pub mod hostfs;
pub mod interception;
pub mod kb;
pub mod log_correlation;
pub mod logclass;
pub mod messages;
pub mod model;
#[cfg(test)]
mod mutation;
pub mod net;
pub mod node;
pub mod output;
pub mod phpini;
pub mod pki;
pub mod plugin;
pub mod progress;
pub mod proto;
pub mod redact;
pub mod render;
pub mod report;
/// The diagnosis is made with the report (`report::build`); reachable here too.
pub use report::diagnosis;
pub mod rerender;
pub mod secret;
pub mod sei;
pub mod selectors;
pub mod settings;
pub mod targets;
pub mod ui;
pub mod watchdog;
