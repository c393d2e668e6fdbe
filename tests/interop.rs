//! Interop with the real g4f servers from PyPI, run offline on loopback:
//! g4f 8.8.6 (Server-Sent Events) and g4f 6.7.4 (one JSON object per line),
//! driven through the C ABI entry points. The venvs come from
//! scripts/g4f-venvs.sh; without them these tests skip loudly, and under CI
//! (`CI=true`) they fail.

use std::ffi::{CStr, CString};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::ptr;
use std::sync::{LazyLock, Mutex, MutexGuard};

use backend_api::ffi::*;
use backend_api::{ChunkKind, Status};
use serde_json::{json, Value};

const NEW: &str = "8.8.6";
const OLD: &str = "6.7.4";

fn venv_python(version: &str) -> Option<PathBuf> {
    let base = std::env::var_os("BACKEND_API_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(&std::env::var("HOME").unwrap()).join(".cache/backend-api"));
    let py = base.join(format!("venv-g4f-{version}/bin/python"));
    py.exists().then_some(py)
}

/// A real g4f server with the InteropTest provider. Requests to one server are
/// serialised: g4f's `log` chunks come from a process-wide log.
struct Server {
    url: String,
    child: Mutex<Child>,
    turn: Mutex<()>,
}

impl Server {
    fn start(version: &str) -> Option<Server> {
        let Some(py) = venv_python(version) else {
            let msg = format!("g4f {version} venv missing: run scripts/g4f-venvs.sh");
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
            eprintln!("\n######## SKIPPED: {msg} ########\n");
            return None;
        };
        let launcher = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/g4f_server.py");
        let mut child = Command::new(py)
            .arg(launcher)
            .args(["--port", "0", "--quiet"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the g4f launcher");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("launcher said {line:?}"))
            .trim()
            .to_owned();
        Some(Server {
            url: format!("http://127.0.0.1:{port}"),
            child: Mutex::new(child),
            turn: Mutex::new(()),
        })
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

static SERVERS: LazyLock<Vec<(&'static str, Option<Server>)>> =
    LazyLock::new(|| vec![(NEW, Server::start(NEW)), (OLD, Server::start(OLD))]);

fn server(version: &str) -> Option<&'static Server> {
    SERVERS
        .iter()
        .find(|(v, _)| *v == version)
        .and_then(|(_, s)| s.as_ref())
}

/// One request as the C ABI takes it.
#[derive(Default, Clone)]
struct Call {
    fields: Vec<(String, Value)>,
    media_bytes: Vec<(Vec<u8>, String)>,
    media_files: Vec<PathBuf>,
    api_key: Option<(String, u32)>,
}

/// What a stream gave: each chunk's type, kind, JSON value and text, then the end.
struct Outcome {
    chunks: Vec<(String, ChunkKind, Value, Option<String>)>,
    end: Status,
    http: Option<(u16, Option<String>)>,
}

fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

unsafe fn text(p: *const std::ffi::c_char) -> Option<String> {
    (!p.is_null()).then(|| CStr::from_ptr(p).to_str().unwrap().to_owned())
}

fn stream(url: &str, call: &Call) -> Outcome {
    unsafe {
        let mut client = ptr::null_mut();
        assert_eq!(
            backend_api_client_new(cs(url).as_ptr(), &mut client, ptr::null_mut()),
            Status::Ok
        );
        assert_eq!(
            backend_api_client_set_proxy(client, ptr::null(), ptr::null_mut()),
            Status::Ok
        );
        let req = backend_api_request_new();
        let ok = |s: Status| assert_eq!(s, Status::Ok);
        ok(backend_api_request_set_model(
            req,
            cs("interop-model").as_ptr(),
            ptr::null_mut(),
        ));
        ok(backend_api_request_add_message(
            req,
            cs("user").as_ptr(),
            cs("hi").as_ptr(),
            ptr::null_mut(),
        ));
        ok(backend_api_request_set_field_string(
            req,
            cs("provider").as_ptr(),
            cs("InteropTest").as_ptr(),
            ptr::null_mut(),
        ));
        for (k, v) in &call.fields {
            ok(backend_api_request_set_field_json(
                req,
                cs(k).as_ptr(),
                cs(&v.to_string()).as_ptr(),
                ptr::null_mut(),
            ));
        }
        for (bytes, name) in &call.media_bytes {
            ok(backend_api_request_add_media_bytes(
                req,
                bytes.as_ptr(),
                bytes.len(),
                cs(name).as_ptr(),
                ptr::null_mut(),
            ));
        }
        for path in &call.media_files {
            ok(backend_api_request_add_media_file(
                req,
                cs(path.to_str().unwrap()).as_ptr(),
                ptr::null_mut(),
            ));
        }
        if let Some((key, placement)) = &call.api_key {
            ok(backend_api_request_set_api_key(
                req,
                cs(key).as_ptr(),
                *placement,
                ptr::null_mut(),
            ));
        }
        let mut s = ptr::null_mut();
        ok(backend_api_open(client, req, &mut s, ptr::null_mut()));
        backend_api_request_free(req);
        backend_api_client_free(client);
        let mut chunks = Vec::new();
        let (end, http) = loop {
            let mut chunk = ptr::null_mut();
            let mut err = ptr::null_mut();
            match backend_api_next(s, 30_000, &mut chunk, &mut err) {
                Status::Ok => {
                    let json = text(backend_api_chunk_json(chunk, ptr::null_mut())).unwrap();
                    chunks.push((
                        text(backend_api_chunk_type(chunk)).unwrap(),
                        backend_api_chunk_kind(chunk),
                        serde_json::from_str(&json).unwrap(),
                        text(backend_api_chunk_text(chunk, ptr::null_mut())),
                    ));
                    backend_api_chunk_free(chunk);
                }
                st => {
                    let http = (!err.is_null()).then(|| {
                        (
                            backend_api_error_http_status(err),
                            text(backend_api_error_server_message(err)),
                        )
                    });
                    backend_api_error_free(err);
                    break (st, http);
                }
            }
        };
        backend_api_close(s);
        Outcome { chunks, end, http }
    }
}

/// The chunks two server generations both send, as JSON values: `log` chunks
/// dropped (g4f's process-wide log; 6.7.4 sends one, 8.8.6 none for this
/// provider) and the `model`/`provider` keys that only 8.8.6 adds to `usage`.
fn comparable(o: &Outcome) -> Vec<Value> {
    o.chunks
        .iter()
        .filter(|(t, ..)| t != "log")
        .map(|(t, _, v, _)| {
            let mut v = v.clone();
            if t == "usage" {
                let m = v.as_object_mut().unwrap();
                m.remove("model");
                m.remove("provider");
            }
            v
        })
        .collect()
}

fn both() -> Vec<(&'static str, &'static Server)> {
    [NEW, OLD]
        .into_iter()
        .filter_map(|v| server(v).map(|s| (v, s)))
        .collect()
}

#[test]
fn both_generations_give_the_same_chunks() {
    let call = Call {
        fields: vec![
            ("interop_chunks".into(), json!(4)),
            ("interop_tool_calls".into(), json!(true)),
        ],
        ..Call::default()
    };
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
            .map(|c| c.0.as_str())
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
        let content: String = o
            .chunks
            .iter()
            .filter(|c| c.1 == ChunkKind::Content)
            .filter_map(|c| c.3.clone())
            .collect();
        assert_eq!(content, "part0 part1 part2 part3 ", "g4f {v}");
        let reasoning = o
            .chunks
            .iter()
            .find(|c| c.1 == ChunkKind::Reasoning)
            .unwrap();
        assert_eq!(reasoning.3.as_deref(), Some("thinking..."));
        let tool = o
            .chunks
            .iter()
            .find(|c| c.1 == ChunkKind::ToolCalls)
            .unwrap();
        assert_eq!(tool.2["tool_calls"][0]["function"]["name"], "get_weather");
        let usage = o.chunks.iter().find(|c| c.1 == ChunkKind::Usage).unwrap();
        assert_eq!(usage.2["usage"]["total_tokens"], 7);
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
        .find_map(|c| c.3.clone().filter(|t| t.starts_with("ECHO:")))
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
        fields: vec![
            ("interop_echo".into(), json!(true)),
            ("web_search".into(), json!(false)),
            (
                "custom_field".into(),
                json!({"nested": [1, 2.5, null, "x"]}),
            ),
            ("aspect_ratio".into(), json!("16:9")),
        ],
        media_bytes: vec![(b"\x89PNG\r\n\x1a\n\0\0".to_vec(), "pic.png".into())],
        media_files: vec![gif],
        api_key: Some(("sk-interop".into(), BACKEND_API_KEY_BODY)),
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
        fields: vec![("interop_echo".into(), json!(true))],
        api_key: Some(("sk-bearer".into(), BACKEND_API_KEY_BEARER)),
        ..Call::default()
    };
    let o = {
        let _t = s.turn();
        stream(&s.url, &call)
    };
    assert_eq!(echo(&o)["api_key"], "sk-bearer");
}

#[test]
fn in_stream_error_chunk_then_the_end() {
    let call = Call {
        fields: vec![("interop_fail_after".into(), json!(1))],
        ..Call::default()
    };
    for (v, s) in both() {
        let o = {
            let _t = s.turn();
            stream(&s.url, &call)
        };
        assert_eq!(o.end, Status::End, "g4f {v}");
        let at = o
            .chunks
            .iter()
            .position(|c| c.1 == ChunkKind::Error)
            .unwrap_or_else(|| panic!("g4f {v}: no error chunk"));
        assert_eq!(
            o.chunks[at].3.as_deref(),
            Some("ValueError: interop failure"),
            "g4f {v}"
        );
        assert!(
            o.chunks[at + 1..].iter().all(|c| c.0 == "log"),
            "g4f {v}: only log chunks follow an error"
        );
        let content: String = o
            .chunks
            .iter()
            .filter(|c| c.1 == ChunkKind::Content)
            .filter_map(|c| c.3.clone())
            .collect();
        assert_eq!(content, "part0 ", "g4f {v}");
    }
}

#[test]
fn http_errors_carry_the_server_message() {
    for (v, s) in both() {
        let call = Call {
            fields: vec![("provider".into(), json!("NoSuchProvider"))],
            ..Call::default()
        };
        let o = stream(&s.url, &call);
        assert_eq!(o.end, Status::Http, "g4f {v}");
        assert_eq!(
            o.http,
            Some((404, Some("Provider not found".to_owned()))),
            "g4f {v}"
        );
    }
}

#[test]
fn models_returns_the_server_listing() {
    for (v, s) in both() {
        unsafe {
            let mut client = ptr::null_mut();
            assert_eq!(
                backend_api_client_new(cs(&s.url).as_ptr(), &mut client, ptr::null_mut()),
                Status::Ok
            );
            backend_api_client_set_proxy(client, ptr::null(), ptr::null_mut());
            for provider in [None, Some("InteropTest")] {
                let p = provider.map(cs);
                let mut out = ptr::null_mut();
                let st = backend_api_models(
                    client,
                    p.as_ref().map_or(ptr::null(), |p| p.as_ptr()),
                    &mut out,
                    ptr::null_mut(),
                    ptr::null_mut(),
                );
                assert_eq!(st, Status::Ok, "g4f {v}");
                let listing: Value =
                    serde_json::from_str(CStr::from_ptr(out).to_str().unwrap()).unwrap();
                backend_api_string_free(out);
                match provider {
                    None => assert_eq!(
                        listing,
                        json!({"InteropTest": ["interop-model", "interop-vision"]}),
                        "g4f {v}"
                    ),
                    Some(_) => {
                        let first = &listing[0];
                        let name = first.get("model").or_else(|| first.get("id")).unwrap();
                        assert_eq!(name, "interop-model", "g4f {v}");
                    }
                }
            }
            backend_api_client_free(client);
        }
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
        fields: fields
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        media_files: vec![png.clone()],
        ..Call::default()
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
    let ours: Vec<Value> = ours.chunks.into_iter().map(|c| c.2).collect();
    assert!(theirs.len() >= 12, "{theirs:?}");
    assert_eq!(ours, theirs);
    std::fs::remove_dir_all(dir).unwrap();
}
