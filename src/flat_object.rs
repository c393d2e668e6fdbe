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
    if b.get(i) != Some(&b'"') {
        return None;
    }
    // One pass, byte by byte: chunk strings are short, shorter than a vector
    // search pays for.
    let body = &b[i + 1..];
    let len = body
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
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
