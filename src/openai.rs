//! The OpenAI-compatible protocol (`POST {base}/chat/completions` with
//! `"stream": true`, as served by `g4f api` under `/v1`, OpenAI, ollama,
//! llama.cpp, vLLM, LM Studio): the request body it takes, and the translation of
//! its `chat.completion.chunk` events into this library's chunks. Pure code.
//!
//! Each event becomes one or more chunks in the backend API's shape, so callers
//! handle both protocols alike, and every chunk keeps the event it came from,
//! byte for byte, under the key `"event"`:
//!
//! | in the event | chunk |
//! |---|---|
//! | `model` (first event that has one), `provider` (g4f) | `{"type":"provider","provider":{"name","model"}}` |
//! | `choices[i].delta.reasoning_content`, else `.reasoning` (g4f) | `{"type":"reasoning","token"}` |
//! | `choices[i].delta.content` (text, or text parts joined) | `{"type":"content","content"}` (+ `logprobs`) |
//! | `choices[i].delta.refusal` | `{"type":"refusal","refusal"}` (+ `logprobs`) |
//! | `choices[i].delta.tool_calls` (deltas with an `index`) | `{"type":"tool_calls","tool_calls"}` |
//! | `choices[i].finish_reason` | `{"type":"finish","finish":{"reason"}}` |
//! | `usage` | `{"type":"usage","usage","model"}` |
//! | `conversation` (g4f) | `{"type":"conversation","conversation"}` |
//! | `error` (fatal: nothing else of the event is read) | `{"type":"error","error","message"}` |
//! | none of these (a role-only delta, ...) | `{"type":"openai"}` |
//!
//! `choices[i].message` is read like `delta` (a server that answers one whole
//! `chat.completion` object). Every choice (`n` > 1) makes its own chunks, in
//! the event's order; those of a choice other than the first carry
//! `"choice": i` right after `type` (see `Chunk::choice`), and the assembled
//! answer follows choice 0. A choice's `logprobs` (when not null) go with its
//! content and refusal chunks, readable as `/logprobs/content/0/logprob`.

use serde_json::{Map, Value};

use crate::chunk::{Chunk, Malformed};
use crate::media::Media;
use crate::request::Request;

/// The chat endpoint, after a base URL such as `http://host:1337/v1`.
pub const CHAT_PATH: &str = "/chat/completions";
/// The model listing, after the same base URL.
pub const MODELS_PATH: &str = "/models";

/// The JSON body: `model`, `messages` (the request's media appended to the last
/// user message as content parts), `"stream": true`, `stream_options` asking for
/// usage, `api_key` only when placed in the body, then the extra fields (which
/// may replace `stream_options`).
pub fn body(request: &Request) -> Vec<u8> {
    let mut m = Map::new();
    m.insert("model".into(), Value::from(request.model()));
    let mut messages = request.messages().to_vec();
    attach_media(&mut messages, request.media());
    m.insert("messages".into(), Value::Array(messages));
    m.insert("stream".into(), Value::Bool(true));
    m.insert(
        "stream_options".into(),
        serde_json::json!({"include_usage": true}),
    );
    if let Some(k) = request.body_api_key() {
        m.insert("api_key".into(), Value::from(k));
    }
    for (k, v) in request.extra() {
        m.insert(k.clone(), v.clone());
    }
    serde_json::to_vec(&Value::Object(m)).expect("a JSON value always serialises")
}

/// One media item as an OpenAI content part: audio `data:` URIs as `input_audio`
/// (base64 and the format named by the MIME subtype: `mpeg` is `mp3`), video
/// `data:` URIs as `video_url` (as vLLM and others take video), anything else
/// (images, http(s) URLs) as `image_url`.
fn media_part(media: &Media) -> Value {
    if media.uri.starts_with("data:video/") {
        return serde_json::json!({"type": "video_url", "video_url": {"url": media.uri}});
    }
    let audio = media
        .uri
        .strip_prefix("data:audio/")
        .and_then(|rest| rest.split_once(";base64,"));
    match audio {
        Some((subtype, data)) => {
            let format = match subtype {
                "mpeg" => "mp3",
                "x-wav" | "wave" => "wav",
                s => s,
            };
            serde_json::json!({"type": "input_audio", "input_audio": {"data": data, "format": format}})
        }
        None => serde_json::json!({"type": "image_url", "image_url": {"url": media.uri}}),
    }
}

/// Appends the media parts to the last user message (its text becomes a text
/// part), or to a new user message when there is none.
fn attach_media(messages: &mut Vec<Value>, media: &[Media]) {
    if media.is_empty() {
        return;
    }
    let parts = media.iter().map(media_part);
    let Some(last) = messages.iter_mut().rev().find(|m| m["role"] == "user") else {
        messages.push(serde_json::json!({"role": "user", "content": parts.collect::<Vec<_>>()}));
        return;
    };
    let mut content = match last["content"].take() {
        Value::Array(items) => items,
        Value::String(s) if !s.is_empty() => vec![serde_json::json!({"type": "text", "text": s})],
        Value::Null | Value::String(_) => Vec::new(),
        other => vec![other],
    };
    content.extend(parts);
    last["content"] = Value::Array(content);
}

/// Turns events into chunks; remembers whether the provider was announced.
#[derive(Debug, Default)]
pub struct Translator {
    announced: bool,
}

/// A chunk's JSON text in the backend API's shape: `type`, then `fields` (JSON
/// values), then the raw event.
fn chunk_json(type_: &str, fields: &[(&str, Value)], event: &str) -> String {
    let mut s = String::with_capacity(event.len() + 64);
    s.push_str("{\"type\":");
    s.push_str(&Value::from(type_).to_string());
    for (k, v) in fields {
        s.push(',');
        s.push_str(&Value::from(*k).to_string());
        s.push(':');
        s.push_str(&v.to_string());
    }
    s.push_str(",\"event\":");
    s.push_str(event.trim());
    s.push('}');
    s
}

/// A string value, or the text parts of a list of content parts joined.
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => Some(
            parts
                .iter()
                .filter_map(|p| p["text"].as_str().or(p.as_str()))
                .collect(),
        ),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

impl Translator {
    pub fn new() -> Translator {
        Translator::default()
    }

    /// Translates one event's JSON text, calling `emit` for each chunk. On error
    /// (not a JSON object) hands the text back with the reason.
    pub fn translate(
        &mut self,
        event: String,
        emit: &mut impl FnMut(Chunk),
    ) -> Result<(), Malformed> {
        let v: Value = match serde_json::from_str(&event) {
            Ok(Value::Object(o)) => Value::Object(o),
            Ok(_) => return Err(Malformed::new("not a JSON object", event)),
            Err(e) => return Err(Malformed::new(e.to_string(), event)),
        };
        let mut out: Vec<String> = Vec::new();
        let mut push = |t: &str, fields: &[(&str, Value)]| out.push(chunk_json(t, fields, &event));
        if !v["error"].is_null() {
            let e = &v["error"];
            let message = e["message"]
                .as_str()
                .or(e.as_str())
                .map_or_else(|| e.to_string(), str::to_owned);
            let name = ["type", "code"]
                .iter()
                .find_map(|k| {
                    e[k].as_str()
                        .map(str::to_owned)
                        .or_else(|| e[k].as_i64().map(|n| n.to_string()))
                })
                .unwrap_or_else(|| "error".to_owned());
            push(
                "error",
                &[("error", name.into()), ("message", message.into())],
            );
        } else {
            if let (false, Some(model)) = (self.announced, v["model"].as_str()) {
                self.announced = true;
                let name = v["provider"].as_str().map_or(Value::Null, Value::from);
                push(
                    "provider",
                    &[(
                        "provider",
                        serde_json::json!({"name": name, "model": model}),
                    )],
                );
            }
            for (position, choice) in v["choices"].as_array().into_iter().flatten().enumerate() {
                let index = choice["index"].as_u64().unwrap_or(position as u64);
                // Choices past the first carry their index, right after `type`.
                let mut push_choice = |t: &str, fields: &[(&str, Value)]| {
                    let mut all = Vec::with_capacity(fields.len() + 1);
                    if index != 0 {
                        all.push(("choice", Value::from(index)));
                    }
                    all.extend_from_slice(fields);
                    push(t, &all);
                };
                let delta = if choice["delta"].is_object() {
                    &choice["delta"]
                } else {
                    &choice["message"]
                };
                let reasoning = ["reasoning_content", "reasoning"]
                    .iter()
                    .find_map(|k| text_of(&delta[k]));
                if let Some(r) = reasoning {
                    push_choice("reasoning", &[("token", r.into())]);
                }
                let logprobs = &choice["logprobs"];
                let with_logprobs = |mut fields: Vec<(&'static str, Value)>| {
                    if !logprobs.is_null() {
                        fields.push(("logprobs", logprobs.clone()));
                    }
                    fields
                };
                if let Some(c) = text_of(&delta["content"]) {
                    push_choice("content", &with_logprobs(vec![("content", c.into())]));
                }
                if let Some(r) = text_of(&delta["refusal"]) {
                    push_choice("refusal", &with_logprobs(vec![("refusal", r.into())]));
                }
                if delta["tool_calls"]
                    .as_array()
                    .is_some_and(|t| !t.is_empty())
                {
                    push_choice("tool_calls", &[("tool_calls", delta["tool_calls"].clone())]);
                }
                if let Some(reason) = choice["finish_reason"].as_str() {
                    push_choice(
                        "finish",
                        &[("finish", serde_json::json!({"reason": reason}))],
                    );
                }
            }
            if v["usage"].is_object() {
                push(
                    "usage",
                    &[("usage", v["usage"].clone()), ("model", v["model"].clone())],
                );
            }
            if v["conversation"].is_object() {
                push(
                    "conversation",
                    &[("conversation", v["conversation"].clone())],
                );
            }
        }
        if out.is_empty() {
            out.push(chunk_json("openai", &[], &event));
        }
        for json in out {
            emit(Chunk::parse_owned(json).map_err(|m| Malformed::new(m.why, event.clone()))?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::{ChunkKind, Field};
    use crate::request::KeyPlacement;

    fn chunks(events: &[&str]) -> Vec<Chunk> {
        let mut t = Translator::new();
        let mut out = Vec::new();
        for e in events {
            t.translate((*e).to_owned(), &mut |c| out.push(c)).unwrap();
        }
        out
    }

    fn kinds(c: &[Chunk]) -> Vec<ChunkKind> {
        c.iter().map(Chunk::kind).collect()
    }

    #[test]
    fn g4f_events_map_to_the_backend_kinds_and_keep_the_event() {
        let first = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","provider":"P","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#;
        let c = chunks(&[
            first,
            r#"{"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning":"think"},"finish_reason":null}]}"#,
            r#"{"model":"m","choices":[{"index":0,"delta":{"content":"Hel\u00e9"},"finish_reason":null}]}"#,
            r#"{"model":"m","choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#,
        ]);
        use ChunkKind::*;
        assert_eq!(kinds(&c), [Provider, Reasoning, Content, Finish, Usage]);
        assert_eq!(c[0].field("event"), Some(Field::Json(first.to_owned())));
        assert_eq!(c[1].text().as_deref(), Some("think"));
        assert_eq!(c[2].text().as_deref(), Some("Helé"));
        assert_eq!(
            c[3].field("finish").unwrap().as_str(),
            r#"{"reason":"stop"}"#
        );
        let mut a = crate::answer::Answer::default();
        c.iter().for_each(|c| a.add(c));
        assert_eq!(
            (a.content.as_str(), a.reasoning.as_str()),
            ("Helé", "think")
        );
        assert_eq!(a.finish_reason.as_deref(), Some("stop"));
        assert_eq!(a.usage.as_ref().unwrap()["total_tokens"], 5);
        assert_eq!(
            (a.provider.as_deref(), a.model.as_deref()),
            (Some("P"), Some("m"))
        );
    }

    #[test]
    fn role_only_events_stay_as_openai_chunks() {
        let c = chunks(&[r#"{"choices":[{"index":0,"delta":{"role":"assistant"}}]}"#]);
        assert_eq!(
            (c.len(), c[0].kind(), c[0].type_()),
            (1, ChunkKind::Other, "openai")
        );
    }

    #[test]
    fn reasoning_content_wins_over_reasoning_and_parts_join() {
        let c = chunks(&[
            r#"{"choices":[{"index":0,"delta":{"reasoning_content":"a","reasoning":"a"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":[{"type":"text","text":"x"},{"type":"text","text":"y"}]}}]}"#,
        ]);
        assert_eq!(kinds(&c), [ChunkKind::Reasoning, ChunkKind::Content]);
        assert_eq!(c[1].text().as_deref(), Some("xy"));
    }

    #[test]
    fn tool_call_deltas_assemble_by_index() {
        let c = chunks(&[
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}},{"index":1,"id":"call_2","type":"function","function":{"name":"put","arguments":"{}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]},"finish_reason":"tool_calls"}]}"#,
        ]);
        let mut a = crate::answer::Answer::default();
        c.iter().for_each(|c| a.add(c));
        assert_eq!(
            a.tool_calls,
            Some(serde_json::json!([
                {"index":0,"id":"call_1","type":"function","function":{"name":"get","arguments":"{\"a\":1}"}},
                {"index":1,"id":"call_2","type":"function","function":{"name":"put","arguments":"{}"}}
            ]))
        );
        assert_eq!(a.finish_reason.as_deref(), Some("tool_calls"));
    }

    #[test]
    fn errors_usage_only_and_whole_messages() {
        let c = chunks(&[
            r#"{"error":{"message":"MissingAuthError: Authentication required"},"model":"m","provider":"P"}"#,
        ]);
        assert_eq!(kinds(&c), [ChunkKind::Error]);
        assert!(c[0].is_fatal());
        assert_eq!(
            c[0].text().as_deref(),
            Some("MissingAuthError: Authentication required")
        );
        let c =
            chunks(&[r#"{"error":{"message":"m","type":"invalid_request_error","code":null}}"#]);
        assert_eq!(
            c[0].field("error").unwrap().as_str(),
            "invalid_request_error"
        );
        let c = chunks(&[r#"{"choices":[],"usage":{"total_tokens":9}}"#]);
        assert_eq!(kinds(&c), [ChunkKind::Usage]);
        let c = chunks(&[
            r#"{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"all"},"finish_reason":"length"}]}"#,
        ]);
        assert_eq!(kinds(&c), [ChunkKind::Content, ChunkKind::Finish]);
        let c = chunks(&[r#"{"choices":[{"index":0,"delta":{}}],"conversation":{"P":{"id":1}}}"#]);
        assert_eq!(kinds(&c), [ChunkKind::Conversation]);
    }

    #[test]
    fn what_is_not_an_object_is_refused_with_its_text() {
        let mut t = Translator::new();
        for bad in ["[1]", "{oops", "\"s\""] {
            let m = t.translate(bad.to_owned(), &mut |_| {}).unwrap_err();
            assert_eq!(m.text, bad.as_bytes());
        }
    }

    #[test]
    fn body_streams_with_usage_and_media_as_content_parts() {
        let mut r = Request::new();
        r.set_model("m");
        r.add_message("system", "s");
        r.add_message("user", "look");
        r.add_media(Media::from_bytes(b"GIF89a", Some("a.gif")).unwrap());
        r.add_media(Media::from_bytes(b"ID3", Some("a.mp3")).unwrap());
        r.set_field_str("provider", "P").unwrap();
        r.set_api_key(Some("sk-1"), KeyPlacement::Bearer).unwrap();
        let b: Value = serde_json::from_slice(&body(&r)).unwrap();
        assert_eq!(b["stream"], true);
        assert_eq!(b["stream_options"]["include_usage"], true);
        assert_eq!(b["provider"], "P");
        assert!(b.get("api_key").is_none() && b.get("media").is_none());
        assert_eq!(
            b["messages"][1]["content"],
            serde_json::json!([
                {"type":"text","text":"look"},
                {"type":"image_url","image_url":{"url":"data:image/gif;base64,R0lGODlh"}},
                {"type":"input_audio","input_audio":{"data":"SUQz","format":"mp3"}}
            ])
        );
        r.set_api_key(Some("sk-1"), KeyPlacement::Body).unwrap();
        let b: Value = serde_json::from_slice(&body(&r)).unwrap();
        assert_eq!(b["api_key"], "sk-1");
        let mut r = Request::new();
        r.add_media(Media::from_uri("https://x/y.png", None).unwrap());
        let b: Value = serde_json::from_slice(&body(&r)).unwrap();
        assert_eq!(b["messages"][0]["role"], "user");
    }

    #[test]
    fn every_choice_makes_chunks_and_the_answer_follows_the_first() {
        let c = chunks(&[
            r#"{"model":"m","choices":[{"index":0,"delta":{"content":"Re"}},{"index":1,"delta":{"content":"Bl"}}]}"#,
            r#"{"model":"m","choices":[{"index":1,"delta":{"content":"ue"},"finish_reason":"length"},{"index":0,"delta":{"content":"d"},"finish_reason":"stop"}]}"#,
        ]);
        let by_choice: Vec<(u32, ChunkKind)> = c.iter().map(|c| (c.choice(), c.kind())).collect();
        use ChunkKind::*;
        assert_eq!(
            by_choice,
            [
                (0, Provider),
                (0, Content),
                (1, Content),
                (1, Content),
                (1, Finish),
                (0, Content),
                (0, Finish)
            ]
        );
        let mut a = crate::answer::Answer::default();
        c.iter().for_each(|c| a.add(c));
        assert_eq!(a.content, "Red");
        assert_eq!(a.finish_reason.as_deref(), Some("stop"));
        let second: String = c
            .iter()
            .filter(|c| c.choice() == 1 && c.kind() == Content)
            .filter_map(|c| c.text().map(|t| t.into_owned()))
            .collect();
        assert_eq!(second, "Blue");
    }

    #[test]
    fn refusals_and_logprobs() {
        let c = chunks(&[
            r#"{"choices":[{"index":0,"delta":{"refusal":"I can't"},"logprobs":{"refusal":[{"token":"I","logprob":-0.1}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"x"},"logprobs":{"content":[{"token":"x","logprob":-0.5,"top_logprobs":[]}]}}]}"#,
        ]);
        assert_eq!(c[0].kind(), ChunkKind::Refusal);
        assert_eq!(c[0].type_(), "refusal");
        assert_eq!(c[0].text().as_deref(), Some("I can't"));
        let doc: Value = serde_json::from_str(c[1].json()).unwrap();
        assert_eq!(
            crate::pointer::resolve(&doc, "/logprobs/content/0/logprob").unwrap(),
            Some(&serde_json::json!(-0.5))
        );
        let mut a = crate::answer::Answer::default();
        c.iter().for_each(|c| a.add(c));
        assert_eq!(a.refusal.as_deref(), Some("I can't"));
    }
}
