//! The decoder's key property, over many generated streams: the chunks decoded are
//! the same however the bytes are split across reads (all at once, one byte at a
//! time, random splits), for every framing, and they are the chunks that were encoded.

use backend_api::decoder::{Decoder, Progress};
use backend_api::{Chunk, Status};

/// xorshift64*: small, deterministic, good enough to generate inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const TEXTS: &[&str] = &[
    "Hel",
    "lo",
    " ",
    "é",
    "日本",
    "🙂",
    "a\nb",
    "\"q\"",
    "back\\slash",
    "\u{0}",
    ":",
    "data: x",
    "\r",
];

/// A random chunk as JSON text (serde_json escapes control characters).
fn gen_chunk(rng: &mut Rng) -> String {
    let ty = rng.pick(&["content", "reasoning", "provider", "usage", "x\u{e9}"]);
    let text: String = (0..rng.below(4)).map(|_| rng.pick(TEXTS)).collect();
    let v = match rng.below(3) {
        0 => serde_json::json!({"type": ty, "content": text}),
        1 => {
            serde_json::json!({"type": ty, "usage": {"n": rng.below(100), "list": [1, null, true]}})
        }
        _ => serde_json::json!({"type": ty, "token": text, "is_thinking": true}),
    };
    if rng.below(2) == 0 {
        serde_json::to_string_pretty(&v).unwrap().replace('\n', " ")
    } else {
        v.to_string()
    }
}

/// Encodes chunks in one of the framings a server (or a proxy) may use.
fn encode(rng: &mut Rng, chunks: &[String]) -> Vec<u8> {
    let eol = rng.pick(&["\n", "\r\n", "\r"]);
    let mut out = String::new();
    if rng.below(4) == 0 {
        out.push('\u{feff}');
    }
    let sse = rng.below(3) != 0;
    for (i, c) in chunks.iter().enumerate() {
        if !sse {
            out.push_str(c);
            if i + 1 < chunks.len() || rng.below(2) == 0 {
                out.push_str(eol);
            }
            continue;
        }
        for _ in 0..rng.below(3) {
            let extra = rng.pick(&[
                ": keep-alive",
                "id: 42",
                "retry: 1000",
                "event: content",
                ":",
            ]);
            out.push_str(extra);
            out.push_str(eol);
        }
        // Spread the JSON over one or two data lines, split at a space (joined back with "\n").
        let split = c.find(", ").filter(|_| rng.below(2) == 0);
        match split {
            Some(at) => {
                out.push_str(&format!(
                    "data: {}{eol}data:{}{eol}",
                    &c[..at + 1],
                    &c[at + 1..]
                ));
            }
            None => out.push_str(&format!("data: {c}{eol}")),
        }
        out.push_str(eol);
    }
    out.into_bytes()
}

fn decode(body: &[u8], splits: &mut dyn FnMut(usize) -> usize) -> Result<Vec<String>, Status> {
    let mut d = Decoder::new(1 << 20, false);
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let n = splits(rest.len()).clamp(1, rest.len());
        let (now, later) = rest.split_at(n);
        if d.feed(now, &mut |c: Chunk| out.push(c.json().to_owned()))
            .map_err(|e| e.status)?
            == Progress::Done
        {
            return Ok(out);
        }
        rest = later;
    }
    d.finish(&mut |c: Chunk| out.push(c.json().to_owned()))
        .map_err(|e| e.status)?;
    Ok(out)
}

/// Parses JSON texts to values, so SSE's joined `\n` inside whitespace compares equal.
fn values(texts: &[String]) -> Vec<serde_json::Value> {
    texts
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect()
}

#[test]
fn chunks_do_not_depend_on_how_the_bytes_are_split() {
    let mut rng = Rng(0x0005_EED0_FBAC_0E4D);
    for case in 0..600 {
        let chunks: Vec<String> = (0..rng.below(12)).map(|_| gen_chunk(&mut rng)).collect();
        let body = encode(&mut rng, &chunks);
        let whole = decode(&body, &mut |n| n).unwrap();
        let bytewise = decode(&body, &mut |_| 1).unwrap();
        let mut r2 = Rng(case + 1);
        let random = decode(&body, &mut |n| 1 + r2.below(n.min(17))).unwrap();
        assert_eq!(
            whole,
            bytewise,
            "case {case}: {:?}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(whole, random, "case {case}");
        assert_eq!(
            values(&whole),
            values(&chunks),
            "case {case}: {:?}",
            String::from_utf8_lossy(&body)
        );
    }
}

#[test]
fn errors_do_not_depend_on_how_the_bytes_are_split() {
    let mut rng = Rng(42);
    for case in 0..300 {
        let chunks: Vec<String> = (0..1 + rng.below(5)).map(|_| gen_chunk(&mut rng)).collect();
        let mut body = encode(&mut rng, &chunks);
        // Corrupt one byte inside the body: some corruptions stay valid, others must
        // fail the same way whatever the split.
        let at = rng.below(body.len());
        body[at] = *[b'{', b'}', b'"', 0xFF, b'\n'].get(rng.below(5)).unwrap();
        let whole = decode(&body, &mut |n| n);
        let bytewise = decode(&body, &mut |_| 1);
        let mut r2 = Rng(case + 7);
        let random = decode(&body, &mut |n| 1 + r2.below(n.min(5)));
        assert_eq!(
            whole,
            bytewise,
            "case {case}: {:?}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(whole, random, "case {case}");
    }
}
