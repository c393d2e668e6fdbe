//! Proxies from the environment as curl reads them, through the C API. Its own
//! test binary with one test: it changes the process environment.

use std::time::Duration;

use backend_api::Status;
use support::cabi::{self, Call};
use support::recorder::recorder;

const VARS: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

#[test]
fn proxies_from_the_environment() {
    for v in VARS {
        // SAFETY: this binary's only test (a process of its own for this reason) changes the
        // environment while no other thread reads it: the library reads it on this thread, when a
        // client is made, and the streams before have ended.
        unsafe { std::env::remove_var(v) };
    }
    let server = recorder();
    let proxy = recorder();
    let call = Call {
        env_proxy: true,
        ..Default::default()
    };
    let wait = Duration::from_millis(500);

    // httpoxy: upper-case HTTP_PROXY is never read; the request goes direct.
    // SAFETY: this binary's only test (a process of its own for this reason) changes the
    // environment while no other thread reads it: the library reads it on this thread, when a
    // client is made, and the streams before have ended.
    unsafe { std::env::set_var("HTTP_PROXY", &proxy.url) };
    let out = cabi::stream(&server.url, &call);
    let via_proxy = proxy.heads.recv_timeout(wait).ok();
    eprintln!(
        "HTTP_PROXY set: stream {:?} {:?}; the proxy got {via_proxy:?}",
        out.end, out.message
    );
    assert_eq!(via_proxy, None, "HTTP_PROXY was used");
    assert_eq!(out.end, Status::End, "{}", out.message);
    server.heads.recv_timeout(wait).unwrap();
    // SAFETY: this binary's only test (a process of its own for this reason) changes the
    // environment while no other thread reads it: the library reads it on this thread, when a
    // client is made, and the streams before have ended.
    unsafe { std::env::remove_var("HTTP_PROXY") };

    // Lower-case http_proxy is read, unless no_proxy names the host.
    // SAFETY: this binary's only test (a process of its own for this reason) changes the
    // environment while no other thread reads it: the library reads it on this thread, when a
    // client is made, and the streams before have ended.
    unsafe { std::env::set_var("http_proxy", &proxy.url) };
    let out = cabi::stream(&server.url, &call);
    let head = proxy.heads.recv_timeout(wait).unwrap();
    eprintln!("http_proxy set: the proxy got {:?}", head.lines().next());
    assert!(head.starts_with("CONNECT 127.0.0.1:"), "{head}");
    assert_ne!(out.end, Status::End);
    // SAFETY: this binary's only test (a process of its own for this reason) changes the
    // environment while no other thread reads it: the library reads it on this thread, when a
    // client is made, and the streams before have ended.
    unsafe { std::env::set_var("no_proxy", "localhost, 127.0.0.1") };
    let out = cabi::stream(&server.url, &call);
    assert_eq!(out.end, Status::End, "{}", out.message);
    assert!(proxy.heads.recv_timeout(wait).is_err());
    server.heads.recv_timeout(wait).unwrap();
    // SAFETY: this binary's only test (a process of its own for this reason) changes the
    // environment while no other thread reads it: the library reads it on this thread, when a
    // client is made, and the streams before have ended.
    unsafe { std::env::remove_var("no_proxy") };

    // A proxy variable that is not a proxy URL: an error, never a direct connection.
    // SAFETY: this binary's only test (a process of its own for this reason) changes the
    // environment while no other thread reads it: the library reads it on this thread, when a
    // client is made, and the streams before have ended.
    unsafe { std::env::set_var("http_proxy", "ftp://u:hunter2@proxy:1") };
    let out = cabi::stream(&server.url, &call);
    let direct = server.heads.recv_timeout(wait).ok();
    eprintln!(
        "broken http_proxy: stream {:?} {:?}; the server got {:?}",
        out.end,
        out.message,
        direct.as_deref().and_then(|h| h.lines().next())
    );
    assert_eq!(direct, None, "went direct");
    assert_eq!(out.end, Status::InvalidArgument, "{}", out.message);
    assert!(out.message.contains("$http_proxy"), "{}", out.message);
    assert!(!out.message.contains("hunter2"), "{}", out.message);
    // SAFETY: this binary's only test (a process of its own for this reason) changes the
    // environment while no other thread reads it: the library reads it on this thread, when a
    // client is made, and the streams before have ended.
    unsafe { std::env::remove_var("http_proxy") };
}
