//! One stream's throughput through `backend_api_next` per framing, against the
//! parse floor and g4f's Python client on the same stream (in this process,
//! from the canned server in a child process).

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use backend_api::chunk::Head;
use backend_api::decoder::{Decoder, Sink};
use serde::Deserialize;
use serde_json::json;

use crate::capi::{drain, fields, Client};
use crate::measure::{cpu_seconds, median};
use crate::report::Report;
use crate::server::chunk_line;

/// Chunks per second and CPU seconds for one stream of `chunks` chunks.
fn throughput(client: &Client, framing: &str, chunks: usize, size: usize) -> (f64, f64) {
    let cpu = cpu_seconds();
    let t = Instant::now();
    let n = drain(client.open(&fields(framing, chunks, size)), |_| {});
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(n, chunks);
    (n as f64 / secs, cpu_seconds() - cpu)
}

/// The parse floor of a body in either framing: its lines split in memory, each
/// JSON object (an NDJSON line, an SSE `data:` line; `event:` and blank lines
/// passed over) validated with its `type` read without building a tree, in one
/// thread. Chunks per second.
fn parse_floor(body: &[u8]) -> f64 {
    #[derive(Deserialize)]
    struct Head<'a> {
        #[serde(rename = "type", borrow)]
        _type: Cow<'a, str>,
    }
    let t = Instant::now();
    let mut n = 0usize;
    for line in body.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let json = match line.strip_prefix(b"data:") {
            Some(data) => data.strip_prefix(b" ").unwrap_or(data),
            None if line.starts_with(b"event:") => continue,
            None => line,
        };
        let h: Head = serde_json::from_slice(json).unwrap();
        std::hint::black_box(&h._type);
        n += 1;
    }
    n as f64 / t.elapsed().as_secs_f64()
}

/// Our decoder alone on the same bytes, in memory, with a sink that only counts
/// (as the stream's worker, it allocates nothing per chunk): lines per second.
fn decoder_alone(body: &[u8]) -> f64 {
    struct Count(usize);
    impl Sink for Count {
        fn chunk(&mut self, json: &str, head: Head) {
            std::hint::black_box((json, head));
            self.0 += 1;
        }
    }
    let t = Instant::now();
    let mut n = Count(0);
    let mut d = Decoder::new(16 << 20, false);
    for piece in body.chunks(64 << 10) {
        d.feed(piece, &mut n).unwrap();
    }
    n.0 as f64 / t.elapsed().as_secs_f64()
}

/// The Python reference client on the same NDJSON stream: (chunks/s, CPU seconds).
pub fn python_client(url: &str, chunks: usize) -> Option<(f64, f64)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cache = std::env::var_os("BACKEND_API_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(&std::env::var("HOME").unwrap()).join(".cache/backend-api"));
    let py = cache.join("venv-g4f-6.7.4/bin/python");
    if !py.exists() {
        eprintln!(
            "!!!! the g4f 6.7.4 venv is missing (scripts/g4f-venvs.sh): no Python comparison"
        );
        return None;
    }
    let req = std::env::temp_dir().join(format!("bench-req-{}.json", std::process::id()));
    let mut body = fields("ndjson", chunks, 4);
    body["model"] = json!("bench");
    body["messages"] = json!([{"role": "user", "content": "go"}]);
    std::fs::write(&req, body.to_string()).unwrap();
    let out = Command::new(py)
        .arg(root.join("tests/interop/reference_client.py"))
        .arg(url)
        .arg(&req)
        .arg("--count-only")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&req);
    let text = String::from_utf8_lossy(&out.stdout);
    let w: Vec<&str> = text.split_whitespace().collect();
    let (count, secs, cpu): (f64, f64, f64) = (
        w.get(1)?.parse().ok()?,
        w.get(3)?.parse().ok()?,
        w.get(5)?.parse().ok()?,
    );
    assert_eq!(count as usize, chunks, "python client: {text}");
    Some((count / secs, cpu))
}

/// The framings compared, in the order each round takes them.
const FRAMINGS: [&str; 2] = ["sse", "ndjson"];

/// Rounds of the comparison with the parse floor: each round measures the floor
/// of each framing's bytes and one stream of each, and the share of the floor is
/// taken within the round (the machine's speed drifts from one to the next).
const ROUNDS: usize = 9;

/// Per framing, in rounds: chunks/s and CPU per million through
/// `backend_api_next`, and the share of the parse floor of the same bytes (each
/// the median over the rounds); then Python on the same NDJSON stream and our
/// decoder alone against the floor.
pub fn run(report: &mut Report, client: &Client, url: &str, n: usize) {
    let bodies: Vec<Vec<u8>> = FRAMINGS
        .iter()
        .map(|f| {
            (0..n)
                .flat_map(|i| chunk_line(*f == "ndjson", i, 4).into_bytes())
                .collect()
        })
        .collect();
    // Warm-up: the canned server builds each body on its first request and keeps
    // it; this process's allocator and the sockets settle over the first streams.
    for framing in FRAMINGS {
        for _ in 0..2 {
            throughput(client, framing, n, 4);
        }
    }
    let mut rounds: [Vec<(f64, f64, f64)>; 2] = Default::default();
    for _ in 0..ROUNDS {
        for (k, framing) in FRAMINGS.iter().enumerate() {
            let floor = parse_floor(&bodies[k]);
            let (rate, cpu) = throughput(client, framing, n, 4);
            rounds[k].push((rate, cpu / n as f64 * 1e6, floor));
        }
    }
    let of = |k: usize, f: fn(&(f64, f64, f64)) -> f64| median(&rounds[k], f).expect("rounds ran");
    for (k, framing) in FRAMINGS.iter().enumerate() {
        let (rate, cpu, floor) = (of(k, |x| x.0), of(k, |x| x.1), of(k, |x| x.2));
        let share = of(k, |x| x.0 / x.2);
        report.set(&format!("chunks_per_s_{framing}"), json!(rate));
        report.set(&format!("cpu_s_per_million_{framing}"), json!(cpu));
        report.set(&format!("parse_floor_per_s_{framing}"), json!(floor));
        report.set(&format!("floor_share_{framing}"), json!(share));
        report.row(
            format!("chunks/s through backend_api_next ({framing}, {n} chunks)"),
            format!("{rate:.0}"),
            "",
            ">= 2,500,000",
            Some(rate >= 2.5e6),
        );
        report.row(
            format!("end to end ({framing}) against the parse floor of its bytes"),
            format!("{share:.2} of floor (median of {ROUNDS} rounds)"),
            format!("floor {floor:.0}/s, ours {rate:.0}/s"),
            ">= 0.7 of floor",
            Some(share >= 0.7),
        );
    }
    let ndjson = FRAMINGS
        .iter()
        .position(|f| *f == "ndjson")
        .expect("a framing");
    let (ndjson_rate, ours_cpu_per_m) = (of(ndjson, |x| x.0), of(ndjson, |x| x.1));
    let python = match std::env::var("BENCH_ONLY").as_deref() {
        Ok("throughput") => None,
        _ => python_client(url, n),
    };
    match python {
        Some((rate, cpu)) => {
            let ratio = ndjson_rate / rate;
            let cpu_per_m = cpu / n as f64 * 1e6;
            report.set("python_chunks_per_s", json!(rate));
            report.set("python_cpu_s_per_million", json!(cpu_per_m));
            report.row(
                "Python BackendApi (g4f 6.7.4), same NDJSON stream",
                format!("{ndjson_rate:.0}/s (x{ratio:.1} faster)"),
                format!("{rate:.0}/s"),
                "ours >= 20x",
                Some(ratio >= 20.0),
            );
            let cpu_ratio = cpu_per_m / ours_cpu_per_m.max(1e-9);
            report.row(
                "CPU s per million chunks (user+sys)",
                format!("{ours_cpu_per_m:.3}"),
                format!("{cpu_per_m:.3} (x{cpu_ratio:.1})"),
                "Python >= 20x ours",
                Some(cpu_ratio >= 20.0),
            );
        }
        None => report.row(
            "Python BackendApi",
            "-",
            "not run (venv missing, or BENCH_ONLY=throughput)",
            ">= 20x",
            None,
        ),
    }
    // Our decoder alone against the floor, on the NDJSON bytes, in turns.
    let body = &bodies[ndjson];
    let shares: Vec<f64> = (0..ROUNDS)
        .map(|_| decoder_alone(body) / parse_floor(body))
        .collect();
    let dec = median(&shares, |x| *x).expect("rounds ran");
    report.set("decoder_alone_floor_share", json!(dec));
    report.row(
        "our decoder alone (ndjson, in memory) against the parse floor",
        format!("{dec:.2} of floor"),
        "",
        "",
        None,
    );
}
