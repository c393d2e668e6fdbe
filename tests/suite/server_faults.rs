//! The fault matrix: each row a hostile server or a failed connection, driven
//! through the C ABI, with the status and message the caller must get.

use backend_api::ffi::{BACKEND_API_KEY_BEARER, BACKEND_API_KEY_BODY};
use backend_api::{Status, TimeoutKind};
use serde_json::json;
use support::cabi::{stream, Call, Outcome};
use support::BACKEND;

struct Row {
    name: &'static str,
    url: String,
    call: Call,
    status: Status,
    /// Must appear in the error message (empty for END).
    message: &'static str,
    /// Content that must arrive before the fault.
    content: &'static str,
}

fn scenario(fields: serde_json::Value) -> Call {
    let mut call = Call::default();
    for (k, v) in fields.as_object().unwrap() {
        call = call.field(k, v.clone());
    }
    call
}

fn with_timeout(mut call: Call, kind: TimeoutKind, ms: i64) -> Call {
    call.timeouts
        .push((backend_api::ffi::backend_api_timeout::from(kind) as u32, ms));
    call
}

fn rows() -> Vec<Row> {
    let b = BACKEND.url.clone();
    let tls = support::tls::start();
    let refused = {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        format!("http://127.0.0.1:{port}")
    };
    let row = |name, url: &str, call, status, message, content| Row {
        name,
        url: url.to_owned(),
        call,
        status,
        message,
        content,
    };
    let mut rows = vec![
        row(
            "connection refused",
            &refused,
            Call::default(),
            Status::Connect,
            "could not connect",
            "",
        ),
        row(
            "name does not resolve",
            "http://no-such-host.invalid",
            Call::default(),
            Status::Connect,
            "could not connect",
            "",
        ),
        row(
            "TLS, verification on, unknown CA",
            &tls,
            Call::default(),
            Status::Tls,
            "TLS error",
            "",
        ),
        row(
            "TLS, custom CA",
            &tls,
            Call {
                ca_file: Some(support::tls::tls_dir().join("ca.pem")),
                ..Call::default()
            },
            Status::End,
            "",
            "secure",
        ),
        row(
            "TLS, verification off",
            &tls,
            Call {
                verify_tls: Some(false),
                ..Call::default()
            },
            Status::End,
            "",
            "secure",
        ),
        row(
            "HTML 500 page",
            &b,
            scenario(json!({"test_status": 500, "test_html": true})),
            Status::Http,
            "<!doctype html>",
            "",
        ),
        row(
            "redirect is not followed",
            &b,
            Call {
                api_key: Some(("sk-x".into(), BACKEND_API_KEY_BODY | BACKEND_API_KEY_BEARER)),
                ..scenario(
                    json!({"test_status": 307, "test_location": "http://127.0.0.2:1/elsewhere"}),
                )
            },
            Status::Http,
            "redirects are not followed",
            "",
        ),
        row(
            "stall after the headers: idle timeout",
            &b,
            with_timeout(
                scenario(json!({"test_chunks": 1, "test_fault": "stall"})),
                TimeoutKind::Idle,
                300,
            ),
            Status::TimedOut,
            "idle timeout",
            "part0 ",
        ),
        row(
            "keep-alive comments do not count as chunks",
            &b,
            with_timeout(
                scenario(json!({"test_chunks": 1, "test_delay_ms": 2000, "test_keepalive_ms": 50})),
                TimeoutKind::Idle,
                300,
            ),
            Status::TimedOut,
            "idle timeout",
            "",
        ),
        row(
            "slow drip that never completes a chunk",
            &b,
            with_timeout(
                scenario(json!({"test_chunks": 1, "test_fault": "drip"})),
                TimeoutKind::Idle,
                300,
            ),
            Status::TimedOut,
            "idle timeout",
            "part0 ",
        ),
        row(
            "cut mid-line",
            &b,
            scenario(json!({"test_chunks": 2, "test_fault": "cut_mid_line"})),
            Status::Io,
            "closed",
            "part0 part1 ",
        ),
        row(
            "cut mid-chunked-body",
            &b,
            scenario(json!({"test_chunks": 2, "test_fault": "cut_mid_chunk"})),
            Status::Io,
            "",
            "part0 part1 ",
        ),
        row(
            "oversized line",
            &b,
            Call {
                max_line: Some(1 << 20),
                ..scenario(json!({"test_chunks": 1, "test_fault": "oversized"}))
            },
            Status::Limit,
            "exceeds the limit of 1048576 bytes",
            "part0 ",
        ),
        row(
            "malformed JSON",
            &b,
            scenario(json!({"test_chunks": 1, "test_fault": "malformed"})),
            Status::Protocol,
            "oops",
            "part0 ",
        ),
        row(
            "invalid UTF-8",
            &b,
            scenario(json!({"test_chunks": 1, "test_fault": "invalid_utf8"})),
            Status::Protocol,
            "invalid UTF-8",
            "part0 ",
        ),
        row(
            "compressed body not asked for",
            &b,
            scenario(json!({"test_fault": "gzip"})),
            Status::Protocol,
            "Content-Encoding \"gzip\"",
            "",
        ),
        row(
            "server that never stops: total timeout",
            &b,
            with_timeout(
                scenario(json!({"test_fault": "endless", "test_delay_ms": 5})),
                TimeoutKind::Total,
                300,
            ),
            Status::TimedOut,
            "total timeout",
            "",
        ),
        row(
            "accepts and never answers: headers timeout",
            &b,
            with_timeout(
                scenario(json!({"test_fault": "no_answer"})),
                TimeoutKind::Headers,
                300,
            ),
            Status::TimedOut,
            "headers timeout",
            "",
        ),
    ];
    for code in [400, 403, 404, 500] {
        rows.push(row(
            "HTTP error with a JSON body",
            &b,
            scenario(json!({"test_status": code})),
            Status::Http,
            "test status",
            "",
        ));
    }
    rows
}

fn check(row: &Row, o: &Outcome) -> Result<(), String> {
    if o.end != row.status {
        return Err(format!(
            "status {:?}, want {:?}: {}",
            o.end, row.status, o.message
        ));
    }
    if !o.message.contains(row.message) {
        return Err(format!("message {:?} lacks {:?}", o.message, row.message));
    }
    if !o.content().starts_with(row.content) {
        return Err(format!(
            "content {:?}, want {:?} first",
            o.content(),
            row.content
        ));
    }
    if row.status == Status::Http && row.message == "test status" {
        let (code, server) = o.http.clone().ok_or("no HTTP details")?;
        if server != Some(format!("test status {code}")) {
            return Err(format!("server message {server:?} for {code}"));
        }
    }
    Ok(())
}

/// The rows that exercise a server (not the connection), against the bundled
/// backend's OpenAI-compatible endpoint (`{base}/v1`, errors in OpenAI's body).
fn openai_rows() -> Vec<Row> {
    rows()
        .into_iter()
        .filter(|r| r.url == BACKEND.url)
        .map(|mut r| {
            r.url = format!("{}/v1", r.url);
            r.call.protocol = Some(backend_api::ffi::backend_api_protocol::Openai as u32);
            r
        })
        .collect()
}

#[test]
fn fault_matrix() {
    run(rows());
}

#[test]
fn fault_matrix_openai() {
    run(openai_rows());
}

fn run(rows: Vec<Row>) {
    // Rows run in parallel: several wait on timeouts.
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = rows
            .iter()
            .map(|r| s.spawn(move || stream(&r.url, &r.call)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut failures = Vec::new();
    for (row, o) in rows.iter().zip(&results) {
        match check(row, o) {
            Ok(()) => eprintln!("ok   {:<45} {:?}: {}", row.name, o.end, o.message),
            Err(e) => failures.push(format!("{}: {e}", row.name)),
        }
    }
    eprintln!("{} fault cases", rows.len());
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A server's text in an HTTP error is untrusted: `backend_api_error_message`
/// carries it bounded and with its control characters escaped (a C program may
/// print it to a terminal), whether it came as g4f's JSON error or as an HTML
/// page, on both protocols; `backend_api_error_server_message` keeps the JSON
/// message exactly as sent.
#[test]
fn server_text_in_an_http_error_is_safe_to_print() {
    // Retitle the window (OSC ... BEL), clear the screen, return to the line's
    // start to fake a prompt, and a C1 CSI.
    let hostile = "\u{1b}]0;owned\u{7}\u{1b}[2J\rfake prompt$ \u{9b}31m";
    let long = format!("{}\u{1b}[2J", "x".repeat(50_000));
    for (base, protocol) in [
        (BACKEND.url.clone(), None),
        (
            format!("{}/v1", BACKEND.url),
            Some(backend_api::ffi::backend_api_protocol::Openai as u32),
        ),
    ] {
        for (text, html) in [(hostile, false), (hostile, true), (long.as_str(), false)] {
            let mut call =
                scenario(json!({"test_status": 500, "test_html": html, "test_error_text": text}));
            call.protocol = protocol;
            let o = stream(&base, &call);
            let case = format!("{base}, html {html}, {} bytes", text.len());
            assert_eq!(o.end, Status::Http, "{case}: {}", o.message);
            assert!(
                !o.message.contains(|c: char| c.is_control()),
                "{case}: a control character in the message {:?}",
                o.message
            );
            assert!(o.message.len() < 4096, "{case}: {} bytes", o.message.len());
            let (code, server) = o.http.expect("HTTP details");
            assert_eq!(code, 500);
            if html {
                assert!(o.message.contains("owned"), "{case}: {:?}", o.message);
                assert_eq!(server, None);
            } else {
                assert_eq!(
                    server.as_deref(),
                    Some(text),
                    "{case}: the raw server message"
                );
            }
            if text == hostile && !html {
                assert!(
                    o.message
                        .contains(r"\x1b]0;owned\x07\x1b[2J\x0dfake prompt$ \u009b31m"),
                    "{case}: {:?}",
                    o.message
                );
            }
        }
    }
}
