//! The numbers a check measured that monitoring reads as numbers: a certificate's expiry and
//! days left, the clock's offset and the limits it was judged by. Checks fill them as values
//! (never as text); renderers format them. Each is absent when the check did not measure it.

use serde::{Deserialize, Serialize};

/// What a check measured, as typed values (the report's `measures`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Measures {
    /// The certificate's `notAfter`, in seconds since the epoch (the client certificate, or the
    /// server's leaf).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Whole days from the check's run to `expires_at` (negative once expired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    /// The local clock's offset (reference minus local), in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_secs: Option<f64>,
    /// The offset, in seconds either way, above which the check warns (`--ntp-warn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_warn_secs: Option<f64>,
    /// The offset, in seconds either way, above which the check fails (`--ntp-crit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_crit_secs: Option<f64>,
}

impl Measures {
    pub fn is_empty(&self) -> bool {
        *self == Measures::default()
    }

    /// A certificate's expiry, and the whole days left on it at `now` (both in seconds since
    /// the epoch).
    pub fn certificate(not_after: i64, now: i64) -> Measures {
        Measures {
            expires_at: Some(not_after),
            days_left: Some((not_after - now).div_euclid(86_400)),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_left_are_whole_days_and_negative_once_expired() {
        let m = Measures::certificate(1_000_000, 1_000_000 - 86_400 * 3 - 1);
        assert_eq!((m.expires_at, m.days_left), (Some(1_000_000), Some(3)));
        assert_eq!(Measures::certificate(1_000_000, 1_000_001).days_left, Some(-1));
        assert!(Measures::default().is_empty() && !m.is_empty());
    }

    #[test]
    fn only_what_was_measured_is_written() {
        let m = Measures { offset_secs: Some(0.25), ..Default::default() };
        assert_eq!(serde_json::to_string(&m).unwrap_or_default(), r#"{"offset_secs":0.25}"#);
        let back: Measures = serde_json::from_str("{}").unwrap_or(m);
        assert!(back.is_empty());
    }
}
