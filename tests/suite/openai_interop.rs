//! The OpenAI-compatible protocol against real servers, differentially against
//! the official `openai` Python package (scripts/openai-venv.sh) as the peer:
//! for the same requests, the library's assembled answer and the package's
//! (its streaming helper assembles the deltas) must agree on text, reasoning,
//! tool calls, usage, finish reason and errors. Servers: the real `g4f api`
//! `/v1` run offline with the InteropTest provider (tests/interop/g4f_server.py
//! `--api`, g4f 8.8.6 venv from scripts/g4f-venvs.sh), and the bundled test
//! backend's `/v1` for what that provider cannot send through `/v1` (tool-call
//! deltas, `reasoning_content`, an error event, a stream without `[DONE]`).
//! Without the venvs the tests skip loudly; under CI (`CI=true`) they fail.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use backend_api::{ChunkKind, Client, Next, Protocol, Request, Stream};
use serde_json::{json, Value};

fn venv_python(name: &str) -> Option<PathBuf> {
    let py = support::process::venv_python(name);
    if py.is_none() {
        support::process::skip_or_fail(&format!(
            "{name} missing: run scripts/g4f-venvs.sh and scripts/openai-venv.sh"
        ));
    }
    py
}

/// The real `g4f api`, killed when dropped.
struct G4fApi {
    child: Child,
    base: String,
}

impl G4fApi {
    fn start() -> Option<G4fApi> {
        let py = venv_python("venv-g4f-8.8.6")?;
        let launcher = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/g4f_server.py");
        let mut child = Command::new(py)
            .arg(launcher)
            .args(["--api", "--port", "0", "--quiet"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the g4f launcher");
        let port = support::process::ready_port(&mut child);
        Some(G4fApi {
            child,
            base: format!("http://127.0.0.1:{port}/v1"),
        })
    }
}

impl Drop for G4fApi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request of the differential: a model, messages and extra body fields.
struct Case {
    name: &'static str,
    model: &'static str,
    messages: Value,
    extra: Value,
}

fn case(name: &'static str, extra: Value) -> Case {
    Case {
        name,
        model: "test-model",
        messages: json!([{"role": "user", "content": "hi"}]),
        extra,
    }
}

/// What the `openai` package made of the case.
fn peer(py: &Path, base: &str, c: &Case) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/openai_peer.py");
    let mut child = Command::new(py)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = json!({"base_url": base, "api_key": "sk-peer", "model": c.model, "messages": c.messages, "extra_body": c.extra});
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "peer failed on {}", c.name);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What this library made of the case, in the peer's shape.
fn ours(base: &str, c: &Case) -> Value {
    let mut client = Client::new(base).unwrap();
    client.set_proxy(None).unwrap();
    client.set_protocol(Protocol::Openai);
    let mut r = Request::new();
    r.set_model(c.model);
    r.set_messages_json(&c.messages.to_string()).unwrap();
    for (k, v) in c.extra.as_object().unwrap() {
        r.set_field_json(k, &v.to_string()).unwrap();
    }
    r.set_api_key(Some("sk-ours"), backend_api::KeyPlacement::Bearer)
        .unwrap();
    let s = Stream::open(&client, &r).unwrap();
    let (chunks, end) = support::drain(&s);
    match end {
        Next::End => {}
        Next::Error(e) => return json!({"error": e.server_message, "http_status": e.http_status}),
        other => panic!("{}: {other:?}", c.name),
    }
    if let Some(e) = chunks.iter().find(|c| c.kind() == ChunkKind::Error) {
        return json!({"error": e.text(), "http_status": null});
    }
    let a = s.answer();
    let tool_calls = a.tool_calls.as_ref().map(|calls| {
        calls
            .as_array()
            .unwrap()
            .iter()
            .map(|t| json!({"id": t["id"], "type": t["type"], "name": t["function"]["name"], "arguments": t["function"]["arguments"]}))
            .collect::<Vec<_>>()
    });
    let usage = a.usage.as_ref().map(|u| {
        json!({"prompt_tokens": u["prompt_tokens"], "completion_tokens": u["completion_tokens"], "total_tokens": u["total_tokens"]})
    });
    // Every choice's chunks are delivered; the answer follows choice 0.
    let choices = chunks
        .iter()
        .filter(|c| c.kind() == ChunkKind::Finish)
        .map(|c| c.choice())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    json!({"content": a.content, "reasoning": a.reasoning, "refusal": a.refusal, "choices": choices,
           "tool_calls": tool_calls, "usage": usage, "finish_reason": a.finish_reason})
}

/// Runs every case through both and prints the comparison; fails on any difference.
fn differential(base: &str, cases: &[Case], must_see: &[&str]) {
    let Some(py) = venv_python("venv-openai") else {
        return;
    };
    let mut differences = Vec::new();
    for c in cases {
        let (theirs, mine) = (peer(&py, base, c), ours(base, c));
        let summary = |v: &Value| {
            if v["error"].is_string() {
                format!(
                    "error {:?} (HTTP {})",
                    v["error"].as_str().unwrap(),
                    v["http_status"]
                )
            } else {
                format!(
                    "content {} chars, reasoning {} chars, {} tool calls, usage {}, finish {}",
                    v["content"].as_str().unwrap_or("").chars().count(),
                    v["reasoning"].as_str().unwrap_or("").chars().count(),
                    v["tool_calls"].as_array().map_or(0, Vec::len),
                    v["usage"]["total_tokens"],
                    v["finish_reason"]
                )
            }
        };
        let same = theirs == mine;
        eprintln!(
            "{} {:<28} {}",
            if same { "same" } else { "DIFF" },
            c.name,
            summary(&mine)
        );
        if !same {
            differences.push(format!("{}:\n  openai: {theirs}\n  ours:   {mine}", c.name));
        }
        // The case must exercise what it names (a differential of two empties proves nothing).
        for key in must_see.iter().filter(|k| c.name.contains(*k)) {
            assert!(
                summary(&mine).contains(key) || !mine[key].is_null(),
                "{}: no {key}",
                c.name
            );
        }
    }
    eprintln!("{} cases, {} differences", cases.len(), differences.len());
    assert!(differences.is_empty(), "{differences:#?}");
}

#[test]
fn same_answers_as_the_openai_package_from_the_real_g4f_api() {
    let Some(server) = G4fApi::start() else {
        return;
    };
    let p = json!({"provider": "InteropTest"});
    let long = json!([{"role": "system", "content": "be brief"}, {"role": "user", "content": "é ünïcödé 😀"}, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "again"}]);
    let cases = [
        case("reasoning, content, usage", p.clone()),
        Case {
            name: "history and unicode",
            messages: long,
            ..case("", p.clone())
        },
        case(
            "unknown provider: error",
            json!({"provider": "NoSuchProvider"}),
        ),
    ];
    differential(&server.base, &cases, &["error"]);
    let mine = ours(&server.base, &cases[0]);
    assert_eq!(mine["content"], "part0 part1 part2 ");
    assert_eq!(mine["reasoning"], "thinking...");
    assert_eq!(mine["finish_reason"], "stop");
    assert_eq!(mine["usage"]["total_tokens"], 6);
    let listing = backend_api::models(
        &{
            let mut c = Client::new(&server.base).unwrap();
            c.set_proxy(None).unwrap();
            c.set_protocol(Protocol::Openai);
            c
        },
        None,
        None,
    )
    .unwrap();
    let v: Value = serde_json::from_str(&listing).unwrap();
    assert_eq!(v["object"], "list");
}

#[test]
fn same_answers_as_the_openai_package_from_the_bundled_backend() {
    let base = format!("{}/v1", support::BACKEND.url);
    let cases = [
        case("canned answer", json!({})),
        case(
            "reasoning and tool_calls",
            json!({"test_chunks": 3, "test_extras": true}),
        ),
        case("200 chunks", json!({"test_chunks": 200})),
        case("no [DONE]", json!({"test_chunks": 2, "test_no_done": true})),
        case(
            "error event",
            json!({"test_chunks": 1, "test_fault": "error_chunk"}),
        ),
        case("HTTP 429 error", json!({"test_status": 429})),
        case("n = 2 choices", json!({"test_openai": "choices", "n": 2})),
        case("refusal", json!({"test_openai": "refusal"})),
        case("agent: tool_calls", json!({"test_openai": "agent"})),
    ];
    differential(&base, &cases, &["tool_calls", "error", "refusal"]);
}
