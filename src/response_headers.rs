//! The response headers of a stream (request id, rate-limit headers, ...), kept
//! as received so a caller can read them while and after the stream runs. Names
//! are lower case; each string is stored with a trailing NUL so the C boundary
//! lends it as is. Pure code.

use ureq::http::HeaderMap;

/// Most headers kept, and most bytes of one value: ureq bounds the head already;
/// these keep a stream's memory small whatever a server sends.
const MAX_HEADERS: usize = 128;
const MAX_VALUE: usize = 8 << 10;

/// A response's headers in the order received, names lower case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHeaders {
    /// (name with a NUL, value with a NUL); values that are not UTF-8 are read lossily.
    list: Vec<(String, String)>,
}

/// `s` followed by a NUL.
fn with_nul(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    out.push_str(s);
    out.push('\0');
    out
}

impl ResponseHeaders {
    pub fn from_map(map: &HeaderMap) -> ResponseHeaders {
        let list = map
            .iter()
            .take(MAX_HEADERS)
            .map(|(name, value)| {
                let bytes = value.as_bytes();
                let value = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_VALUE)]);
                (with_nul(name.as_str()), with_nul(&value.replace('\0', "")))
            })
            .collect();
        ResponseHeaders { list }
    }

    /// The value of `name` (any case), NUL-terminated; several values of one
    /// name: the first.
    pub fn get_with_nul(&self, name: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|(n, _)| n[..n.len() - 1].eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The header at `index` as (name, value), each NUL-terminated.
    pub fn at_with_nul(&self, index: usize) -> Option<(&str, &str)> {
        self.list.get(index).map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The value of `name`, without the NUL.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_with_nul(name).map(|v| &v[..v.len() - 1])
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_in_any_case_in_order() {
        let mut map = HeaderMap::new();
        map.insert("X-Request-Id", "req-1".parse().unwrap());
        map.append("x-ratelimit-remaining-requests", "9".parse().unwrap());
        let h = ResponseHeaders::from_map(&map);
        assert_eq!(h.get("x-request-id"), Some("req-1"));
        assert_eq!(h.get("X-RateLimit-Remaining-Requests"), Some("9"));
        assert_eq!(h.get_with_nul("x-request-id"), Some("req-1\0"));
        assert_eq!(h.at_with_nul(0), Some(("x-request-id\0", "req-1\0")));
        assert_eq!(h.len(), 2);
        assert_eq!(h.get("absent"), None);
    }
}
