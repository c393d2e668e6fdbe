//! A keep-alive HTTP/1.1 server (plain or TLS) that counts the connections it
//! accepts, the requests it reads and the TLS sessions resumed, and answers
//! each request as a plan says: for the tests of connection reuse.

use std::io::{BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How the server answers one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// A complete two-chunk answer (`Content-Length`), the connection kept.
    Answer,
    /// An error status with a JSON body, the connection kept.
    Status(u16),
    /// The head and one chunk of a body that never ends; waits for the client to close.
    Stall,
    /// A complete 1 MiB answer of many chunks.
    Long,
    /// Closes the connection without a byte of answer (a stale keep-alive connection).
    Drop,
    /// A model listing (JSON), the connection kept.
    Models,
    /// An OpenAI-compatible answer ending in `[DONE]`, chunked, the chunked
    /// body's end 20 ms after it; the connection kept.
    Done,
}

/// The counts of a running server.
#[derive(Debug, Default)]
pub struct Counts {
    pub connections: AtomicUsize,
    pub requests: AtomicUsize,
    pub resumed: AtomicUsize,
    /// Connections that ended (the client closed them, or the plan did).
    pub closed: AtomicUsize,
}

/// A running server: its URL (`http://` or `https://127.0.0.1:PORT`) and counts.
pub struct Server {
    pub url: String,
    pub counts: Arc<Counts>,
}

impl Server {
    pub fn connections(&self) -> usize {
        self.counts.connections.load(Ordering::SeqCst)
    }
    pub fn requests(&self) -> usize {
        self.counts.requests.load(Ordering::SeqCst)
    }
    pub fn resumed(&self) -> usize {
        self.counts.resumed.load(Ordering::SeqCst)
    }
    /// Waits (up to 20 s, a hang guard) until `n` connections have ended; whether they had.
    pub fn wait_closed(&self, n: usize) -> bool {
        let end = std::time::Instant::now() + Duration::from_secs(20);
        while self.counts.closed.load(Ordering::SeqCst) < n {
            if std::time::Instant::now() > end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        true
    }
}

/// The body of a complete answer in the backend protocol.
pub const ANSWER: &str = "data: {\"type\":\"content\",\"content\":\"a\"}\n\ndata: {\"type\":\"content\",\"content\":\"b\"}\n\n";

/// Starts a server; `plan` gets each request's number (from 0, in arrival
/// order); `idle_close` closes a connection idle that long after an answer.
pub fn start(
    tls: bool,
    idle_close: Option<Duration>,
    plan: impl Fn(usize) -> Reply + Send + Sync + 'static,
) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let scheme = if tls { "https" } else { "http" };
    let url = format!(
        "{scheme}://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let counts = Arc::new(Counts::default());
    let config = tls.then(|| crate::tls::server_config(&crate::tls::tls_dir()));
    let plan = Arc::new(plan);
    let c = counts.clone();
    std::thread::spawn(move || {
        for sock in listener.incoming().flatten() {
            c.connections.fetch_add(1, Ordering::SeqCst);
            let (c, plan, config) = (c.clone(), plan.clone(), config.clone());
            std::thread::spawn(move || {
                let _ = sock.set_read_timeout(idle_close);
                /// Counts the connection's end however `serve` returns.
                struct Closed<'a>(&'a Counts);
                impl Drop for Closed<'_> {
                    fn drop(&mut self) {
                        self.0.closed.fetch_add(1, Ordering::SeqCst);
                    }
                }
                let _closed = Closed(&c);
                match config {
                    None => serve(BufReader::new(sock), &c, &*plan),
                    Some(config) => {
                        let mut conn = rustls::ServerConnection::new(config).unwrap();
                        let mut sock = sock;
                        while conn.is_handshaking() {
                            if conn.complete_io(&mut sock).is_err() {
                                return;
                            }
                        }
                        if conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed) {
                            c.resumed.fetch_add(1, Ordering::SeqCst);
                        }
                        serve(
                            BufReader::new(rustls::StreamOwned::new(conn, sock)),
                            &c,
                            &*plan,
                        )
                    }
                }
            });
        }
    });
    Server { url, counts }
}

fn serve<S: Read + Write>(mut r: BufReader<S>, c: &Counts, plan: &dyn Fn(usize) -> Reply) {
    while let Ok(Some(_)) = crate::http::read_request(&mut r) {
        let n = c.requests.fetch_add(1, Ordering::SeqCst);
        let w = r.get_mut();
        let ok = match plan(n) {
            Reply::Answer => answer(w, 200, "text/event-stream", ANSWER.as_bytes()),
            Reply::Status(code) => answer(
                w,
                code,
                "application/json",
                br#"{"error":{"message":"refused"}}"#,
            ),
            Reply::Long => {
                let line = format!(
                    "data: {{\"type\":\"content\",\"content\":\"{}\"}}\n\n",
                    "z".repeat(1000)
                );
                answer(w, 200, "text/event-stream", line.repeat(1 << 10).as_bytes())
            }
            Reply::Stall => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 100000\r\n\r\n";
                let _ = w.write_all(head.as_bytes());
                let _ = w.write_all(ANSWER.as_bytes());
                let _ = w.flush();
                // Until the client closes (a read of 0 or an error).
                let _ = r.read(&mut [0u8; 1]);
                false
            }
            Reply::Drop => false,
            Reply::Models => answer(w, 200, "application/json", br#"{"P":["m"]}"#),
            Reply::Done => done(w),
        };
        if !ok {
            return;
        }
    }
}

fn done(w: &mut impl Write) -> bool {
    let events = "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n";
    let head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
    let chunk = format!("{:x}\r\n{events}\r\n", events.len());
    if w.write_all(head.as_bytes()).is_err()
        || w.write_all(chunk.as_bytes()).is_err()
        || w.flush().is_err()
    {
        return false;
    }
    std::thread::sleep(Duration::from_millis(20));
    w.write_all(b"0\r\n\r\n").is_ok() && w.flush().is_ok()
}

fn answer(w: &mut impl Write, status: u16, kind: &str, body: &[u8]) -> bool {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    w.write_all(head.as_bytes()).is_ok() && w.write_all(body).is_ok() && w.flush().is_ok()
}

/// Drains a stream of a keep-alive server's: its content and whether it reused a
/// connection; panics unless it ended.
pub fn stream_once(client: &backend_api::Client) -> (String, bool) {
    let s = backend_api::Stream::open(client, &crate::request(serde_json::json!({}))).unwrap();
    let (chunks, end) = crate::drain(&s);
    assert!(matches!(end, backend_api::Next::End), "{end:?}");
    // The worker keeps the connection once it read the body's end, as it ends.
    wait_ended(&s);
    (crate::content(&chunks), s.stats().reused_connection)
}

/// Waits until the stream's thread has finished.
pub fn wait_ended(s: &backend_api::Stream) {
    while !s.stats().ended {
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Which proxy [`proxy`] starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proxy {
    /// An HTTP proxy (CONNECT).
    Http,
    /// A SOCKS5 proxy without authentication.
    Socks5,
}

/// A proxy that relays to whatever target it is asked for, counting the
/// connections clients make to it; its URL and counts.
pub fn proxy(kind: Proxy) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let scheme = match kind {
        Proxy::Http => "http",
        Proxy::Socks5 => "socks5",
    };
    let url = format!(
        "{scheme}://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let counts = Arc::new(Counts::default());
    let c = counts.clone();
    std::thread::spawn(move || {
        for sock in listener.incoming().flatten() {
            c.connections.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                if let Some(upstream) = open_tunnel(kind, &sock) {
                    relay(sock, upstream);
                }
            });
        }
    });
    Server { url, counts }
}

/// The proxy's handshake with a client: the target's connection.
fn open_tunnel(kind: Proxy, sock: &std::net::TcpStream) -> Option<std::net::TcpStream> {
    let mut s = sock;
    let target = match kind {
        Proxy::Http => {
            let mut head = Vec::new();
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                s.read_exact(&mut b).ok()?;
                head.push(b[0]);
            }
            let line = String::from_utf8_lossy(&head).lines().next()?.to_owned();
            line.strip_prefix("CONNECT ")?.split(' ').next()?.to_owned()
        }
        Proxy::Socks5 => {
            let mut b = [0u8; 262];
            s.read_exact(&mut b[..2]).ok()?;
            let n = b[1] as usize;
            s.read_exact(&mut b[..n]).ok()?;
            s.write_all(&[5, 0]).ok()?;
            s.read_exact(&mut b[..4]).ok()?;
            let host = match b[3] {
                1 => {
                    s.read_exact(&mut b[..4]).ok()?;
                    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
                }
                3 => {
                    s.read_exact(&mut b[..1]).ok()?;
                    let n = b[0] as usize;
                    s.read_exact(&mut b[..n]).ok()?;
                    String::from_utf8_lossy(&b[..n]).into_owned()
                }
                _ => return None,
            };
            s.read_exact(&mut b[..2]).ok()?;
            format!("{host}:{}", u16::from_be_bytes([b[0], b[1]]))
        }
    };
    let upstream = std::net::TcpStream::connect(target).ok()?;
    let reply: &[u8] = match kind {
        Proxy::Http => b"HTTP/1.1 200 Connection established\r\n\r\n",
        Proxy::Socks5 => &[5, 0, 0, 1, 127, 0, 0, 1, 0, 0],
    };
    s.write_all(reply).ok()?;
    Some(upstream)
}

/// Copies both ways until either side closes.
fn relay(a: std::net::TcpStream, b: std::net::TcpStream) {
    let (mut a2, mut b2) = (a.try_clone().unwrap(), b.try_clone().unwrap());
    let (mut a, mut b) = (a, b);
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut a2, &mut b2);
        let _ = b2.shutdown(std::net::Shutdown::Both);
    });
    let _ = std::io::copy(&mut b, &mut a);
    let _ = a.shutdown(std::net::Shutdown::Both);
    let _ = up.join();
}
