//! Sequential requests over TLS with 20 ms of round trip: a keep-alive TLS server
//! speaking the OpenAI-compatible protocol (the test certificate of tests/tls)
//! behind a relay that holds every byte 10 ms each way, and three clients, each
//! making ten short streams one after the other: ours, the official `openai`
//! package and Go's net/http (benches/sequential). A client that keeps its
//! connection needs one round trip for a later request; one that does not,
//! three (TCP, TLS, the exchange).

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use backend_api::{Client, Next, Protocol, Request, Stream};
use serde_json::json;

use crate::measure::median;
use crate::report::Report;

/// Requests per client.
const REQUESTS: usize = 10;
/// Each way.
const DELAY: Duration = Duration::from_millis(10);

const ANSWER: &str = "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n";

/// The keep-alive TLS server; returns its port.
fn server() -> u16 {
    let config = support::tls::server_config(&support::tls::tls_dir());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for sock in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                let _ = sock.set_nodelay(true);
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = BufReader::new(rustls::StreamOwned::new(conn, sock));
                while let Ok(Some(_)) = support::http::read_request(&mut tls) {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: {}\r\n\r\n",
                        ANSWER.len()
                    );
                    let w = tls.get_mut();
                    if w.write_all(head.as_bytes()).is_err()
                        || w.write_all(ANSWER.as_bytes()).is_err()
                        || w.flush().is_err()
                    {
                        break;
                    }
                }
            });
        }
    });
    port
}

/// Copies `from` to `to`, each piece `DELAY` after it was read.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    let (tx, rx) = std::sync::mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        for (at, piece) in rx {
            if let Some(wait) = (at + DELAY).checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if to.write_all(&piece).is_err() {
                break;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
    let mut buf = vec![0u8; 64 << 10];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
            break;
        }
    }
}

/// The relay in front of `port`; returns its own port.
fn relay(port: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let own = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            std::thread::spawn(move || {
                // TCP's own handshake is a round trip before the first byte can
                // flow (here the kernel completed it at once; what the client
                // sent meanwhile waits in the socket).
                std::thread::sleep(DELAY * 2);
                let Ok(server) = TcpStream::connect(("127.0.0.1", port)) else {
                    return;
                };
                let _ = (client.set_nodelay(true), server.set_nodelay(true));
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || pump(client, server));
                pump(s2, c2);
            });
        }
    });
    own
}

/// Our client: milliseconds per request.
fn ours(base: &str, ca: &str) -> Vec<f64> {
    let mut client = Client::new(base).unwrap();
    client.set_proxy(None).unwrap();
    client.set_ca_file(ca).unwrap();
    client.set_protocol(Protocol::Openai);
    let mut request = Request::new();
    request.set_model("bench");
    request.add_message("user", "hi");
    (0..REQUESTS)
        .map(|_| {
            let t = Instant::now();
            let stream = Stream::open(&client, &request).unwrap();
            loop {
                match stream.next(Some(Duration::from_secs(20))) {
                    Next::Chunk(_) => {}
                    Next::End => break,
                    other => panic!("{other:?}"),
                }
            }
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect()
}

/// Another client's program: milliseconds per request, one a line on its output.
fn program(mut command: Command) -> Option<Vec<f64>> {
    let out = command.output().ok()?;
    if !out.status.success() {
        eprintln!(
            "!!!! {command:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().parse().ok())
        .collect()
}

pub fn run(report: &mut Report) {
    let base = format!("https://127.0.0.1:{}/v1", relay(server()));
    let ca = support::tls::tls_dir().join("ca.pem").display().to_string();
    let mut clients: Vec<(&str, Option<Vec<f64>>)> = vec![("ours", Some(ours(&base, &ca)))];
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/sequential");
    let openai = support::process::venv_python("venv-openai").map(|py| {
        let mut c = Command::new(py);
        c.arg(here.join("openai_client.py"))
            .args([&base, &ca, &REQUESTS.to_string()]);
        c
    });
    let go = std::env::var("BENCH_SEQUENTIAL_GO").ok().map(|program| {
        let mut c = Command::new(program);
        c.args([&base, &ca, &REQUESTS.to_string()]);
        c
    });
    for (name, command) in [("openai (Python)", openai), ("Go net/http", go)] {
        match command {
            Some(c) => clients.push((name, program(c))),
            None => eprintln!("!!!! no {name} client (its venv or toolchain is missing): no row"),
        }
    }
    let mut table = Vec::new();
    for (name, times) in clients {
        let Some(times) = times.filter(|t| t.len() == REQUESTS) else {
            continue;
        };
        let first = times[0];
        let later = median(&times[1..], |t| *t).unwrap();
        table.push(json!({"client": name, "first_ms": first, "later_median_ms": later}));
        report.row(
            format!("{REQUESTS} sequential TLS streams, 20 ms round trip: {name}"),
            format!("first {first:.0} ms, later median {later:.0} ms"),
            format!("{:.1} round trips a later request", later / 20.0),
            if name == "ours" {
                "later ~1 round trip (reuse)"
            } else {
                "-"
            },
            (name == "ours").then_some(later < 40.0),
        );
    }
    report.set("sequential_tls", json!(table));
}
