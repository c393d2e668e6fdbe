//! What one unread stream holds, as the process's resident memory shows it: the
//! README promises at most 3 x the line limit plus a small constant, however much
//! the server sends. The server runs in a child process (the test backend
//! example), so only the client's memory is in this process; this file holds one
//! test so no other test's memory mixes in.

use std::process::{Command, Stdio};
use std::time::Duration;

use backend_api::{Client, Next, Request, Stream};
use support::process;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn an_unread_stream_of_long_lines_holds_at_most_three_lines() {
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
