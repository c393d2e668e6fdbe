//! The engine end to end against the real loopback test backend, through the Rust API.

use std::time::{Duration, Instant};

use backend_api::{KeyPlacement, Media, Next, Status, Stream, TimeoutKind};
use serde_json::{json, Value};
use support::{client, content, drain, request};

fn run(fields: Value) -> (Vec<backend_api::Chunk>, Next) {
    let s = Stream::open(&client(), &request(fields)).unwrap();
    drain(&s)
}

#[test]
fn streams_the_canned_answer() {
    let (chunks, end) = run(json!({}));
    assert!(matches!(end, Next::End), "{end:?}");
    let types: Vec<_> = chunks.iter().map(|c| c.type_().to_owned()).collect();
    assert_eq!(types.first().map(String::as_str), Some("provider"));
    assert_eq!(&types[types.len() - 2..], ["usage", "finish"]);
    assert_eq!(
        content(&chunks),
        "Hello from the bundled offline backend! You said: hi"
    );
}

#[test]
fn all_framings_give_the_same_chunks() {
    let runs: Vec<Vec<String>> = ["sse", "ndjson", "sse-crlf"]
        .iter()
        .map(|f| {
            let (chunks, end) = run(json!({"test_framing": f, "test_chunks": 50}));
            assert!(matches!(end, Next::End), "{f}: {end:?}");
            chunks.iter().map(|c| c.json().to_owned()).collect()
        })
        .collect();
    assert_eq!(runs[0].len(), 53);
    // sse-crlf splits each object over two data lines joined by "\n": compare values.
    let values = |r: &Vec<String>| {
        r.iter()
            .map(|j| serde_json::from_str::<Value>(j).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(runs[0], runs[1]);
    assert_eq!(values(&runs[0]), values(&runs[2]));
}

#[test]
fn the_request_reaches_the_server_as_the_python_client_sends_it() {
    let mut c = client();
    c.add_header("X-Custom", "yes").unwrap();
    let mut r = request(
        json!({"test_echo": true, "provider": "TestBackend", "web_search": false, "conversation": {"TestBackend": {"id": 7}}}),
    );
    r.set_api_key(Some("sk-test"), KeyPlacement::Both).unwrap();
    r.add_header("X-Request-Id", "req-7").unwrap();
    r.add_media(Media::from_bytes(b"\x89PNG\r\n\x1a\n", Some("a.png")).unwrap());
    r.add_media(Media::from_uri("https://example.com/b.jpg", None).unwrap());
    let (chunks, end) = drain(&Stream::open(&c, &r).unwrap());
    assert!(matches!(end, Next::End));
    let echo = chunks
        .iter()
        .find_map(|c| c.text().filter(|t| t.starts_with("ECHO:")))
        .unwrap();
    let echo: Value = serde_json::from_str(&echo[5..]).unwrap();
    let (body, headers) = (&echo["body"], &echo["headers"]);
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["messages"], json!([{"role": "user", "content": "hi"}]));
    assert_eq!(body["api_key"], "sk-test");
    assert_eq!(body["web_search"], false);
    assert_eq!(body["conversation"]["TestBackend"]["id"], 7);
    assert_eq!(
        body["media"],
        json!([
            ["data:image/png;base64,iVBORw0KGgo=", "a.png"],
            ["https://example.com/b.jpg", null]
        ])
    );
    assert_eq!(headers["authorization"], "Bearer sk-test");
    assert_eq!(headers["accept"], "text/event-stream");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["x-custom"], "yes");
    assert_eq!(headers["x-request-id"], "req-7");
    assert_eq!(
        headers["user-agent"],
        format!("backend-api/{}", backend_api::VERSION)
    );
}

#[test]
fn without_a_key_the_body_has_no_api_key() {
    let (chunks, _) = run(json!({"test_echo": true}));
    let echo = chunks
        .iter()
        .find_map(|c| c.text().filter(|t| t.starts_with("ECHO:")))
        .unwrap();
    let echo: Value = serde_json::from_str(&echo[5..]).unwrap();
    assert!(echo["body"].get("api_key").is_none());
    assert!(echo["headers"].get("authorization").is_none());
    assert_eq!(echo["body"]["media"], Value::Null);
}

#[test]
fn in_stream_error_chunks_are_chunks_then_the_stream_ends() {
    let (chunks, end) = run(json!({"test_chunks": 2, "test_fault": "error_chunk"}));
    assert!(matches!(end, Next::End));
    let err = chunks.iter().find(|c| c.is_fatal()).unwrap();
    assert_eq!(err.text().as_deref(), Some("ValueError: test failure"));
    assert_eq!(chunks.last().unwrap().type_(), "log");
}

#[test]
fn malformed_lines_can_be_skipped() {
    let mut c = client();
    c.set_skip_malformed(true);
    let (chunks, end) = drain(
        &Stream::open(
            &c,
            &request(json!({"test_chunks": 2, "test_fault": "malformed"})),
        )
        .unwrap(),
    );
    assert!(matches!(end, Next::End), "{end:?}");
    assert_eq!(chunks.last().unwrap().type_(), "finish");
}

#[test]
fn cancel_wakes_a_blocked_next_and_close_is_prompt_on_a_stalled_server() {
    let s = std::sync::Arc::new(
        Stream::open(
            &client(),
            &request(json!({"test_chunks": 1, "test_fault": "stall"})),
        )
        .unwrap(),
    );
    let (chunks, _) = {
        let mut got = Vec::new();
        while got.len() < 2 {
            match s.next(Some(Duration::from_secs(10))) {
                Next::Chunk(c) => got.push(c),
                other => panic!("{other:?}"),
            }
        }
        (got, ())
    };
    assert_eq!(content(&chunks), "part0 ");
    let s2 = s.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        s2.cancel();
        Instant::now()
    });
    let end = s.next(None);
    let woke = Instant::now();
    let cancelled_at = canceller.join().unwrap();
    assert!(matches!(end, Next::Cancelled), "{end:?}");
    assert!(
        matches!(s.next(Some(Duration::ZERO)), Next::Cancelled),
        "cancel stays set"
    );
    s.cancel();
    eprintln!(
        "next woke {:?} after cancel",
        woke.saturating_duration_since(cancelled_at)
    );

    let stalled = Stream::open(&client(), &request(json!({"test_fault": "stall"}))).unwrap();
    while !matches!(stalled.next(Some(Duration::from_millis(200))), Next::Again) {}
    let t = Instant::now();
    drop(stalled);
    eprintln!("close of a stalled stream took {:?}", t.elapsed());
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "close must not wait out the server"
    );
}

#[test]
fn next_timeouts_zero_and_positive() {
    let s = Stream::open(&client(), &request(json!({"test_fault": "no_answer"}))).unwrap();
    assert!(matches!(s.next(Some(Duration::ZERO)), Next::Again));
    assert!(matches!(
        s.next(Some(Duration::from_millis(50))),
        Next::Again
    ));
}

#[test]
fn paced_chunks_within_the_idle_timeout_are_fine() {
    let mut c = client();
    c.set_timeout(TimeoutKind::Idle, Some(Duration::from_millis(300)));
    let (chunks, end) = drain(
        &Stream::open(
            &c,
            &request(json!({"test_chunks": 3, "test_delay_ms": 100})),
        )
        .unwrap(),
    );
    assert!(matches!(end, Next::End), "{end:?}");
    assert_eq!(content(&chunks), "part0 part1 part2 ");
}

#[test]
fn open_returns_before_the_network_answers() {
    let t = Instant::now();
    let s = Stream::open(&client(), &request(json!({"test_fault": "no_answer"}))).unwrap();
    assert!(t.elapsed() < Duration::from_secs(1));
    drop(s);
}

#[test]
fn model_listings() {
    let all: Value =
        serde_json::from_str(&backend_api::models(&client(), None, None).unwrap()).unwrap();
    assert_eq!(all["TestBackend"][0], "test-model");
    let one: Value =
        serde_json::from_str(&backend_api::models(&client(), Some("TestBackend"), None).unwrap())
            .unwrap();
    assert_eq!(one[0]["model"], "test-model");
    let e = backend_api::models(&client(), Some("Unknown"), None).unwrap_err();
    assert_eq!((e.status, e.http_status), (Status::Http, 404));
    assert_eq!(
        backend_api::models(&client(), Some("../x"), None)
            .unwrap_err()
            .status,
        Status::InvalidArgument
    );
}

#[test]
fn many_streams_at_once() {
    let c = client();
    let streams: Vec<_> = (0..64)
        .map(|i| Stream::open(&c, &request(json!({"test_chunks": i % 7 + 1}))).unwrap())
        .collect();
    for (i, s) in streams.iter().enumerate() {
        let (chunks, end) = drain(s);
        assert!(matches!(end, Next::End));
        assert_eq!(
            chunks.iter().filter(|c| c.type_() == "content").count(),
            i % 7 + 1
        );
    }
}

#[test]
fn next_from_two_threads_is_serialised() {
    let s = std::sync::Arc::new(
        Stream::open(&client(), &request(json!({"test_chunks": 400}))).unwrap(),
    );
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                loop {
                    match s.next(Some(Duration::from_secs(10))) {
                        Next::Chunk(c) => mine.push(c.json().to_owned()),
                        Next::End => return mine,
                        other => panic!("{other:?}"),
                    }
                }
            })
        })
        .collect();
    let mut all: Vec<String> = readers
        .into_iter()
        .flat_map(|r| r.join().unwrap())
        .collect();
    assert_eq!(
        all.len(),
        403,
        "every chunk exactly once: provider, 400 parts, usage, finish"
    );
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 403);
}
