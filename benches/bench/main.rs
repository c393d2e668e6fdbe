//! The benchmark suite. Run `scripts/bench.sh`. It starts its own servers on
//! loopback, measures every target, prints a table with the figures, ratios and
//! targets, and writes benchmark-results/results.json and
//! benchmark-results/results.svg. It reports; it asserts nothing about timings.
//!
//! One module per thing measured: `throughput` (one stream, against the parse
//! floor and Python), `whole` (whole-process CPU against Python), `trust` (CPU
//! per HTTPS stream by trust store), `relay` (sequential TLS requests with 20 ms
//! of round trip, against `openai` and Go), `streams` (latency, open, many streams,
//! chunk sizes, library size), `bindings` (each binding's drain program). The
//! rest serves them: `server` (the canned server), `capi`, `measure`, `report`.

mod bindings;
mod capi;
mod measure;
mod relay;
mod report;
mod server;
mod streams;
mod throughput;
mod trust;
mod whole;

use std::io::{Read, Write};

use capi::Client;
use report::Report;
use server::{listen, ServerProcess};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // The modes the bench runs itself in, as a child process.
    match args.get(1).map(String::as_str) {
        Some("serve") => return serve(),
        Some("drain") => return whole::drain_mode(&args[2..]),
        Some("https") => return trust::https_mode(&args[2..]),
        _ => {}
    }
    let quick = std::env::var("BENCH_QUICK").is_ok();
    let only = std::env::var("BENCH_ONLY").ok();
    let n = if quick { 20_000 } else { 200_000 };
    let many = if quick { 100_000 } else { 1_000_000 };
    let mut report = Report::default();
    match only.as_deref() {
        Some("bindings") => bindings::run(&mut report, many),
        Some("whole") => whole::run(&mut report, many),
        Some("trust") => trust::run(&mut report, quick),
        Some("relay") => relay::run(&mut report),
        Some("throughput") => {
            let server = ServerProcess::start();
            throughput::run(&mut report, &Client::new(&server.url), &server.url, n);
        }
        _ => {
            let server = ServerProcess::start();
            let client = Client::new(&server.url);
            throughput::run(&mut report, &client, &server.url, n);
            whole::run(&mut report, many);
            trust::run(&mut report, quick);
            relay::run(&mut report);
            streams::latency(&mut report, quick);
            streams::open(&mut report, &client, quick);
            streams::scaling(&mut report, &client, n);
            streams::sizes(&mut report, &server.url, n, quick);
            streams::library_size(&mut report);
            bindings::run(&mut report, many);
            return report.finish(quick);
        }
    }
    // One part: printed, not written (results.json holds whole runs).
    report::print_table(&report.rows);
}

/// The `serve` mode: the canned server, until standard input closes.
fn serve() {
    println!("READY {}", listen(None));
    std::io::stdout().flush().unwrap();
    let mut sink = [0u8; 64];
    while matches!(std::io::stdin().read(&mut sink), Ok(n) if n > 0) {}
}
