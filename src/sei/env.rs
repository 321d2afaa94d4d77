//! What `getenv()` returns to SEI: the environment of the processes that run it (php-fpm,
//! httpd/apache2, supervisord, cron, a container's PID 1 — see [`crate::hostenv`]), then
//! pen-doctor's own environment. The processes are looked at only when a configuration file asks
//! for a variable, once per discovery.

use super::php::{EnvValue, Scope};
use crate::hostenv::{self, Environments, Unread};
use std::sync::OnceLock;

/// The source named for a value of pen-doctor's own environment.
pub const OWN_ENVIRONMENT: &str = "environment of pen-doctor";

/// The environment pen-doctor itself runs in: `getenv()` of a variable set here resolves to its
/// value; one not set here stays unresolved (the web server's environment may still have it).
pub struct OwnEnvironment;

impl Scope for OwnEnvironment {
    fn getenv(&self, name: &str) -> EnvValue {
        match std::env::var(name) {
            Ok(value) => EnvValue::Set { value, source: OWN_ENVIRONMENT.into() },
            Err(_) => EnvValue::Unknown,
        }
    }
}

/// The environments of the processes that run SEI, then pen-doctor's own.
pub struct HostEnvironment {
    scan: fn() -> Environments,
    scanned: OnceLock<Environments>,
}

/// Which environments were read for `getenv()`, for the report: names and PIDs, never values.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct EnvironmentsRead {
    /// `php-fpm (PID 12)`…
    pub read: Vec<String>,
    /// Processes whose environment could not be read, and why.
    pub unread: Vec<Unread>,
    /// Names of processes left out by the bounds.
    pub left_out: Vec<String>,
}

impl Default for HostEnvironment {
    fn default() -> Self {
        HostEnvironment::new()
    }
}

impl HostEnvironment {
    /// The processes of this host.
    pub fn new() -> Self {
        HostEnvironment::with(hostenv::scan)
    }

    /// Processes found by `scan` (tests give their own).
    pub fn with(scan: fn() -> Environments) -> Self {
        HostEnvironment { scan, scanned: OnceLock::new() }
    }

    fn envs(&self) -> &Environments {
        self.scanned.get_or_init(self.scan)
    }

    /// What was read, when a configuration asked for a variable at all.
    pub fn report(&self) -> Option<EnvironmentsRead> {
        let e = self.scanned.get()?;
        Some(EnvironmentsRead { read: e.read_names(), unread: e.unread.clone(), left_out: e.left_out.clone() })
    }
}

impl Scope for HostEnvironment {
    fn getenv(&self, name: &str) -> EnvValue {
        let envs = self.envs();
        if let Some((value, process)) = envs.lookup(name) {
            return EnvValue::Set { value: value.to_string(), source: process.source() };
        }
        if let Ok(value) = std::env::var(name) {
            return EnvValue::Set { value, source: OWN_ENVIRONMENT.into() };
        }
        if envs.any_read() {
            // The processes that run SEI were read and none sets it: PHP's getenv() is false.
            return EnvValue::Unset {
                source: format!("not set in the environment of {}", envs.read_names().join(", ")),
            };
        }
        EnvValue::Unknown
    }
}
