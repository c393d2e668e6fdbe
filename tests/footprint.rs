//! What streams leave behind and what they hold, as /proc/self shows the whole process:
//! thousands of streams opened and closed through the C ABI (finished, cancelled
//! mid-stream, closed while the server stalls) leave no threads, file descriptors or
//! memory behind (the soak), and one unread stream holds at most 3 x the line limit plus
//! a small constant however much the server sends, as the README promises. A binary of
//! its own so that no other test's threads, descriptors or memory mix in; its two tests
//! take one lock, so neither measures while the other runs. Both belong to the slow lane
//! of scripts/test.sh.

use std::process::{Command, Stdio};
use std::ptr;
use std::sync::Mutex;
use std::time::Duration;

use backend_api::ffi::*;
use backend_api::{Client, Next, Request, Status, Stream};
use serde_json::json;
use support::cabi::{cs, request};
use support::process;

/// Held by each test while it measures.
static MEASURING: Mutex<()> = Mutex::new(());

fn count(dir: &str) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// One stream of the given kind: 0 finished, 1 cancelled mid-stream, 2 stalled then closed.
unsafe fn one(client: *const backend_api_client, kind: usize) {
    // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive each
    // call and out-parameters on this stack.
    unsafe {
        let fields = [
            json!({"test_chunks": 20}),
            json!({"test_chunks": 1000, "test_delay_ms": 1}),
            json!({"test_chunks": 2, "test_fault": "stall"}),
        ];
        let req = request("test-model", fields[kind].as_object().unwrap());
        let mut s = ptr::null_mut();
        assert_eq!(
            backend_api_open(client, req, &mut s, ptr::null_mut()),
            Status::Ok
        );
        backend_api_request_free(req);
        let mut n = 0;
        loop {
            let mut chunk = ptr::null_mut();
            let st = backend_api_next(s, 10_000, &mut chunk, ptr::null_mut());
            if st != Status::Ok {
                let want = if kind == 1 {
                    Status::Cancelled
                } else {
                    Status::End
                };
                assert_eq!(st, want, "kind {kind}");
                break;
            }
            backend_api_chunk_free(chunk);
            n += 1;
            if kind == 1 && n == 3 {
                backend_api_cancel(s);
            }
            if kind == 2 && n == 3 {
                break; // provider + 2 parts: the server now stalls with the socket open
            }
            if kind == 1 && n > 3 {
                panic!("chunks after cancel");
            }
        }
        backend_api_close(s);
    }
}

#[test]
fn thousands_of_streams_leave_nothing_behind() {
    let _measuring = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let rounds = std::env::var("BACKEND_API_SOAK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive each
    // call and out-parameters on this stack.
    unsafe {
        let mut client = ptr::null_mut();
        backend_api_client_new(
            cs(&support::BACKEND.url).as_ptr(),
            &mut client,
            ptr::null_mut(),
        );
        backend_api_client_set_proxy(client, ptr::null(), ptr::null_mut());
        // Warm up: the backend's runtime, allocator pools, lazily built state.
        for i in 0..150 {
            one(client, i % 3);
        }
        let (threads, fds, rss) = (count("/proc/self/task"), count("/proc/self/fd"), rss_kib());
        let t = std::time::Instant::now();
        for i in 0..rounds {
            one(client, i % 3);
        }
        let took = t.elapsed();
        // Streams closed a moment ago may still hold a server-side task on the backend
        // (in this process): give its sockets a moment to close.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let (threads2, fds2, rss2) = (count("/proc/self/task"), count("/proc/self/fd"), rss_kib());
        backend_api_client_free(client);
        eprintln!(
            "soak: {rounds} streams in {took:.2?}; threads {threads} -> {threads2}, fds {fds} -> {fds2}, RSS {rss} -> {rss2} KiB"
        );
        assert!(threads2 <= threads, "threads grew: {threads} -> {threads2}");
        assert!(fds2 <= fds + 2, "file descriptors grew: {fds} -> {fds2}");
        assert!(
            rss2 < rss + 16 * 1024,
            "resident memory grew by {} KiB",
            rss2.saturating_sub(rss)
        );
    }
}

#[test]
fn an_unread_stream_of_long_lines_holds_at_most_three_lines() {
    let _measuring = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    const LINE_LIMIT: usize = 8 << 20;
    const LINE: usize = LINE_LIMIT - (512 << 10);
    const LINES: u64 = 6;
    let exe = std::env::current_exe().unwrap();
    let backend = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/test_backend");
    let mut child = Command::new(&backend)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e} (cargo test builds it)", backend.display()));
    let port = process::ready_port(&mut child);

    for framing in ["ndjson", "sse"] {
        let mut c = Client::new(&format!("http://127.0.0.1:{port}")).unwrap();
        c.set_proxy(None).unwrap();
        c.set_max_line(LINE_LIMIT).unwrap();
        let mut r = Request::new();
        r.add_message("user", "hi");
        for (k, v) in [
            ("test_chunks", LINES.to_string()),
            ("test_part_bytes", LINE.to_string()),
            ("test_framing", format!("{framing:?}")),
        ] {
            r.set_field_json(k, &v).unwrap();
        }
        let before = rss_kib();
        let s = Stream::open(&c, &r).unwrap();
        // Take the first chunk (the provider's) only, then wait until the stream's
        // thread stops reading: two lines are in and no byte came for three seconds (the debug-built server is slow to write them).
        assert!(matches!(
            s.next(Some(Duration::from_secs(30))),
            Next::Chunk(_)
        ));
        let mut last = u64::MAX;
        loop {
            std::thread::sleep(Duration::from_millis(3000));
            let st = s.stats();
            if st.bytes == last && st.bytes >= 2 * LINE as u64 {
                break;
            }
            last = st.bytes;
        }
        let grown_mib = (rss_kib().saturating_sub(before)) as f64 / 1024.0;
        let bound_mib = 3.0 * LINE_LIMIT as f64 / (1 << 20) as f64 + 4.0;
        println!(
            "{framing}: unread stream of {LINES} lines of {:.1} MiB: RSS grew {grown_mib:.1} MiB (bound {bound_mib:.0} MiB), {} bytes read of {}",
            LINE as f64 / (1 << 20) as f64,
            s.stats().bytes,
            LINES as usize * LINE
        );
        assert!(grown_mib <= bound_mib, "{framing}: {grown_mib:.1} MiB");
        // Nothing is lost: the whole answer still arrives.
        let mut content = 0;
        loop {
            match s.next(Some(Duration::from_secs(30))) {
                Next::Chunk(ch) => content += usize::from(ch.type_() == "content"),
                Next::End => break,
                other => panic!("{framing}: {other:?}"),
            }
        }
        assert_eq!(content, LINES as usize, "{framing}");
    }
    drop(child.stdin.take());
    let _ = child.wait();
}
