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

/// An HTTP header the caller adds: checked when made; its `Debug` hides the value
/// of a secret header.
#[derive(Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

impl Header {
    /// A header, refused when the name or value could not go on the wire.
    pub fn new(name: &str, value: &str) -> crate::Result<Header> {
        ureq::http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| crate::Error::invalid(format!("invalid header name: {name:?}")))?;
        ureq::http::HeaderValue::from_str(value)
            .map_err(|_| crate::Error::invalid(format!("invalid value for header {name:?}")))?;
        Ok(Header {
            name: name.to_owned(),
            value: value.to_owned(),
        })
    }
}

impl std::fmt::Debug for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = if is_secret_header(&self.name) {
            "<redacted>"
        } else {
            &self.value
        };
        write!(f, "{}: {value}", self.name)
    }
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
        assert_eq!(
            format!("{:?}", Header::new("Cookie", "a=1").unwrap()),
            "Cookie: <redacted>"
        );
        assert_eq!(format!("{:?}", Header::new("X-A", "v").unwrap()), "X-A: v");
        assert!(Header::new("bad name", "v").is_err());
        assert!(Header::new("X-A", "line\nbreak").is_err());
        assert_eq!(format!("{:?}", ApiKey("sk-1".into())), "<redacted>");
    }
}
