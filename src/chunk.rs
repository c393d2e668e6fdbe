//! One decoded chunk of the stream: the counterpart of g4f's `RawResponse`.
//!
//! A chunk keeps the JSON text exactly as the server sent it and reads only
//! its `type` up front; other fields are parsed on demand, so draining a
//! stream costs one validation pass per chunk and no JSON tree.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;

use serde_json::value::RawValue;

/// Text that is not a valid chunk: why, and the text itself, handed back so that
/// the error (or the count of skipped objects) costs no copy.
#[derive(Debug)]
pub struct Malformed {
    pub why: String,
    pub text: Vec<u8>,
}

impl Malformed {
    pub fn new(why: impl Into<String>, text: impl Into<Vec<u8>>) -> Malformed {
        Malformed {
            why: why.into(),
            text: text.into(),
        }
    }
}

/// What a chunk is, for callers that branch without comparing strings. What
/// each kind means is written once, on its C form with the ABI's numbers,
/// [`ffi::backend_api_kind`](crate::ffi::backend_api_kind), where the header
/// shows it to C programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChunkKind {
    Other,
    Content,
    Reasoning,
    Error,
    Auth,
    Usage,
    Finish,
    Provider,
    Conversation,
    Message,
    Title,
    ToolCalls,
    Log,
    Preview,
    Parameters,
    Suggestions,
    Synthesize,
    Continue,
    Variant,
    Request,
    Response,
    Headers,
    Answer,
    Refusal,
}

impl ChunkKind {
    /// Every named kind with its `type` string, NUL-terminated for the C boundary.
    const NAMES: [(ChunkKind, &'static str); 23] = [
        (ChunkKind::Content, "content\0"),
        (ChunkKind::Reasoning, "reasoning\0"),
        (ChunkKind::Error, "error\0"),
        (ChunkKind::Auth, "auth\0"),
        (ChunkKind::Usage, "usage\0"),
        (ChunkKind::Finish, "finish\0"),
        (ChunkKind::Provider, "provider\0"),
        (ChunkKind::Conversation, "conversation\0"),
        (ChunkKind::Message, "message\0"),
        (ChunkKind::Title, "title\0"),
        (ChunkKind::ToolCalls, "tool_calls\0"),
        (ChunkKind::Log, "log\0"),
        (ChunkKind::Preview, "preview\0"),
        (ChunkKind::Parameters, "parameters\0"),
        (ChunkKind::Suggestions, "suggestions\0"),
        (ChunkKind::Synthesize, "synthesize\0"),
        (ChunkKind::Continue, "continue\0"),
        (ChunkKind::Variant, "variant\0"),
        (ChunkKind::Request, "request\0"),
        (ChunkKind::Response, "response\0"),
        (ChunkKind::Headers, "headers\0"),
        (ChunkKind::Answer, "answer\0"),
        (ChunkKind::Refusal, "refusal\0"),
    ];

    /// The kind named by a chunk's `type` string, with that name as a static string
    /// (NUL-terminated), or `Other` and `None`.
    fn lookup(t: &str) -> (ChunkKind, Option<&'static str>) {
        ChunkKind::NAMES
            .iter()
            .find(|(_, n)| &n[..n.len() - 1] == t)
            .map_or((ChunkKind::Other, None), |(k, n)| (*k, Some(*n)))
    }

    /// The kind named by a chunk's `type` string.
    pub fn from_type(t: &str) -> ChunkKind {
        ChunkKind::lookup(t).0
    }

    /// The field holding a chunk's main text, if its kind has one.
    fn text_field(self) -> Option<&'static str> {
        match self {
            ChunkKind::Content => Some("content"),
            ChunkKind::Reasoning => Some("token"),
            ChunkKind::Error | ChunkKind::Auth | ChunkKind::Message => Some("message"),
            ChunkKind::Title => Some("title"),
            ChunkKind::Log => Some("log"),
            ChunkKind::Preview => Some("preview"),
            ChunkKind::Refusal => Some("refusal"),
            _ => None,
        }
    }
}

/// A top-level field of a chunk: strings unescaped, anything else as JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Text(String),
    Json(String),
}

impl Field {
    /// The field as text: a string's value, or another value's JSON text.
    pub fn as_str(&self) -> &str {
        match self {
            Field::Text(s) | Field::Json(s) => s,
        }
    }

    /// The value's text, owned.
    pub fn into_string(self) -> String {
        match self {
            Field::Text(s) | Field::Json(s) => s,
        }
    }
}

/// One chunk: its JSON text (a JSON object) and what validating it found.
/// The text is stored with a trailing NUL so the C boundary lends it as is.
#[derive(Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The JSON text and a NUL (a `String`, so a buffer handed over keeps its capacity).
    json: String,
    head: Head,
}

/// What validating a chunk's JSON text finds besides the text: its `type`, its
/// kind and where its main text sits. Kept apart from the text so that a stream
/// can hold the texts of many chunks in one buffer (see `stream::batch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Where the main text's raw JSON value sits in the JSON text.
    text_span: Option<(usize, usize)>,
    /// The type with a NUL: static for named kinds, so most chunks allocate once.
    type_: Cow<'static, str>,
    kind: ChunkKind,
}

impl Head {
    /// Where the main text's raw JSON value sits in the JSON text, when present.
    pub(crate) fn text_span(&self) -> Option<(usize, usize)> {
        self.text_span
    }

    /// This head for a chunk whose main text sits at `start..end` instead.
    pub(crate) fn with_text_span(&self, start: usize, end: usize) -> Head {
        Head {
            text_span: Some((start, end)),
            ..self.clone()
        }
    }

    /// The heap bytes the head holds (a type without a name of its own).
    pub(crate) fn heap_bytes(&self) -> usize {
        match &self.type_ {
            Cow::Owned(t) => t.capacity(),
            Cow::Borrowed(_) => 0,
        }
    }
}

/// `s` followed by a NUL, in one allocation.
fn with_nul(s: &str) -> Box<str> {
    let mut b = String::with_capacity(s.len() + 1);
    b.push_str(s);
    b.push('\0');
    b.into_boxed_str()
}

/// What one validation pass keeps of a chunk: its `type` and where the candidate
/// text fields sit. Duplicate keys are allowed, the last one wins (as in Python).
#[derive(Default)]
struct Fields<'a> {
    type_: Option<Cow<'a, str>>,
    /// The raw JSON value of each of [`TEXT_FIELDS`] present (a slice of the text).
    texts: [Option<&'a str>; TEXT_FIELDS.len()],
}

impl<'a> Fields<'a> {
    /// The fields of `json`: read directly when it is an object of plain string
    /// members ([`crate::flat_object`]), else by serde, which validates the rest.
    fn of(json: &'a str) -> Result<Fields<'a>, String> {
        let mut fields = Fields::default();
        let plain = crate::flat_object::string_members(json, |key, raw| {
            if key == "type" {
                fields.type_ = Some(Cow::Borrowed(&raw[1..raw.len() - 1]));
            } else if let Some(i) = TEXT_FIELDS.iter().position(|n| *n == key) {
                fields.texts[i] = Some(raw);
            }
        });
        if plain {
            return Ok(fields);
        }
        serde_json::from_str(json).map_err(|e| e.to_string())
    }
}

/// The fields that can hold a chunk's main text (see [`ChunkKind::text_field`]).
const TEXT_FIELDS: [&str; 7] = [
    "content", "token", "message", "title", "log", "preview", "refusal",
];

/// A string borrowed from the JSON text when it has no escapes (serde's own
/// `Cow<str>` always allocates).
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(Visit)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Fields<'de>, M::Error> {
                let mut head = Fields::default();
                while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                    if key == "type" {
                        head.type_ = Some(map.next_value::<Text<'de>>()?.0);
                    } else if let Some(i) = TEXT_FIELDS.iter().position(|n| *n == key) {
                        head.texts[i] = Some(map.next_value::<&'de RawValue>()?.get());
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(head)
            }
        }
        d.deserialize_map(Visit)
    }
}

impl Chunk {
    /// Validates `json` as one JSON object and reads its `type` (empty when absent).
    /// The error says what is wrong, without quoting the text (callers do that).
    pub fn parse(json: &str) -> Result<Chunk, String> {
        Ok(Chunk::from_text(json, Chunk::validate(json)?))
    }

    /// [`Chunk::parse`] that takes over `json`'s buffer instead of copying it; on
    /// error it hands the text back with the reason.
    pub(crate) fn parse_owned(mut json: String) -> Result<Chunk, Malformed> {
        let head = match Chunk::validate(&json) {
            Ok(head) => head,
            Err(why) => return Err(Malformed::new(why, json)),
        };
        json.push('\0');
        Ok(Chunk { json, head })
    }

    /// A chunk of `json`, validated into `head` (by [`Chunk::validate`]), copied
    /// with its NUL into a buffer of its exact size.
    pub(crate) fn from_text(json: &str, head: Head) -> Chunk {
        let mut owned = String::with_capacity(json.len() + 1);
        owned.push_str(json);
        owned.push('\0');
        Chunk { json: owned, head }
    }

    /// The JSON text without its NUL, and the head, taken apart.
    pub(crate) fn into_parts(mut self) -> (String, Head) {
        self.json.pop();
        (self.json, self.head)
    }

    /// Validates one JSON object: its kind, its type with a NUL and the span of
    /// its main text's raw value. The error says what is wrong, without the text.
    pub(crate) fn validate(json: &str) -> Result<Head, String> {
        if !json.trim_start().starts_with('{') {
            return Err("not a JSON object".to_owned());
        }
        let fields = Fields::of(json)?;
        let t = fields.type_.as_deref().unwrap_or("");
        let (kind, name) = ChunkKind::lookup(t);
        let text_span = kind
            .text_field()
            .and_then(|f| fields.texts[TEXT_FIELDS.iter().position(|n| *n == f)?])
            .map(|raw| {
                let start = raw.as_ptr() as usize - json.as_ptr() as usize;
                (start, start + raw.len())
            });
        let type_ = name.map_or_else(|| Cow::Owned(with_nul(t).into_string()), Cow::Borrowed);
        Ok(Head {
            text_span,
            type_,
            kind,
        })
    }

    /// The whole JSON object as the server sent it.
    pub fn json(&self) -> &str {
        &self.json[..self.json.len() - 1]
    }

    /// The `type` field (empty when the object has none).
    pub fn type_(&self) -> &str {
        &self.head.type_[..self.head.type_.len() - 1]
    }

    /// [`Chunk::json`] followed by a NUL.
    pub fn json_with_nul(&self) -> &str {
        &self.json
    }

    /// [`Chunk::type_`] followed by a NUL.
    pub fn type_with_nul(&self) -> &str {
        &self.head.type_
    }

    pub fn kind(&self) -> ChunkKind {
        self.head.kind
    }

    /// True for the chunks after which the server sends no more answer: `error`, `auth`.
    pub fn is_fatal(&self) -> bool {
        matches!(self.head.kind, ChunkKind::Error | ChunkKind::Auth)
    }

    /// The choice this chunk belongs to (`n` > 1): the `"choice":N` that the
    /// OpenAI translation writes right after `type` (`{"type":"content","choice":1,...`)
    /// for choices other than the first; 0 for every other chunk. Looks at that
    /// one place only, so that it costs nothing per chunk.
    pub fn choice(&self) -> u32 {
        const TYPE: &[u8] = b"{\"type\":\"";
        const KEY: &[u8] = b"\",\"choice\":";
        let json = self.json.as_bytes();
        let at = TYPE.len() + self.type_().len();
        if !json.starts_with(TYPE) || json.get(at..at + KEY.len()) != Some(KEY) {
            return 0;
        }
        json[at + KEY.len()..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .fold(0u32, |n, d| {
                n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
            })
    }

    /// A top-level field, or `None` when absent.
    pub fn field(&self, key: &str) -> Option<Field> {
        let map: BTreeMap<Cow<str>, &RawValue> = serde_json::from_str(self.json()).ok()?;
        let raw = map.get(key)?.get();
        Some(match string_value(raw) {
            Some(s) => Field::Text(s),
            None => Field::Json(raw.to_owned()),
        })
    }

    /// The chunk's main text: `content` of content, `token` of reasoning, `message` of
    /// error/auth/message, `title`, `log`, `preview`; `None` for other kinds or when
    /// that field is not a string. Borrowed from the JSON text when it has no escapes.
    /// The length of the main text's raw JSON string (escapes as sent, quotes
    /// excluded): an upper bound of [`Chunk::text`]'s length, found without a copy
    /// or a scan. 0 without a text.
    pub fn text_raw_len(&self) -> usize {
        self.head
            .text_span
            .map_or(0, |(start, end)| (end - start).saturating_sub(2))
    }

    pub fn text(&self) -> Option<Cow<'_, str>> {
        let (start, end) = self.head.text_span?;
        let raw = &self.json[start..end];
        let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
        if memchr::memchr(b'\\', inner.as_bytes()).is_none() {
            return Some(Cow::Borrowed(inner));
        }
        string_value(raw).map(Cow::Owned)
    }
}

/// The value of a raw JSON string, `None` when `raw` is not a string. A lone UTF-16
/// surrogate (`"\ud83d"` alone: valid JSON, which Python's `json` reads and writes)
/// becomes U+FFFD, as Rust strings hold only Unicode scalar values.
fn string_value(raw: &str) -> Option<String> {
    if !raw.starts_with('"') {
        return None;
    }
    if let Ok(s) = serde_json::from_str::<String>(raw) {
        return Some(s);
    }
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut units = Vec::new(); // \u escapes in a row, decoded together
    let mut chars = inner.chars();
    let flush = |units: &mut Vec<u16>, out: &mut String| {
        out.extend(char::decode_utf16(units.drain(..)).map(|c| c.unwrap_or('\u{FFFD}')));
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            flush(&mut units, &mut out);
            out.push(c);
            continue;
        }
        let e = chars.next()?;
        if e == 'u' {
            let hex: String = chars.by_ref().take(4).collect();
            units.push(
                u16::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4)?,
            );
            continue;
        }
        flush(&mut units, &mut out);
        out.push(match e {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            _ => return None,
        });
    }
    flush(&mut units, &mut out);
    Some(out)
}

impl std::fmt::Debug for Chunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(s: &str) -> Chunk {
        Chunk::parse(s).unwrap()
    }

    /// The fields read without serde are the ones serde reads, key by key
    /// (duplicates: the last wins), and text serde would reject never takes the
    /// direct path.
    #[test]
    fn plain_objects_read_as_serde_reads_them() {
        for json in [
            "{\"type\": \"content\", \"content\": \"Hel\"}",
            " {\"content\":\"\",\"type\":\"title\",\"title\":\"t\u{e9}\"}\n",
            "{\"type\": \"content\", \"content\": \"a\", \"content\": \"b\"}",
            "{\"type\": \"own\", \"x\": \"y\"}",
            "{\"message\": \"m\"}",
        ] {
            let direct = Fields::of(json).unwrap();
            let parsed: Fields = serde_json::from_str(json).unwrap();
            assert_eq!(
                (direct.type_, direct.texts),
                (parsed.type_, parsed.texts),
                "{json}"
            );
        }
        for bad in ["{\"type\": \"a\"} {", "{\"type\": \"a\",}"] {
            assert!(Fields::of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_type_and_kind() {
        let c = chunk(r#"{"type": "content", "content": "Hel"}"#);
        assert_eq!(c.type_(), "content");
        assert_eq!(c.kind(), ChunkKind::Content);
        assert_eq!(c.text().as_deref(), Some("Hel"));
        assert!(!c.is_fatal());
        let c = chunk(r#"{"type": "x\u0079z"}"#);
        assert_eq!(c.type_(), "xyz");
        assert_eq!(c.kind(), ChunkKind::Other);
        assert_eq!(chunk("{}").type_(), "");
    }

    #[test]
    fn fields_are_text_or_json() {
        let c = chunk(r#"{"type":"usage","usage":{"total_tokens":3},"model":"m\u00e9","n":null}"#);
        assert_eq!(c.field("model"), Some(Field::Text("mé".into())));
        assert_eq!(
            c.field("usage"),
            Some(Field::Json(r#"{"total_tokens":3}"#.into()))
        );
        assert_eq!(c.field("n"), Some(Field::Json("null".into())));
        assert_eq!(c.field("absent"), None);
        assert_eq!(c.text(), None);
    }

    #[test]
    fn fatal_kinds_and_their_text() {
        let c = chunk(r#"{"type":"error","error":"ValueError","message":"ValueError: boom"}"#);
        assert!(c.is_fatal());
        assert_eq!(c.text().as_deref(), Some("ValueError: boom"));
        assert!(chunk(r#"{"type":"auth","message":"x"}"#).is_fatal());
    }

    #[test]
    fn text_is_borrowed_unless_escaped_and_the_last_duplicate_wins() {
        let c = chunk(r#"{"content": "first", "type": "content", "content": "plain"}"#);
        assert!(matches!(c.text(), Some(Cow::Borrowed("plain"))));
        let c = chunk(r#"{"type": "content", "content": "a\nb\u00e9"}"#);
        assert_eq!(c.text().as_deref(), Some("a\nbé"));
        assert_eq!(chunk(r#"{"type": "content", "content": 3}"#).text(), None);
        assert_eq!(chunk(r#"{"type": "usage", "content": "x"}"#).text(), None);
        assert_eq!(
            chunk(r#"{"type": "reasoning", "token": "t"}"#)
                .text()
                .as_deref(),
            Some("t")
        );
    }

    /// Found by fuzzing: a lone surrogate escape is valid JSON (Python writes it).
    #[test]
    fn lone_surrogates_are_accepted_and_read_as_replacement_characters() {
        let c = chunk(r#"{"type": "content", "content": "a\ud83d\\ude00 \ud83d\ude00 \udc00"}"#);
        assert_eq!(c.text().as_deref(), Some("a\u{FFFD}\\ude00 😀 \u{FFFD}"));
        assert_eq!(
            c.field("content").map(|f| f.as_str().to_owned()),
            c.text().map(Into::into)
        );
        assert_eq!(string_value(r#""\u12""#), None);
        assert_eq!(string_value(r#""\x""#), None);
        assert_eq!(string_value("3"), None);
    }

    #[test]
    fn rejects_what_is_not_an_object() {
        for bad in ["[1]", "\"s\"", "{\"type\":", "{} x", "{\"type\": 3}", ""] {
            assert!(Chunk::parse(bad).is_err(), "{bad}");
        }
    }
}
