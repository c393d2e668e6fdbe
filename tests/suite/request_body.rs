//! What goes on the wire from a client's settings, read raw by a loopback server:
//! one `Authorization` header whatever its sources, URL credentials decoded, and
//! base URLs a path cannot be appended to refused.

use std::time::Duration;

use backend_api::ffi::{BACKEND_API_KEY_BEARER, BACKEND_API_KEY_BODY};
use backend_api::Status;
use support::cabi::{self, client_new, Call};
use support::recorder::recorder;

/// The `Authorization` lines of a raw request head.
fn authorization(head: &str) -> Vec<String> {
    head.lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("authorization:"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_callers_authorization_is_the_only_one_sent() {
    let rec = recorder();
    let call = Call {
        headers: vec![("Authorization".into(), "Token explicit".into())],
        api_key: Some((
            "sk-key".into(),
            BACKEND_API_KEY_BODY | BACKEND_API_KEY_BEARER,
        )),
        ..Default::default()
    };
    let out = cabi::stream(&rec.url, &call);
    let head = rec.heads.recv_timeout(Duration::from_secs(10)).unwrap();
    let sent = authorization(&head);
    eprintln!("sent: {sent:?}");
    assert_eq!(out.end, Status::End, "{}", out.message);
    assert_eq!(sent.len(), 1, "{head}");
    assert!(sent[0].ends_with("Token explicit"), "{head}");
}

#[test]
fn url_credentials_are_percent_decoded_for_basic() {
    let rec = recorder();
    let url = rec.url.replace("http://", "http://user:p%40ss@");
    let out = cabi::stream(&url, &Call::default());
    let head = rec.heads.recv_timeout(Duration::from_secs(10)).unwrap();
    let sent = authorization(&head);
    eprintln!("sent: {sent:?} (base64 of \"user:p@ss\" is dXNlcjpwQHNz)");
    assert_eq!(out.end, Status::End, "{}", out.message);
    assert_eq!(sent.len(), 1, "{head}");
    assert_eq!(
        sent[0].split_once(':').map(|(_, v)| v.trim()),
        Some("Basic dXNlcjpwQHNz"),
        "{head}"
    );
}

#[test]
fn a_fragment_or_a_query_in_the_base_url_is_refused() {
    let rec = recorder();
    for (suffix, problem) in [("/#frag", "fragment"), ("/api?x=1", "query")] {
        let url = format!(
            "{}{suffix}",
            rec.url.replace("http://", "http://u:hunter2@")
        );
        match client_new(&url) {
            Ok(c) => {
                // SAFETY: C API calls on objects made here, each freed once, with C strings that
                // outlive each call and out-parameters on this stack.
                unsafe { backend_api::ffi::backend_api_client_free(c) };
                let out = cabi::stream(&url, &Call::default());
                let head = rec.heads.recv_timeout(Duration::from_secs(10)).unwrap();
                let line = head.lines().next().unwrap_or_default().to_owned();
                eprintln!("{suffix}: accepted; sent {line:?}, stream {:?}", out.end);
                panic!("{suffix}: accepted, sent {line:?}");
            }
            Err((status, m)) => {
                eprintln!("{suffix}: {status:?} {m}");
                assert_eq!(status, Status::InvalidArgument);
                assert!(m.contains(problem) && !m.contains("hunter2"), "{m}");
            }
        }
    }
}
