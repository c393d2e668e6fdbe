//! The opening a stream's chunks repeat. The chunks of an answer open alike
//! (`{"type": "content", "content": "` before each piece of text): once a chunk
//! whose main text is its last member was validated whole, a chunk opening with
//! the same bytes is validated by reading its text and the object's end alone.
//! The same bytes hold the same members, the same `type` and the same keys, so
//! what the whole reading found of them holds again, and the text (the last
//! member: the last of its key, the one that counts) starts where it did.

use crate::chunk::{Chunk, Head};
use crate::flat_object::{closes_object, string_end};

/// Openings longer than this are not kept: comparing them costs more than
/// reading the chunk, and chunks of an answer open in a few dozen bytes.
const MAX_OPENING: usize = 256;

/// The opening of the last chunk validated whole (up to its text's opening
/// quote) and what validating it found; empty until such a chunk came.
#[derive(Debug, Default)]
pub(crate) struct Shape {
    opening: Vec<u8>,
    head: Option<Head>,
}

impl Shape {
    /// [`Chunk::validate`], by the kept opening when `json` repeats it.
    pub(crate) fn validate(&mut self, json: &str) -> Result<Head, String> {
        let b = json.as_bytes();
        if let Some(head) = &self.head {
            if b.starts_with(&self.opening) {
                let start = self.opening.len();
                if let Some(end) = string_end(b, start).filter(|&end| closes_object(b, end)) {
                    return Ok(head.with_text_span(start, end));
                }
            }
        }
        let head = Chunk::validate(json)?;
        if let Some((start, end)) = head.text_span() {
            if start <= MAX_OPENING && b[start] == b'"' && closes_object(b, end) {
                self.opening.clear();
                self.opening.extend_from_slice(&b[..start]);
                self.head = Some(head.clone());
            }
        }
        Ok(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each text validated after the others through one shape, and alone.
    fn both(texts: &[&str]) -> Vec<(Result<Head, String>, Result<Head, String>)> {
        let mut shape = Shape::default();
        texts
            .iter()
            .map(|t| (shape.validate(t), Chunk::validate(t)))
            .collect()
    }

    #[test]
    fn a_repeated_opening_reads_as_a_whole_reading_does() {
        let texts = [
            r#"{"type": "content", "content": "Hel"}"#,
            r#"{"type": "content", "content": "lo\n\"x\" \u00e9\ud800"}"#,
            r#"{"type": "content", "content": ""}  "#,
            r#"{"type": "content", "content": "a", "content": "b"}"#,
            r#"{"type": "content", "content": "a"}"#,
            r#"{"type": "reasoning", "token": "t"}"#,
            r#"{"type": "reasoning", "token": "u"}"#,
            r#"{"type": "content", "x": [1, {"y": 2}], "content": "v"}"#,
            r#"{"type": "content", "x": [1, {"y": 2}], "content": "w"}"#,
        ];
        for (i, (shaped, whole)) in both(&texts).into_iter().enumerate() {
            assert_eq!(shaped, whole, "{}", texts[i]);
        }
    }

    #[test]
    fn what_follows_a_repeated_opening_is_still_checked() {
        let opening = r#"{"type": "content", "content": "#;
        let mut shape = Shape::default();
        shape.validate(&format!("{opening}\"ok\"}}")).unwrap();
        for bad in [
            "\"a\"",
            "\"a}",
            "\"a\" }x",
            "\"a\", }",
            "\"a\",\"b\"}",
            "\"a\\x\"}",
            "\"a\\u12g4\"}",
            "\"a\tb\"}",
            "\"a\"}}",
        ] {
            let json = format!("{opening}{bad}");
            assert!(shape.validate(&json).is_err(), "{json}");
            assert!(Chunk::validate(&json).is_err(), "{json}");
        }
        // Another member after the text, or a text that is not a string: read whole.
        for other in ["\"a\", \"content\": \"b\"}", "1}", "{\"a\": \"b\"}}"] {
            let json = format!("{opening}{other}");
            assert_eq!(shape.validate(&json), Chunk::validate(&json), "{json}");
        }
    }
}
