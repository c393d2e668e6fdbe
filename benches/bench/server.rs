//! The canned server: streams `bench_chunks` content chunks of `bench_size` bytes
//! in either framing, from a body built once (so the server is never the
//! bottleneck), or paced (`bench_pace_us`), recording when each chunk was written
//! (for the latency measure). The scenario servers of tests/support serve the
//! rest of the bench (the test backend, the TLS server).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::http;

/// What the canned server streams, read from the request body's `bench_*` fields.
struct Plan {
    ndjson: bool,
    chunks: usize,
    size: usize,
    pace: Option<Duration>,
}

/// One content chunk of `size` bytes of text, numbered so latency can be matched.
pub fn chunk_line(ndjson: bool, i: usize, size: usize) -> String {
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
pub fn listen(sent: Option<Arc<Mutex<Vec<Instant>>>>) -> String {
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
pub struct ServerProcess {
    child: Child,
    pub url: String,
}

impl ServerProcess {
    pub fn start() -> ServerProcess {
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
