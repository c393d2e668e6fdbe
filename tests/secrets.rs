//! A marker api key sent through every path must show up nowhere but on the wire:
//! not in ureq's own logs at the most verbose level, error messages, HTTP errors or
//! `Debug` output.

mod support;

use std::sync::Mutex;

use backend_api::{key_placement, Client, Next, Stream, TimeoutKind};
use serde_json::json;
use support::{client, drain, request};

const MARKER: &str = "sk-MARKER-7f3a9c";

/// Captures every log record of every crate, at trace level.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}: {}", r.level(), r.target(), r.args()));
    }
    fn flush(&self) {}
}

static LOGS: Capture = Capture(Mutex::new(Vec::new()));

#[test]
fn the_api_key_never_leaks() {
    log::set_logger(&LOGS).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let mut seen = Vec::new();

    let mut c = client();
    c.add_header("X-Api-Key", MARKER).unwrap();
    c.add_header("Authorization", &format!("Bearer {MARKER}"))
        .unwrap();
    seen.push(format!("{c:?}"));
    // A success, an HTTP error, an in-stream error and a stall cut by the idle timeout.
    c.set_timeout(
        TimeoutKind::Idle,
        Some(std::time::Duration::from_millis(300)),
    );
    for fields in [
        json!({"test_echo": false}),
        json!({"test_status": 401}),
        json!({"provider": "Nope"}),
        json!({"test_fault": "error_chunk"}),
        json!({"test_fault": "stall"}),
        json!({"test_fault": "malformed"}),
    ] {
        let mut r = request(fields);
        r.set_api_key(Some(MARKER), key_placement::BODY | key_placement::BEARER)
            .unwrap();
        seen.push(format!("{r:?}"));
        let s = Stream::open(&c, &r).unwrap();
        let (chunks, end) = drain(&s);
        if let Next::Error(e) = end {
            seen.push(format!("{e} {e:?}"));
        }
        seen.push(format!(
            "{:?}",
            chunks.iter().filter(|c| c.is_fatal()).collect::<Vec<_>>()
        ));
    }
    // Connection errors, and setters refusing a bad value that holds the key.
    let mut dead = Client::new("http://127.0.0.1:9").unwrap();
    dead.set_proxy(None).unwrap();
    let mut r = request(json!({}));
    r.set_api_key(Some(MARKER), key_placement::BEARER).unwrap();
    if let Next::Error(e) = drain(&Stream::open(&dead, &r).unwrap()).1 {
        seen.push(format!("{e:?}"));
    }
    seen.push(format!(
        "{:?}",
        c.add_header("Authorization", &format!("{MARKER}\n"))
            .unwrap_err()
    ));
    seen.push(format!(
        "{:?}",
        r.set_api_key(Some(&format!("{MARKER}\r")), 1).unwrap_err()
    ));
    seen.push(format!(
        "{:?}",
        r.set_field_json("k", &format!("{{{MARKER}")).unwrap_err()
    ));

    let logs = LOGS.0.lock().unwrap();
    assert!(
        logs.iter().any(|l| l.contains("ureq")),
        "the capture saw ureq's logs"
    );
    for text in logs.iter().chain(seen.iter()) {
        assert!(!text.contains(MARKER), "the key leaked: {text}");
    }
}
