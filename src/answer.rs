//! The assembled answer: what the chunks of a stream add up to, as the g4f browser
//! client keeps it (content and reasoning text, finish reason, usage, title, tool
//! calls, the `conversation` state to send back, provider and model, generated
//! media, a refusal). Pure code. Tool calls of the OpenAI-compatible protocol
//! arrive as deltas with an `index` and are assembled as the `openai` Python
//! package assembles them. Only the first choice (`n` > 1) is assembled: chunks of
//! other choices stay chunks.

use serde_json::{Map, Value};

use crate::chunk::{Chunk, ChunkKind, Field};
use crate::error::{Error, Status};
use crate::generated::{media_of, Medium};

/// The default bound of an assembled answer: 64 MiB. Four times the default line
/// limit, and over a hundred times the longest answers models give (a 128k-token
/// answer is about 0.5 MB of text), so only a runaway or hostile stream meets it;
/// without it a server could grow the process's memory without end.
pub(crate) const DEFAULT_MAX_ANSWER: usize = 64 << 20;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Answer {
    pub content: String,
    pub reasoning: String,
    pub finish_reason: Option<String>,
    pub usage: Option<Value>,
    pub title: Option<String>,
    pub tool_calls: Option<Value>,
    /// The provider's conversation state as the server sent it (keyed by the
    /// provider that answered, or not keyed), several `conversation` chunks merged
    /// key by key as g4f's web client merges them. [`Answer::state`] is what goes back.
    pub conversation: Option<Value>,
    pub provider: Option<String>,
    pub model: Option<String>,
    /// The message of an in-stream `error` or `auth` chunk.
    pub error: Option<String>,
    /// The model's refusal (OpenAI's `delta.refusal`), its pieces joined.
    pub refusal: Option<String>,
    /// Generated images, audio and video, in the order they came.
    pub media: Vec<Medium>,
    /// What the growing parts hold, in bytes: see [`Answer::size`].
    #[serde(skip)]
    size: usize,
    /// The base URL that relative media URLs are resolved against.
    #[serde(skip)]
    base: String,
}

/// A field of a chunk as a JSON value.
fn value(c: &Chunk, key: &str) -> Option<Value> {
    to_value(c.field(key)?)
}

/// A chunk's field as a JSON value.
fn to_value(f: Field) -> Option<Value> {
    match f {
        Field::Text(s) => Some(Value::String(s)),
        Field::Json(j) => serde_json::from_str(&j).ok(),
    }
}

/// Whether a list holds objects with an `index`: OpenAI-compatible deltas.
fn has_indexed_entries(list: &[Value]) -> bool {
    list.iter().any(|e| e.get("index").is_some())
}

/// Merges one delta object into the accumulated one, as the `openai` Python
/// package's `accumulate_delta` does: strings append, numbers add, objects
/// merge, indexed lists merge entry by entry, `index` and `type` are replaced.
fn accumulate(acc: &mut Map<String, Value>, delta: Map<String, Value>) {
    for (key, d) in delta {
        let slot = acc.entry(key.as_str()).or_insert(Value::Null);
        if slot.is_null() {
            match &d {
                Value::Array(l) if has_indexed_entries(l) => *slot = Value::Array(Vec::new()),
                _ => {
                    *slot = d;
                    continue;
                }
            }
        }
        if key == "index" || key == "type" {
            *slot = d;
            continue;
        }
        match (slot, d) {
            (Value::String(a), Value::String(b)) => a.push_str(&b),
            (Value::Number(a), Value::Number(b)) => {
                *a = match (a.as_i64(), b.as_i64()) {
                    (Some(x), Some(y)) => x.saturating_add(y).into(),
                    _ => serde_json::Number::from_f64(
                        a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0),
                    )
                    .unwrap_or_else(|| a.clone()),
                }
            }
            (Value::Object(a), Value::Object(b)) => accumulate(a, b),
            (Value::Array(a), Value::Array(b)) => merge_list(a, b),
            _ => {}
        }
    }
}

/// Merges a list delta: scalars are appended; objects go to the position their
/// `index` names (merged with what is there, else appended).
fn merge_list(acc: &mut Vec<Value>, delta: Vec<Value>) {
    let scalar = |v: &Value| v.is_string() || v.is_number() || v.is_boolean();
    if acc.iter().all(scalar) && (!acc.is_empty() || !has_indexed_entries(&delta)) {
        acc.extend(delta);
        return;
    }
    for entry in delta {
        let Some(i) = entry.get("index").and_then(Value::as_u64) else {
            continue;
        };
        let Value::Object(e) = entry else { continue };
        match acc.get_mut(i as usize) {
            Some(Value::Object(a)) => accumulate(a, e),
            Some(_) => {}
            None => acc.push(Value::Object(e)),
        }
    }
}

impl Answer {
    /// What a follow-up reads of an answer chunk (kind `Answer`, as
    /// `Stream::answer_json` makes it or a program saved it): its `content`,
    /// `tool_calls`, `conversation` and `provider`.
    pub fn from_chunk(chunk: &Chunk) -> Result<Answer, Error> {
        if chunk.kind() != ChunkKind::Answer {
            return Err(Error::invalid(
                "answer is not an answer chunk (kind BACKEND_API_KIND_ANSWER, from backend_api_stream_answer)",
            ));
        }
        let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(chunk.json()) else {
            return Err(Error::new(Status::Internal, "a chunk is not a JSON object"));
        };
        let mut answer = Answer::default();
        match fields.remove("content") {
            Some(Value::String(text)) => answer.content = text,
            _ => return Err(Error::invalid("the answer's content is not a string")),
        }
        answer.conversation = fields.remove("conversation").filter(|c| !c.is_null());
        answer.tool_calls = fields.remove("tool_calls").filter(|c| !c.is_null());
        answer.provider = match fields.remove("provider") {
            Some(Value::String(p)) => Some(p),
            _ => None,
        };
        Ok(answer)
    }

    /// An empty answer whose media URLs are resolved against `base_url`.
    pub fn new(base_url: &str) -> Answer {
        Answer {
            base: base_url.to_owned(),
            ..Answer::default()
        }
    }

    /// The `conversation` field of the next request, as g4f expects it: the
    /// state of `provider` (the provider that answered, else the one asked for)
    /// when the state is keyed by it, else the whole state (not keyed, as
    /// AnyProvider sends it). The server builds `JsonConversation(**state)` from
    /// it, so a keyed object would reach the provider wrapped and lose its fields.
    pub fn state(&self, asked: Option<&str>) -> Option<Value> {
        let c = self.conversation.as_ref()?;
        let keyed = [self.provider.as_deref(), asked]
            .into_iter()
            .flatten()
            .find_map(|p| c.get(p).filter(|v| v.is_object()));
        Some(keyed.unwrap_or(c).clone())
    }

    /// The tool calls as an assistant message carries them: the assembled list
    /// without the deltas' `index`.
    pub fn tool_calls_for_history(&self) -> Option<Value> {
        let Some(Value::Array(calls)) = &self.tool_calls else {
            return None;
        };
        let calls: Vec<Value> = calls
            .iter()
            .map(|c| match c {
                Value::Object(o) => {
                    let mut o = o.clone();
                    o.remove("index");
                    Value::Object(o)
                }
                other => other.clone(),
            })
            .collect();
        (!calls.is_empty()).then_some(Value::Array(calls))
    }

    /// The bytes added so far to the parts that grow: content and reasoning text,
    /// and tool-call JSON (deltas append). Other fields replace what was there,
    /// each bounded by the line limit. [`Answer::add_within`] bounds it.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The bytes `c` adds to [`Answer::size`]: its text for content and
    /// reasoning (as sent: JSON escapes count in full, so the bound holds for
    /// the text too, and nothing is copied to know it), its JSON for tool calls,
    /// nothing for the chunks that replace.
    pub fn growth(c: &Chunk) -> usize {
        match c.choice() {
            0 => Answer::growth_of_first(c),
            _ => 0,
        }
    }

    /// [`Answer::growth`] of a chunk of the first choice.
    fn growth_of_first(c: &Chunk) -> usize {
        match c.kind() {
            ChunkKind::Content | ChunkKind::Reasoning | ChunkKind::Refusal => c.text_raw_len(),
            ChunkKind::ToolCalls => c.field("tool_calls").map_or(0, |f| f.as_str().len()),
            _ => 0,
        }
    }

    /// The error of an answer that would grow past `max` bytes.
    pub fn over_limit(max: usize) -> Error {
        Error::new(
            Status::Limit,
            format!(
                "the answer grew past its limit of {max} bytes; the chunks before were \
                 delivered and assembled (raise the limit with \
                 backend_api_client_set_max_answer, or turn assembling off)"
            ),
        )
    }

    /// Adds one chunk unless the answer would then hold more than `max` bytes
    /// ([`Answer::size`]); then it stays as it was and the error is a
    /// [`Status::Limit`] one. The stream checks the same bound before it delivers a
    /// chunk and, past it, ends with the error instead of delivering that chunk:
    /// the answer then holds exactly the chunks delivered before.
    pub fn add_within(&mut self, c: &Chunk, max: usize) -> Result<(), Error> {
        if c.choice() != 0 {
            return Ok(()); // another choice's: delivered, not assembled
        }
        let size = self.size.saturating_add(Answer::growth_of_first(c));
        if size > max {
            return Err(Answer::over_limit(max));
        }
        self.size = size;
        match c.kind() {
            kind @ (ChunkKind::Content | ChunkKind::Reasoning | ChunkKind::Refusal) => {
                if let Some(t) = c.text() {
                    match kind {
                        ChunkKind::Content => self.content.push_str(&t),
                        ChunkKind::Refusal => self.refusal.get_or_insert_default().push_str(&t),
                        _ => self.reasoning.push_str(&t),
                    }
                }
                if kind == ChunkKind::Content {
                    self.media.extend(media_of(c, &self.base));
                }
            }
            ChunkKind::ToolCalls => self.add_tool_calls(c.field("tool_calls").and_then(to_value)),
            _ => self.replace(c),
        }
        Ok(())
    }

    /// Adds one chunk, whatever the answer's size. Content and reasoning text
    /// append; the rest replaces.
    pub fn add(&mut self, c: &Chunk) {
        self.add_within(c, usize::MAX)
            .expect("a size saturates at the limit, never past it");
    }

    /// Tool calls: OpenAI-compatible deltas merge by index into what came before;
    /// the backend API's whole list replaces the previous one.
    fn add_tool_calls(&mut self, calls: Option<Value>) {
        match calls {
            Some(Value::Array(deltas)) if has_indexed_entries(&deltas) => {
                let acc = self.tool_calls.get_or_insert(Value::Null);
                if !acc.is_array() {
                    *acc = Value::Array(Vec::new());
                }
                if let Value::Array(list) = acc {
                    merge_list(list, deltas);
                }
            }
            calls => self.tool_calls = calls.or(self.tool_calls.take()),
        }
    }

    /// A chunk whose fields replace the answer's (or that the answer ignores).
    fn replace(&mut self, c: &Chunk) {
        match c.kind() {
            ChunkKind::Finish => {
                // `{"reason": ...}` as g4f sends it, or a bare string.
                let reason = value(c, "finish").and_then(|f| match f {
                    Value::String(s) => Some(s),
                    f => f["reason"].as_str().map(str::to_owned),
                });
                self.finish_reason = reason.or(self.finish_reason.take());
            }
            ChunkKind::Usage => {
                self.usage = value(c, "usage").or(self.usage.take());
                self.name_model(value(c, "model").as_ref());
            }
            ChunkKind::Title => self.title = c.text().map(Into::into).or(self.title.take()),
            ChunkKind::Conversation => self.merge_conversation(value(c, "conversation")),
            ChunkKind::Provider => {
                if let Some(p) = value(c, "provider") {
                    self.provider = p["name"]
                        .as_str()
                        .map(str::to_owned)
                        .or(self.provider.take());
                    self.name_model(Some(&p["model"]));
                }
            }
            // g4f names the model it was asked for here, and may send `"model": ""`
            // in the provider and usage chunks (its automatic choice).
            ChunkKind::Parameters => {
                if let Some(p) = value(c, "parameters") {
                    self.name_model(Some(&p["model"]));
                }
            }
            ChunkKind::Error | ChunkKind::Auth => self.error = c.text().map(Into::into),
            _ => {}
        }
    }

    /// Takes a model name a chunk states; an empty or missing one never replaces
    /// a name stated before.
    fn name_model(&mut self, model: Option<&Value>) {
        if let Some(m) = model.and_then(Value::as_str).filter(|m| !m.is_empty()) {
            self.model = Some(m.to_owned());
        }
    }

    /// Merges a `conversation` chunk's state as g4f's web client does: each
    /// top-level key replaces the one before (`data[key] = value`); a state that
    /// is not an object replaces the whole.
    fn merge_conversation(&mut self, state: Option<Value>) {
        match (self.conversation.as_mut(), state) {
            (_, None | Some(Value::Null)) => {}
            (Some(Value::Object(acc)), Some(Value::Object(new))) => acc.extend(new),
            (_, Some(new)) => self.conversation = Some(new),
        }
    }

    /// The answer as one JSON object with `"type": "answer"` first.
    pub fn to_json(&self) -> String {
        /// The answer as one chunk, serialised in place (no copy of the text).
        #[derive(serde::Serialize)]
        struct AsChunk<'a> {
            #[serde(rename = "type")]
            type_: &'static str,
            #[serde(flatten)]
            answer: &'a Answer,
        }
        serde_json::to_string(&AsChunk {
            type_: "answer",
            answer: self,
        })
        .expect("an answer serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_empty_model_never_hides_the_named_one() {
        let mut a = Answer::default();
        for j in [
            r#"{"type": "provider", "provider": {"name": "Auto", "model": ""}}"#,
            r#"{"type": "parameters", "parameters": {"provider": "Auto", "model": "m1"}}"#,
            r#"{"type": "usage", "usage": {"total_tokens": 5}, "model": ""}"#,
        ] {
            a.add(&Chunk::parse(j).unwrap());
        }
        assert_eq!(a.model.as_deref(), Some("m1"));
    }

    #[test]
    fn chunks_add_up() {
        let mut a = Answer::default();
        for j in [
            r#"{"type": "provider", "provider": {"name": "P", "model": "m1", "label": "x"}}"#,
            r#"{"type": "reasoning", "token": "think "}"#,
            r#"{"type": "reasoning", "status": "done"}"#,
            r#"{"type": "content", "content": "Hel"}"#,
            r#"{"type": "content", "content": "lo\u00e9"}"#,
            r#"{"type": "title", "title": "T"}"#,
            r#"{"type": "tool_calls", "tool_calls": [{"id": "1"}]}"#,
            r#"{"type": "conversation", "conversation": {"P": {"id": 9}}}"#,
            r#"{"type": "usage", "usage": {"total_tokens": 5}, "model": "m2"}"#,
            r#"{"type": "finish", "finish": {"reason": "stop"}}"#,
            r#"{"type": "log", "log": "ignored"}"#,
        ] {
            a.add(&Chunk::parse(j).unwrap());
        }
        assert_eq!(a.content, "Helloé");
        assert_eq!(a.reasoning, "think ");
        assert_eq!(a.finish_reason.as_deref(), Some("stop"));
        assert_eq!(a.usage, Some(json!({"total_tokens": 5})));
        assert_eq!(
            (a.provider.as_deref(), a.model.as_deref()),
            (Some("P"), Some("m2"))
        );
        assert_eq!(a.conversation, Some(json!({"P": {"id": 9}})));
        assert_eq!(a.tool_calls, Some(json!([{"id": "1"}])));
        assert_eq!(a.title.as_deref(), Some("T"));
        let v: Value = serde_json::from_str(&a.to_json()).unwrap();
        assert_eq!(v["type"], "answer");
        assert_eq!(v["content"], "Helloé");
        assert!(a.to_json().starts_with("{\"type\":\"answer\","));
        a.add(&Chunk::parse(r#"{"type": "finish", "finish": "length"}"#).unwrap());
        assert_eq!(a.finish_reason.as_deref(), Some("length"));
        a.add(&Chunk::parse(r#"{"type": "error", "error": "E", "message": "E: boom"}"#).unwrap());
        assert_eq!(a.error.as_deref(), Some("E: boom"));
        assert!(!a.to_json().contains("size"), "{}", a.to_json());
    }

    #[test]
    fn the_answer_is_bounded_and_keeps_what_came_before_the_limit() {
        let chunk = |j: &str| Chunk::parse(j).unwrap();
        let mut a = Answer::default();
        a.add_within(&chunk(r#"{"type": "content", "content": "12345"}"#), 10)
            .unwrap();
        a.add_within(&chunk(r#"{"type": "reasoning", "token": "678"}"#), 10)
            .unwrap();
        // Fields that replace do not count.
        a.add_within(&chunk(r#"{"type": "title", "title": "a long title"}"#), 10)
            .unwrap();
        assert_eq!(a.size(), 8);
        let e = a
            .add_within(&chunk(r#"{"type": "content", "content": "abc"}"#), 10)
            .unwrap_err();
        assert_eq!(e.status, Status::Limit);
        assert!(e.message.contains("limit of 10 bytes"), "{}", e.message);
        assert_eq!((a.content.as_str(), a.size()), ("12345", 8));
        // Exactly at the limit is allowed; tool-call JSON counts.
        a.add_within(&chunk(r#"{"type": "content", "content": "ab"}"#), 10)
            .unwrap();
        assert_eq!(a.content, "12345ab");
        let calls = r#"{"type": "tool_calls", "tool_calls": [{"index": 0, "id": "x"}]}"#;
        assert_eq!(
            a.add_within(&chunk(calls), 20).unwrap_err().status,
            Status::Limit
        );
        assert_eq!(a.tool_calls, None);
    }

    #[test]
    fn conversation_chunks_merge_and_the_state_goes_back_unwrapped() {
        let mut a = Answer::default();
        for j in [
            r#"{"type": "provider", "provider": {"name": "Stateful", "model": "m"}}"#,
            r#"{"type": "conversation", "conversation": {"Stateful": {"conversation_id": "c-1"}}}"#,
            r#"{"type": "conversation", "conversation": {"Other": {"x": 1}}}"#,
        ] {
            a.add(&Chunk::parse(j).unwrap());
        }
        assert_eq!(
            a.conversation,
            Some(json!({"Stateful": {"conversation_id": "c-1"}, "Other": {"x": 1}}))
        );
        assert_eq!(a.state(None), Some(json!({"conversation_id": "c-1"})));
        // A later chunk for the same provider replaces its state.
        a.add(&Chunk::parse(r#"{"type": "conversation", "conversation": {"Stateful": {"conversation_id": "c-2"}}}"#).unwrap());
        assert_eq!(a.state(None), Some(json!({"conversation_id": "c-2"})));
        // Unkeyed (AnyProvider): the whole object.
        let mut any = Answer::default();
        any.add(
            &Chunk::parse(
                r#"{"type": "conversation", "conversation": {"conversation_id": "c-9", "n": 2}}"#,
            )
            .unwrap(),
        );
        assert_eq!(
            any.state(Some("AnyProvider")),
            Some(json!({"conversation_id": "c-9", "n": 2}))
        );
        // The provider asked for, when no provider chunk named one.
        let mut asked = Answer::default();
        asked.add(
            &Chunk::parse(r#"{"type": "conversation", "conversation": {"P": {"id": 1}}}"#).unwrap(),
        );
        assert_eq!(asked.state(Some("P")), Some(json!({"id": 1})));
        assert_eq!(Answer::default().state(Some("P")), None);
    }

    #[test]
    fn media_refusals_and_other_choices() {
        let mut a = Answer::new("http://h:8080");
        for j in [
            r#"{"type": "content", "content": "![cat](/media/cat.png)", "urls": ["/media/cat.png"], "alt": "cat"}"#,
            r#"{"type":"content","choice":1,"content":"other"}"#,
            r#"{"type":"finish","choice":1,"finish":{"reason":"length"}}"#,
            r#"{"type": "refusal", "refusal": "I can"}"#,
            r#"{"type": "refusal", "refusal": "not."}"#,
            r#"{"type": "finish", "finish": {"reason": "stop"}}"#,
        ] {
            a.add(&Chunk::parse(j).unwrap());
        }
        assert_eq!(a.content, "![cat](/media/cat.png)");
        assert_eq!(a.finish_reason.as_deref(), Some("stop"));
        assert_eq!(a.refusal.as_deref(), Some("I cannot."));
        let v: Value = serde_json::from_str(&a.to_json()).unwrap();
        assert_eq!(
            v["media"],
            json!([{"kind": "image", "url": "http://h:8080/media/cat.png", "alt": "cat"}])
        );
        assert_eq!(v["refusal"], "I cannot.");
    }

    #[test]
    fn tool_calls_for_the_history_lose_their_index() {
        let mut a = Answer::default();
        a.add(&Chunk::parse(r#"{"type": "tool_calls", "tool_calls": [{"index": 0, "id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}"#).unwrap());
        assert_eq!(
            a.tool_calls_for_history(),
            Some(
                json!([{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}])
            )
        );
        assert_eq!(Answer::default().tool_calls_for_history(), None);
    }
}
