//! Which proxy the environment names for a server, read as curl reads it. Pure
//! code: the environment comes in through a lookup function.
//!
//! - `http://` servers: `http_proxy`, in lower case only. Upper-case `HTTP_PROXY`
//!   is never read: under CGI a client's `Proxy:` request header becomes the
//!   `HTTP_PROXY` variable of the server's process ("httpoxy"), which would send
//!   the request, api key included, to a proxy the client chose.
//! - `https://` servers: `https_proxy`, else `HTTPS_PROXY`.
//! - Either, when that variable is not set: `all_proxy`, else `ALL_PROXY`.
//! - `no_proxy`, else `NO_PROXY`: a comma-separated list of host names (each
//!   matching itself and its subdomains; a leading `.` or `*.` is ignored), IP
//!   addresses or CIDR ranges (`10.0.0.0/8`, `fd00::/8`), or `*` for every host.
//!   A listed host is reached directly.
//!
//! A variable that is set but empty counts as set: it names no proxy (and stops
//! the fall-back to `all_proxy`), as in curl.

use std::net::IpAddr;

/// The proxy the environment names: the variable it came from and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvProxy {
    pub var: &'static str,
    pub url: String,
}

/// The proxy for a server reached over `scheme` (`http` or `https`, any case) at
/// `host` (a name, an IPv4 address, or an IPv6 address with or without brackets),
/// with `env` looking variables up. `None`: connect directly.
pub fn proxy_for(
    scheme: &str,
    host: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Option<EnvProxy> {
    let first = |names: &[&'static str]| {
        names
            .iter()
            .find_map(|&var| env(var).map(|url| EnvProxy { var, url }))
    };
    if first(&["no_proxy", "NO_PROXY"]).is_some_and(|n| no_proxy_matches(&n.url, host)) {
        return None;
    }
    let own: &[&'static str] = if scheme.eq_ignore_ascii_case("https") {
        &["https_proxy", "HTTPS_PROXY"]
    } else {
        &["http_proxy"]
    };
    first(own)
        .or_else(|| first(&["all_proxy", "ALL_PROXY"]))
        .filter(|p| !p.url.trim().is_empty())
}

/// Whether the `NO_PROXY` list `list` names `host`.
fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let ip = host.parse::<IpAddr>().ok();
    list.split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            match ip {
                Some(ip) => ip_matches(ip, entry),
                None => {
                    let name = entry.trim_start_matches('*').trim_start_matches('.');
                    let name = name.trim_end_matches('.').to_ascii_lowercase();
                    !name.is_empty()
                        && (host == name
                            || host
                                .strip_suffix(&name)
                                .is_some_and(|rest| rest.ends_with('.')))
                }
            }
        })
}

/// Whether `ip` is the address `entry` names, or lies in its CIDR range.
fn ip_matches(ip: IpAddr, entry: &str) -> bool {
    let entry = entry.trim_start_matches('[').trim_end_matches(']');
    let (addr, bits) = match entry.split_once('/') {
        Some((a, b)) => match b.parse::<u32>() {
            Ok(b) => (a, Some(b)),
            Err(_) => return false,
        },
        None => (entry, None),
    };
    let Ok(net) = addr.parse::<IpAddr>() else {
        return false;
    };
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let bits = bits.unwrap_or(width);
    if bits > width {
        return false;
    }
    let shift = width - bits;
    shift >= 128 || (ip >> shift) == (net >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn url(scheme: &str, host: &str, vars: &[(&str, &str)]) -> Option<String> {
        proxy_for(scheme, host, env(vars)).map(|p| format!("{}={}", p.var, p.url))
    }

    #[test]
    fn upper_case_http_proxy_is_never_read() {
        assert_eq!(url("http", "h", &[("HTTP_PROXY", "http://evil:1")]), None);
        assert_eq!(
            url(
                "http",
                "h",
                &[
                    ("HTTP_PROXY", "http://evil:1"),
                    ("http_proxy", "http://p:2")
                ]
            )
            .as_deref(),
            Some("http_proxy=http://p:2")
        );
        // HTTP_PROXY does not stop the fall-back either.
        assert_eq!(
            url(
                "http",
                "h",
                &[("HTTP_PROXY", "http://evil:1"), ("ALL_PROXY", "http://a:3")]
            )
            .as_deref(),
            Some("ALL_PROXY=http://a:3")
        );
    }

    #[test]
    fn https_reads_both_cases_lower_first_then_all_proxy() {
        let both = [
            ("HTTPS_PROXY", "http://up:1"),
            ("https_proxy", "http://low:2"),
        ];
        assert_eq!(
            url("https", "h", &both).as_deref(),
            Some("https_proxy=http://low:2")
        );
        assert_eq!(
            url("HTTPS", "h", &both[..1]).as_deref(),
            Some("HTTPS_PROXY=http://up:1")
        );
        // http_proxy is for http only.
        assert_eq!(url("https", "h", &[("http_proxy", "http://p:2")]), None);
        let all = [("ALL_PROXY", "http://A:1"), ("all_proxy", "http://a:2")];
        assert_eq!(
            url("https", "h", &all).as_deref(),
            Some("all_proxy=http://a:2")
        );
        assert_eq!(
            url("http", "h", &all[..1]).as_deref(),
            Some("ALL_PROXY=http://A:1")
        );
        // Set but empty: no proxy, and no fall-back to all_proxy.
        assert_eq!(url("http", "h", &[("http_proxy", ""), all[0]]), None);
    }

    #[test]
    fn no_proxy_lists() {
        let p = ("http_proxy", "http://p:1");
        let via = |host: &str, list: &str| url("http", host, &[p, ("no_proxy", list)]).is_some();
        assert!(!via("example.com", "example.com"));
        assert!(!via("api.Example.com", ".example.com"));
        assert!(!via("api.example.com", "*.example.com"));
        assert!(!via("api.example.com", "other, example.com"));
        assert!(via("notexample.com", "example.com"));
        assert!(!via("anything", "*"));
        assert!(!via("127.0.0.1", "localhost,127.0.0.1"));
        assert!(!via("10.1.2.3", "10.0.0.0/8"));
        assert!(via("11.1.2.3", "10.0.0.0/8"));
        assert!(!via("[::1]", "::1"));
        assert!(!via("[fd00::5]", "fd00::/8"));
        assert!(via("[fe00::5]", "fd00::/8"));
        assert!(via("10.1.2.3", "10.0.0.0/99"));
        assert!(via("h", ""));
        // Lower case first, as curl.
        assert!(url("http", "h", &[p, ("NO_PROXY", "h")]).is_none());
        assert!(url("http", "h", &[p, ("no_proxy", "x"), ("NO_PROXY", "h")]).is_some());
    }
}
