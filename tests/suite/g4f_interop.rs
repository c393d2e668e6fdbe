//! Interop with the real g4f servers from PyPI, run offline on loopback:
//! g4f 8.8.6 (Server-Sent Events) and g4f 6.7.4 (one JSON object per line) as
//! `g4f gui` serves them, and g4f 8.8.6 as `g4f api` serves it (FastAPI under
//! uvicorn with the GUI app mounted; also with an API key, and with --no-gui),
//! driven through the C ABI entry points. The venvs come from
//! scripts/g4f-venvs.sh; without them these tests skip loudly, and under CI
//! (`CI=true`) they fail.

use std::ffi::CStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::ptr;
use std::sync::{LazyLock, Mutex, MutexGuard};

use backend_api::ffi::backend_api_status as Status;
use backend_api::ffi::*;
use backend_api::ChunkKind;
use serde_json::{json, Value};
use support::cabi::{cs, stream, Call, Outcome};
use support::process::skip_or_fail;

const NEW: &str = "8.8.6";
const OLD: &str = "6.7.4";
/// `g4f api` (8.8.6) as users start it: the GUI app mounted, no key.
const API: &str = "g4f api";
/// `g4f api --g4f-api-key API_KEY`.
const API_WITH_KEY: &str = "g4f api --g4f-api-key";
/// `g4f api --no-gui`: no /backend-api/v2 at all.
const API_NO_GUI: &str = "g4f api --no-gui";
const API_KEY: &str = "sk-interop-server-key";

fn venv_python(version: &str) -> Option<PathBuf> {
    support::process::venv_python(&format!("venv-g4f-{version}"))
}

/// A real g4f server with the InteropTest provider. Requests to one server are
/// serialised: g4f's `log` chunks come from a process-wide log.
struct Server {
    url: String,
    child: Mutex<Child>,
    turn: Mutex<()>,
}

impl Server {
    /// Starts the launcher (`args`: `--api` and the like) without waiting for it.
    fn spawn(version: &str, args: &[&str]) -> Option<Child> {
        let Some(py) = venv_python(version) else {
            skip_or_fail(&format!(
                "g4f {version} venv missing: run scripts/g4f-venvs.sh"
            ));
            return None;
        };
        if args.contains(&"--api")
            && !py
                .parent()
                .and_then(Path::parent)
                .is_some_and(|venv| venv.join(".backend-api-api-installed").exists())
        {
            skip_or_fail(&format!(
                "the g4f {version} venv lacks the `g4f api` packages: run scripts/g4f-venvs.sh"
            ));
            return None;
        }
        let launcher = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/g4f_server.py");
        let child = Command::new(py)
            .arg(launcher)
            .args(["--port", "0", "--quiet"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the g4f launcher");
        Some(child)
    }

    /// Waits for the launcher's `READY <port>`.
    fn ready(mut child: Child) -> Server {
        let port = support::process::ready_port(&mut child);
        Server {
            url: format!("http://127.0.0.1:{port}"),
            child: Mutex::new(child),
            turn: Mutex::new(()),
        }
    }

    fn turn(&self) -> MutexGuard<'_, ()> {
        self.turn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let mut c = self.child.lock().unwrap();
        drop(c.stdin.take());
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// Every server, started at once (each takes about a second), on first use.
static SERVERS: LazyLock<Vec<(&'static str, Option<Server>)>> = LazyLock::new(|| {
    let wanted: [(&str, &str, &[&str]); 5] = [
        (NEW, NEW, &[]),
        (OLD, OLD, &[]),
        (API, NEW, &["--api"]),
        (API_WITH_KEY, NEW, &["--api", "--g4f-api-key", API_KEY]),
        (API_NO_GUI, NEW, &["--api", "--no-gui"]),
    ];
    let children: Vec<_> = wanted
        .iter()
        .map(|(name, version, args)| (*name, Server::spawn(version, args)))
        .collect();
    children
        .into_iter()
        .map(|(name, child)| (name, child.map(Server::ready)))
        .collect()
});

fn server(name: &str) -> Option<&'static Server> {
    SERVERS
        .iter()
        .find(|(v, _)| *v == name)
        .and_then(|(_, s)| s.as_ref())
}

/// The chunks two server generations both send, as JSON values: `log` chunks
/// dropped (g4f's process-wide log; 6.7.4 sends one, 8.8.6 none for this
/// provider) and the `model`/`provider` keys that only 8.8.6 adds to `usage`.
fn comparable(o: &Outcome) -> Vec<Value> {
    o.chunks
        .iter()
        .filter(|c| c.type_ != "log")
        .map(|c| {
            let mut v = c.value.clone();
            if c.type_ == "usage" {
                let m = v.as_object_mut().unwrap();
                m.remove("model");
                m.remove("provider");
            }
            v
        })
        .collect()
}

/// A call to the InteropTest provider.
fn interop(fields: Value) -> Call {
    let mut call = Call {
        model: Some("interop-model".into()),
        ..Call::default()
    }
    .field("provider", json!("InteropTest"));
    for (k, v) in fields.as_object().unwrap() {
        call = call.field(k, v.clone());
    }
    call
}

fn both() -> Vec<(&'static str, &'static Server)> {
    [NEW, OLD]
        .into_iter()
        .filter_map(|v| server(v).map(|s| (v, s)))
        .collect()
}

#[test]
fn both_generations_give_the_same_chunks() {
    let call = interop(json!({"interop_chunks": 4, "interop_tool_calls": true}));
    let runs: Vec<_> = both()
        .into_iter()
        .map(|(v, s)| {
            let _t = s.turn();
            (v, stream(&s.url, &call))
        })
        .collect();
    for (v, o) in &runs {
        assert_eq!(o.end, Status::End, "g4f {v}");
        let types: Vec<&str> = o
            .chunks
            .iter()
            .map(|c| c.type_.as_str())
            .filter(|t| *t != "log")
            .collect();
        assert_eq!(
            types,
            [
                "provider",
                "parameters",
                "reasoning",
                "content",
                "content",
                "content",
                "content",
                "tool_calls",
                "title",
                "usage",
                "finish"
            ],
            "g4f {v}"
        );
        assert_eq!(o.content(), "part0 part1 part2 part3 ", "g4f {v}");
        let reasoning = o
            .chunks
            .iter()
            .find(|c| c.kind == ChunkKind::Reasoning)
            .unwrap();
        assert_eq!(reasoning.text.as_deref(), Some("thinking..."));
        let tool = o
            .chunks
            .iter()
            .find(|c| c.kind == ChunkKind::ToolCalls)
            .unwrap();
        assert_eq!(
            tool.value["tool_calls"][0]["function"]["name"],
            "get_weather"
        );
        let usage = o
            .chunks
            .iter()
            .find(|c| c.kind == ChunkKind::Usage)
            .unwrap();
        assert_eq!(usage.value["usage"]["total_tokens"], 7);
    }
    if let [(_, a), (_, b)] = &runs[..] {
        assert_eq!(comparable(a), comparable(b));
    }
}

/// The echo content chunk's JSON: what the provider received.
fn echo(o: &Outcome) -> Value {
    let t = o
        .chunks
        .iter()
        .find_map(|c| c.text.clone().filter(|t| t.starts_with("ECHO:")))
        .expect("an echo chunk");
    serde_json::from_str(&t[5..]).unwrap()
}

#[test]
fn the_request_side_arrives() {
    let dir = std::env::temp_dir().join(format!("backend-api-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gif = dir.join("anim.gif");
    std::fs::write(&gif, b"GIF89a\x01\x00\x01\x00").unwrap();
    let call = Call {
        media_bytes: vec![(b"\x89PNG\r\n\x1a\n\0\0".to_vec(), "pic.png".into())],
        media_files: vec![gif],
        api_key: Some(("sk-interop".into(), BACKEND_API_KEY_BODY)),
        ..interop(json!({"interop_echo": true, "web_search": false,
                         "custom_field": {"nested": [1, 2.5, null, "x"]}, "aspect_ratio": "16:9"}))
    };
    for (v, s) in both() {
        let o = {
            let _t = s.turn();
            stream(&s.url, &call)
        };
        assert_eq!(o.end, Status::End, "g4f {v}");
        let e = echo(&o);
        assert_eq!(e["model"], "interop-model", "g4f {v}");
        assert_eq!(
            e["messages"],
            json!([{"role": "user", "content": "hi"}]),
            "g4f {v}"
        );
        assert_eq!(e["api_key"], "sk-interop", "g4f {v}");
        assert_eq!(
            e["media"],
            json!([
                ["data:image/png;base64,iVBORw0KGgoAAA==", "pic.png"],
                ["data:image/gif;base64,R0lGODlhAQABAA==", "anim.gif"]
            ]),
            "g4f {v}"
        );
        assert_eq!(e["extra"]["web_search"], false, "g4f {v}");
        assert_eq!(
            e["extra"]["custom_field"],
            json!({"nested": [1, 2.5, null, "x"]}),
            "g4f {v}"
        );
        assert_eq!(e["extra"]["aspect_ratio"], "16:9", "g4f {v}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bearer_key_reaches_the_new_server_through_its_fallback() {
    let Some(s) = server(NEW) else { return };
    let call = Call {
        api_key: Some(("sk-bearer".into(), BACKEND_API_KEY_BEARER)),
        ..interop(json!({"interop_echo": true}))
    };
    let o = {
        let _t = s.turn();
        stream(&s.url, &call)
    };
    assert_eq!(echo(&o)["api_key"], "sk-bearer");
}

#[test]
fn in_stream_error_chunk_then_the_end() {
    let call = interop(json!({"interop_fail_after": 1}));
    for (v, s) in both() {
        let o = {
            let _t = s.turn();
            stream(&s.url, &call)
        };
        assert_eq!(o.end, Status::End, "g4f {v}");
        let at = o
            .chunks
            .iter()
            .position(|c| c.kind == ChunkKind::Error)
            .unwrap_or_else(|| panic!("g4f {v}: no error chunk"));
        assert_eq!(
            o.chunks[at].text.as_deref(),
            Some("ValueError: interop failure"),
            "g4f {v}"
        );
        assert!(
            o.chunks[at + 1..].iter().all(|c| c.type_ == "log"),
            "g4f {v}: only log chunks follow an error"
        );
        assert_eq!(o.content(), "part0 ", "g4f {v}");
    }
}

#[test]
fn http_errors_carry_the_server_message() {
    for (v, s) in both() {
        let call = interop(json!({"provider": "NoSuchProvider"}));
        let o = stream(&s.url, &call);
        assert_eq!(o.end, Status::Http, "g4f {v}");
        assert_eq!(
            o.http,
            Some((404, Some("Provider not found".to_owned()))),
            "g4f {v}"
        );
    }
}

/// Lists the models of `url` through the C ABI, with client headers; the status and the listing.
fn models(
    url: &str,
    provider: Option<&str>,
    headers: &[(&str, &str)],
) -> (Status, Option<Value>, u16) {
    // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive each
    // call and out-parameters on this stack.
    unsafe {
        let mut client = ptr::null_mut();
        assert_eq!(
            backend_api_client_new(cs(url).as_ptr(), &mut client, ptr::null_mut()),
            Status::Ok
        );
        backend_api_client_set_proxy(client, ptr::null(), ptr::null_mut());
        for (name, value) in headers {
            let (n, v) = (cs(name), cs(value));
            backend_api_client_add_header(client, n.as_ptr(), v.as_ptr(), ptr::null_mut());
        }
        let p = provider.map(cs);
        let (mut out, mut err) = (ptr::null(), ptr::null_mut());
        let st = backend_api_models(
            client,
            p.as_ref().map_or(ptr::null(), |p| p.as_ptr()),
            ptr::null(),
            &mut out,
            ptr::null_mut(),
            &mut err,
        );
        let listing = (st == Status::Ok)
            .then(|| serde_json::from_str(CStr::from_ptr(out).to_str().unwrap()).unwrap());
        let code = backend_api_error_http_status(err);
        backend_api_string_free(out);
        backend_api_error_free(err);
        backend_api_client_free(client);
        (st, listing, code)
    }
}

#[test]
fn models_returns_the_server_listing() {
    for (v, s) in both() {
        let (st, listing, _) = models(&s.url, None, &[]);
        assert_eq!(st, Status::Ok, "g4f {v}");
        assert_eq!(
            listing,
            Some(json!({"InteropTest": ["interop-model", "interop-vision"]})),
            "g4f {v}"
        );
        let (st, listing, _) = models(&s.url, Some("InteropTest"), &[]);
        assert_eq!(st, Status::Ok, "g4f {v}");
        let first = &listing.unwrap()[0];
        let name = first.get("model").or_else(|| first.get("id")).unwrap();
        assert_eq!(name, "interop-model", "g4f {v}");
    }
}

/// Our chunks equal, one for one, the dicts that g4f's own `BackendApi` client
/// yields for the same request against the 6.7.4 server (the newest it can read).
#[test]
fn differential_against_the_python_reference_client() {
    let (Some(s), Some(py)) = (server(OLD), venv_python(OLD)) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("backend-api-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("pic.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\x01\x02").unwrap();
    let fields = json!({"interop_chunks": 5, "interop_tool_calls": true, "interop_echo": true, "web_search": true});
    let call = Call {
        media_files: vec![png.clone()],
        ..interop(fields.clone())
    };
    let mut body = json!({"model": "interop-model", "messages": [{"role": "user", "content": "hi"}],
                          "provider": "InteropTest", "media": [[format!("@{}", png.display()), "pic.png"]]});
    body.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    let req = dir.join("request.json");
    std::fs::File::create(&req)
        .unwrap()
        .write_all(body.to_string().as_bytes())
        .unwrap();
    let _t = s.turn();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/reference_client.py");
    let out = Command::new(py)
        .arg(script)
        .arg(&s.url)
        .arg(&req)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "reference client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ours = stream(&s.url, &call);
    assert_eq!(ours.end, Status::End);
    let ours: Vec<Value> = ours.chunks.into_iter().map(|c| c.value).collect();
    assert!(theirs.len() >= 12, "{theirs:?}");
    assert_eq!(ours, theirs);
    std::fs::remove_dir_all(dir).unwrap();
}

// ---------------------------------------------------------------- `g4f api`

/// `g4f api` serves the GUI's backend API (mounted through a2wsgi under uvicorn):
/// the same chunks as `g4f gui` of the same version, one for one.
#[test]
fn g4f_api_streams_what_g4f_gui_streams() {
    let (Some(api), Some(gui)) = (server(API), server(NEW)) else {
        return;
    };
    let call = interop(json!({"interop_chunks": 4, "interop_tool_calls": true}));
    let (a, g) = (stream(&api.url, &call), stream(&gui.url, &call));
    assert_eq!(a.end, Status::End, "{}", a.message);
    assert_eq!(a.content(), "part0 part1 part2 part3 ");
    assert_eq!(comparable(&a), comparable(&g));
}

#[test]
fn g4f_api_lists_the_models() {
    let Some(api) = server(API) else { return };
    let (st, listing, _) = models(&api.url, None, &[]);
    assert_eq!(st, Status::Ok);
    assert_eq!(
        listing,
        Some(json!({"InteropTest": ["interop-model", "interop-vision"]}))
    );
    let (st, listing, _) = models(&api.url, Some("InteropTest"), &[]);
    assert_eq!(st, Status::Ok);
    assert_eq!(listing.unwrap()[0]["id"], "interop-model");
}

#[test]
fn g4f_api_in_stream_error_then_the_end() {
    let Some(api) = server(API) else { return };
    let o = stream(&api.url, &interop(json!({"interop_fail_after": 1})));
    assert_eq!(o.end, Status::End);
    let error = o
        .chunks
        .iter()
        .find(|c| c.kind == ChunkKind::Error)
        .expect("an error chunk");
    assert_eq!(error.text.as_deref(), Some("ValueError: interop failure"));
    assert_eq!(o.content(), "part0 ");
}

/// `g4f api --g4f-api-key K`: without K every route answers 401 with g4f's JSON
/// error; K as the `g4f-api-key` header or as `Authorization: Bearer` opens it.
#[test]
fn g4f_api_with_a_key() {
    let Some(api) = server(API_WITH_KEY) else {
        return;
    };
    let echo_call = interop(json!({"interop_echo": true}));
    for (name, value) in [(None, ""), (Some("g4f-api-key"), "wrong")] {
        let call = Call {
            headers: name
                .map(|n| (n.to_owned(), value.to_owned()))
                .into_iter()
                .collect(),
            ..echo_call.clone()
        };
        let o = stream(&api.url, &call);
        assert_eq!(o.end, Status::Http, "{name:?}");
        assert_eq!(
            o.http,
            Some((401, Some("Not authenticated".to_owned()))),
            "{name:?}"
        );
        assert!(!o.message.contains("wrong"), "{}", o.message);
    }
    let with_header = Call {
        headers: vec![("g4f-api-key".into(), API_KEY.into())],
        ..echo_call.clone()
    };
    let o = stream(&api.url, &with_header);
    assert_eq!(o.end, Status::End, "{}", o.message);
    assert_eq!(echo(&o)["api_key"], Value::Null);
    assert!(o.content().ends_with("part0 part1 part2 "));
    // As Bearer, the server takes the key for itself: it drops the Authorization
    // header, so the provider gets no api_key (the GUI's Bearer fallback sees none).
    let as_bearer = Call {
        api_key: Some((API_KEY.into(), BACKEND_API_KEY_BEARER)),
        ..echo_call.clone()
    };
    let o = stream(&api.url, &as_bearer);
    assert_eq!(o.end, Status::End, "{}", o.message);
    assert_eq!(echo(&o)["api_key"], Value::Null);
    assert_eq!(models(&api.url, None, &[]).2, 401);
    let (st, listing, _) = models(&api.url, None, &[("g4f-api-key", API_KEY)]);
    assert_eq!(st, Status::Ok);
    assert!(listing.unwrap().get("InteropTest").is_some());
}

/// `g4f api --no-gui` has no backend API: 404, and FastAPI's `{"detail":"Not Found"}`
/// carries no g4f error message.
#[test]
fn g4f_api_without_the_gui_answers_404() {
    let Some(api) = server(API_NO_GUI) else {
        return;
    };
    let o = stream(&api.url, &interop(json!({})));
    assert_eq!(o.end, Status::Http);
    assert_eq!(o.http.map(|(code, _)| code), Some(404));
    assert_eq!(models(&api.url, None, &[]).2, 404);
}

// ------------------------------------------------------- a whole conversation

/// A request through the C API for `provider` on a real g4f server.
fn g4f_request(provider: &str, fields: Value) -> *mut backend_api_request {
    let mut all = json!({"provider": provider});
    all.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    let fields: Vec<(String, Value)> = all.as_object().unwrap().clone().into_iter().collect();
    // SAFETY: returns an owned request, freed by the caller.
    unsafe { support::cabi::request("interop-model", fields.iter().map(|(k, v)| (k, v))) }
}

/// The conversation InteropStateful reports it received: the JSON after
/// "RECEIVED:" in its first content chunk.
fn received(chunks: &[support::cabi::CChunk]) -> Value {
    let text: String = chunks
        .iter()
        .filter(|c| c.kind == ChunkKind::Content)
        .filter_map(|c| c.text.clone())
        .collect();
    let json = text
        .strip_prefix("RECEIVED:")
        .and_then(|t| t.split(" turn ").next())
        .unwrap_or_else(|| panic!("no RECEIVED: {text:?}"));
    serde_json::from_str(json).unwrap()
}

/// A stateful provider gets back its own conversation on turn two (and three),
/// with its `conversation_id`, through both follow-up calls, on both server
/// generations: the state g4f sends keyed by provider goes back unwrapped.
#[test]
fn a_stateful_provider_gets_its_conversation_back_on_the_next_turns() {
    for (v, s) in both() {
        let _t = s.turn();
        let client = support::cabi::c_client(&s.url, None);
        // SAFETY: objects made here, each freed once.
        unsafe {
            let first = g4f_request("InteropStateful", json!({}));
            let (s1, chunks, end) = support::cabi::open_drained(client, first);
            assert_eq!(end, Status::End, "g4f {v}");
            assert_eq!(received(&chunks), Value::Null, "g4f {v}");
            // Turn two from the live stream.
            let mut second = ptr::null_mut();
            assert_eq!(
                backend_api_request_follow_up(
                    first,
                    s1,
                    cs("again").as_ptr(),
                    &mut second,
                    ptr::null_mut()
                ),
                Status::Ok
            );
            backend_api_close(s1);
            let (s2, chunks, end) = support::cabi::open_drained(client, second);
            assert_eq!(end, Status::End, "g4f {v}");
            assert_eq!(
                received(&chunks),
                json!({"conversation_id": "c-1", "turn": 1}),
                "g4f {v}"
            );
            // Turn three from the answer chunk, kept after its stream closed.
            let answer = support::cabi::stream_answer(s2);
            backend_api_close(s2);
            let mut third = ptr::null_mut();
            assert_eq!(
                backend_api_request_follow_up_answer(
                    second,
                    answer,
                    cs("more").as_ptr(),
                    &mut third,
                    ptr::null_mut()
                ),
                Status::Ok
            );
            backend_api_chunk_free(answer);
            let (s3, chunks, _) = support::cabi::open_drained(client, third);
            backend_api_close(s3);
            assert_eq!(
                received(&chunks),
                json!({"conversation_id": "c-1", "turn": 2}),
                "g4f {v}"
            );
            for r in [first, second, third] {
                backend_api_request_free(r);
            }
            backend_api_client_free(client);
        }
    }
}

/// g4f stores a generated image under /media/ and sends its server-relative URL:
/// the answer lists it resolved against the base URL, and the fetch downloads
/// the stored file from the real server, into memory and into a file.
#[test]
fn a_generated_image_is_listed_and_fetched_from_the_real_server() {
    use base64::Engine;
    // The image InteropImage "generates" (RED_DOT in tests/interop/g4f_server.py).
    let red_dot = base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
        .unwrap();
    for (v, s) in both() {
        let _t = s.turn();
        let client = support::cabi::c_client(&s.url, None);
        // SAFETY: objects made here, each freed once; lent strings copied before their chunk is freed.
        unsafe {
            let req = g4f_request("InteropImage", json!({}));
            let (st, _, end) = support::cabi::open_drained(client, req);
            assert_eq!(end, Status::End, "g4f {v}");
            let answer = support::cabi::stream_answer(st);
            backend_api_close(st);
            let media = support::cabi::answer_media(answer);
            assert_eq!(media.len(), 1, "g4f {v}");
            let (kind, url, alt) = media.into_iter().next().unwrap();
            assert_eq!(kind, backend_api_media_kind::Image, "g4f {v}");
            assert!(
                url.starts_with(&format!("{}/media/", s.url)) && url.ends_with(".png"),
                "g4f {v}: {url}"
            );
            assert_eq!(alt.as_deref(), Some("a red dot"), "g4f {v}");
            backend_api_chunk_free(answer);

            let (mut data, mut len, mut ct) = (ptr::null_mut(), 0, ptr::null());
            assert_eq!(
                backend_api_media_fetch(
                    client,
                    req,
                    cs(&url).as_ptr(),
                    ptr::null(),
                    0,
                    &mut data,
                    &mut len,
                    &mut ct,
                    ptr::null_mut()
                ),
                Status::Ok,
                "g4f {v}"
            );
            assert_eq!(
                std::slice::from_raw_parts(data, len),
                red_dot.as_slice(),
                "g4f {v}"
            );
            assert_eq!(CStr::from_ptr(ct).to_str().unwrap(), "image/png", "g4f {v}");
            backend_api_bytes_free(data, len);
            backend_api_string_free(ct);
            let path = std::env::temp_dir().join(format!(
                "backend-api-red-dot-{}-{v}.png",
                std::process::id()
            ));
            let mut written = 0u64;
            assert_eq!(
                backend_api_media_save(
                    client,
                    req,
                    cs(&url).as_ptr(),
                    cs(path.to_str().unwrap()).as_ptr(),
                    ptr::null(),
                    0,
                    &mut written,
                    ptr::null_mut(),
                    ptr::null_mut()
                ),
                Status::Ok
            );
            assert_eq!(std::fs::read(&path).unwrap(), red_dot, "g4f {v}");
            assert_eq!(written, red_dot.len() as u64);
            std::fs::remove_file(&path).unwrap();
            backend_api_request_free(req);
            backend_api_client_free(client);
        }
    }
}

/// The C agent loop over g4f's `tool_calls` chunks: the provider asks for a
/// tool, the example sends its result back, the provider answers with it.
#[test]
fn the_c_agent_loop_runs_over_g4f_tool_calls() {
    for (v, s) in both() {
        let _t = s.turn();
        let (code, out) = crate::conversation::agent_loop(&[
            &s.url,
            "backend",
            "interop-model",
            "provider=\"InteropTest\"",
            "interop_agent=true",
            "interop_chunks=0",
        ]);
        assert_eq!(code, 0, "g4f {v}: {out}");
        assert!(
            out.contains("assistant calls: get_weather({\"city\": \"Paris\"}) [call_interop_1]"),
            "g4f {v}: {out}"
        );
        assert!(
            out.contains(
                "assistant: Tool said: {\"city\": \"Paris\", \"forecast\": \"sunny, 21 C\"}"
            ),
            "g4f {v}: {out}"
        );
    }
}

/// Video input reaches the provider of the real servers as a data: URI with its type.
#[test]
fn video_input_reaches_the_provider() {
    let mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec();
    let call = Call {
        media_bytes: vec![(mp4, "clip.mp4".into())],
        ..interop(json!({"interop_echo": true}))
    };
    for (v, s) in both() {
        let o = {
            let _t = s.turn();
            stream(&s.url, &call)
        };
        assert_eq!(o.end, Status::End, "g4f {v}");
        let media = &echo(&o)["media"];
        assert!(
            media[0][0]
                .as_str()
                .unwrap()
                .starts_with("data:video/mp4;base64,"),
            "g4f {v}: {media}"
        );
        assert_eq!(media[0][1], "clip.mp4", "g4f {v}");
    }
}

/// The provider listing of the GUI backend (both generations) and of `g4f api`
/// (its OpenAI-compatible `/v1/providers`): a list of named providers, ours
/// among them where the server lists its live registry; and the models typed
/// with their capabilities as the servers state them.
#[test]
fn providers_and_typed_models_of_the_real_servers() {
    let mut servers: Vec<(&str, &Server, Option<u32>)> =
        both().into_iter().map(|(v, s)| (v, s, None)).collect();
    if let Some(api) = server(API) {
        servers.push((API, api, Some(backend_api_protocol::Openai as u32)));
    }
    for (v, s, protocol) in servers {
        let base = match protocol {
            Some(_) => format!("{}/v1", s.url),
            None => s.url.clone(),
        };
        let client = support::cabi::c_client(&base, protocol);
        // SAFETY: objects made here, each freed once; lent strings copied before the list is freed.
        unsafe {
            let (mut json, mut err) = (ptr::null(), ptr::null_mut());
            let st =
                backend_api_providers(client, ptr::null(), &mut json, ptr::null_mut(), &mut err);
            assert_eq!(st, Status::Ok, "{v}: {:?}", support::cabi::take_error(err));
            let list: Value = serde_json::from_str(CStr::from_ptr(json).to_str().unwrap()).unwrap();
            backend_api_string_free(json);
            let names: Vec<&str> = list
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|p| p.get("name").or_else(|| p.get("id"))?.as_str())
                .collect();
            // 8.8.6's GUI backend serves the provider list cached with the package
            // (providers.json), not the live registry: g4f's own providers.
            assert!(
                !names.is_empty() && names.len() == list.as_array().unwrap().len(),
                "{v}: {list}"
            );
            if v != NEW {
                assert!(names.contains(&"InteropTest"), "{v}: {list}");
            }

            let provider = protocol.is_none().then(|| cs("InteropTest"));
            let mut models = ptr::null_mut();
            assert_eq!(
                backend_api_model_list_fetch(
                    client,
                    provider.as_ref().map_or(ptr::null(), |p| p.as_ptr()),
                    ptr::null(),
                    &mut models,
                    ptr::null_mut()
                ),
                Status::Ok,
                "{v}"
            );
            let mut typed = Vec::new();
            for i in 0..backend_api_model_list_count(models) {
                let (mut id, mut caps, mut known) = (ptr::null(), 0u32, 0u32);
                assert_eq!(
                    backend_api_model_list_get(
                        models,
                        i,
                        &mut id,
                        ptr::null_mut(),
                        &mut caps,
                        &mut known
                    ),
                    Status::Ok
                );
                typed.push((CStr::from_ptr(id).to_str().unwrap().to_owned(), caps, known));
            }
            backend_api_model_list_free(models);
            let caps = |name: &str| {
                typed
                    .iter()
                    .find(|(id, ..)| id == name)
                    .map(|(_, caps, known)| (*caps, *known))
                    .unwrap_or_else(|| panic!("{v}: no {name} in {typed:?}"))
            };
            let (vision, image) = (BACKEND_API_CAPABILITY_VISION, BACKEND_API_CAPABILITY_IMAGE);
            if protocol.is_some() {
                // `g4f api` lists each listed provider as a model too, with what
                // its models can do: InteropTest has a vision model, no image model.
                assert_eq!(caps("InteropTest"), (vision, vision | image), "{v}");
            } else {
                assert_eq!(caps("interop-vision").0 & vision, vision, "{v}");
                let (plain, known) = caps("interop-model");
                assert_eq!(
                    (plain & vision, known & vision),
                    (0, vision),
                    "{v}: stated, lacking"
                );
            }
            backend_api_client_free(client);
        }
    }
}

/// A stream's response headers from the real server.
#[test]
fn response_headers_of_a_real_stream() {
    for (v, s) in both() {
        let _t = s.turn();
        let client = support::cabi::c_client(&s.url, None);
        // SAFETY: objects made here, each freed once; the value is read before close.
        unsafe {
            let req = g4f_request("InteropTest", json!({}));
            let (st, _, end) = support::cabi::open_drained(client, req);
            assert_eq!(end, Status::End);
            let mut value = ptr::null();
            assert_eq!(
                backend_api_stream_header(
                    st,
                    cs("Content-Type").as_ptr(),
                    &mut value,
                    ptr::null_mut()
                ),
                Status::Ok
            );
            assert!(
                CStr::from_ptr(value)
                    .to_str()
                    .unwrap()
                    .starts_with("text/event-stream"),
                "g4f {v}"
            );
            backend_api_close(st);
            backend_api_request_free(req);
            backend_api_client_free(client);
        }
    }
}
