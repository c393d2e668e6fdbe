//! Connections kept per client and reused: a later request of the
//! client goes over the connection an earlier one left open, also over TLS and
//! through proxies; never after an error status, a cancel, a timeout or a body
//! left unread; a connection the server closed meanwhile is replaced without a
//! failure; the idle bounds hold. Against the keep-alive server of
//! `support::keepalive`, which counts the connections it accepts.

use std::time::Duration;

use backend_api::{Client, Next, Status, Stream, TimeoutKind};
use support::keepalive::{start, stream_once, wait_ended, Reply};

/// A keep-alive server that answers every request but request `at` (counted
/// from 0), which gets `odd`.
fn answers_but(tls: bool, at: usize, odd: Reply) -> support::keepalive::Server {
    start(
        tls,
        None,
        move |n| if n == at { odd } else { Reply::Answer },
    )
}

fn client(url: &str) -> Client {
    let mut c = Client::new(url).unwrap();
    c.set_proxy(None).unwrap();
    c.set_ca_file(support::tls::tls_dir().join("ca.pem").to_str().unwrap())
        .unwrap();
    c
}

#[test]
fn a_second_stream_reuses_the_connection_of_the_first() {
    for tls in [false, true] {
        let server = start(tls, None, |_| Reply::Answer);
        let c = client(&server.url);
        assert_eq!(stream_once(&c), ("ab".into(), false), "tls {tls}");
        // A clone of the client shares its connections.
        assert_eq!(stream_once(&c.clone()), ("ab".into(), true), "tls {tls}");
        assert_eq!(stream_once(&c), ("ab".into(), true), "tls {tls}");
        assert_eq!(
            (server.connections(), server.requests()),
            (1, 3),
            "tls {tls}"
        );
    }
}

#[test]
fn an_answer_ended_by_done_keeps_its_connection_also_when_closed_at_once() {
    let server = start(false, None, |_| Reply::Done);
    let mut c = client(&server.url);
    c.set_protocol(backend_api::Protocol::Openai);
    for i in 0..3 {
        let s = Stream::open(&c, &support::request(serde_json::json!({}))).unwrap();
        let (chunks, end) = support::drain(&s);
        assert!(matches!(end, Next::End), "{end:?}");
        assert_eq!(support::content(&chunks), "hi");
        assert_eq!(s.stats().reused_connection, i > 0);
        // Closed at once at the end: the connection was kept before the end came.
    }
    assert_eq!((server.connections(), server.requests()), (1, 3));
}

#[test]
fn model_listings_reuse_too() {
    let server = answers_but(false, 1, Reply::Models);
    let c = client(&server.url);
    stream_once(&c);
    assert!(backend_api::models(&c, None, None)
        .unwrap()
        .contains("\"P\""));
    assert!(stream_once(&c).1);
    assert_eq!(server.connections(), 1);
}

/// A server whose first request gets a 500, the others an answer, and a client
/// whose first stream has met that 500 (its connection then closed).
fn after_an_error_status(tls: bool) -> (support::keepalive::Server, Client) {
    let server = answers_but(tls, 0, Reply::Status(500));
    let c = client(&server.url);
    let s = Stream::open(&c, &support::request(serde_json::json!({}))).unwrap();
    let (_, end) = support::drain(&s);
    assert!(
        matches!(end, Next::Error(ref e) if e.http_status == 500),
        "{end:?}"
    );
    wait_ended(&s);
    (server, c)
}

#[test]
fn no_reuse_after_an_error_status() {
    let (server, c) = after_an_error_status(false);
    assert!(!stream_once(&c).1);
    assert_eq!(server.connections(), 2);
}

#[test]
fn no_reuse_after_a_cancel_a_timeout_or_an_unread_body() {
    for how in ["cancel", "timeout", "unread"] {
        let second = if how == "unread" {
            Reply::Long
        } else {
            Reply::Stall
        };
        let server = answers_but(false, 1, second);
        let mut c = client(&server.url);
        stream_once(&c);
        if how == "timeout" {
            c.set_timeout(TimeoutKind::Idle, Some(Duration::from_millis(200)));
        }
        let s = Stream::open(&c, &support::request(serde_json::json!({}))).unwrap();
        assert!(matches!(
            s.next(Some(Duration::from_secs(20))),
            Next::Chunk(_)
        ));
        match how {
            "cancel" => s.cancel(),
            "timeout" => {
                let (_, end) = support::drain(&s);
                assert!(
                    matches!(end, Next::Error(ref e) if e.status == Status::TimedOut),
                    "{end:?}"
                );
            }
            _ => {}
        }
        assert!(
            s.stats().reused_connection,
            "{how}: the stalled request reused the first's"
        );
        drop(s);
        assert!(!stream_once(&c).1, "{how}");
        assert_eq!(server.connections(), 2, "{how}");
    }
}

#[test]
fn a_connection_the_server_closed_is_replaced_without_a_failure() {
    // Closed while idle (seen before the request goes) and closed as the request
    // arrives (the request is sent once more on a new connection, not a retry).
    let idle = start(false, Some(Duration::from_millis(100)), |_| Reply::Answer);
    let c = client(&idle.url);
    stream_once(&c);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(stream_once(&c), ("ab".into(), false));
    assert_eq!(idle.connections(), 2);

    let racing = answers_but(false, 1, Reply::Drop);
    let c = client(&racing.url);
    stream_once(&c);
    let s = Stream::open(&c, &support::request(serde_json::json!({}))).unwrap();
    let (chunks, end) = support::drain(&s);
    assert!(matches!(end, Next::End), "{end:?}");
    assert_eq!(support::content(&chunks), "ab");
    assert_eq!((s.stats().retries, s.stats().reused_connection), (0, false));
    assert_eq!((racing.connections(), racing.requests()), (2, 3));
}

#[test]
fn the_idle_bounds_hold() {
    let server = start(false, None, |_| Reply::Answer);
    let mut off = client(&server.url);
    off.set_keep_alive(0, Some(Duration::from_secs(4)));
    stream_once(&off);
    assert!(!stream_once(&off).1);
    assert_eq!(server.connections(), 2);

    let mut short = client(&server.url);
    short.set_keep_alive(4, Some(Duration::from_millis(100)));
    stream_once(&short);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!stream_once(&short).1, "kept past its idle time");
    assert!(stream_once(&short).1);
    assert_eq!(server.connections(), 4);
}

#[test]
fn concurrent_streams_on_one_client_each_get_a_connection_then_share_them() {
    let server = start(false, None, |n| {
        if n < 4 {
            Reply::Stall
        } else {
            Reply::Answer
        }
    });
    let c = client(&server.url);
    let stalled: Vec<Stream> = (0..4)
        .map(|_| Stream::open(&c, &support::request(serde_json::json!({}))).unwrap())
        .collect();
    for s in &stalled {
        assert!(matches!(
            s.next(Some(Duration::from_secs(20))),
            Next::Chunk(_)
        ));
    }
    assert_eq!(server.connections(), 4);
    drop(stalled);
    let done: Vec<_> = (0..4)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || stream_once(&c))
        })
        .collect();
    for d in done {
        assert_eq!(d.join().unwrap().0, "ab");
    }
    let after = server.connections();
    assert!((5..=8).contains(&after), "{after}");
    for _ in 0..3 {
        assert!(stream_once(&c).1);
    }
    assert_eq!(server.connections(), after);
}

#[test]
fn a_new_tls_connection_resumes_the_session() {
    let (server, c) = after_an_error_status(true);
    stream_once(&c);
    assert_eq!((server.connections(), server.resumed()), (2, 1));
}

#[test]
fn a_new_proxy_or_tls_setting_starts_afresh() {
    let server = start(false, None, |_| Reply::Answer);
    let mut c = client(&server.url);
    stream_once(&c);
    c.set_verify_tls(false);
    assert!(!stream_once(&c).1);
    c.set_proxy(None).unwrap();
    assert!(!stream_once(&c).1);
    assert!(stream_once(&c).1);
    assert_eq!(server.connections(), 3);
}

#[test]
fn through_a_proxy_connections_are_kept_per_proxy() {
    use support::keepalive::{proxy, Proxy};
    for tls in [false, true] {
        let server = start(tls, None, |_| Reply::Answer);
        for kind in [Proxy::Http, Proxy::Socks5] {
            let (first, second) = (proxy(kind), proxy(kind));
            let mut c = client(&server.url);
            c.set_proxy(Some(&first.url)).unwrap();
            assert!(!stream_once(&c).1);
            assert!(stream_once(&c).1, "{kind:?} tls {tls}");
            // Another proxy: none of the first proxy's connections.
            c.set_proxy(Some(&second.url)).unwrap();
            assert!(!stream_once(&c).1);
            assert!(stream_once(&c).1);
            assert_eq!((first.connections(), second.connections()), (1, 1));
        }
        assert_eq!(server.connections(), 4, "tls {tls}");
    }
}
