//! The assembled answer and follow-up request, statistics, safe
//! retries and log records, against the loopback backend.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use backend_api::{Client, KeyPlacement, LogLevel, Logger, Next, RetryPolicy, Status, Stream};
use serde_json::{json, Value};
use support::{client, content, drain, request};

type Records = Arc<Mutex<Vec<(LogLevel, String)>>>;

fn capture(c: &mut Client, max: LogLevel) -> Records {
    let records: Records = Arc::default();
    let r = records.clone();
    c.set_logger(Logger::new(
        Arc::new(move |l, m| r.lock().unwrap().push((l, m.to_owned()))),
        max,
    ));
    records
}

fn retrying(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base: Duration::from_millis(20),
        cap: Duration::from_millis(200),
    }
}

#[test]
fn the_answer_adds_up_and_the_follow_up_continues_it() {
    let r = request(json!({}));
    let s = Stream::open(&client(), &r).unwrap();
    let (chunks, end) = drain(&s);
    assert!(matches!(end, Next::End));
    let a = s.answer();
    assert_eq!(a.content, content(&chunks));
    assert_eq!(a.finish_reason.as_deref(), Some("stop"));
    assert_eq!(a.usage.as_ref().unwrap()["total_tokens"], 12);
    assert_eq!(
        (a.provider.as_deref(), a.model.as_deref()),
        (Some("TestBackend"), Some("test-model"))
    );

    let next = r.follow_up(&a, Some("and then?"));
    let mut echo = next.clone();
    echo.set_field_json("test_echo", "true").unwrap();
    let (chunks, _) = drain(&Stream::open(&client(), &echo).unwrap());
    let e = chunks
        .iter()
        .find_map(|c| {
            c.text()
                .filter(|t| t.starts_with("ECHO:"))
                .map(|t| t.into_owned())
        })
        .unwrap();
    let body: Value = serde_json::from_str(&e[5..]).unwrap();
    assert_eq!(
        body["body"]["messages"],
        json!([{"role": "user", "content": "hi"}, {"role": "assistant", "content": a.content}, {"role": "user", "content": "and then?"}])
    );
}

#[test]
fn assembling_can_be_turned_off() {
    let mut c = client();
    c.set_assemble(false);
    let s = Stream::open(&c, &request(json!({"test_chunks": 3}))).unwrap();
    let (chunks, _) = drain(&s);
    assert_eq!(content(&chunks), "part0 part1 part2 ");
    assert_eq!(s.answer(), backend_api::Answer::default());
}

#[test]
fn the_answer_is_readable_during_the_stream() {
    let s = Stream::open(
        &client(),
        &request(json!({"test_chunks": 3, "test_fault": "stall"})),
    )
    .unwrap();
    for _ in 0..3 {
        assert!(matches!(
            s.next(Some(Duration::from_secs(10))),
            Next::Chunk(_)
        ));
    }
    assert_eq!(s.answer().content, "part0 part1 ");
}

#[test]
fn stats_count_what_happened() {
    let s = Stream::open(&client(), &request(json!({"test_chunks": 20}))).unwrap();
    let (chunks, _) = drain(&s);
    let st = s.stats();
    assert_eq!(
        (st.chunks, st.delivered, st.retries, st.skipped),
        (chunks.len() as u64, chunks.len() as u64, 0, 0)
    );
    assert!(st.bytes > 20 * 30, "{st:?}");
    assert!(
        0 <= st.headers_us
            && st.headers_us <= st.first_chunk_us
            && st.first_chunk_us <= st.elapsed_us,
        "{st:?}"
    );
    let mut c = client();
    c.set_skip_malformed(true);
    let s = Stream::open(&c, &request(json!({"test_fault": "malformed"}))).unwrap();
    drain(&s);
    assert_eq!(s.stats().skipped, 1);
}

#[test]
fn retries_happen_before_the_answer_only_and_are_logged() {
    let mut c = client();
    c.set_retry(retrying(3));
    let logs = capture(&mut c, LogLevel::Debug);
    let key = format!("retry-{}", std::process::id());
    let s = Stream::open(
        &c,
        &request(json!({"test_fail_key": key, "test_fail_times": 2, "test_chunks": 2})),
    )
    .unwrap();
    let (chunks, end) = drain(&s);
    assert!(matches!(end, Next::End), "{end:?}");
    assert_eq!(content(&chunks), "part0 part1 ");
    assert_eq!(s.stats().retries, 2);
    let warns = logs
        .lock()
        .unwrap()
        .iter()
        .filter(|(l, m)| *l == LogLevel::Warn && m.contains("retrying in"))
        .count();
    assert_eq!(warns, 2);

    // Too many failures: the last one is the error.
    let key = format!("retry-many-{}", std::process::id());
    let s = Stream::open(
        &c,
        &request(json!({"test_fail_key": key, "test_fail_times": 9, "test_fail_status": 429})),
    )
    .unwrap();
    match drain(&s).1 {
        Next::Error(e) => assert_eq!((e.status, e.http_status), (Status::Http, 429)),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.stats().retries, 3);

    // Not retryable: 500, and broken answers once streaming began.
    let key = format!("retry-500-{}", std::process::id());
    let s = Stream::open(
        &c,
        &request(json!({"test_fail_key": key, "test_fail_times": 1, "test_fail_status": 500})),
    )
    .unwrap();
    assert!(matches!(drain(&s).1, Next::Error(e) if e.http_status == 500));
    assert_eq!(s.stats().retries, 0);
    let s = Stream::open(
        &c,
        &request(json!({"test_chunks": 1, "test_fault": "cut_mid_line"})),
    )
    .unwrap();
    assert!(matches!(drain(&s).1, Next::Error(e) if e.status == Status::Io));
    assert_eq!(s.stats().retries, 0);
}

#[test]
fn retry_after_is_honoured_and_capped() {
    let mut c = client();
    c.set_retry(RetryPolicy {
        max_retries: 1,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(600),
    });
    let key = format!("retry-after-{}", std::process::id());
    let t = std::time::Instant::now();
    let s = Stream::open(
        &c,
        &request(json!({"test_fail_key": key, "test_fail_times": 1, "test_retry_after": "30"})),
    )
    .unwrap();
    assert!(matches!(drain(&s).1, Next::End));
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(600),
        "waited {took:?}: Retry-After 30 s capped at 600 ms"
    );
    assert!(took < Duration::from_secs(20), "waited {took:?}");
}

#[test]
fn cancel_interrupts_a_retry_wait() {
    let mut c = client();
    c.set_retry(RetryPolicy {
        max_retries: 5,
        base: Duration::from_secs(60),
        cap: Duration::from_secs(60),
    });
    let key = format!("retry-cancel-{}", std::process::id());
    let s = Stream::open(
        &c,
        &request(json!({"test_fail_key": key, "test_fail_times": 9})),
    )
    .unwrap();
    while s.stats().retries == 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let t = std::time::Instant::now();
    drop(s);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "close waited out the retry"
    );
}

#[test]
fn connect_failures_are_retried() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = Client::new(&format!("http://127.0.0.1:{port}")).unwrap();
    c.set_proxy(None).unwrap();
    c.set_retry(retrying(2));
    let s = Stream::open(&c, &request(json!({}))).unwrap();
    assert!(matches!(drain(&s).1, Next::Error(e) if e.status == Status::Connect));
    assert_eq!(s.stats().retries, 2);
}

#[test]
fn log_records_cover_the_stream_and_hide_secrets() {
    let mut c = client();
    c.add_header("Authorization", "Bearer sk-LOGMARKER")
        .unwrap();
    let logs = capture(&mut c, LogLevel::Trace);
    let mut r = request(json!({"test_chunks": 2}));
    r.set_api_key(Some("sk-LOGMARKER"), KeyPlacement::Body)
        .unwrap();
    drain(&Stream::open(&c, &r).unwrap());
    let logs = logs.lock().unwrap();
    let text: Vec<&str> = logs.iter().map(|(_, m)| m.as_str()).collect();
    assert!(
        text.iter().any(|m| m.starts_with("POST http://127.0.0.1:")),
        "{text:?}"
    );
    assert!(
        text.iter().any(|m| m.contains("response headers after")),
        "{text:?}"
    );
    assert!(
        text.iter().any(|m| m.starts_with("stream ended; 5 chunks")),
        "{text:?}"
    );
    assert!(
        text.iter().any(|m| m.contains("Authorization: <redacted>")),
        "{text:?}"
    );
    assert!(logs.iter().any(|(l, _)| *l == LogLevel::Trace));
    assert!(text.iter().all(|m| !m.contains("LOGMARKER")), "{text:?}");
    // Below the level nothing is built.
    let mut quiet = client();
    let logs = capture(&mut quiet, LogLevel::Warn);
    drain(&Stream::open(&quiet, &request(json!({}))).unwrap());
    assert!(logs.lock().unwrap().is_empty());
}
