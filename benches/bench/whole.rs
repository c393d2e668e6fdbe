//! Whole-process CPU per million chunks against g4f's Python client: both drain
//! the same NDJSON stream of the test backend (tests/support) in a process of
//! their own (this bench's `drain` mode through the C ABI; the reference client
//! in the g4f 6.7.4 venv), taken in turns, medians of 3. CPU from `wait4`:
//! everything each process spent, start-up included.

use std::path::Path;
use std::process::Command;

use serde_json::json;
use support::backend::Backend;

use crate::capi::{drain, Client};
use crate::measure::{median, run_child, ChildCost};
use crate::report::Report;

/// The `drain URL N FRAMING` mode: N content chunks of the test backend through
/// `backend_api_next`; exits non-zero unless all arrived.
pub fn drain_mode(args: &[String]) {
    let [url, n, framing] = args else {
        panic!("usage: bench drain URL N FRAMING");
    };
    let n: usize = n.parse().unwrap();
    let client = Client::new(url);
    let got = drain(
        client.open(&json!({"test_chunks": n, "test_framing": framing})),
        |_| {},
    );
    // The provider chunk before the content, usage and finish after it.
    std::process::exit(if got == n + 3 { 0 } else { 1 });
}

pub fn run(report: &mut Report, n: usize) {
    let Some(python) = support::process::venv_python("venv-g4f-6.7.4") else {
        eprintln!(
            "!!!! the g4f 6.7.4 venv is missing (scripts/g4f-venvs.sh): no whole-process row"
        );
        return;
    };
    let backend = Backend::start();
    let req = std::env::temp_dir().join(format!("bench-whole-{}.json", std::process::id()));
    let body = json!({"model": "bench", "messages": [{"role": "user", "content": "go"}],
                      "test_framing": "ndjson", "test_chunks": n});
    std::fs::write(&req, body.to_string()).unwrap();
    let ours = |framing: &str| {
        let mut c = Command::new(std::env::current_exe().unwrap());
        c.args(["drain", &backend.url, &n.to_string(), framing]);
        c
    };
    let theirs = || {
        let mut c = Command::new(&python);
        c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/reference_client.py"))
            .arg(&backend.url)
            .arg(&req)
            .arg("--count-only");
        c
    };
    let (mut nd, mut sse, mut py) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        let runs: [(&mut Vec<ChildCost>, Command); 3] = [
            (&mut nd, ours("ndjson")),
            (&mut sse, ours("sse")),
            (&mut py, theirs()),
        ];
        for (into, command) in runs {
            match run_child(command) {
                Some(cost) => into.push(cost),
                None => eprintln!("!!!! a whole-process drain failed"),
            }
        }
    }
    let _ = std::fs::remove_file(&req);
    let per_m = |v: &[ChildCost]| median(v, |r| r.cpu).map(|c| c / n as f64 * 1e6);
    let (Some(nd), Some(sse), Some(py)) = (per_m(&nd), per_m(&sse), per_m(&py)) else {
        return;
    };
    report.set("whole_cpu_s_per_million_ndjson", json!(nd));
    report.set("whole_cpu_s_per_million_sse", json!(sse));
    report.set("whole_python_cpu_s_per_million", json!(py));
    report.row(
        format!("whole-process CPU, {n} NDJSON chunks, test backend"),
        format!("{nd:.3} s/M (SSE {sse:.3})"),
        format!("Python {py:.2} s/M: x{:.1}", py / nd),
        "Python >= 20x ours",
        Some(py / nd >= 20.0),
    );
}
