//! Credentials on the wire: HTTP Basic (`Authorization` and `Proxy-Authorization`) from a user
//! and password, or from the `user:password@` of a URL with its %XX escapes decoded — one
//! encoder for the proxy, the web services and supervisord alike. Base64 and percent-decoding
//! come from well-kept libraries (OpenSSL, `percent-encoding`).

use crate::secret::Secret;
use url::Url;

/// The value of a Basic credentials header: `Basic base64(user:password)`.
/// The user and password are registered with the redactor, so every encoding of them (this
/// base64 included) is masked wherever a peer echoes it, and "Basic" stays readable.
pub fn basic(user: &str, password: &str) -> Secret {
    crate::redact::register_credentials(user, password);
    Secret::from_registered_parts(format!(
        "Basic {}",
        openssl::base64::encode_block(format!("{user}:{password}").as_bytes())
    ))
}

/// The Basic credentials a URL carries (`http://user:pass@host`), decoded; `None` without a user.
pub fn basic_from_url(url: &Url) -> Option<Secret> {
    if url.username().is_empty() {
        return None;
    }
    Some(basic(&percent_decode(url.username()), &percent_decode(url.password().unwrap_or(""))))
}

/// A URL component (user, password, path) with its %XX escapes decoded; bad escapes stay as
/// they are.
pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials() {
        assert_eq!(basic("user", "pass").expose(), "Basic dXNlcjpwYXNz");
        assert_eq!(basic("usuario-pi", "").expose(), "Basic dXN1YXJpby1waTo=");
        let url = Url::parse("http://us%65r:p%40ss@proxy.local:3128").unwrap();
        assert_eq!(basic_from_url(&url).unwrap().expose(), basic("user", "p@ss").expose());
        assert!(basic_from_url(&Url::parse("http://proxy.local:3128").unwrap()).is_none());
    }

    #[test]
    fn escapes() {
        assert_eq!(percent_decode("p%40ss"), "p@ss");
        assert_eq!(percent_decode("%a\u{e9}%zz%"), "%a\u{e9}%zz%", "bad escapes stay as they are");
    }
}
