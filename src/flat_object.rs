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

/// The end (past the closing quote) of a string starting at `i` that holds no
/// escape and no control character: such a string is valid JSON as it stands.
fn plain_string(b: &[u8], i: usize) -> Option<usize> {
    /// Bytes looked at one by one before a vector search: keys, types and most
    /// texts of a stream end within them, shorter than a vector search pays for.
    const SHORT: usize = 32;
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let body = &b[i + 1..];
    let (head, rest) = body.split_at(body.len().min(SHORT));
    let len = match head
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
    {
        Some(len) => len,
        // A long string: the quote or backslash that ends it by a vector search,
        // then one pass without branches (vectorised) for a control character.
        None => {
            let len = SHORT + memchr::memchr2(b'"', b'\\', rest)?;
            if body[SHORT..len]
                .iter()
                .fold(false, |any, &c| any | (c < 0x20))
            {
                return None;
            }
            len
        }
    };
    (body[len] == b'"').then_some(i + len + 2)
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
            Some(b'}') => return skip_ws(b, i + 1) == b.len(),
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
        // Each cut around the bytes looked at one by one before the vector search.
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
