//! A password or other secret that can be used but never shown: `Debug`, `Display` and
//! `Serialize` all print `***`, so no report, log or error can carry it by mistake. Creating one
//! registers its value with the redactor ([`crate::redact`]), which then masks it in every text
//! pen-doctor prints, in every encoding it may travel in.

use std::fmt;

/// A secret string. Read it with [`Secret::expose`] only where it is handed to a library.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        crate::redact::register_secret(&value);
        Secret(value)
    }

    /// A secret built from parts already registered (e.g. the `Basic base64(user:password)` of
    /// a header, whose user and password were registered as credentials): masked where it
    /// shows, its parts masked in every encoding, the scheme word left readable.
    pub fn from_registered_parts(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one call that needs it (openssl, a database login).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        assert_eq!(s.expose(), "hunter2");
    }
}
