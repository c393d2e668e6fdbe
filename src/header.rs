//! HTTP headers the caller adds: checked when made, so a bad one is refused at
//! the setter rather than at send time; their `Debug` hides secret values.

use crate::secret::looks_secret;

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
        let value = if looks_secret(&self.name) {
            "<redacted>"
        } else {
            &self.value
        };
        write!(f, "{}: {value}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_checked_and_secret_values_hidden() {
        assert_eq!(
            format!("{:?}", Header::new("Cookie", "a=1").unwrap()),
            "Cookie: <redacted>"
        );
        assert_eq!(format!("{:?}", Header::new("X-A", "v").unwrap()), "X-A: v");
        assert!(Header::new("bad name", "v").is_err());
        assert!(Header::new("X-A", "line\nbreak").is_err());
    }
}
