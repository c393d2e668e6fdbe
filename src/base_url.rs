//! The base URL a client is made with: checked once, split into the URL the
//! requests go to and the `Authorization: Basic` its `user:password@` makes.
//! Pure code.
//!
//! ureq would build the Basic header from the userinfo as written, percent escapes
//! and all (`p%40ss` sent as such); RFC 3986 userinfo is percent-encoded, so it is
//! decoded here, as curl and browsers do, and the URL keeps no credentials. Error
//! messages quote the URL through [`redact_url`], never with its password.

use base64::Engine;

use crate::error::{Error, Result};
use crate::secret::{is_host_port, redact_url};

/// A checked base URL.
#[derive(Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// Without a trailing slash and without `user:password@`.
    pub url: String,
    /// The scheme, lower case: `http` or `https`.
    pub scheme: &'static str,
    /// The host as written (IPv6 in brackets), for the `NO_PROXY` rule.
    pub host: String,
    /// `Basic <base64(user:password)>` from the decoded userinfo, if there was one.
    pub basic_auth: Option<String>,
}

impl std::fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaseUrl")
            .field("url", &self.url)
            .field(
                "basic_auth",
                &self.basic_auth.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Percent-decodes userinfo text (an invalid escape stays as written).
fn decode(s: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(s).collect()
}

impl BaseUrl {
    /// Checks `base_url`: `http://` or `https://`, a host, no query and no fragment
    /// (an API path is appended to it), nothing a URI cannot hold.
    pub fn parse(base_url: &str) -> Result<BaseUrl> {
        let shown = redact_url(base_url);
        let bad = |why: &str| Error::invalid(format!("invalid base URL {shown:?}: {why}"));
        let (scheme, rest) = ["http", "https"]
            .into_iter()
            .find_map(|s| {
                let head = base_url.get(..s.len() + 3)?;
                head.eq_ignore_ascii_case(&format!("{s}://"))
                    .then(|| (s, &base_url[s.len() + 3..]))
            })
            .ok_or_else(|| bad("it must start with http:// or https://"))?;
        let rest = rest.trim_end_matches('/');
        if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("it holds a space or a control character"));
        }
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (userinfo, host_part) = match rest[..authority_end].rfind('@') {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        let host_port = &host_part[..host_part.find(['/', '?', '#']).unwrap_or(host_part.len())];
        if host_port.is_empty() {
            return Err(bad("it names no host"));
        }
        if host_part.contains('#') {
            return Err(bad(
                "it holds a fragment ('#'): the request would go to the path before it; \
                 give the server's base URL alone",
            ));
        }
        if host_part.contains('?') {
            return Err(bad(
                "it holds a query ('?'): the API path would be appended after it; \
                 give the server's base URL alone",
            ));
        }
        if !is_host_port(host_port) {
            return Err(bad("its host or port is not valid"));
        }
        let url = format!("{}{host_part}", &base_url[..scheme.len() + 3]);
        let uri = format!("{url}/backend-api/v2/conversation")
            .parse::<ureq::http::Uri>()
            .map_err(|e| bad(&e.to_string()))?;
        let port = match host_port.rfind(']') {
            Some(i) => &host_port[i + 1..],
            None => host_port.find(':').map_or("", |i| &host_port[i..]),
        };
        if port
            .strip_prefix(':')
            .is_some_and(|p| p.parse::<u16>().is_err())
        {
            return Err(bad("its port is not valid"));
        }
        let host = uri.host().unwrap_or_default().to_owned();
        let basic_auth = userinfo.map(|u| {
            let (user, pass) = u.split_once(':').unwrap_or((u, ""));
            let mut creds = decode(user);
            creds.push(b':');
            creds.extend(decode(pass));
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(creds)
            )
        });
        Ok(BaseUrl {
            url,
            scheme,
            host,
            basic_auth,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_pass: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(user_pass)
        )
    }

    #[test]
    fn userinfo_is_decoded_into_basic_and_removed_from_the_url() {
        let b = BaseUrl::parse("http://user:p%40ss@h:1/api/").unwrap();
        assert_eq!(b.url, "http://h:1/api");
        assert_eq!(b.basic_auth.as_deref(), Some(basic("user:p@ss").as_str()));
        assert!(!format!("{b:?}").contains(&basic("user:p@ss")[6..]));
        // The last `@` ends the userinfo; a user alone has an empty password.
        let b = BaseUrl::parse("https://u:p@ssw0rd@host").unwrap();
        assert_eq!(
            (b.url.as_str(), b.basic_auth.unwrap()),
            ("https://host", basic("u:p@ssw0rd"))
        );
        let b = BaseUrl::parse("HTTP://me@[::1]:8").unwrap();
        assert_eq!((b.scheme, b.host.as_str()), ("http", "[::1]"));
        assert_eq!(b.basic_auth.unwrap(), basic("me:"));
        assert_eq!(BaseUrl::parse("http://h").unwrap().basic_auth, None);
    }

    #[test]
    fn bad_urls_are_refused_without_their_password() {
        for (bad, why) in [
            ("", "http://"),
            ("h:1", "http://"),
            ("ftp://u:hunter2@h", "http://"),
            ("http://", "no host"),
            ("http:///x", "no host"),
            ("http://u:hunter2@/x", "no host"),
            ("http://u:hunter2@h x", "space"),
            ("http://h\n", "control"),
            ("http://u:hunter2@h/#frag", "fragment"),
            ("http://u:hunter2@h/api?x=1", "query"),
            ("http://u:hunter2@h:99999", "port is not valid"),
            ("http://u:hunter2@h:x", "not valid"),
            ("http://u:hunter2@h^", "not valid"),
            ("http://user:pa/ss@h", "not valid"),
            ("http://h/a b", "space"),
        ] {
            let e = BaseUrl::parse(bad).unwrap_err();
            assert_eq!(e.status, crate::Status::InvalidArgument, "{bad:?}");
            assert!(e.message.contains(why), "{bad:?}: {}", e.message);
            assert!(!e.message.contains("hunter2"), "{}", e.message);
        }
    }
}
