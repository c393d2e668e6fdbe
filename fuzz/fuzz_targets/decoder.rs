//! The wire decoder on arbitrary bytes: it never panics, never allocates past its
//! limit, and decodes the same chunks (or fails the same way) whether the body
//! arrives at once or split at the points the input's first byte chooses; each
//! chunk read after others (which may repeat their opening) reads as it does alone.
#![no_main]

use backend_api::decoder::{Decoder, Progress};
use libfuzzer_sys::fuzz_target;

fn decode(body: &[u8], max_line: usize, step: usize) -> Result<Vec<String>, String> {
    let mut d = Decoder::new(max_line, false);
    let mut out = Vec::new();
    let mut emit = |c: backend_api::Chunk| {
        assert_eq!(Ok(&c), backend_api::Chunk::parse(c.json()).as_ref());
        out.push(c.json().to_owned());
    };
    for piece in body.chunks(step.max(1)) {
        match d.feed(piece, &mut emit) {
            Ok(Progress::Done) => return Ok(out),
            Ok(Progress::More) => {}
            Err(e) => return Err(format!("{:?}", e.status)),
        }
    }
    d.finish(&mut emit).map_err(|e| format!("{:?}", e.status))?;
    Ok(out)
}

/// The OpenAI-compatible translation of the same bytes: never a panic, and what
/// it emits is one JSON object each.
fn openai(body: &[u8], max_line: usize) {
    let mut d = Decoder::for_protocol(backend_api::Protocol::Openai, max_line, true);
    let mut check = |c: backend_api::Chunk| {
        let _ = (c.text(), c.field("event"));
        assert!(serde_json::from_str::<&serde_json::value::RawValue>(c.json()).is_ok());
    };
    if let Ok(Progress::More) = d.feed(body, &mut check) {
        let _ = d.finish(&mut check);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, body)) = data.split_first() else { return };
    let max_line = if control & 0x80 != 0 { 16 << 20 } else { 8 + (control as usize) * 4 };
    let step = 1 + (control as usize % 13);
    let whole = decode(body, max_line, body.len());
    let split = decode(body, max_line, step);
    openai(body, max_line);
    if max_line >= body.len() {
        // With a limit that cannot bite, the split must not change anything.
        assert_eq!(whole, split);
    }
    // What the decoder accepts is one JSON object (by the grammar: lone surrogate
    // escapes included, as Python writes them), and reading it never panics.
    if let Ok(chunks) = whole {
        for c in chunks {
            let raw: &serde_json::value::RawValue = serde_json::from_str(&c).unwrap();
            assert!(raw.get().starts_with('{'));
            let chunk = backend_api::Chunk::parse(&c).unwrap();
            let _ = (chunk.text(), chunk.field("type"), chunk.field("content"));
            // The chunk's type and text read as serde reads them (plain chunks are read
            // without serde: the two readings must agree; duplicate keys: the last wins).
            if let Ok(serde_json::Value::Object(v)) = serde_json::from_str(&c) {
                if let Some(t) = v.get("type").and_then(|t| t.as_str()) {
                    assert_eq!(chunk.type_(), t);
                }
                if let Some(text) = chunk.text() {
                    assert!(v.values().any(|x| x.as_str() == Some(&*text)), "{c}");
                }
            }
        }
    }
});
