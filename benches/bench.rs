//! The benchmark suite (issue: speed and memory). Run `scripts/bench.sh`. It starts
//! its own canned servers on loopback, measures every target, prints a table with
//! the figures, ratios and targets, and writes benchmark-results/results.json and
//! benchmark-results/results.svg. It reports; it asserts nothing about timings.

use std::borrow::Cow;
use std::ffi::CString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::ptr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backend_api::ffi::backend_api_status as Status;
use backend_api::ffi::*;
use serde::Deserialize;
use serde_json::{json, Value};
use support::{cabi, http, process};

// ------------------------------------------------------------ canned server

/// What the canned server streams, read from the request body's `bench_*` fields.
struct Plan {
    ndjson: bool,
    chunks: usize,
    size: usize,
    pace: Option<Duration>,
}

/// One content chunk of `size` bytes of text, numbered so latency can be matched.
fn chunk_line(ndjson: bool, i: usize, size: usize) -> String {
    let mut text = format!("{i} ");
    while text.len() < size {
        text.push('x');
    }
    let json = format!("{{\"type\": \"content\", \"content\": \"{text}\"}}");
    if ndjson {
        format!("{json}\n")
    } else {
        format!("event: content\ndata: {json}\n\n")
    }
}

fn write_chunk(w: &mut impl Write, data: &[u8]) -> std::io::Result<()> {
    write!(w, "{:x}\r\n", data.len())?;
    w.write_all(data)?;
    w.write_all(b"\r\n")
}

/// The whole chunked body of an unpaced plan, built once and kept, so the server
/// only copies bytes to the socket and is not the bottleneck.
fn prebuilt(plan: &Plan) -> Arc<Vec<u8>> {
    type Key = (bool, usize, usize);
    static CACHE: Mutex<Vec<(Key, Arc<Vec<u8>>)>> = Mutex::new(Vec::new());
    let key = (plan.ndjson, plan.chunks, plan.size);
    let mut cache = CACHE.lock().unwrap();
    if let Some((_, body)) = cache.iter().find(|(k, _)| *k == key) {
        return body.clone();
    }
    let mut body = Vec::new();
    let mut piece = Vec::with_capacity(256 << 10);
    for i in 0..plan.chunks {
        piece.extend_from_slice(chunk_line(plan.ndjson, i, plan.size).as_bytes());
        if piece.len() >= 128 << 10 || i + 1 == plan.chunks {
            write_chunk(&mut body, &piece).unwrap();
            piece.clear();
        }
    }
    let body = Arc::new(body);
    cache.push((key, body.clone()));
    body
}

/// Serves one request. `sent` records when each paced chunk was written.
fn serve_one(sock: TcpStream, sent: Option<Arc<Mutex<Vec<Instant>>>>) -> std::io::Result<()> {
    sock.set_nodelay(true)?;
    let Some(body) = http::read_request(&mut BufReader::new(sock.try_clone()?))? else {
        return Ok(());
    };
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let plan = Plan {
        ndjson: v["bench_framing"] == "ndjson",
        chunks: v["bench_chunks"].as_u64().unwrap_or(0) as usize,
        size: v["bench_size"].as_u64().unwrap_or(4) as usize,
        pace: v["bench_pace_us"].as_u64().map(Duration::from_micros),
    };
    let mut w = std::io::BufWriter::with_capacity(256 << 10, sock);
    w.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")?;
    match plan.pace {
        Some(pace) => {
            w.flush()?;
            let start = Instant::now();
            for i in 0..plan.chunks {
                let due = start + pace * i as u32;
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let line = chunk_line(plan.ndjson, i, plan.size);
                if let Some(s) = &sent {
                    s.lock().unwrap().push(Instant::now());
                }
                write_chunk(&mut w, line.as_bytes())?;
                w.flush()?;
            }
        }
        None => w.write_all(&prebuilt(&plan))?,
    }
    w.write_all(b"0\r\n\r\n")?;
    w.flush()
}

/// Starts a canned server on a free loopback port; returns its URL.
fn listen(sent: Option<Arc<Mutex<Vec<Instant>>>>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for sock in l.incoming() {
            let sock = match sock {
                Ok(sock) => sock,
                Err(e) => {
                    eprintln!("canned server: accept: {e}");
                    continue;
                }
            };
            let sent = sent.clone();
            let spawned = std::thread::Builder::new()
                .name("canned-server".into())
                .stack_size(64 << 10)
                .spawn(move || {
                    if let Err(e) = serve_one(sock, sent) {
                        eprintln!("canned server: {e}");
                    }
                });
            if let Err(e) = spawned {
                eprintln!("canned server: cannot start a thread: {e}");
            }
        }
    });
    url
}

/// The canned server in a child process, so the client's CPU time is its own.
struct ServerProcess {
    child: Child,
    url: String,
}

impl ServerProcess {
    fn start() -> ServerProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        ServerProcess {
            url: line.trim().strip_prefix("READY ").unwrap().to_owned(),
            child,
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------ measuring

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0 // USER_HZ
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    kib / 1024.0
}

fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

struct Client(*mut backend_api_client);
// SAFETY: the header's thread rules: a client may be used (opened from) on any thread.
unsafe impl Send for Client {}
// SAFETY: the header's thread rules: streams may be opened from one client on several threads at
// once.
unsafe impl Sync for Client {}

impl Client {
    fn new(url: &str) -> Client {
        let mut c = ptr::null_mut();
        // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive
        // each call and out-parameters on this stack.
        unsafe {
            assert_eq!(
                backend_api_client_new(cs(url).as_ptr(), &mut c, ptr::null_mut()),
                Status::Ok
            );
            backend_api_client_set_proxy(c, ptr::null(), ptr::null_mut());
        }
        Client(c)
    }

    fn open(&self, fields: &Value) -> *mut backend_api_stream {
        // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive
        // each call and out-parameters on this stack.
        unsafe {
            let req = cabi::request("bench", fields.as_object().unwrap());
            let mut s = ptr::null_mut();
            assert_eq!(
                backend_api_open(self.0, req, &mut s, ptr::null_mut()),
                Status::Ok
            );
            backend_api_request_free(req);
            s
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive
        // each call and out-parameters on this stack.
        unsafe { backend_api_client_free(self.0) }
    }
}

/// Drains a stream through `backend_api_next`, freeing each chunk; returns the count.
fn drain(s: *mut backend_api_stream, mut each: impl FnMut(*mut backend_api_chunk)) -> usize {
    let mut n = 0;
    // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive each
    // call and out-parameters on this stack.
    unsafe {
        loop {
            let mut c = ptr::null_mut();
            match backend_api_next(s, -1, &mut c, ptr::null_mut()) {
                Status::Ok => {
                    each(c);
                    backend_api_chunk_free(c);
                    n += 1;
                }
                Status::End => break,
                other => panic!("stream ended with {other:?}"),
            }
        }
        backend_api_close(s);
    }
    n
}

fn fields(framing: &str, chunks: usize, size: usize) -> Value {
    json!({"bench_framing": framing, "bench_chunks": chunks, "bench_size": size})
}

/// Chunks per second and CPU seconds for one stream of `chunks` chunks.
fn throughput(client: &Client, framing: &str, chunks: usize, size: usize) -> (f64, f64) {
    let cpu = cpu_seconds();
    let t = Instant::now();
    let n = drain(client.open(&fields(framing, chunks, size)), |_| {});
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(n, chunks);
    (n as f64 / secs, cpu_seconds() - cpu)
}

fn best_of<T: Copy>(runs: usize, mut f: impl FnMut() -> (f64, T)) -> (f64, T) {
    (0..runs)
        .map(|_| f())
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap()
}

/// The parse floor: lines split in memory, each validated as JSON with its `type`
/// read without building a tree, in one thread. Lines per second.
fn parse_floor(body: &[u8]) -> f64 {
    #[derive(Deserialize)]
    struct Head<'a> {
        #[serde(rename = "type", borrow)]
        _type: Cow<'a, str>,
    }
    let t = Instant::now();
    let mut n = 0usize;
    for line in body.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let h: Head = serde_json::from_slice(line).unwrap();
        std::hint::black_box(&h._type);
        n += 1;
    }
    n as f64 / t.elapsed().as_secs_f64()
}

/// Our decoder alone on the same bytes, in memory: lines per second.
fn decoder_alone(body: &[u8]) -> f64 {
    let t = Instant::now();
    let mut n = 0usize;
    let mut d = backend_api::decoder::Decoder::new(16 << 20, false);
    for piece in body.chunks(64 << 10) {
        d.feed(piece, &mut |c| {
            std::hint::black_box(&c);
            n += 1
        })
        .unwrap();
    }
    n as f64 / t.elapsed().as_secs_f64()
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
                    other => panic!(
                        "{other:?}: {:?}",
                        std::ffi::CStr::from_ptr(backend_api_error_message(err))
                    ),
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

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The Python reference client on the same NDJSON stream: (chunks/s, CPU seconds).
fn python_client(url: &str, chunks: usize) -> Option<(f64, f64)> {
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

// ------------------------------------------------------------ report

struct Row {
    measure: String,
    ours: String,
    other: String,
    target: String,
    met: Option<bool>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve") {
        println!("READY {}", listen(None));
        std::io::stdout().flush().unwrap();
        let mut sink = [0u8; 64];
        while matches!(std::io::stdin().read(&mut sink), Ok(n) if n > 0) {}
        return;
    }
    let quick = std::env::var("BENCH_QUICK").is_ok();
    let n = if quick { 20_000 } else { 200_000 };
    let server = ServerProcess::start();
    let client = Client::new(&server.url);
    let mut rows = Vec::new();
    let mut results = serde_json::Map::new();

    // Throughput and CPU per framing.
    throughput(&client, "sse", n / 10, 4); // warm-up
    let mut ours_cpu_per_m = 0.0;
    let mut ndjson_rate = 0.0;
    for framing in ["sse", "ndjson"] {
        let (rate, _) = best_of(3, || throughput(&client, framing, n, 4));
        // CPU time is read in 10 ms ticks: measure it over ten streams.
        let cpu: f64 = (0..10)
            .map(|_| throughput(&client, framing, n, 4).1)
            .sum::<f64>()
            / 10.0;
        results.insert(format!("chunks_per_s_{framing}"), json!(rate));
        results.insert(
            format!("cpu_s_per_million_{framing}"),
            json!(cpu / n as f64 * 1e6),
        );
        if framing == "ndjson" {
            ours_cpu_per_m = cpu / n as f64 * 1e6;
            ndjson_rate = rate;
        }
        rows.push(Row {
            measure: format!("chunks/s through backend_api_next ({framing}, {n} chunks)"),
            ours: format!("{:.0}", rate),
            other: String::new(),
            target: ">= 2,500,000".into(),
            met: Some(rate >= 2.5e6),
        });
    }

    if std::env::var("BENCH_ONLY").as_deref() == Ok("throughput") {
        print_table(&rows); // for profiling: perf record -g target/release/deps/bench-*
        return;
    }
    if std::env::var("BENCH_ONLY").as_deref() == Ok("bindings") {
        let mut rows = Vec::new();
        bindings(
            if quick { 100_000 } else { 1_000_000 },
            &mut rows,
            &mut results,
        );
        print_table(&rows);
        return;
    }

    // The Python reference client on the same NDJSON stream.
    match python_client(&server.url, n) {
        Some((rate, cpu)) => {
            let ratio = ndjson_rate / rate;
            let cpu_per_m = cpu / n as f64 * 1e6;
            results.insert("python_chunks_per_s".into(), json!(rate));
            results.insert("python_cpu_s_per_million".into(), json!(cpu_per_m));
            rows.push(Row {
                measure: "Python BackendApi (g4f 6.7.4), same NDJSON stream".into(),
                ours: format!("{:.0}/s (x{ratio:.1} faster)", ndjson_rate),
                other: format!("{rate:.0}/s"),
                target: "ours >= 20x".into(),
                met: Some(ratio >= 20.0),
            });
            let cpu_ratio = cpu_per_m / ours_cpu_per_m.max(1e-9);
            rows.push(Row {
                measure: "CPU s per million chunks (user+sys)".into(),
                ours: format!("{ours_cpu_per_m:.3}"),
                other: format!("{cpu_per_m:.3} (x{cpu_ratio:.1})"),
                target: "Python >= 20x ours".into(),
                met: Some(cpu_ratio >= 20.0),
            });
        }
        None => rows.push(Row {
            measure: "Python BackendApi".into(),
            ours: "-".into(),
            other: "not run (venv missing)".into(),
            target: ">= 20x".into(),
            met: None,
        }),
    }

    // Parse floor vs our decoder and the whole pipeline.
    let body: Vec<u8> = (0..n)
        .flat_map(|i| chunk_line(true, i, 4).into_bytes())
        .collect();
    let floor = best_of(3, || (parse_floor(&body), ())).0;
    let dec = best_of(3, || (decoder_alone(&body), ())).0;
    results.insert("parse_floor_lines_per_s".into(), json!(floor));
    results.insert("decoder_alone_lines_per_s".into(), json!(dec));
    rows.push(Row {
        measure: "parse floor (split + validate + type, in memory)".into(),
        ours: format!(
            "{:.0} lines/s end to end ({:.2} of floor)",
            ndjson_rate,
            ndjson_rate / floor
        ),
        other: format!("floor {floor:.0}/s; our decoder alone {dec:.0}/s"),
        target: ">= 1/3 of floor".into(),
        met: Some(ndjson_rate >= floor / 3.0),
    });

    // Added latency per chunk, paced at 1,000 chunks/s (in-process server).
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
    results.insert("latency_us_p50".into(), json!(p50));
    results.insert("latency_us_p99".into(), json!(p99));
    rows.push(Row {
        measure: format!("added latency per chunk at 1,000/s ({paced} chunks)"),
        ours: format!("p50 {p50:.0} us, p99 {p99:.0} us"),
        other: String::new(),
        target: "p99 <= 100 us".into(),
        met: Some(p99 <= 100.0),
    });

    // backend_api_open returning.
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
    results.insert("open_us_median".into(), json!(open_med));
    rows.push(Row {
        measure: "backend_api_open returning".into(),
        ours: format!(
            "median {open_med:.1} us, p99 {:.1} us",
            percentile(&opens, 0.99)
        ),
        other: String::new(),
        target: "median <= 50 us".into(),
        met: Some(open_med <= 50.0),
    });

    // How the cost grows with the number of streams. First resident memory with all
    // of them open and delivering (paced, as real answers), as the peak above what
    // the process held before the first of these runs (freed memory is reused by the
    // next, larger run); then aggregate chunks/s, unpaced.
    let mut memory = Vec::new();
    let base = rss_mib();
    for &k in &[1usize, 10, 100, 1000] {
        let (complete, peak) = concurrent(&client, k, 200, Some(2000));
        let added = peak - base;
        memory.push(added);
        if k == 1000 {
            results.insert("thousand_streams_rss_added_mib".into(), json!(added));
            rows.push(Row {
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
        let (complete, _) = concurrent(&client, k, per, None);
        let rate = (complete * per) as f64 / t.elapsed().as_secs_f64();
        by_streams.push(json!({"streams": k, "chunks_per_s": rate, "rss_added_mib": added}));
    }
    results.insert("by_streams".into(), json!(by_streams));

    // Chunk size sweep (unpaced): chunks/s, MB/s and memory. Without the assembled
    // answer, which holds all the text (256 MiB per size here): the memory measured
    // is the transport's own.
    let sweep_client = Client::new(&server.url);
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
    results.insert("by_size".into(), json!(by_size));

    // Stripped shared library size.
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
        results.insert("stripped_so_mib".into(), json!(mib));
    }
    rows.push(Row {
        measure: "stripped libbackend_api.so".into(),
        ours: size.map_or("not built".into(), |m| format!("{m:.2} MiB")),
        other: String::new(),
        target: "<= 3 MB".into(),
        met: size.map(|m| m * 1.048576 <= 3.0),
    });

    bindings(
        if quick { 100_000 } else { 1_000_000 },
        &mut rows,
        &mut results,
    );

    print_table(&rows);
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("benchmark-results");
    std::fs::create_dir_all(&out).unwrap();
    results.insert("quick".into(), json!(quick));
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(&Value::Object(results.clone())).unwrap(),
    )
    .unwrap();
    std::fs::write(out.join("results.svg"), svg(&results)).unwrap();
    println!("\nwrote benchmark-results/results.json and benchmark-results/results.svg");
}

/// One drain program's run: wall seconds, CPU seconds (`wait4`), peak RSS in MiB (VmHWM).
struct ChildCost {
    wall: f64,
    cpu: f64,
    peak_mib: f64,
}

/// Runs `command` (a drain program and its leading arguments) with URL and N and
/// measures the child itself; `None` when it failed.
fn run_drain(command: &str, url: &str, n: usize) -> Option<ChildCost> {
    let mut words = command.split_whitespace();
    let t = Instant::now();
    let child = Command::new(words.next()?)
        .args(words)
        .arg(url)
        .arg(n.to_string())
        .stdout(Stdio::null())
        .spawn()
        .ok()?;
    // The peak is the child's own VmHWM, read while it runs: its ru_maxrss would
    // include this process's, inherited at spawn (the kernel keeps the larger).
    let hwm = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0.0f64;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid one (plain integers).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = loop {
        // SAFETY: wait4 reaps our own child, writing to two locals of this frame.
        let pid = unsafe { libc::wait4(child.id() as i32, &mut status, libc::WNOHANG, &mut usage) };
        if pid != 0 {
            break pid;
        }
        if let Some(kib) = std::fs::read_to_string(&hwm).ok().and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("VmHWM:"))?
                .split_whitespace()
                .nth(1)?
                .parse::<f64>()
                .ok()
        }) {
            peak_kib = peak_kib.max(kib);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = t.elapsed().as_secs_f64();
    let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (pid > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0).then(|| ChildCost {
        wall,
        cpu: secs(usage.ru_utime) + secs(usage.ru_stime),
        peak_mib: peak_kib / 1024.0,
    })
}

/// The bindings beside C in one run: each drain program (built by scripts/bench.sh,
/// commands in `BENCH_DRAIN_C`, `_CPP`, `_GO`, `_SWIFT`) drains N small chunks from
/// the release test backend (`BENCH_TEST_BACKEND`) through its binding's idiomatic
/// path; the medians of 3 runs, taken in turns, and each one's ratio to the C loop
/// that reads each chunk's text (the bindings hand out text; the plain C loop is
/// shown too).
fn bindings(n: usize, rows: &mut Vec<Row>, results: &mut serde_json::Map<String, Value>) {
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
    let median = |v: &[ChildCost], f: fn(&ChildCost) -> f64| {
        let mut x: Vec<f64> = v.iter().map(f).collect();
        x.sort_by(f64::total_cmp);
        x.get(x.len() / 2).copied()
    };
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
        rows.push(Row {
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
    results.insert("bindings".into(), json!(table));
}

fn print_table(rows: &[Row]) {
    println!(
        "\n{:<58} | {:<44} | {:<44} | {:<30} | met",
        "measure", "ours", "comparison", "target"
    );
    println!("{}", "-".repeat(190));
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        println!(
            "{:<58} | {:<44} | {:<44} | {:<30} | {met}",
            r.measure, r.ours, r.other, r.target
        );
    }
}

/// Four small log-scale line charts: throughput and memory against chunk size and
/// against the number of concurrent streams.
fn svg(results: &serde_json::Map<String, Value>) -> String {
    let series = |key: &str, x: &str, y: &str| -> Vec<(f64, f64)> {
        results[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[x].as_f64().unwrap(), p[y].as_f64().unwrap().max(0.01)))
            .collect()
    };
    let panels = [
        (
            "chunks/s vs chunk size (bytes)",
            series("by_size", "size", "chunks_per_s"),
        ),
        (
            "RSS added (MiB) vs chunk size (bytes)",
            series("by_size", "size", "rss_added_mib"),
        ),
        (
            "aggregate chunks/s vs concurrent streams (unpaced)",
            series("by_streams", "streams", "chunks_per_s"),
        ),
        (
            "RSS added (MiB), streams open and delivering",
            series("by_streams", "streams", "rss_added_mib"),
        ),
    ];
    let (w, h) = (420.0, 260.0);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        w * 2.0,
        h * 2.0
    );
    for (i, (title, pts)) in panels.iter().enumerate() {
        let (ox, oy) = ((i % 2) as f64 * w, (i / 2) as f64 * h);
        let (l, r, t, b) = (ox + 60.0, ox + w - 45.0, oy + 30.0, oy + h - 40.0);
        let lx: Vec<f64> = pts.iter().map(|p| p.0.log10()).collect();
        let ly: Vec<f64> = pts.iter().map(|p| p.1.log10()).collect();
        let (x0, x1) = (
            lx.iter().cloned().fold(f64::MAX, f64::min),
            lx.iter().cloned().fold(f64::MIN, f64::max),
        );
        let (y0, y1) = (
            ly.iter().cloned().fold(f64::MAX, f64::min).floor(),
            ly.iter()
                .cloned()
                .fold(f64::MIN, f64::max)
                .ceil()
                .max(ly[0].floor() + 1.0),
        );
        let px = |v: f64| l + (v - x0) / (x1 - x0).max(1e-9) * (r - l);
        let py = |v: f64| b - (v - y0) / (y1 - y0).max(1e-9) * (b - t);
        s += &format!(
            "<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{title}</text>\n",
            l,
            oy + 18.0
        );
        s += &format!(
            "<polyline fill=\"none\" stroke=\"#999\" points=\"{l},{t} {l},{b} {r},{b}\"/>\n"
        );
        for d in (y0 as i32)..=(y1 as i32) {
            s += &format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">1e{d}</text>\n",
                l - 4.0,
                py(d as f64) + 4.0
            );
        }
        let line: Vec<String> = lx
            .iter()
            .zip(&ly)
            .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
            .collect();
        s += &format!(
            "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"{}\"/>\n",
            line.join(" ")
        );
        for ((x, y), p) in lx.iter().zip(&ly).zip(pts) {
            s += &format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#1f77b4\"/>\n",
                px(*x),
                py(*y)
            );
            s += &format!(
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                px(*x),
                b + 14.0,
                p.0
            );
        }
    }
    s + "</svg>\n"
}
