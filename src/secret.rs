//! What must never reach a log or an error message: secret header values, the
//! api key, and the credentials of a URL.

/// Header names whose values are credentials: the usual ones, and any name that
/// speaks of a key, a token, a secret, auth or a session (`g4f-api-key`,
/// `x-auth-token`, ...). Redacting a harmless value costs less than leaking one.
pub fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(n.as_str(), "cookie" | "set-cookie" | "proxy-authorization")
        || ["key", "token", "secret", "auth", "session", "password"]
            .iter()
            .any(|w| n.contains(w))
}

/// An api key: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(pub(crate) String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `url` with its `user:password@` part, if any, replaced by `***@`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}***@{}", &url[..scheme_end], &rest[at + 1..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_headers() {
        for h in [
            "Authorization",
            "COOKIE",
            "x-api-key",
            "X-Secret-Thing",
            "x-auth-token",
            "g4f-api-key",
            "Proxy-Authorization",
            "X-Session-Id",
        ] {
            assert!(is_secret_header(h), "{h}");
        }
        assert!(!is_secret_header("Accept"));
        assert_eq!(format!("{:?}", ApiKey("sk-1".into())), "<redacted>");
        assert_eq!(
            redact_url("https://user:pa%40ss@h:1/p?q=a@b"),
            "https://***@h:1/p?q=a@b"
        );
        assert_eq!(redact_url("http://h/x@y"), "http://h/x@y");
        assert_eq!(redact_url("nonsense"), "nonsense");
    }
}
