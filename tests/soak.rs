//! Soak: thousands of streams opened and closed through the C ABI (finished,
//! cancelled mid-stream, closed while the server stalls) leave no threads, file
//! descriptors or memory behind, as read from /proc/self.

use std::ptr;

use backend_api::ffi::*;
use backend_api::Status;
use serde_json::json;
use support::cabi::{cs, request};

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
