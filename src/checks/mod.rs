//! The checks: one file per family (each declares its instances and `run`s them), the trait and
//! context they share (`core`), the facts they hand each other (`facts`, `trust`) and the
//! catalog that builds a run's plan and decides where each check applies (`plan`).

pub mod client_cert;
pub mod config;
pub mod core;
pub mod cron;
pub mod database;
pub mod dns;
pub mod facts;
pub mod gearman;
pub mod host_curl;
pub mod host_tools;
pub mod http;
pub mod ntp;
pub mod plan;
pub mod process;
#[cfg(test)]
mod robustness;
pub mod sei_log;
pub mod service_proxy;
pub mod store;
pub mod supervisor;
pub mod tcp;
#[doc(hidden)]
pub mod testing;
pub mod tls;
pub mod tls_stack;
pub mod trust;
pub mod webhook;

pub use self::core::{config_dependency, host_file_unreadable, Check, Completed, Ctx};
pub use crate::model::{catalog_rank, CheckId, Fact, Kind, Outcome, CATALOG};
pub use plan::all_checks;
