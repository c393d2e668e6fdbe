//! A marker api key sent through every path must show up nowhere but on the wire:
//! not in ureq's own logs at the most verbose level, error messages, HTTP errors or
//! `Debug` output.

use std::sync::Mutex;

use backend_api::{Client, KeyPlacement, Next, Stream, TimeoutKind};
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
        r.set_api_key(Some(MARKER), KeyPlacement::Both).unwrap();
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
    r.set_api_key(Some(MARKER), KeyPlacement::Bearer).unwrap();
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
        r.set_api_key(Some(&format!("{MARKER}\r")), KeyPlacement::Body)
            .unwrap_err()
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

/// Passwords of base and proxy URLs: every message about them, through the C API.
#[test]
fn url_passwords_never_reach_messages() {
    use backend_api::ffi::*;
    use support::cabi::{client_new, cs, take_error};
    let mut messages = Vec::new();
    for bad in [
        "http://admin:hunter2@h x",
        "http://user:p@ssw0rd@h x",
        "ftp://admin:hunter2@h",
        "http://admin:hunter2@h:99999",
        "http://admin:hunter2@h/#frag",
        "http://user:pa/ss@h",
    ] {
        match client_new(bad) {
            Ok(c) => {
                messages.push(format!("{bad:?} accepted"));
                // SAFETY: C API calls on objects made here, each freed once, with C strings that
                // outlive each call and out-parameters on this stack.
                unsafe { backend_api_client_free(c) };
            }
            Err((_, m)) => messages.push(m),
        }
    }
    let c = client_new("http://127.0.0.1:9").unwrap();
    // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive each
    // call and out-parameters on this stack.
    unsafe {
        let mut err = std::ptr::null_mut();
        let s = backend_api_client_set_proxy(c, cs("ftp://u:hunter2@p:1").as_ptr(), &mut err);
        assert_ne!(s, backend_api::Status::Ok);
        messages.push(take_error(err).1);
        backend_api_client_free(c);
    }
    // A valid URL whose password holds '@': the connection error says nothing of it.
    let dead = support::cabi::stream("http://user:p@ssw0rd@127.0.0.1:9", &Default::default());
    messages.push(dead.message);
    for m in &messages {
        eprintln!("message: {m}");
    }
    for m in &messages {
        for secret in ["hunter2", "ssw0rd", "pa/ss", "accepted"] {
            assert!(!m.contains(secret), "{secret:?} shown: {m}");
        }
    }
}

/// Header values under names beyond the usual list (`X-Credential`, `X-Signature`)
/// stay out of the debug log.
#[test]
fn secret_looking_headers_stay_out_of_the_debug_log() {
    const VALUE: &str = "sig-MARKER-51c2";
    let call = support::cabi::Call {
        headers: vec![
            ("X-Credential".into(), VALUE.into()),
            ("X-Signature".into(), VALUE.into()),
            ("X-Plain".into(), "shown".into()),
        ],
        log_level: Some(4),
        ..Default::default()
    };
    let out = support::cabi::stream(&support::BACKEND.url, &call);
    assert_eq!(out.end, backend_api::Status::End, "{}", out.message);
    let logs = support::cabi::LOGS.lock().unwrap();
    let headers: Vec<_> = logs.iter().filter(|l| l.contains("X-Plain")).collect();
    eprintln!("logged: {headers:?}");
    assert!(!headers.is_empty(), "the headers were logged: {logs:?}");
    for l in logs.iter() {
        assert!(!l.contains(VALUE), "logged in clear: {l}");
    }
}

/// A body field whose name looks secret: its bad value is not described at all.
#[test]
fn a_secret_fields_bad_value_is_not_described() {
    use backend_api::ffi::*;
    // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive each
    // call and out-parameters on this stack.
    unsafe {
        let req = backend_api_request_new();
        let mut err = std::ptr::null_mut();
        let value = format!("{{\"{MARKER}");
        let s = backend_api_request_set_field_json(
            req,
            support::cabi::cs("session_token").as_ptr(),
            support::cabi::cs(&value).as_ptr(),
            &mut err,
        );
        assert_eq!(s, backend_api::Status::InvalidArgument);
        let (_, m) = support::cabi::take_error(err);
        eprintln!("message: {m}");
        assert!(!m.contains(MARKER) && !m.contains("column"), "{m}");
        backend_api_request_free(req);
    }
}
