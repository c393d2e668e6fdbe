//! What must never reach a log or an error message.

/// Header names whose values are credentials.
pub fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "x-api-key" | "api-key"
    ) || n.contains("secret")
        || n.contains("token")
}

/// An api key: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(pub(crate) String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
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
        ] {
            assert!(is_secret_header(h), "{h}");
        }
        assert!(!is_secret_header("Accept"));
        assert_eq!(format!("{:?}", ApiKey("sk-1".into())), "<redacted>");
    }
}
