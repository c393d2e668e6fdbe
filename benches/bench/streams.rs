//! Streams as the caller meets them: the latency a chunk adds, how long opening
//! takes, how the cost grows with the number of streams at once and with the
//! size of chunks, and the library's size.

use std::path::Path;
use std::process::Command;
use std::ptr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backend_api::ffi::backend_api_status as Status;
use backend_api::ffi::*;
use serde_json::json;

use crate::capi::{drain, fields, Client};
use crate::measure::{percentile, rss_mib};
use crate::report::{Report, Row};
use crate::server::listen;

/// Added latency per chunk, paced at 1,000 chunks/s (in-process server).
pub fn latency(report: &mut Report, quick: bool) {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let lat_client = Client::new(&listen(Some(sent.clone())));
    let paced = if quick { 500 } else { 3000 };
    let mut received = Vec::with_capacity(paced);
    let s = lat_client.open(&json!({"bench_framing": "sse", "bench_chunks": paced, "bench_size": 8, "bench_pace_us": 1000}));
    drain(s, |_| received.push(Instant::now()));
    let sent = sent.lock().unwrap();
    let mut lat: Vec<f64> = sent
        .iter()
        .zip(&received)
        .map(|(s, r)| r.duration_since(*s).as_secs_f64() * 1e6)
        .collect();
    lat.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    report.results.insert("latency_us_p50".into(), json!(p50));
    report.results.insert("latency_us_p99".into(), json!(p99));
    report.rows.push(Row {
        measure: format!("added latency per chunk at 1,000/s ({paced} chunks)"),
        ours: format!("p50 {p50:.0} us, p99 {p99:.0} us"),
        other: String::new(),
        target: "p99 <= 100 us".into(),
        met: Some(p99 <= 100.0),
    });
}

/// `backend_api_open` returning.
pub fn open(report: &mut Report, client: &Client, quick: bool) {
    let mut opens = Vec::new();
    for _ in 0..if quick { 200 } else { 1000 } {
        let t = Instant::now();
        let s = client.open(&fields("sse", 0, 4));
        opens.push(t.elapsed().as_secs_f64() * 1e6);
        // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive
        // each call and out-parameters on this stack.
        unsafe { backend_api_close(s) };
    }
    opens.sort_by(f64::total_cmp);
    let open_med = percentile(&opens, 0.5);
    report
        .results
        .insert("open_us_median".into(), json!(open_med));
    report.rows.push(Row {
        measure: "backend_api_open returning".into(),
        ours: format!(
            "median {open_med:.1} us, p99 {:.1} us",
            percentile(&opens, 0.99)
        ),
        other: String::new(),
        target: "median <= 50 us".into(),
        met: Some(open_med <= 50.0),
    });
}

/// How the cost grows with the number of streams at once: resident memory and
/// aggregate chunks/s.
pub fn scaling(report: &mut Report, client: &Client, n: usize) {
    // How the cost grows with the number of streams. First resident memory with all
    // of them open and delivering (paced, as real answers), as the peak above what
    // the process held before the first of these runs (freed memory is reused by the
    // next, larger run); then aggregate chunks/s, unpaced.
    let mut memory = Vec::new();
    let base = rss_mib();
    for &k in &[1usize, 10, 100, 1000] {
        let (complete, peak) = concurrent(client, k, 200, Some(2000));
        let added = peak - base;
        memory.push(added);
        if k == 1000 {
            report
                .results
                .insert("thousand_streams_rss_added_mib".into(), json!(added));
            report.rows.push(Row {
                measure: "1,000 streams at once, all delivering".into(),
                ours: format!("{complete} of 1000 complete; RSS +{added:.1} MiB"),
                other: String::new(),
                target: "all complete; <= 100 MB added".into(),
                met: Some(complete == 1000 && added * 1.048576 <= 100.0),
            });
        }
    }
    let mut by_streams = Vec::new();
    for (&k, added) in [1usize, 10, 100, 1000].iter().zip(memory) {
        let per = (n * 2 / k).clamp(200, n);
        let t = Instant::now();
        let (complete, _) = concurrent(client, k, per, None);
        let rate = (complete * per) as f64 / t.elapsed().as_secs_f64();
        by_streams.push(json!({"streams": k, "chunks_per_s": rate, "rss_added_mib": added}));
    }
    report
        .results
        .insert("by_streams".into(), json!(by_streams));
}

/// How the cost grows with the chunk size.
pub fn sizes(report: &mut Report, url: &str, n: usize, quick: bool) {
    // Chunk size sweep (unpaced): chunks/s, MB/s and memory. Without the assembled
    // answer, which holds all the text (256 MiB per size here): the memory measured
    // is the transport's own.
    let sweep_client = Client::new(url);
    // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive each
    // call and out-parameters on this stack.
    unsafe { backend_api_client_set_assemble(sweep_client.0, false, ptr::null_mut()) };
    let mut by_size = Vec::new();
    for &size in &[10usize, 100, 1024, 10 << 10, 100 << 10, 1 << 20] {
        let count = ((256usize << 20) / size).clamp(100, n);
        let count = if quick { count / 10 } else { count }.max(20);
        let base = rss_mib();
        let mut peak = base;
        let mut seen = 0u64;
        let t = Instant::now();
        let got = drain(sweep_client.open(&fields("sse", count, size)), |_| {
            seen += 1;
            if seen % 256 == 0 {
                peak = peak.max(rss_mib());
            }
        });
        let rate = got as f64 / t.elapsed().as_secs_f64();
        let added = peak - base;
        by_size.push(json!({"size": size, "chunks_per_s": rate, "mb_per_s": rate * size as f64 / 1e6, "rss_added_mib": added}));
    }
    report.results.insert("by_size".into(), json!(by_size));
}

/// Stripped shared library size.
pub fn library_size(report: &mut Report) {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/libbackend_api.so");
    let stripped = std::env::temp_dir().join("libbackend_api.stripped.so");
    let size = Command::new("strip")
        .arg("-o")
        .arg(&stripped)
        .arg(&lib)
        .status()
        .ok()
        .filter(|s| s.success())
        .and_then(|_| std::fs::metadata(&stripped).ok())
        .map(|m| m.len() as f64 / 1048576.0);
    if let Some(mib) = size {
        report.results.insert("stripped_so_mib".into(), json!(mib));
    }
    report.rows.push(Row {
        measure: "stripped libbackend_api.so".into(),
        ours: size.map_or("not built".into(), |m| format!("{m:.2} MiB")),
        other: String::new(),
        target: "<= 3 MB".into(),
        met: size.map(|m| m * 1.048576 <= 3.0),
    });
}

/// Opens `k` streams of `per` chunks (paced every `pace_us` when given) and drains
/// them all from one thread with `next(0)`; returns how many completed and the peak
/// resident memory meanwhile (MiB).
fn concurrent(client: &Client, k: usize, per: usize, pace_us: Option<u64>) -> (usize, f64) {
    let mut f = json!({"bench_framing": "sse", "bench_chunks": per, "bench_size": 16});
    if let Some(p) = pace_us {
        f["bench_pace_us"] = json!(p);
    }
    let mut open: Vec<_> = (0..k).map(|_| (client.open(&f), 0usize)).collect();
    let (mut peak, mut complete, mut polls) = (rss_mib(), 0, 0u64);
    while !open.is_empty() {
        // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive
        // each call and out-parameters on this stack.
        open.retain_mut(|(s, got)| unsafe {
            loop {
                let mut c = ptr::null_mut();
                let mut err = ptr::null_mut();
                match backend_api_next(*s, 0, &mut c, &mut err) {
                    Status::Ok => {
                        backend_api_chunk_free(c);
                        *got += 1;
                    }
                    Status::Again => return true,
                    Status::End => {
                        complete += usize::from(*got == per);
                        backend_api_close(*s);
                        return false;
                    }
                    // A failed stream is not complete; the row says how many were.
                    other => {
                        eprintln!(
                            "!!!! a concurrent stream failed: {other:?}: {:?}",
                            std::ffi::CStr::from_ptr(backend_api_error_message(err))
                        );
                        backend_api_error_free(err);
                        backend_api_close(*s);
                        return false;
                    }
                }
            }
        });
        polls += 1;
        if polls % 16 == 0 {
            peak = peak.max(rss_mib());
        }
        if pace_us.is_some() {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    (complete, peak.max(rss_mib()))
}
