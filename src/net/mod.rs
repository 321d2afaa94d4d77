//! The transport floor: everything pen-doctor says on the wire to a web service, in one place
//! and below every check. Resolve a name ([`resolve`]: `--resolve`, `/etc/hosts`, DNS through
//! hickory), open a TCP connection ([`connect`]: every address, directly or through an HTTP
//! proxy's CONNECT tunnel — [`proxy`]), put TLS on it ([`tls`]: rustls with a verifier that
//! records what the server presented, OpenSSL's verdict beside it), speak HTTP/1.1 over it
//! ([`http`]: bounded, keep-alive), and encode credentials ([`auth`]).
//!
//! The checks decide *what* to probe and what a result means; this module only moves bytes and
//! reports what happened as data (typed errors, the chain presented, the proxy's answer). It
//! imports nothing from the checks, the report or the renderers.

pub mod auth;
pub mod connect;
pub mod http;
pub mod proxy;
pub mod resolve;
pub mod tls;

pub use connect::Path;

use std::sync::Mutex;

/// A value handed from one step to the next exactly once — a live connection that the check
/// which opened it passes on, in its fact, to the check that goes on speaking over it.
pub struct Handoff<T>(Mutex<Option<T>>);

impl<T> Handoff<T> {
    pub fn new(value: Option<T>) -> Self {
        Handoff(Mutex::new(value))
    }

    /// The value, for the first caller only.
    pub fn take(&self) -> Option<T> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Whether the value is still there to take.
    pub fn is_available(&self) -> bool {
        self.0.lock().map(|v| v.is_some()).unwrap_or(false)
    }
}

impl<T> Default for Handoff<T> {
    fn default() -> Self {
        Handoff::new(None)
    }
}

impl<T> std::fmt::Debug for Handoff<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_available() { "Handoff(available)" } else { "Handoff(taken)" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handed_over_once() {
        let h = Handoff::new(Some(7));
        assert!(h.is_available());
        assert_eq!(h.take(), Some(7));
        assert_eq!(h.take(), None);
        assert_eq!(format!("{h:?}"), "Handoff(taken)");
    }
}
