//! The common shape of a chunk's JSON read without a JSON parser: one object
//! whose members are all strings without escapes (`{"type": "content",
//! "content": "Hel"}`, most chunks of a long answer). Pure code: anything else is
//! left to serde (`None`), which also gives the error for invalid text.

/// JSON's whitespace between tokens.
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The lowest byte of the eight in `w` (read little-endian) that a plain string
/// cannot hold as is (`"`, `\` or a control character), as its high bit alone;
/// 0 when there is none. Bit tricks on one word (zero bytes found by a borrow,
/// bytes below 0x20 likewise): a borrow can only mark bytes above a true one, so
/// the lowest marked byte is exact.
fn first_stop(w: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    let zero_in = |v: u64| v.wrapping_sub(ONES) & !v;
    let quote = zero_in(w ^ (ONES * u64::from(b'"')));
    let backslash = zero_in(w ^ (ONES * u64::from(b'\\')));
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    (quote | backslash | control) & HIGH
}

/// Where the first `"` or `\` at or after `from` sits, when no control
/// character comes before it; `None` when one does or when neither comes.
fn next_stop(b: &[u8], from: usize) -> Option<usize> {
    /// Bytes looked at a word at a time before a vector search: keys, types and
    /// most texts of a stream end within them, shorter than a vector search pays for.
    const SHORT: usize = 32;
    let body = b.get(from..)?;
    let (head, rest) = body.split_at(body.len().min(SHORT));
    let mut words = head.chunks_exact(8);
    let at = match words.by_ref().enumerate().find_map(|(k, w)| {
        let stop = first_stop(u64::from_le_bytes(w.try_into().expect("8 bytes")));
        (stop != 0).then(|| k * 8 + stop.trailing_zeros() as usize / 8)
    }) {
        Some(at) => at,
        None => {
            let tail = words.remainder();
            match tail
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
            {
                Some(at) => head.len() - tail.len() + at,
                // A long string: the quote or backslash that ends the run by a
                // vector search, then one pass without branches (vectorised) for a
                // control character.
                None => {
                    let at = SHORT + memchr::memchr2(b'"', b'\\', rest)?;
                    if body[SHORT..at]
                        .iter()
                        .fold(false, |any, &c| any | (c < 0x20))
                    {
                        return None;
                    }
                    at
                }
            }
        }
    };
    (body[at] >= 0x20).then_some(from + at)
}

/// The end (past the closing quote) of a string starting at `i` that holds no
/// escape and no control character: such a string is valid JSON as it stands.
fn plain_string(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let at = next_stop(b, i + 1)?;
    (b[at] == b'"').then_some(at + 1)
}

/// The end (past the closing quote) of a valid JSON string starting at `i`,
/// escapes included (a `\u` escape by its syntax: a lone surrogate is valid
/// JSON text, as Python writes it and as the chunk's reading accepts it).
pub(crate) fn string_end(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut from = i + 1;
    loop {
        let at = next_stop(b, from)?;
        if b[at] == b'"' {
            return Some(at + 1);
        }
        from = match b.get(at + 1)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => at + 2,
            b'u' if b.get(at + 2..at + 6)?.iter().all(u8::is_ascii_hexdigit) => at + 6,
            _ => return None,
        };
    }
}

/// Whether `b` from `i` on is the end of an object: `}` between whitespace.
pub(crate) fn closes_object(b: &[u8], i: usize) -> bool {
    let i = skip_ws(b, i);
    b.get(i) == Some(&b'}') && skip_ws(b, i + 1) == b.len()
}

/// Gives `member` each member's key (without quotes) and raw value (with its
/// quotes), in order, when `json` is one object of plain string members and
/// nothing else; `false` as soon as it is not (what `member` got so far is then
/// to be dropped).
pub(crate) fn string_members<'a>(json: &'a str, mut member: impl FnMut(&'a str, &'a str)) -> bool {
    let b = json.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return false;
    }
    i += 1;
    loop {
        let key_start = skip_ws(b, i);
        let Some(key_end) = plain_string(b, key_start) else {
            return false;
        };
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return false;
        }
        let value_start = skip_ws(b, i + 1);
        let Some(value_end) = plain_string(b, value_start) else {
            return false;
        };
        // Quotes are ASCII: every index here is on a character boundary.
        member(
            &json[key_start + 1..key_end - 1],
            &json[value_start..value_end],
        );
        i = skip_ws(b, value_end);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => return closes_object(b, i),
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(json: &str) -> Option<Vec<(&str, &str)>> {
        let mut out = Vec::new();
        string_members(json, |k, v| out.push((k, v))).then_some(out)
    }

    #[test]
    fn plain_objects_give_their_members() {
        assert_eq!(
            members(" {\"type\": \"content\",\"content\" :\t\"H\u{e9}l\"}\r\n"),
            Some(vec![("type", "\"content\""), ("content", "\"H\u{e9}l\"")])
        );
        assert_eq!(
            members("{\"a\":\"\",\"a\":\"x\"}"),
            Some(vec![("a", "\"\""), ("a", "\"x\"")])
        );
    }

    #[test]
    fn long_strings_are_read_whole_and_checked_throughout() {
        // Each cut around the bytes looked at a word at a time before the vector search.
        for n in [30, 31, 32, 33, 64, 1000] {
            let long = "\u{e9}x".repeat(n / 3) + &"x".repeat(n % 3);
            let json = format!("{{\"type\": \"content\", \"content\": \"{long}\"}}");
            let quoted = format!("\"{long}\"");
            assert_eq!(
                members(&json),
                Some(vec![("type", "\"content\""), ("content", quoted.as_str())]),
                "{n}"
            );
            for bad in ["\\n", "\t", "\u{1f}"] {
                for at in [0, long.len() / 2, long.len()] {
                    let mut text = long.clone();
                    if !text.is_char_boundary(at) {
                        continue;
                    }
                    text.insert_str(at, bad);
                    let json = format!("{{\"content\": \"{text}\"}}");
                    assert_eq!(members(&json), None, "{n} {bad:?} at {at}");
                }
            }
            assert_eq!(members(&format!("{{\"content\": \"{long}")), None, "{n}");
        }
    }

    #[test]
    fn every_byte_at_every_place_of_a_word_is_judged_as_one_by_one() {
        // The word-at-a-time search against the plain rule, byte by byte: each
        // byte value at each offset, after text that holds bytes just above the
        // stops (a borrow from them must not hide or invent one).
        let plain_rule = |body: &[u8]| {
            let end = body
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
            (body[end] == b'"').then_some(end + 2)
        };
        for filler in [b'x', 0x21, 0x23, 0x5d, 0x80, 0xff] {
            for at in 0..40 {
                for c in 0..=255u8 {
                    let mut s = vec![b'"'];
                    s.extend(std::iter::repeat_n(filler, at));
                    s.push(c);
                    s.extend_from_slice(b"ab\"");
                    assert_eq!(
                        plain_string(&s, 0),
                        plain_rule(&s[1..]),
                        "{filler:#x} x{at} then {c:#x}"
                    );
                }
            }
        }
    }

    #[test]
    fn anything_else_is_left_to_the_parser() {
        for json in [
            "{}",
            "{\"type\": \"content\"",
            "{\"type\": \"content\",}",
            "{\"type\": \"content\"} x",
            "{\"type\": \"content\"}}",
            "{\"type\": \"a\\\"b\"}",
            "{\"ty\\npe\": \"a\"}",
            "{\"type\": \"a\tb\"}",
            "{\"type\": 1}",
            "{\"type\": \"a\" \"b\": \"c\"}",
            "{\"type\" \"a\"}",
            "[\"type\", \"a\"]",
            "{\"type\": \"a",
            "",
        ] {
            assert_eq!(members(json), None, "{json:?}");
        }
    }
}
