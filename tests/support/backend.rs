//! The project's own test backend: a real HTTP/1.1 server on loopback that speaks
//! like a g4f server (both framings) and misbehaves on demand. Used in-process by
//! the Rust tests and as the `test_backend` example binary by the C, Go and Swift
//! tests and the demo.
//!
//! Scenario fields in the conversation body (all optional, the `**kwargs` channel):
//! - `test_framing`: `"sse"` (default, g4f >= 6.7.5), `"ndjson"` (g4f <= 6.7.4), or
//!   `"sse-crlf"` (CRLF line ends, comments, `id:`/`retry:`, multi-line `data:`).
//! - `test_chunks`: N content chunks `"part{i} "`; default: a short canned answer.
//! - `test_part_bytes`: pads each of those chunks' content with `x` to this length.
//! - `test_delay_ms`: pause before each content chunk.
//! - `test_keepalive_ms`: during pauses, an SSE `: keep-alive` comment this often.
//! - `test_conversation`: after the content, a `conversation` chunk carrying this
//!   JSON as the provider's state (not under the OpenAI-compatible protocol).
//! - `test_echo`: first a content chunk `"ECHO:" + {"body":..., "headers":{...}}`.
//! - `test_status`: answer with this status and a g4f JSON error body;
//!   `test_html`: with an HTML body instead; `test_location`: with this `Location`;
//!   `test_error_text`: this text as the JSON error's message, or the HTML page's title.
//! - `test_fault`: `stall` (chunks, then hold the socket open), `no_answer` (read the
//!   request, never answer), `cut_mid_line`, `cut_mid_chunk`, `malformed`, `oversized`
//!   (one 2 MiB line), `error_chunk` (an in-stream `error` chunk after the content,
//!   then a `log` chunk), `invalid_utf8`, `gzip` (Content-Encoding without being
//!   asked), `drip` (one byte of a line every 50 ms, never finished), `endless`.
//! - `test_fail_key` + `test_fail_times`: the first N requests carrying that key get
//!   `test_fail_status` (default 503), with `Retry-After: test_retry_after` when given.
//! - `provider`: anything but null or `"TestBackend"` gets g4f's 404.
//!
//! - `test_extras` (true): a reasoning chunk before the content and tool calls
//!   after it (OpenAI: as deltas split over three events).
//! - `test_no_done` (true, OpenAI only): the stream ends without `data: [DONE]`.
//! - `test_keep_connection` (true): a streamed answer without `Connection: close`,
//!   and the connection stays open for the next request after the body's end (so a
//!   client's kept connection is reused); other answers still close it.
//!
//! `POST /v1/chat/completions` speaks the OpenAI-compatible protocol with the
//! same scenarios: each chunk above becomes a `chat.completion.chunk` event
//! (`log` chunks none), the stream ends with `data: [DONE]` (not after an error,
//! as `g4f api`), and errors have OpenAI's body. `GET /v1/models` lists one model.
//!
//! `GET /backend-api/v2/models/Stalling` sends the headers and the first bytes of
//! a listing, then holds the socket open.
//!
//! Every stream's response carries `X-Request-Id: req-test` and
//! `X-RateLimit-Remaining-Requests: 99`.
//!
//! Generated media: `test_media` (true, backend API) adds a content chunk as g4f
//! sends a stored image (`urls: ["/media/test-dot.png"]`, `alt`);
//! `test_media_url` (a string) puts that URL in `urls` instead. `GET
//! /media/test-dot.png` serves [`TEST_DOT`] (`image/png`); `GET
//! /media/headers.json` answers the request's headers as a JSON object.
//! `GET /backend-api/v2/providers` and `/v1/providers` list one provider.
//!
//! `test_openai` (OpenAI-compatible protocol only) sends a scripted stream:
//! - `"choices"`: two choices (`n` = 2) interleaved, `Re`+`d` (stop) and
//!   `Bl`+`ue` (length), with `logprobs` on choice 0's content;
//! - `"refusal"`: a refusal in two pieces, then finish `stop`;
//! - `"agent"`: a tool call `get_weather({"city":"Paris"})` (id `call_w1`, as
//!   deltas), finish `tool_calls`; when the last message is a tool result, the
//!   answer `The weather in Paris: <the result>` instead, finish `stop`.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The image `GET /media/test-dot.png` serves: a PNG's first bytes and some more.
pub const TEST_DOT: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR test dot";

/// A backend running on its own thread; dropped with the process.
pub struct Backend {
    pub url: String,
}

impl Backend {
    /// Starts a backend on 127.0.0.1 with a free port, on a thread of its own.
    pub fn start() -> Backend {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap().port()).unwrap();
                serve(listener).await
            });
        });
        let port = rx.recv().unwrap();
        Backend {
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

/// Accepts connections for ever, one task each.
pub async fn serve(listener: TcpListener) {
    loop {
        let Ok((sock, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let _ = handle(sock).await;
        });
    }
}

type Io = std::io::Result<()>;

/// Serves the requests of one connection: one, or more while each asks to keep it.
async fn handle(sock: TcpStream) -> Io {
    sock.set_nodelay(true)?;
    let mut r = BufReader::new(sock);
    while handle_one(&mut r).await? {}
    Ok(())
}

/// Whether a conversation request asks the answer to keep its connection open
/// (`test_keep_connection`).
fn keeps_connection(body: &Value) -> bool {
    body["test_keep_connection"] == true
}

/// Serves one request; true when the connection stays open for the next one.
async fn handle_one(r: &mut BufReader<TcpStream>) -> std::io::Result<bool> {
    let mut line = String::new();
    r.read_line(&mut line).await?;
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let mut headers = serde_json::Map::new();
    let mut len = 0usize;
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(false);
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_owned());
            if k == "content-length" {
                len = v.parse().unwrap_or(0);
            }
            headers.insert(k, Value::String(v));
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).await?;
    let keep = serde_json::from_slice(&body).is_ok_and(|b| keeps_connection(&b));
    let w = r.get_mut();
    match (method.as_str(), path.as_str()) {
        ("POST", "/backend-api/v2/conversation") => conversation(w, &body, headers, false).await,
        ("POST", "/v1/chat/completions") => conversation(w, &body, headers, true).await,
        ("GET", "/v1/models") => {
            let list = json!({"object": "list", "data": [{"id": "test-model", "object": "model", "created": 0, "owned_by": "TestBackend"}]});
            reply(w, 200, "application/json", list.to_string().as_bytes()).await
        }
        ("GET", "/backend-api/v2/models") => {
            reply(
                w,
                200,
                "application/json",
                br#"{"TestBackend":["test-model","test-vision"]}"#,
            )
            .await
        }
        ("GET", "/backend-api/v2/models/TestBackend") => {
            let list = json!([{"model": "test-model", "label": "Test", "default": true, "vision": false, "image": false, "audio": false, "video": false, "count": null, "tags": []}]);
            reply(w, 200, "application/json", list.to_string().as_bytes()).await
        }
        ("GET", "/backend-api/v2/providers") => {
            let list = json!([{"name": "TestBackend", "label": "Test Backend", "parent": null, "image": 0, "audio": 0, "video": 0, "vision": false, "auth": false, "login_url": null, "live": 0}]);
            reply(w, 200, "application/json", list.to_string().as_bytes()).await
        }
        ("GET", "/v1/providers") => {
            let list = json!([{"id": "TestBackend", "object": "provider", "created": 0, "url": "http://127.0.0.1", "label": "Test Backend"}]);
            reply(w, 200, "application/json", list.to_string().as_bytes()).await
        }
        ("GET", "/media/test-dot.png") => reply(w, 200, "image/png", TEST_DOT).await,
        ("GET", "/media/headers.json") => {
            reply(
                w,
                200,
                "application/json",
                Value::Object(headers).to_string().as_bytes(),
            )
            .await
        }
        ("GET", "/backend-api/v2/models/Stalling") => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{\"model\":";
            w.write_all(head.as_bytes()).await?;
            hold(w).await
        }
        ("POST", _) | ("GET", _) => {
            reply(
                w,
                404,
                "application/json",
                br#"{"error":{"message":"Not found"}}"#,
            )
            .await
        }
        _ => reply(w, 405, "text/html", b"<h1>Method Not Allowed</h1>").await,
    }?;
    Ok(keep)
}

async fn reply(w: &mut TcpStream, status: u16, ctype: &str, body: &[u8]) -> Io {
    reply_with(w, status, ctype, "", body).await
}

/// A whole response; `extra` holds more header lines, each ending in CRLF.
async fn reply_with(w: &mut TcpStream, status: u16, ctype: &str, extra: &str, body: &[u8]) -> Io {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
        body.len()
    );
    w.write_all(head.as_bytes()).await?;
    w.write_all(body).await?;
    w.shutdown().await
}

/// Writes one HTTP chunk (nothing for no data: an empty chunk would end the body).
async fn chunk(w: &mut TcpStream, data: &[u8]) -> Io {
    if data.is_empty() {
        return Ok(());
    }
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    w.write_all(&out).await
}

/// A chunk as g4f writes it (`json.dumps`: `type` first, `", "` and `": "` separators).
fn obj(t: &str, fields: Value) -> String {
    let mut s = format!("{{\"type\": {}", json!(t));
    for (k, v) in fields.as_object().into_iter().flatten() {
        s.push_str(&format!(", {}: {}", json!(k), v));
    }
    s.push('}');
    s
}

/// A chunk as an OpenAI `chat.completion.chunk` event (or error object), as
/// `g4f api` writes them; `None` for chunks it does not send (`log`).
fn openai_event(t: &str, fields: &Value) -> Option<Value> {
    let choice = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": "test-model", "provider": "TestBackend",
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    Some(match t {
        "provider" => choice(json!({"role": "assistant", "content": ""}), Value::Null),
        "content" => choice(json!({"content": fields["content"]}), Value::Null),
        "reasoning" => choice(json!({"reasoning_content": fields["token"]}), Value::Null),
        "tool_calls" => choice(json!({"tool_calls": fields["tool_calls"]}), Value::Null),
        "finish" => choice(json!({}), fields["finish"]["reason"].clone()),
        "usage" => {
            json!({"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": "test-model", "choices": [], "usage": fields["usage"]})
        }
        "error" => json!({"error": {"message": fields["message"], "type": fields["error"]}}),
        _ => return None,
    })
}

/// One chunk in the framing asked for.
fn frame(framing: &str, t: &str, fields: Value) -> Vec<u8> {
    if framing == "openai" {
        return openai_event(t, &fields)
            .map(|e| format!("data: {e}\n\n").into_bytes())
            .unwrap_or_default();
    }
    let json = obj(t, fields);
    match framing {
        "ndjson" => format!("{json}\n").into_bytes(),
        "sse-crlf" => {
            // Split the object after its first comma over two data lines.
            let (a, b) = json.split_at(json.find(',').map_or(json.len(), |i| i + 1));
            format!(": keep-alive\r\nid: 1\r\nretry: 1000\r\nevent: {t}\r\ndata: {a}\r\ndata: {b}\r\n\r\n").into_bytes()
        }
        _ => format!("event: {t}\ndata: {json}\n\n").into_bytes(),
    }
}

fn canned(body: &Value) -> Vec<String> {
    let said = body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or("nothing");
    format!("Hello from the bundled offline backend! You said: {said}")
        .split_inclusive(' ')
        .map(str::to_owned)
        .collect()
}

async fn conversation(
    w: &mut TcpStream,
    raw: &[u8],
    headers: serde_json::Map<String, Value>,
    openai: bool,
) -> Io {
    let Ok(body) = serde_json::from_slice::<Value>(raw) else {
        return reply(
            w,
            400,
            "application/json",
            br#"{"error":{"message":"Invalid JSON data"}}"#,
        )
        .await;
    };
    match &body["provider"] {
        Value::Null => {}
        Value::String(p) if p == "TestBackend" => {}
        _ => {
            return reply(
                w,
                404,
                "application/json",
                br#"{"error":{"message":"Provider not found"}}"#,
            )
            .await
        }
    }
    if let (Some(key), Some(times)) = (
        body["test_fail_key"].as_str(),
        body["test_fail_times"].as_u64(),
    ) {
        static SEEN: std::sync::Mutex<Vec<(String, u64)>> = std::sync::Mutex::new(Vec::new());
        let count = {
            let mut seen = SEEN.lock().unwrap();
            match seen.iter_mut().find(|(k, _)| k == key) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    seen.push((key.to_owned(), 1));
                    1
                }
            }
        };
        if count <= times {
            let status = body["test_fail_status"].as_u64().unwrap_or(503) as u16;
            let extra = body["test_retry_after"]
                .as_str()
                .map(|v| format!("Retry-After: {v}\r\n"))
                .unwrap_or_default();
            let err = json!({"error": {"message": format!("failure {count} of {times}")}});
            return reply_with(
                w,
                status,
                "application/json",
                &extra,
                err.to_string().as_bytes(),
            )
            .await;
        }
    }
    if let Some(status) = body["test_status"].as_u64() {
        let status = status as u16;
        let text = body["test_error_text"]
            .as_str()
            .map_or_else(|| format!("test status {status}"), str::to_owned);
        if body["test_html"] == true {
            let page = format!("<!doctype html><html><head><title>{text}</title></head><body><h1>Error {status}</h1></body></html>");
            return reply(w, status, "text/html; charset=utf-8", page.as_bytes()).await;
        }
        let mut err = json!({"error": {"message": text}});
        if openai {
            err["error"]["type"] = json!("invalid_request_error");
            err["error"]["code"] = json!(status);
        }
        let location = body["test_location"]
            .as_str()
            .map(|l| format!("Location: {l}\r\n"))
            .unwrap_or_default();
        return reply_with(
            w,
            status,
            "application/json",
            &location,
            err.to_string().as_bytes(),
        )
        .await;
    }
    let fault = body["test_fault"].as_str().unwrap_or("").to_owned();
    if fault == "no_answer" {
        return hold(w).await;
    }
    let framing = match body["test_framing"].as_str() {
        _ if openai => "openai".to_owned(),
        Some(f) => f.to_owned(),
        None => "sse".to_owned(),
    };
    let extras = body["test_extras"] == true;
    let delay = Duration::from_millis(body["test_delay_ms"].as_u64().unwrap_or(0));
    let keepalive = body["test_keepalive_ms"]
        .as_u64()
        .map(Duration::from_millis);
    let encoding = if fault == "gzip" {
        "Content-Encoding: gzip\r\n"
    } else {
        ""
    };
    let keep = keeps_connection(&body);
    let close = if keep { "" } else { "Connection: close\r\n" };
    let head = format!("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n{close}X-Request-Id: req-test\r\nX-RateLimit-Remaining-Requests: 99\r\n{encoding}\r\n");
    w.write_all(head.as_bytes()).await?;
    if let (true, Some(script)) = (openai, body["test_openai"].as_str()) {
        for event in openai_script(script, &body) {
            chunk(w, format!("data: {event}\n\n").as_bytes()).await?;
        }
        chunk(w, b"data: [DONE]\n\n").await?;
        return finish_body(w, keep).await;
    }
    let model = body["model"].clone();
    chunk(w, &frame(&framing, "provider", json!({"provider": {"name": "TestBackend", "url": "http://127.0.0.1", "label": "Test Backend", "model": model}}))).await?;
    if body["test_echo"] == true {
        let echo = format!("ECHO:{}", json!({"body": body, "headers": headers}));
        chunk(w, &frame(&framing, "content", json!({"content": echo}))).await?;
    }
    if extras {
        chunk(
            w,
            &frame(&framing, "reasoning", json!({"token": "thinking"})),
        )
        .await?;
    }
    let parts: Vec<String> = match body["test_chunks"].as_u64() {
        Some(n) => {
            let pad = body["test_part_bytes"].as_u64().unwrap_or(0) as usize;
            (0..n)
                .map(|i| {
                    let p = format!("part{i} ");
                    let fill = pad.saturating_sub(p.len());
                    p + &"x".repeat(fill)
                })
                .collect()
        }
        None => canned(&body),
    };
    let endless = fault == "endless";
    // Without pacing, chunks are written in large pieces so the server is not the bottleneck.
    let mut pending = Vec::new();
    let mut i = 0usize;
    while endless || i < parts.len() {
        let text = if endless {
            format!("tick{i} ")
        } else {
            parts[i].clone()
        };
        if !delay.is_zero() {
            pause(w, delay, keepalive, &framing).await?;
        }
        pending.extend(frame(&framing, "content", json!({"content": text})));
        if !delay.is_zero() || pending.len() >= 32 << 10 {
            chunk(w, &pending).await?;
            pending.clear();
        }
        i += 1;
    }
    if !pending.is_empty() {
        chunk(w, &pending).await?;
    }
    if body["test_media"] == true || body["test_media_url"].is_string() {
        let url = body["test_media_url"]
            .as_str()
            .unwrap_or("/media/test-dot.png");
        let content = format!("[![a test dot]({url})]({url})");
        let media = json!({"content": content, "urls": [url], "alt": "a test dot"});
        chunk(w, &frame(&framing, "content", media)).await?;
    }
    let state = &body["test_conversation"];
    if !state.is_null() && !openai {
        let c = json!({"conversation": state});
        chunk(w, &frame(&framing, "conversation", c)).await?;
    }
    match fault.as_str() {
        "stall" => return hold(w).await,
        "cut_mid_line" => {
            let line = frame(&framing, "content", json!({"content": "never finished"}));
            chunk(w, &line[..line.len() / 2]).await?;
            return w.shutdown().await;
        }
        "cut_mid_chunk" => {
            w.write_all(b"64\r\n{\"type\": \"content\"").await?;
            return w.shutdown().await;
        }
        "malformed" => chunk(w, b"{\"type\": \"content\", \"content\": oops}\n\n").await?,
        "invalid_utf8" => {
            chunk(w, b"{\"type\": \"content\", \"content\": \"\xff\xfe\"}\n\n").await?
        }
        "oversized" => {
            chunk(
                w,
                &frame(&framing, "content", json!({"content": "x".repeat(2 << 20)})),
            )
            .await?;
        }
        "drip" => loop {
            chunk(w, b"d").await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
        },
        "error_chunk" => {
            chunk(
                w,
                &frame(
                    &framing,
                    "error",
                    json!({"error": "ValueError", "message": "ValueError: test failure"}),
                ),
            )
            .await?;
            chunk(
                w,
                &frame(
                    &framing,
                    "log",
                    json!({"log": "Using TestBackend provider"}),
                ),
            )
            .await?;
            return finish_body(w, keep).await;
        }
        _ => {}
    }
    if extras && openai {
        let deltas = [
            json!([{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]),
            json!([{"index": 0, "function": {"arguments": "{\"city\":"}}, {"index": 1, "id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]),
            json!([{"index": 0, "function": {"arguments": "\"Paris\"}"}}]),
        ];
        for d in deltas {
            chunk(w, &frame(&framing, "tool_calls", json!({"tool_calls": d}))).await?;
        }
    } else if extras {
        let calls = json!([{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}, {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]);
        chunk(
            w,
            &frame(&framing, "tool_calls", json!({"tool_calls": calls})),
        )
        .await?;
    }
    let n = parts.len();
    let usage = frame(
        &framing,
        "usage",
        json!({"usage": {"prompt_tokens": 3, "completion_tokens": n, "total_tokens": n + 3}, "model": model, "provider": "TestBackend"}),
    );
    let finish = frame(&framing, "finish", json!({"finish": {"reason": "stop"}}));
    // g4f sends usage, then finish; OpenAI sends the usage in the last event.
    let last = if openai {
        [finish, usage]
    } else {
        [usage, finish]
    };
    for event in last {
        chunk(w, &event).await?;
    }
    if openai && body["test_no_done"] != true {
        chunk(w, b"data: [DONE]\n\n").await?;
    }
    finish_body(w, keep).await
}

/// The events of a `test_openai` script (see the module docs).
fn openai_script(script: &str, body: &Value) -> Vec<Value> {
    let event = |choices: Value| json!({"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": "test-model", "choices": choices});
    let one = |delta: Value, finish: Value| {
        event(json!([{"index": 0, "delta": delta, "finish_reason": finish}]))
    };
    match script {
        "choices" => {
            let lp = |t: &str| json!({"content": [{"token": t, "logprob": -0.25, "bytes": null, "top_logprobs": []}]});
            vec![
                event(
                    json!([{"index": 0, "delta": {"role": "assistant", "content": "Re"}, "logprobs": lp("Re"), "finish_reason": null},
                             {"index": 1, "delta": {"role": "assistant", "content": "Bl"}, "logprobs": null, "finish_reason": null}]),
                ),
                event(json!([{"index": 1, "delta": {"content": "ue"}, "finish_reason": "length"}])),
                event(
                    json!([{"index": 0, "delta": {"content": "d"}, "logprobs": lp("d"), "finish_reason": "stop"}]),
                ),
            ]
        }
        "refusal" => vec![
            one(
                json!({"role": "assistant", "content": null, "refusal": "I can't help "}),
                Value::Null,
            ),
            one(json!({"refusal": "with that."}), Value::Null),
            one(json!({}), json!("stop")),
        ],
        "agent" => {
            let last = body["messages"].as_array().and_then(|m| m.last());
            match last.filter(|m| m["role"] == "tool") {
                Some(result) => {
                    let text = format!(
                        "The weather in Paris: {}",
                        result["content"].as_str().unwrap_or("")
                    );
                    vec![
                        one(json!({"role": "assistant", "content": text}), Value::Null),
                        one(json!({}), json!("stop")),
                    ]
                }
                None => vec![
                    one(
                        json!({"role": "assistant", "content": null, "tool_calls": [{"index": 0, "id": "call_w1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
                        Value::Null,
                    ),
                    one(
                        json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\": \"Paris\"}"}}]}),
                        Value::Null,
                    ),
                    one(json!({}), json!("tool_calls")),
                ],
            }
        }
        other => {
            vec![json!({"error": {"message": format!("unknown test_openai script {other:?}")}})]
        }
    }
}

/// Ends a chunked body; the connection closes unless `keep`
/// (`test_keep_connection`: the next request may come on it).
async fn finish_body(w: &mut TcpStream, keep: bool) -> Io {
    w.write_all(b"0\r\n\r\n").await?;
    if keep {
        return Ok(());
    }
    w.shutdown().await
}

/// Waits `delay`, sending SSE keep-alive comments meanwhile when asked.
async fn pause(
    w: &mut TcpStream,
    delay: Duration,
    keepalive: Option<Duration>,
    framing: &str,
) -> Io {
    let Some(every) = keepalive.filter(|_| framing != "ndjson") else {
        tokio::time::sleep(delay).await;
        return Ok(());
    };
    let end = tokio::time::Instant::now() + delay;
    while tokio::time::Instant::now() + every < end {
        tokio::time::sleep(every).await;
        chunk(w, b": keep-alive\n\n").await?;
    }
    tokio::time::sleep_until(end).await;
    Ok(())
}

/// Keeps the connection open until the client closes it.
async fn hold(w: &mut TcpStream) -> Io {
    let mut buf = [0u8; 64];
    while w.read(&mut buf).await? > 0 {}
    Ok(())
}
