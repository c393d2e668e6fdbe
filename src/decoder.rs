//! The wire decoder: bytes in, chunks out, for both framings of the g4f backend.
//!
//! Pure code with no I/O. The framing is chosen line by line, as the g4f browser
//! client does: Server-Sent Events fields (`data:`, `event:`, `id:`, `retry:`,
//! `:` comments) build events dispatched on a blank line, and any other non-empty
//! line is one JSON object (the NDJSON of g4f 6.7.4 and older). Lines may end in
//! LF, CRLF or a lone CR; a UTF-8 BOM at the start is skipped; `data: [DONE]`
//! ends the stream. Every line and every event is bounded by `max_line` bytes.
//! With the OpenAI-compatible protocol each JSON object is an event that
//! [`crate::openai::Translator`] turns into chunks; the framing is the same.

use crate::chunk::{Chunk, Head, Malformed};
use crate::error::{quote, Error, Status};
use crate::openai::Translator;
use crate::protocol::Protocol;
use crate::shape::Shape;

/// The default bound on one line or one event's data: 16 MiB.
pub const DEFAULT_MAX_LINE: usize = 16 << 20;

/// Largest line buffer kept between lines; a longer line's buffer is freed.
const KEEP_CAPACITY: usize = 64 << 10;

/// What the decoder reports besides chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// More input is welcome.
    More,
    /// A `[DONE]` sentinel arrived: the stream is over, whatever follows.
    Done,
}

/// Where a decoder's chunks go, in order: each as its validated JSON text, lent
/// for the call, and its [`Head`]. A stream's worker copies the texts of one read
/// into one buffer (no allocation per chunk); any `FnMut(Chunk)` takes each as a
/// chunk of its own.
pub trait Sink {
    fn chunk(&mut self, json: &str, head: Head);
}

impl<F: FnMut(Chunk)> Sink for F {
    fn chunk(&mut self, json: &str, head: Head) {
        self(Chunk::from_text(json, head))
    }
}

/// Incremental decoder. Feed it the body as it arrives, then call [`Decoder::finish`].
#[derive(Debug)]
pub struct Decoder {
    max_line: usize,
    skip_malformed: bool,
    /// The start of a line whose end has not arrived yet.
    partial: Vec<u8>,
    /// The data of the SSE event being built.
    data: Vec<u8>,
    has_data: bool,
    /// The previous input ended in CR: a LF at the start of the next is its pair.
    pending_cr: bool,
    at_start: bool,
    done: bool,
    skipped: u64,
    /// Present for the OpenAI-compatible protocol.
    openai: Option<Translator>,
    /// The opening the stream's chunks repeat (backend API).
    shape: Shape,
}

impl Decoder {
    /// A decoder bounding lines and events to `max_line` bytes. With `skip_malformed`,
    /// lines that are not JSON objects are counted and dropped instead of failing.
    pub fn new(max_line: usize, skip_malformed: bool) -> Decoder {
        Decoder {
            max_line: max_line.max(1),
            skip_malformed,
            partial: Vec::new(),
            data: Vec::new(),
            has_data: false,
            pending_cr: false,
            at_start: true,
            done: false,
            skipped: 0,
            openai: None,
            shape: Shape::default(),
        }
    }

    /// [`Decoder::new`] for the events of `protocol`.
    pub fn for_protocol(protocol: Protocol, max_line: usize, skip_malformed: bool) -> Decoder {
        let mut d = Decoder::new(max_line, skip_malformed);
        if protocol == Protocol::Openai {
            d.openai = Some(Translator::new());
        }
        d
    }

    /// How many malformed lines were skipped (only with `skip_malformed`).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Decodes `input`, giving each complete chunk to `emit` in order.
    /// After an error or [`Progress::Done`] the decoder must not be fed again.
    pub fn feed(&mut self, mut input: &[u8], emit: &mut impl Sink) -> Result<Progress, Error> {
        if self.done {
            return Ok(Progress::Done);
        }
        if self.pending_cr && !input.is_empty() {
            self.pending_cr = false;
            if input[0] == b'\n' {
                input = &input[1..];
            }
        }
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', input) {
            let (line, rest) = input.split_at(pos);
            input = &rest[1..];
            if rest[0] == b'\r' {
                match input.first() {
                    Some(b'\n') => input = &input[1..],
                    Some(_) => {}
                    None => self.pending_cr = true,
                }
            }
            let line_done = if self.partial.is_empty() {
                self.check_len(line.len())?;
                match self.lone_data(line, input) {
                    Some((value, after)) => {
                        input = after;
                        self.event(value, emit)?
                    }
                    None => self.line(line, emit)?,
                }
            } else {
                self.check_len(self.partial.len() + line.len())?;
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(line);
                let r = self.line(&whole, emit);
                // A buffer that grew for a long line is not kept for the next.
                if whole.capacity() <= KEEP_CAPACITY {
                    whole.clear();
                    self.partial = whole;
                }
                r?
            };
            if line_done == Progress::Done {
                self.done = true;
                return Ok(Progress::Done);
            }
        }
        self.check_len(self.partial.len() + input.len())?;
        self.partial.extend_from_slice(input);
        Ok(Progress::More)
    }

    /// Ends the input: a last line without a line end is decoded, and an SSE event
    /// left without its blank line is dispatched when it holds data.
    pub fn finish(&mut self, emit: &mut impl Sink) -> Result<Progress, Error> {
        if self.done {
            return Ok(Progress::Done);
        }
        if !self.partial.is_empty() {
            let last = std::mem::take(&mut self.partial);
            if self.line(&last, emit)? == Progress::Done {
                self.done = true;
                return Ok(Progress::Done);
            }
        }
        let p = self.dispatch(emit)?;
        self.done = true;
        Ok(p)
    }

    fn check_len(&self, len: usize) -> Result<(), Error> {
        if len > self.max_line {
            return Err(Error::new(
                Status::Limit,
                format!(
                    "a line of the response exceeds the limit of {} bytes",
                    self.max_line
                ),
            ));
        }
        Ok(())
    }

    /// Handles one line, without its line end.
    fn line(&mut self, mut line: &[u8], emit: &mut impl Sink) -> Result<Progress, Error> {
        if self.at_start {
            self.at_start = false;
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.is_empty() {
            return self.dispatch(emit);
        }
        match line[0] {
            b':' => return Ok(Progress::More),
            // No field name starts so: an NDJSON line, without looking for a colon.
            b'{' => return self.json(line, emit),
            _ => {}
        }
        // The field names in use are known by their first bytes (an `event:` line
        // before each event's data is the common case); any other name is ended
        // by a search for its colon.
        let colon = [&b"data:"[..], b"event:", b"id:", b"retry:"]
            .iter()
            .find(|field| line.starts_with(field))
            .map(|field| field.len() - 1)
            .or_else(|| memchr::memchr(b':', line));
        let (name, value) = match colon {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match name {
            b"data" => {
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.has_data = true;
                self.data.extend_from_slice(value);
                self.check_len(self.data.len())?;
                Ok(Progress::More)
            }
            b"event" | b"id" | b"retry" => Ok(Progress::More),
            _ => self.json(line, emit),
        }
    }

    /// The common SSE event, one `data:` line whose blank line follows in the same
    /// input: its value and the input after the blank line, so that the event is
    /// handled where it lies (no copy into the event's buffer). `None` for any
    /// other line or event (the general path builds it).
    fn lone_data<'a>(&self, line: &'a [u8], rest: &'a [u8]) -> Option<(&'a [u8], &'a [u8])> {
        if self.has_data || self.at_start {
            return None;
        }
        let value = line.strip_prefix(b"data:")?;
        let after = rest
            .strip_prefix(b"\n")
            .or_else(|| rest.strip_prefix(b"\r\n"))?;
        Some((value.strip_prefix(b" ").unwrap_or(value), after))
    }

    /// Handles one event's data: `[DONE]` ends the stream, blank data is no
    /// chunk, anything else is one JSON object.
    fn event(&mut self, data: &[u8], emit: &mut impl Sink) -> Result<Progress, Error> {
        if data == b"[DONE]" {
            Ok(Progress::Done)
        } else if data.iter().all(u8::is_ascii_whitespace) {
            Ok(Progress::More)
        } else {
            self.json(data, emit)
        }
    }

    /// Dispatches the SSE event being built, if it has data.
    fn dispatch(&mut self, emit: &mut impl Sink) -> Result<Progress, Error> {
        if !self.has_data {
            return Ok(Progress::More);
        }
        self.has_data = false;
        let data = std::mem::take(&mut self.data);
        let r = self.event(&data, emit);
        // The buffer serves the next event, unless it grew for a long one.
        if data.capacity() <= KEEP_CAPACITY {
            self.data = data;
            self.data.clear();
        }
        r
    }

    /// Validates one JSON object (one line or event) and emits its chunks: the
    /// object itself (backend API) or its translation (OpenAI-compatible).
    fn json(&mut self, text: &[u8], emit: &mut impl Sink) -> Result<Progress, Error> {
        let Ok(text) = std::str::from_utf8(text) else {
            return self.outcome(Err(Malformed::new("invalid UTF-8", text)));
        };
        let parsed = match &mut self.openai {
            Some(t) => t.translate(text.to_owned(), &mut |c: Chunk| {
                let (json, head) = c.into_parts();
                emit.chunk(&json, head);
            }),
            None => self
                .shape
                .validate(text)
                .map(|head| emit.chunk(text, head))
                .map_err(|why| Malformed::new(why, text)),
        };
        self.outcome(parsed)
    }

    /// Counts a malformed object, or reports it quoting its text.
    fn outcome(&mut self, parsed: Result<(), Malformed>) -> Result<Progress, Error> {
        match parsed {
            Ok(()) => Ok(Progress::More),
            Err(_) if self.skip_malformed => {
                self.skipped += 1;
                Ok(Progress::More)
            }
            Err(m) => Err(Error::new(
                Status::Protocol,
                format!("malformed chunk ({}): {}", m.why, quote(&m.text)),
            )),
        }
    }
}

/// Decodes a whole body at once: a convenience for tests and tools.
pub fn decode_all(body: &[u8], max_line: usize) -> Result<Vec<Chunk>, Error> {
    let mut out = Vec::new();
    let mut d = Decoder::new(max_line, false);
    let mut emit = |c: Chunk| out.push(c);
    if d.feed(body, &mut emit)? == Progress::More {
        d.finish(&mut emit)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jsons(body: &str) -> Vec<String> {
        decode_all(body.as_bytes(), DEFAULT_MAX_LINE)
            .unwrap()
            .iter()
            .map(|c| c.json().to_owned())
            .collect()
    }

    const A: &str = r#"{"type": "content", "content": "Hel"}"#;
    const B: &str = r#"{"type": "content", "content": "lo"}"#;

    #[test]
    fn ndjson_lines() {
        assert_eq!(jsons(&format!("{A}\n{B}\n")), [A, B]);
        assert_eq!(
            jsons(&format!("{A}\r\n\r\n{B}")),
            [A, B],
            "CRLF, blank line, no final newline"
        );
        assert_eq!(
            jsons(&format!("\u{feff}{A}\r{B}\r")),
            [A, B],
            "BOM and lone CR"
        );
    }

    #[test]
    fn sse_events() {
        let body = format!("event: provider\ndata: {A}\n\n: keep-alive\nid: 7\nretry: 100\nevent: content\ndata:{B}\n\n");
        assert_eq!(jsons(&body), [A, B]);
        let multi = "data: {\"type\": \"content\",\r\ndata:  \"content\": \"x\"}\r\n\r\n";
        assert_eq!(
            jsons(multi),
            ["{\"type\": \"content\",\n \"content\": \"x\"}"]
        );
        assert_eq!(jsons(&format!("data: {A}\n")), [A], "event ended by EOF");
        assert!(
            jsons("data:\n\ndata: \n\n").is_empty(),
            "empty events dispatch nothing"
        );
    }

    #[test]
    fn done_sentinel_ends_the_stream() {
        assert_eq!(
            jsons(&format!("data: {A}\n\ndata: [DONE]\n\ndata: {B}\n\n")),
            [A]
        );
    }

    #[test]
    fn mixed_framings_in_one_stream() {
        assert_eq!(jsons(&format!("{A}\ndata: {B}\n\n")), [A, B]);
    }

    #[test]
    fn malformed_json_is_an_error_quoting_the_line() {
        let e = decode_all(b"{\"type\": \"content\"}\n{\"type\": oops}\n", 1 << 20).unwrap_err();
        assert_eq!(e.status, Status::Protocol);
        assert!(e.message.contains("{\\\"type\\\": oops}"), "{}", e.message);
        let e = decode_all(b"hello world\n", 1 << 20).unwrap_err();
        assert_eq!(e.status, Status::Protocol);
        let e = decode_all(b"{\"type\": \"\xff\"}\n", 1 << 20).unwrap_err();
        assert!(e.message.contains("invalid UTF-8"), "{}", e.message);
        let e = decode_all(b"{\"type\": \"content\"", 1 << 20).unwrap_err();
        assert_eq!(e.status, Status::Protocol, "a line cut short at the end");
    }

    #[test]
    fn skip_malformed_counts() {
        let mut d = Decoder::new(1 << 20, true);
        let mut n = 0;
        d.feed(
            format!("garbage\n{A}\n{{bad\n").as_bytes(),
            &mut |_: Chunk| n += 1,
        )
        .unwrap();
        d.finish(&mut |_: Chunk| n += 1).unwrap();
        assert_eq!((n, d.skipped()), (1, 2));
    }

    #[test]
    fn limit_applies_to_lines_and_events_however_split() {
        let long = format!(
            "{{\"type\":\"content\",\"content\":\"{}\"}}\n",
            "x".repeat(100)
        );
        assert_eq!(
            decode_all(long.as_bytes(), 64).unwrap_err().status,
            Status::Limit
        );
        let mut d = Decoder::new(64, false);
        let err = long
            .as_bytes()
            .chunks(7)
            .find_map(|p| d.feed(p, &mut |_: Chunk| {}).err());
        assert_eq!(err.unwrap().status, Status::Limit);
        let event = "data: {\"type\":\"content\",\ndata: \"content\":\"01234567890123456789012345678901234567890\"}\n\n";
        assert_eq!(
            decode_all(event.as_bytes(), 64).unwrap_err().status,
            Status::Limit
        );
    }

    /// A lone `data:` line and its blank line in one input are handled where
    /// they lie; fed a byte at a time, the same events go through the event's
    /// buffer: both must give the same chunks and stop at the same `[DONE]`.
    #[test]
    fn lone_data_events_decode_as_built_events() {
        let body = format!(
            "data: {A}\n\ndata:{B}\r\n\r\ndata: {A}\r\rdata: \n\ndata: {B}\nid: 1\n\n\
             data: {{\"type\":\n\ndata: {{\"type\": \"own\",\ndata: \"x\": 1}}\n\ndata: [DONE]\n\ndata: {A}\n\n"
        );
        let whole = |b: &str| {
            let mut d = Decoder::new(1 << 20, true);
            let mut out = Vec::new();
            let p = d.feed(b.as_bytes(), &mut |c: Chunk| out.push(c)).unwrap();
            (out, p, d.skipped())
        };
        let bytewise = |b: &str| {
            let mut d = Decoder::new(1 << 20, true);
            let mut out = Vec::new();
            let mut p = Progress::More;
            for byte in b.as_bytes() {
                p = d
                    .feed(std::slice::from_ref(byte), &mut |c: Chunk| out.push(c))
                    .unwrap();
            }
            (out, p, d.skipped())
        };
        let (out, p, skipped) = whole(&body);
        assert_eq!(
            (p, skipped),
            (Progress::Done, 1),
            "the cut object is skipped"
        );
        let texts: Vec<&str> = out.iter().map(|c| c.json()).collect();
        assert_eq!(texts, [A, B, A, B, "{\"type\": \"own\",\n\"x\": 1}"]);
        assert_eq!((out, p, skipped), bytewise(&body));
    }

    #[test]
    fn crlf_split_across_feeds() {
        let body = format!("{A}\r\n{B}\r\n");
        let mut d = Decoder::new(1 << 20, false);
        let mut out = Vec::new();
        for b in body.as_bytes() {
            d.feed(std::slice::from_ref(b), &mut |c: Chunk| out.push(c))
                .unwrap();
        }
        d.finish(&mut |c: Chunk| out.push(c)).unwrap();
        assert_eq!(out.len(), 2);
    }
}
