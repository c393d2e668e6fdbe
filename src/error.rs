//! Status codes and the error type shared by the Rust API and the C boundary.

use std::fmt;

/// Every result a public function can report. What each one means is written
/// once, on its C form with the ABI's numbers,
/// [`ffi::backend_api_status`](crate::ffi::backend_api_status), where the header
/// shows it to C programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Ok,
    End,
    Again,
    Cancelled,
    InvalidArgument,
    Media,
    NotFound,
    WrongType,
    Connect,
    Tls,
    TimedOut,
    Http,
    Io,
    Protocol,
    Limit,
    Internal,
}

impl Status {
    /// All statuses, in the order of their numbers.
    pub const ALL: [Status; 16] = [
        Status::Ok,
        Status::End,
        Status::Again,
        Status::Cancelled,
        Status::InvalidArgument,
        Status::Media,
        Status::NotFound,
        Status::WrongType,
        Status::Connect,
        Status::Tls,
        Status::TimedOut,
        Status::Http,
        Status::Io,
        Status::Protocol,
        Status::Limit,
        Status::Internal,
    ];

    /// A stable, upper-case name such as `"HTTP"`.
    pub fn name(self) -> &'static str {
        self.c_name().to_str().expect("names are ASCII")
    }

    /// [`Status::name`] as a C string.
    pub fn c_name(self) -> &'static std::ffi::CStr {
        match self {
            Status::Ok => c"OK",
            Status::End => c"END",
            Status::Again => c"AGAIN",
            Status::Cancelled => c"CANCELLED",
            Status::InvalidArgument => c"INVALID_ARGUMENT",
            Status::Media => c"MEDIA",
            Status::NotFound => c"NOT_FOUND",
            Status::WrongType => c"WRONG_TYPE",
            Status::Connect => c"CONNECT",
            Status::Tls => c"TLS",
            Status::TimedOut => c"TIMED_OUT",
            Status::Http => c"HTTP",
            Status::Io => c"IO",
            Status::Protocol => c"PROTOCOL",
            Status::Limit => c"LIMIT",
            Status::Internal => c"INTERNAL",
        }
    }
}

/// An error: its status, a human-readable message and, for HTTP errors, the
/// response status code and the server's own `error.message`.
///
/// Messages never contain the api key: the request builder keeps it out of
/// every `Debug` and `Display` output, and the engine never echoes headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub status: Status,
    pub message: String,
    /// The HTTP status code for [`Status::Http`]; for [`Status::Connect`] the
    /// proxy's, when a proxy refused the connection; else 0.
    pub http_status: u16,
    /// The server's `{"error":{"message":...}}`, when it sent one: raw and
    /// untrusted (it may hold control characters; `message` holds it escaped and
    /// bounded), for a caller that needs it exactly.
    pub server_message: Option<String>,
    /// The server's `Retry-After`, when an HTTP error carried one.
    pub retry_after: Option<std::time::Duration>,
}

impl Error {
    /// An error with a status and a message.
    pub fn new(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            message: message.into(),
            http_status: 0,
            server_message: None,
            retry_after: None,
        }
    }

    /// An [`Status::InvalidArgument`] error.
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(Status::InvalidArgument, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// How many bytes of an offending input an error message quotes.
const QUOTE_LEN: usize = 80;

/// The start of `bytes` as a quoted, escaped string for an error message.
pub(crate) fn quote(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(QUOTE_LEN)];
    let mut s = format!("{:?}", String::from_utf8_lossy(cut));
    if bytes.len() > QUOTE_LEN {
        s.push_str("...");
    }
    s
}

/// How many bytes of a server's text an error message carries.
const SERVER_TEXT_LEN: usize = 1024;

/// A server's text, untrusted, made fit for an error message that a program may
/// print to a terminal: at most [`SERVER_TEXT_LEN`] bytes of it (`...` marks a
/// cut), its control characters escaped the way the bindings escape them (C0 and
/// DEL as `\x1b`, the C1 range, where escape sequences also start, as `\u009b`),
/// so that it can neither move the cursor, retitle the window nor fake a line
/// with a carriage return. Other text is kept as sent.
pub(crate) fn printable(text: &str) -> String {
    let mut end = text.len().min(SERVER_TEXT_LEN);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + 3);
    for c in text[..end].chars() {
        match u32::from(c) {
            n @ (0..=0x1F | 0x7F) => out.push_str(&format!("\\x{n:02x}")),
            n @ 0x80..=0x9F => out.push_str(&format!("\\u{n:04x}")),
            _ => out.push(c),
        }
    }
    if end < text.len() {
        out.push_str("...");
    }
    out
}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_is_escaped_and_bounded() {
        assert_eq!(printable("Provider not found"), "Provider not found");
        assert_eq!(
            printable("\u{1b}]0;t\u{7}\u{1b}[2J\r\n\tx\u{7f}\u{9b}31m é"),
            "\\x1b]0;t\\x07\\x1b[2J\\x0d\\x0a\\x09x\\x7f\\u009b31m é"
        );
        let long = "é".repeat(SERVER_TEXT_LEN);
        let cut = printable(&long);
        assert_eq!(cut, format!("{}...", "é".repeat(SERVER_TEXT_LEN / 2)));
        let hostile = "\u{1b}".repeat(SERVER_TEXT_LEN * 10);
        assert_eq!(printable(&hostile).len(), SERVER_TEXT_LEN * 4 + 3);
    }

    #[test]
    fn names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for s in Status::ALL {
            assert!(names.insert(s.name()));
        }
    }
}
