//! What must never reach a log or an error message: secret header values, the
//! api key, the values of secret-looking body fields, and the credentials of a URL.

/// Words that make a header name or a body field name secret, wherever they
/// appear in it: `X-Credential`, `X-Amz-Signature`, `g4f-api-key`, `x-auth-token`,
/// `X-Session-Id`, `passphrase`, `Cookie`, ... Redacting a harmless value costs
/// less than leaking one, so the rule is wide on purpose.
const SECRET_WORDS: [&str; 11] = [
    "key",
    "token",
    "secret",
    "auth",
    "session",
    "pass",
    "credential",
    "signature",
    "cookie",
    "jwt",
    "bearer",
];

/// Whether a header or body field named `name` carries a credential, by the
/// words of [`SECRET_WORDS`] in any case.
pub fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| n.contains(w))
}

/// An api key: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(pub(crate) String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Whether `authority` is a plain `host[:port]`: a name or an address (IPv6 in
/// brackets) and, if any, a numeric port. What is left of a URL's authority once
/// its credentials are cut away must be this, or the URL is not read as one.
pub(crate) fn is_host_port(authority: &str) -> bool {
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, port))
                if addr
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') =>
            {
                ("v6", port)
            }
            _ => return false,
        },
        None => authority.split_at(authority.find(':').unwrap_or(authority.len())),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b));
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

/// `url` with its `user:password@` part, if any, replaced by `***@`: the one rule
/// for every message that quotes a URL (base URL, proxy URL, either of them as
/// the caller typed it).
///
/// The credentials end at the LAST `@` of the authority, as URL parsers read it,
/// so `http://user:p@ss@host` shows as `http://***@host`. When what would be left
/// of the authority is not a plain `host[:port]` (a password holding an unescaped
/// `/`, `?`, `#` or a space makes it so), the URL cannot be read reliably, and
/// everything up to the last `@` of the whole text is hidden: too much is hidden
/// rather than a piece of a password shown. Text without `://` is read as an
/// authority (a proxy given as `user:pw@host:port`).
pub fn redact_url(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let at = match authority.rfind('@') {
        Some(at) if is_host_port(&authority[at + 1..]) => Some(at),
        None if is_host_port(authority) => None,
        _ => rest.rfind('@'),
    };
    match at {
        Some(at) => format!("{}***@{}", &url[..start], &rest[at + 1..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for h in [
            "Authorization",
            "COOKIE",
            "Set-Cookie",
            "x-api-key",
            "X-Secret-Thing",
            "x-auth-token",
            "g4f-api-key",
            "Proxy-Authorization",
            "X-Session-Id",
            "X-Credential",
            "X-Amz-Signature",
            "x-password",
            "passphrase",
            "access_token",
            "api_key",
            "X-JWT",
            "x-bearer",
        ] {
            assert!(looks_secret(h), "{h}");
        }
        for plain in [
            "Accept",
            "Content-Type",
            "provider",
            "X-Request-Id",
            "model",
        ] {
            assert!(!looks_secret(plain), "{plain}");
        }
        assert_eq!(format!("{:?}", ApiKey("sk-1".into())), "<redacted>");
    }

    #[test]
    fn host_ports() {
        for ok in [
            "h",
            "h:1",
            "a.b-c_d",
            "127.0.0.1:80",
            "[::1]",
            "[fd00::1]:8080",
        ] {
            assert!(is_host_port(ok), "{ok}");
        }
        for bad in [
            "", ":1", "h:", "h:x", "user:pa", "h x", "[::1", "[zz]", "h:1:2", "a@b",
        ] {
            assert!(!is_host_port(bad), "{bad}");
        }
    }

    #[test]
    fn urls_lose_their_credentials_at_the_last_at() {
        for (url, shown) in [
            (
                "https://user:pa%40ss@h:1/p?q=a@b",
                "https://***@h:1/p?q=a@b",
            ),
            ("http://user:p@ssw0rd@host", "http://***@host"),
            ("http://user:p@ssw0rd@host:8080/x", "http://***@host:8080/x"),
            ("http://h/x@y", "http://h/x@y"),
            ("nonsense", "nonsense"),
            // Unparsable: a password with an unescaped `/`, `?`, `#` or a space.
            ("http://user:pa/ss@host", "http://***@host"),
            ("http://user:pa?ss@host/p", "http://***@host/p"),
            ("http://user:pa#ss@host", "http://***@host"),
            ("http://user:hunter2@host x", "http://***@host x"),
            // An authority alone, as proxies are often given.
            ("user:hunter2@proxy:3128", "***@proxy:3128"),
            (
                "socks5://u:p@ss@127.0.0.1:1080",
                "socks5://***@127.0.0.1:1080",
            ),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }
}
