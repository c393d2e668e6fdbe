//! A loopback HTTP server that records the raw head of each request: for tests of
//! what goes on the wire.

use std::io::{BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc::{channel, Receiver};

use super::http::read_request_with_head;

/// A loopback HTTP server that hands over the raw head of every request it gets
/// and answers each with one content chunk, `ok`.
pub struct Recorder {
    pub url: String,
    pub heads: Receiver<String>,
}

/// Starts a [`Recorder`]; its thread lives as long as the test process.
pub fn recorder() -> Recorder {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, heads) = channel();
    std::thread::spawn(move || {
        for sock in listener.incoming() {
            let Ok(mut sock) = sock else { continue };
            let Ok(Some((head, _))) = read_request_with_head(&mut BufReader::new(&sock)) else {
                continue;
            };
            let body = "{\"type\":\"content\",\"content\":\"ok\"}\n";
            let _ = write!(
                sock,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            if tx.send(head).is_err() {
                return;
            }
        }
    });
    Recorder { url, heads }
}
