//! The bindings beside C: each binding's drain program, a child process
//! measured whole (CPU from `wait4`, peak from its own VmHWM).

use std::process::{Command, Stdio};

use serde_json::json;
use support::process;

use crate::measure::{median, run_drain, ChildCost};
use crate::report::{Report, Row};

/// The bindings beside C in one run: each drain program (built by scripts/bench.sh,
/// commands in `BENCH_DRAIN_C`, `_CPP`, `_GO`, `_SWIFT`) drains N small chunks from
/// the release test backend (`BENCH_TEST_BACKEND`) through its binding's idiomatic
/// path; the medians of 3 runs, taken in turns, and each one's ratio to the C loop
/// that reads each chunk's text (the bindings hand out text; the plain C loop is
/// shown too).
pub fn run(report: &mut Report, n: usize) {
    let Ok(backend) = std::env::var("BENCH_TEST_BACKEND") else {
        eprintln!("!!!! BENCH_TEST_BACKEND is not set (scripts/bench.sh sets it): no binding rows");
        return;
    };
    let mut child = Command::new(backend)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the test backend");
    let url = format!("http://127.0.0.1:{}", process::ready_port(&mut child));
    let c = std::env::var("BENCH_DRAIN_C").ok();
    let programs: Vec<(&str, String)> = [
        ("C", c.clone()),
        ("C, reading each text", c.map(|c| format!("{c} --text"))),
        ("C++", std::env::var("BENCH_DRAIN_CPP").ok()),
        ("Go", std::env::var("BENCH_DRAIN_GO").ok()),
        ("Swift", std::env::var("BENCH_DRAIN_SWIFT").ok()),
    ]
    .into_iter()
    .filter_map(|(name, command)| Some((name, command?)))
    .collect();
    let mut runs: Vec<Vec<ChildCost>> = programs.iter().map(|_| Vec::new()).collect();
    for _ in 0..3 {
        for ((name, command), got) in programs.iter().zip(&mut runs) {
            match run_drain(command, &url, n) {
                Some(cost) => got.push(cost),
                None => eprintln!("!!!! the {name} drain program failed: {command}"),
            }
        }
    }
    drop(child.stdin.take());
    let _ = child.wait();
    // The baseline: the C loop that reads each chunk's text, as the bindings do.
    let base = programs
        .iter()
        .position(|p| p.0 == "C, reading each text")
        .map(|i| &runs[i]);
    let (c_cpu, c_mem) = match base {
        Some(v) => (median(v, |r| r.cpu), median(v, |r| r.peak_mib)),
        None => (None, None),
    };
    let mut table = Vec::new();
    for ((name, _), got) in programs.iter().zip(&runs) {
        let (Some(cpu), Some(mem), Some(wall)) = (
            median(got, |r| r.cpu),
            median(got, |r| r.peak_mib),
            median(got, |r| r.wall),
        ) else {
            continue;
        };
        let per_m = cpu / n as f64 * 1e6;
        let cpu_x = c_cpu.map(|c| cpu / c);
        let mem_x = c_mem.map(|c| mem / c);
        table.push(json!({"binding": name, "cpu_s_per_million": per_m, "peak_rss_mib": mem, "wall_s": wall, "cpu_vs_c": cpu_x, "rss_vs_c": mem_x}));
        let gated = matches!(*name, "Go" | "Swift");
        report.rows.push(Row {
            measure: format!("drain {n} chunks through {name}"),
            ours: format!("CPU {per_m:.3} s/M, peak {mem:.1} MiB, wall {wall:.2} s"),
            other: match (cpu_x, mem_x) {
                (Some(a), Some(b)) => format!("x{a:.2} CPU, x{b:.2} memory of C reading text"),
                _ => "no C run to compare".into(),
            },
            target: if gated {
                "<= 1.5x CPU, <= 2x memory of C"
            } else {
                "-"
            }
            .into(),
            met: match (gated, cpu_x, mem_x) {
                (true, Some(a), Some(b)) => Some(a <= 1.5 && b <= 2.0),
                _ => None,
            },
        });
    }
    report.results.insert("bindings".into(), json!(table));
}
