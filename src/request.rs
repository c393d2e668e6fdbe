//! The chat request: model, messages, media, api key and extra body fields, and
//! the JSON body they make. Pure code: no I/O.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::header::Header;
use crate::media::{too_large, Media, DEFAULT_MAX_MEDIA};
use crate::secret::{looks_secret, ApiKey};

/// Body keys that have their own setters and cannot be set as extra fields.
const RESERVED: [&str; 4] = ["model", "messages", "media", "api_key"];

/// Where the api key goes. Its C form is a bit set, written once for C:
/// [`ffi::BACKEND_API_KEY_BODY`](crate::ffi::BACKEND_API_KEY_BODY) (`Body`),
/// [`ffi::BACKEND_API_KEY_BEARER`](crate::ffi::BACKEND_API_KEY_BEARER) (`Bearer`),
/// and both bits (`Both`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPlacement {
    Body,
    Bearer,
    Both,
}

impl KeyPlacement {
    fn in_body(self) -> bool {
        matches!(self, KeyPlacement::Body | KeyPlacement::Both)
    }

    fn as_bearer(self) -> bool {
        matches!(self, KeyPlacement::Bearer | KeyPlacement::Both)
    }
}

/// One conversation request (the arguments of the Python client's `create_async_generator`).
#[derive(Debug, Clone, Default)]
pub struct Request {
    model: String,
    messages: Vec<Value>,
    media: Vec<Media>,
    api_key: Option<(ApiKey, KeyPlacement)>,
    extra: Map<String, Value>,
    headers: Vec<Header>,
    /// The bound of one media item, when not the default.
    max_media: Option<usize>,
}

impl Request {
    pub fn new() -> Request {
        Request::default()
    }

    pub fn set_model(&mut self, model: &str) {
        self.model = model.to_owned();
    }

    /// Appends a message whose content is plain text.
    pub fn add_message(&mut self, role: &str, content: &str) {
        self.messages
            .push(serde_json::json!({"role": role, "content": content}));
    }

    /// Appends a message whose content is JSON text (a string, or a list of parts).
    pub fn add_message_json(&mut self, role: &str, content_json: &str) -> Result<()> {
        let content: Value = serde_json::from_str(content_json)
            .map_err(|e| Error::invalid(format!("message content is not valid JSON: {e}")))?;
        self.messages
            .push(serde_json::json!({"role": role, "content": content}));
        Ok(())
    }

    /// Replaces all messages with a JSON array of `{"role", "content"}` objects.
    pub fn set_messages_json(&mut self, json: &str) -> Result<()> {
        let v: Value = serde_json::from_str(json)
            .map_err(|e| Error::invalid(format!("messages are not valid JSON: {e}")))?;
        let Value::Array(items) = v else {
            return Err(Error::invalid("messages must be a JSON array"));
        };
        if let Some(i) = items
            .iter()
            .position(|m| !m.get("role").is_some_and(Value::is_string))
        {
            return Err(Error::invalid(format!(
                "message {i} has no string \"role\""
            )));
        }
        self.messages = items;
        Ok(())
    }

    pub fn add_media(&mut self, media: Media) {
        self.media.push(media);
    }

    /// Bounds each media item added afterwards by file or by bytes (default
    /// [`DEFAULT_MAX_MEDIA`]; at least 1 byte).
    pub fn set_max_media(&mut self, bytes: usize) -> Result<()> {
        if bytes == 0 {
            return Err(Error::invalid("the media limit must be at least 1 byte"));
        }
        self.max_media = Some(bytes);
        Ok(())
    }

    /// The bound of one media item.
    pub fn max_media(&self) -> usize {
        self.max_media.unwrap_or(DEFAULT_MAX_MEDIA)
    }

    /// Adds media from a file, within [`Request::max_media`] (see [`Media::from_file`]).
    pub fn add_media_file(&mut self, path: &str) -> Result<()> {
        let media = Media::from_file(path, self.max_media())?;
        self.add_media(media);
        Ok(())
    }

    /// Adds media from bytes, within [`Request::max_media`] (see [`Media::from_bytes`]).
    pub fn add_media_bytes(&mut self, data: &[u8], filename: Option<&str>) -> Result<()> {
        if data.len() > self.max_media() {
            return Err(too_large("media", data.len() as u64, self.max_media()));
        }
        self.add_media(Media::from_bytes(data, filename)?);
        Ok(())
    }

    /// Sets the api key and where it goes. Without a key, the body has no
    /// `api_key` field at all, so the server's `Authorization` fallback still works.
    pub fn set_api_key(&mut self, key: Option<&str>, placement: KeyPlacement) -> Result<()> {
        if key.is_some_and(|k| ureq::http::HeaderValue::from_str(&format!("Bearer {k}")).is_err()) {
            return Err(Error::invalid(
                "the api key holds characters a header cannot carry",
            ));
        }
        self.api_key = key.map(|k| (ApiKey(k.to_owned()), placement));
        Ok(())
    }

    /// Sets an extra body field (the Python client's `**kwargs`) from JSON text:
    /// `provider`, `conversation`, `web_search`, ... Setting one twice replaces it.
    /// When the key looks secret (`api_key`, `access_token`, ...), an error says
    /// nothing of the value, not even where it failed to parse.
    pub fn set_field_json(&mut self, key: &str, value_json: &str) -> Result<()> {
        if RESERVED.contains(&key) {
            return Err(Error::invalid(format!("{key:?} has its own setter")));
        }
        let v: Value = serde_json::from_str(value_json).map_err(|e| {
            Error::invalid(if looks_secret(key) {
                format!(
                    "value of field {key:?} is not valid JSON (not shown: the name looks secret)"
                )
            } else {
                format!("value of field {key:?} is not valid JSON: {e}")
            })
        })?;
        self.extra.insert(key.to_owned(), v);
        Ok(())
    }

    /// Sets an extra body field to a string.
    pub fn set_field_str(&mut self, key: &str, value: &str) -> Result<()> {
        self.set_field_json(key, &Value::from(value).to_string())
    }

    /// Adds a header sent with this request only, after the client's headers.
    pub fn add_header(&mut self, name: &str, value: &str) -> Result<()> {
        self.headers.push(Header::new(name, value)?);
        Ok(())
    }

    /// This request's own headers, in the order added.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// The model name.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The request that continues the conversation after `answer`: the same model,
    /// key and extra fields, the messages plus the answer as the assistant's
    /// message (its text, and its `tool_calls` when it asked for tools) and
    /// `user_message` when given (none: the conversation goes on after tool
    /// results, see [`Request::add_tool_result`]), the provider's conversation
    /// state as g4f expects it back ([`crate::answer::Answer::state`]; the state
    /// sent before stays when the answer brought none), and no media (they are in
    /// the history already).
    pub fn follow_up(&self, answer: &crate::answer::Answer, user_message: Option<&str>) -> Request {
        let mut next = self.clone();
        next.media.clear();
        let mut assistant = serde_json::json!({"role": "assistant", "content": answer.content});
        if let Some(calls) = answer.tool_calls_for_history() {
            assistant["tool_calls"] = calls;
        }
        next.messages.push(assistant);
        if let Some(m) = user_message {
            next.messages
                .push(serde_json::json!({"role": "user", "content": m}));
        }
        if let Some(c) = answer.state(self.extra.get("provider").and_then(Value::as_str)) {
            next.extra.insert("conversation".into(), c);
        }
        next
    }

    /// Appends a tool's result for the tool call `tool_call_id` asked for:
    /// `{"role": "tool", "tool_call_id": ..., "content": ...}`.
    pub fn add_tool_result(&mut self, tool_call_id: &str, content: &str) -> Result<()> {
        if tool_call_id.is_empty() {
            return Err(Error::invalid("the tool call id is empty"));
        }
        self.messages.push(
            serde_json::json!({"role": "tool", "tool_call_id": tool_call_id, "content": content}),
        );
        Ok(())
    }

    /// The `Authorization` header value, when the key is to be sent as a bearer
    /// token; with `always`, whatever its placement (the OpenAI-compatible protocol).
    pub(crate) fn bearer(&self, always: bool) -> Option<String> {
        match &self.api_key {
            Some((k, p)) if always || p.as_bearer() => Some(format!("Bearer {}", k.0)),
            _ => None,
        }
    }

    /// The api key, when it is to be sent in the body.
    pub(crate) fn body_api_key(&self) -> Option<&str> {
        match &self.api_key {
            Some((k, p)) if p.in_body() => Some(&k.0),
            _ => None,
        }
    }

    /// The messages, in order.
    pub(crate) fn messages(&self) -> &[Value] {
        &self.messages
    }

    /// The media items, in order.
    pub(crate) fn media(&self) -> &[Media] {
        &self.media
    }

    /// The extra body fields.
    pub(crate) fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    /// The JSON body: `model`, `messages`, `media` (a list of `[uri, filename]` or
    /// null), `api_key` (only when set for the body), then the extra fields.
    pub fn body(&self) -> Vec<u8> {
        self.body_with_key(self.body_api_key())
    }

    /// [`Request::body`] without `api_key` whatever its placement: what a caller
    /// may inspect, since the key never leaves the library.
    pub fn body_without_key(&self) -> Vec<u8> {
        self.body_with_key(None)
    }

    /// The JSON body with `key` as its `api_key` field (none when `None`).
    fn body_with_key(&self, key: Option<&str>) -> Vec<u8> {
        let mut m = Map::new();
        m.insert("model".into(), Value::from(self.model.as_str()));
        m.insert("messages".into(), Value::Array(self.messages.clone()));
        let media = if self.media.is_empty() {
            Value::Null
        } else {
            self.media
                .iter()
                .map(|x| serde_json::json!([x.uri, x.filename]))
                .collect()
        };
        m.insert("media".into(), media);
        if let Some(k) = key {
            m.insert("api_key".into(), Value::from(k));
        }
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        serde_json::to_vec(&Value::Object(m)).expect("a JSON value always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &Request) -> Value {
        serde_json::from_slice(&r.body()).unwrap()
    }

    #[test]
    fn minimal_body_has_null_media_and_no_api_key() {
        let mut r = Request::new();
        r.set_model("gpt-4o");
        r.add_message("user", "hi");
        let b = body(&r);
        assert_eq!(b["model"], "gpt-4o");
        assert_eq!(
            b["messages"],
            serde_json::json!([{"role": "user", "content": "hi"}])
        );
        assert_eq!(b["media"], Value::Null);
        assert!(b.get("api_key").is_none());
        assert_eq!(r.bearer(false), None);
    }

    #[test]
    fn api_key_placements() {
        let mut r = Request::new();
        r.set_api_key(Some("sk-1"), KeyPlacement::Both).unwrap();
        assert_eq!(body(&r)["api_key"], "sk-1");
        assert_eq!(r.bearer(false).as_deref(), Some("Bearer sk-1"));
        r.set_api_key(Some("sk-2"), KeyPlacement::Bearer).unwrap();
        assert!(body(&r).get("api_key").is_none());
        r.set_api_key(Some("sk-3"), KeyPlacement::Body).unwrap();
        let shown = String::from_utf8(r.body_without_key()).unwrap();
        assert!(
            !shown.contains("sk-3") && !shown.contains("api_key"),
            "{shown}"
        );
        assert!(r.set_api_key(Some("a\nb"), KeyPlacement::Body).is_err());
        assert!(!format!("{r:?}").contains("sk-3"));
    }

    #[test]
    fn extra_fields_and_media() {
        let mut r = Request::new();
        r.set_field_json("provider", "\"PollinationsAI\"").unwrap();
        r.set_field_json("conversation", r#"{"a":{"id":1}}"#)
            .unwrap();
        r.set_field_str("action", "continue").unwrap();
        assert!(r.set_field_json("model", "\"x\"").is_err());
        assert!(r
            .set_field_json("k", "{oops")
            .unwrap_err()
            .message
            .contains("line 1 column 2"));
        let e = r.set_field_json("my_token", "{sk-1").unwrap_err();
        assert!(
            !e.message.contains("line") && e.message.contains("looks secret"),
            "{}",
            e.message
        );
        r.add_media(Media::from_uri("https://x/a.png", Some("a.png")).unwrap());
        r.add_media(Media::from_uri("data:image/png;base64,AA==", None).unwrap());
        let b = body(&r);
        assert_eq!(b["provider"], "PollinationsAI");
        assert_eq!(b["conversation"]["a"]["id"], 1);
        assert_eq!(b["action"], "continue");
        assert_eq!(
            b["media"],
            serde_json::json!([
                ["https://x/a.png", "a.png"],
                ["data:image/png;base64,AA==", null]
            ])
        );
    }

    #[test]
    fn follow_up_continues_the_conversation() {
        let mut r = Request::new();
        r.set_model("m");
        r.add_message("user", "first");
        r.set_field_str("provider", "P").unwrap();
        r.add_media(Media::from_uri("https://x/a.png", None).unwrap());
        let mut answer = crate::answer::Answer::default();
        answer.content = "reply".into();
        answer.conversation = Some(serde_json::json!({"P": {"id": 3}}));
        let b = body(&r.follow_up(&answer, Some("second")));
        assert_eq!(
            b["messages"],
            serde_json::json!([{"role": "user", "content": "first"}, {"role": "assistant", "content": "reply"}, {"role": "user", "content": "second"}])
        );
        assert_eq!(b["conversation"], serde_json::json!({"id": 3}));
        assert_eq!(
            (b["provider"].as_str(), b["model"].as_str()),
            (Some("P"), Some("m"))
        );
        assert_eq!(b["media"], Value::Null);
    }

    #[test]
    fn media_is_bounded_by_the_request_limit() {
        let mut r = Request::new();
        assert_eq!(r.max_media(), DEFAULT_MAX_MEDIA);
        assert!(r.set_max_media(0).is_err());
        r.set_max_media(4).unwrap();
        let e = r.add_media_bytes(b"GIF8", Some("a.gif")).unwrap_err();
        assert_eq!(
            e.status,
            crate::Status::Media,
            "within the limit, still checked"
        );
        let e = r.add_media_bytes(b"GIF89a", Some("a.gif")).unwrap_err();
        assert_eq!(e.status, crate::Status::Limit);
        assert!(e.message.contains("6 bytes"), "{}", e.message);
        r.set_max_media(6).unwrap();
        r.add_media_bytes(b"GIF89a", Some("a.gif")).unwrap();
        assert_eq!(r.media().len(), 1);
    }

    #[test]
    fn messages_json() {
        let mut r = Request::new();
        r.add_message_json("user", r#"[{"type":"text","text":"hi"}]"#)
            .unwrap();
        assert_eq!(body(&r)["messages"][0]["content"][0]["text"], "hi");
        assert!(r.set_messages_json(r#"{"role":"user"}"#).is_err());
        assert!(r.set_messages_json(r#"[{"content":"x"}]"#).is_err());
        r.set_messages_json(r#"[{"role":"system","content":"s"},{"role":"user","content":"u"}]"#)
            .unwrap();
        assert_eq!(body(&r)["messages"].as_array().unwrap().len(), 2);
    }
}
