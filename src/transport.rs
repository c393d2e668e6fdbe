//! HTTP exchanges over ureq, and what their failures mean. Knows URLs, headers
//! and bodies, not the chat protocol nor the wire format: it hands back a body
//! reader. Every wait, the error body included, is bounded through the
//! operation's network link (see `net`).
//!
//! A request that fails on a reused connection before any byte of its answer
//! arrived (the server closed the idle connection as the request left) is sent
//! once more, at once, on another connection, as curl and Go's net/http do; it
//! is not one of the client's retries. An error answer's connection is closed,
//! never reused.

use std::io::Read;

use ureq::http::Response;
use ureq::Body;

use crate::client::Agent;
use crate::error::{printable, quote, Error, Result, Status};
use crate::net::Clock;

/// How much of an error body is read to find the server's message.
const ERROR_BODY_LIMIT: u64 = 64 << 10;

/// Sends a POST of a JSON body that asks for an event stream, and returns the
/// streaming body of a 2xx answer; `on_headers` sees the headers of every
/// answer, an error's too (a 429's rate-limit headers).
pub(crate) fn post<'h>(
    agent: &Agent,
    clock: &Clock,
    url: &str,
    headers: impl IntoIterator<Item = (&'h str, &'h str)> + Clone,
    body: &[u8],
    on_headers: impl FnOnce(&ureq::http::HeaderMap),
) -> Result<Body> {
    let response = once_more_if_stale(|| {
        let mut req = agent
            .post(url)
            .header("Content-Type", "application/json")
            .header("Accept", "text/event-stream");
        for (name, value) in headers.clone() {
            req = req.header(name, value);
        }
        req.send(body)
    })?;
    on_headers(response.headers());
    accept(response, clock)
}

/// Sends a GET for a document of the type `media_type` names and returns the body
/// of a 2xx answer.
pub(crate) fn get<'h>(
    agent: &Agent,
    clock: &Clock,
    url: &str,
    media_type: &str,
    headers: impl IntoIterator<Item = (&'h str, &'h str)> + Clone,
) -> Result<Body> {
    let response = once_more_if_stale(|| {
        let mut req = agent.get(url).header("Accept", media_type);
        for (name, value) in headers.clone() {
            req = req.header(name, value);
        }
        req.call()
    })?;
    accept(response, clock)
}

/// Sends a request (`send`), and sends it once more when it failed on a reused
/// connection before any byte of the answer (see the module docs). A cancel or a
/// time-out is no stale connection.
fn once_more_if_stale(
    mut send: impl FnMut() -> std::result::Result<Response<Body>, ureq::Error>,
) -> Result<Response<Body>> {
    crate::net::exchange_begins();
    match send() {
        Err(ureq::Error::Io(e)) if stale(&e) => {
            crate::net::exchange_begins();
            send()
        }
        other => other,
    }
    .map_err(map_send_error)
}

/// Whether a request's I/O failure `e` means its reused connection had been
/// closed by the server: no byte of the answer came, and the failure is the
/// connection's (not the cancel's, whose error is `ConnectionAborted`).
fn stale(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    let seen = crate::net::exchange();
    seen.reused
        && !seen.answered
        && matches!(
            e.kind(),
            K::BrokenPipe | K::ConnectionReset | K::UnexpectedEof
        )
}

/// Reads what is left of a body whose answer has ended (the end of its framing
/// after a `[DONE]`), so that its connection may be kept: within
/// [`FINISH_WAIT`], at most a few kilobytes; else the body is dropped and its
/// connection closed. The end of a body usually came with its last bytes, and
/// the read takes no wait.
pub(crate) fn finish_body(mut body: ureq::BodyReader<'static>, clock: &Clock) {
    clock.wait_briefly(std::time::Instant::now() + FINISH_WAIT);
    let mut buf = [0u8; 4096];
    for _ in 0..4 {
        match body.read(&mut buf) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
    clock.retrying();
}

/// The longest wait for the end of a body after its answer ended.
const FINISH_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// Turns a non-2xx answer into an HTTP error, and refuses a compressed body
/// (nothing was asked for, so nothing could decode it).
/// The idle clock starts with the headers: an error body that stalls is bounded too.
fn accept(response: Response<Body>, clock: &Clock) -> Result<Body> {
    clock.restart_idle();
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        crate::net::discard_connection();
        return Err(http_error(response));
    }
    if let Some(enc) = response.headers().get("content-encoding") {
        let enc = String::from_utf8_lossy(enc.as_bytes());
        if !enc.eq_ignore_ascii_case("identity") {
            return Err(Error::new(
                Status::Protocol,
                format!(
                    "the server sent a body with Content-Encoding {enc:?}, which was not asked for"
                ),
            ));
        }
    }
    Ok(response.into_body())
}

/// The error for a non-2xx answer: the server's `{"error":{"message":...}}` when it
/// sent one (g4f does), else the start of the body (an HTML error page). The
/// message carries the server's text escaped and bounded (see `printable`,
/// `quote`): it is safe to print to a terminal; `server_message` keeps it raw.
fn http_error(response: Response<Body>) -> Error {
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| crate::retry::parse_retry_after(v, std::time::SystemTime::now()));
    let location = response
        .headers()
        .get("location")
        .map(|l| {
            format!(
                " to {:?} (redirects are not followed)",
                String::from_utf8_lossy(l.as_bytes())
            )
        })
        .unwrap_or_default();
    let mut body = Vec::new();
    let _ = response
        .into_body()
        .into_reader()
        .take(ERROR_BODY_LIMIT)
        .read_to_end(&mut body);
    let server_message = server_message(&body);
    let detail = match &server_message {
        Some(m) => printable(m),
        None if body.is_empty() => "(empty body)".to_owned(),
        None => quote(&body),
    };
    Error {
        status: Status::Http,
        message: format!("HTTP {}{location}: {detail}", status.as_u16()),
        http_status: status.as_u16(),
        server_message,
        retry_after,
    }
}

/// `error.message` (or a string `error`, or `message`, or FastAPI's string
/// `detail`, as `g4f api` sends) of a JSON error body.
fn server_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let m = match &v["error"] {
        serde_json::Value::String(s) => s.as_str(),
        e => e["message"]
            .as_str()
            .or_else(|| v["message"].as_str())
            .or_else(|| v["detail"].as_str())?,
    };
    Some(m.to_owned())
}

/// What a ureq failure means for the caller.
pub fn map_error(e: ureq::Error) -> Error {
    use ureq::Error as U;
    use ureq::Timeout as T;
    match e {
        U::Timeout(T::Connect | T::Resolve) => {
            Error::new(Status::TimedOut, "connect timeout elapsed")
        }
        U::Timeout(T::RecvResponse | T::SendRequest | T::SendBody | T::PerCall | T::Await100) => {
            Error::new(
                Status::TimedOut,
                "no response headers within the headers timeout",
            )
        }
        // The stream checks the same deadline itself; whichever sees it first
        // reports it, in the same words.
        U::Timeout(T::Global) => Error::new(
            Status::TimedOut,
            "the exchange ran longer than the client's total timeout",
        ),
        U::Timeout(t) => Error::new(Status::TimedOut, format!("{t} timeout elapsed")),
        U::HostNotFound => Error::new(Status::Connect, "the host name did not resolve"),
        U::ConnectionFailed => Error::new(Status::Connect, "connection failed"),
        U::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                Error::new(Status::Connect, format!("connection refused: {io}"))
            }
            std::io::ErrorKind::UnexpectedEof => Error::new(
                Status::Io,
                "the connection closed before the response was complete",
            ),
            _ => Error::new(Status::Io, format!("connection error: {io}")),
        },
        U::Tls(m) => Error::new(Status::Tls, format!("TLS error: {m}")),
        U::Rustls(e) => Error::new(Status::Tls, format!("TLS error: {e}")),
        U::Pem(e) => Error::new(Status::Tls, format!("TLS error: {e}")),
        U::BadUri(m) => Error::invalid(format!("bad URL: {m}")),
        U::InvalidProxyUrl => Error::invalid("invalid proxy URL"),
        // The proxy refused (407, 502, ...) or closed before its answer: a
        // connection failure, retried as one, with the proxy's status when it sent one.
        U::ConnectProxyFailed(reason) => Error {
            http_status: reason
                .strip_prefix("proxy server responded ")
                .and_then(|r| r.get(..3))
                .and_then(|code| code.parse().ok())
                .unwrap_or(0),
            ..Error::new(Status::Connect, format!("the proxy failed: {reason}"))
        },
        U::Protocol(p) => Error::new(Status::Protocol, format!("HTTP protocol error: {p}")),
        other => Error::new(Status::Io, format!("HTTP error: {other}")),
    }
}

/// What a failure before any response means: an I/O error other than a broken
/// connection happened while connecting (name resolution, socket, proxy).
fn map_send_error(e: ureq::Error) -> Error {
    use std::io::ErrorKind as K;
    match e {
        ureq::Error::Io(io) if io.get_ref().is_some_and(|i| i.is::<rustls::Error>()) => {
            Error::new(Status::Tls, format!("TLS error: {io}"))
        }
        ureq::Error::Io(io)
            if !matches!(
                io.kind(),
                K::BrokenPipe | K::ConnectionReset | K::ConnectionAborted | K::UnexpectedEof
            ) =>
        {
            Error::new(Status::Connect, format!("could not connect: {io}"))
        }
        other => map_error(other),
    }
}

/// The meaning of an I/O error from a body reader (ureq wraps its own errors in it).
pub fn map_io_error(e: std::io::Error) -> Error {
    map_error(ureq::Error::from(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_refusals_are_connect_failures_with_the_proxy_status() {
        let e = map_send_error(ureq::Error::ConnectProxyFailed(
            "proxy server responded 407/Proxy Authentication Required".into(),
        ));
        assert_eq!((e.status, e.http_status), (Status::Connect, 407));
        assert!(crate::retry::retryable(&e));
        let e = map_error(ureq::Error::ConnectProxyFailed(
            "proxy server did not respond".into(),
        ));
        assert_eq!((e.status, e.http_status), (Status::Connect, 0));
    }

    #[test]
    fn server_messages() {
        assert_eq!(
            server_message(br#"{"error":{"message":"Provider not found"}}"#).as_deref(),
            Some("Provider not found")
        );
        assert_eq!(
            server_message(br#"{"error":"nope"}"#).as_deref(),
            Some("nope")
        );
        assert_eq!(server_message(br#"{"message":"m"}"#).as_deref(), Some("m"));
        assert_eq!(server_message(b"<html>"), None);
        assert_eq!(
            server_message(br#"{"detail":"Not authenticated"}"#).as_deref(),
            Some("Not authenticated")
        );
        assert_eq!(
            server_message(br#"{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":"x"}}"#).as_deref(),
            Some("bad")
        );
    }
}
