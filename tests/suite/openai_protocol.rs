//! The OpenAI-compatible protocol against the bundled backend's
//! `/v1/chat/completions`: what a stream gives, what the request carries, the
//! model listing, and how a stream ends (with `[DONE]`, without it, on an error).

use backend_api::{models, ChunkKind, Client, Field, Next, Protocol, Request, Status, Stream};
use serde_json::{json, Value};
use support::{drain, request, BACKEND};

fn client() -> Client {
    let mut c = Client::new(&format!("{}/v1", BACKEND.url)).unwrap();
    c.set_proxy(None).unwrap();
    c.set_protocol(Protocol::Openai);
    c
}

fn run(r: &Request) -> (Vec<backend_api::Chunk>, Next, backend_api::Answer) {
    let s = Stream::open(&client(), r).unwrap();
    let (chunks, end) = drain(&s);
    (chunks, end, s.answer())
}

#[test]
fn stream_maps_events_to_chunk_kinds_and_assembles_the_answer() {
    let (chunks, end, a) = run(&request(json!({"test_chunks": 3, "test_extras": true})));
    assert!(matches!(end, Next::End), "{end:?}");
    let kinds: Vec<ChunkKind> = chunks.iter().map(|c| c.kind()).collect();
    use ChunkKind::*;
    assert_eq!(
        kinds,
        [
            Provider, Reasoning, Content, Content, Content, ToolCalls, ToolCalls, ToolCalls,
            Finish, Usage
        ]
    );
    // Every chunk keeps its event as the server sent it.
    for c in &chunks {
        let Some(Field::Json(event)) = c.field("event") else {
            panic!("no event in {c:?}")
        };
        let v: Value = serde_json::from_str(&event).unwrap();
        assert_eq!(v["object"], "chat.completion.chunk");
    }
    assert_eq!(a.content, "part0 part1 part2 ");
    assert_eq!(a.reasoning, "thinking");
    assert_eq!(a.finish_reason.as_deref(), Some("stop"));
    assert_eq!(a.usage.as_ref().unwrap()["total_tokens"], 6);
    assert_eq!(
        (a.provider.as_deref(), a.model.as_deref()),
        (Some("TestBackend"), Some("test-model"))
    );
    assert_eq!(
        a.tool_calls,
        Some(json!([
            {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
            {"index": 1, "id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
        ]))
    );
}

#[test]
fn the_request_is_an_openai_body_with_a_bearer_key() {
    let mut r = request(json!({"test_echo": true, "test_chunks": 0}));
    r.set_api_key(Some("sk-openai-test"), backend_api::KeyPlacement::Body)
        .unwrap();
    r.add_media(backend_api::Media::from_bytes(b"GIF89a", Some("a.gif")).unwrap());
    let (chunks, end, _) = run(&r);
    assert!(matches!(end, Next::End), "{end:?}");
    let echo = support::content(&chunks);
    let v: Value = serde_json::from_str(echo.strip_prefix("ECHO:").unwrap()).unwrap();
    let (body, headers) = (&v["body"], &v["headers"]);
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    assert_eq!(body["model"], "test-model");
    assert!(body.get("media").is_none());
    assert_eq!(
        body["messages"][0]["content"][1],
        json!({"type": "image_url", "image_url": {"url": "data:image/gif;base64,R0lGODlh"}})
    );
    assert_eq!(
        body["api_key"], "sk-openai-test",
        "BODY placement adds the field"
    );
    assert_eq!(
        headers["authorization"], "Bearer sk-openai-test",
        "and the key always goes as Bearer"
    );
    assert_eq!(headers["accept"], "text/event-stream");
}

#[test]
fn a_stream_without_done_ends_as_the_server_ended_it() {
    let (chunks, end, a) = run(&request(json!({"test_chunks": 2, "test_no_done": true})));
    assert!(matches!(end, Next::End), "{end:?}");
    assert_eq!(support::content(&chunks), "part0 part1 ");
    assert_eq!(a.finish_reason.as_deref(), Some("stop"));
}

#[test]
fn an_error_event_is_a_fatal_error_chunk() {
    let (chunks, end, a) = run(&request(
        json!({"test_chunks": 1, "test_fault": "error_chunk"}),
    ));
    assert!(matches!(end, Next::End), "{end:?}");
    let last = chunks.last().unwrap();
    assert_eq!(last.kind(), ChunkKind::Error);
    assert!(last.is_fatal());
    assert_eq!(last.text().as_deref(), Some("ValueError: test failure"));
    assert_eq!(last.field("error"), Some(Field::Text("ValueError".into())));
    assert_eq!(a.error.as_deref(), Some("ValueError: test failure"));
    assert_eq!(a.content, "part0 ");
}

#[test]
fn http_errors_carry_the_openai_error_message() {
    let s = Stream::open(&client(), &request(json!({"test_status": 401}))).unwrap();
    let Next::Error(e) = s.next(None) else {
        panic!("no error")
    };
    assert_eq!((e.status, e.http_status), (Status::Http, 401));
    assert_eq!(e.server_message.as_deref(), Some("test status 401"));
}

#[test]
fn models_come_from_v1_models() {
    let text = models(&client(), None, None).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["data"][0]["id"], "test-model");
    assert_eq!(
        models(&client(), Some("TestBackend"), None)
            .unwrap_err()
            .status,
        Status::InvalidArgument
    );
}

#[test]
fn follow_up_sends_the_answer_back_as_the_assistant() {
    let r = request(json!({"test_chunks": 1}));
    let (_, _, a) = run(&r);
    let mut next = r.follow_up(&a, Some("again"));
    next.set_field_json("test_echo", "true").unwrap();
    let (chunks, end, _) = run(&next);
    assert!(matches!(end, Next::End));
    let echo = chunks[1].text().unwrap();
    let v: Value = serde_json::from_str(echo.strip_prefix("ECHO:").unwrap()).unwrap();
    assert_eq!(
        v["body"]["messages"],
        json!([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "part0 "}, {"role": "user", "content": "again"}])
    );
}

#[test]
fn the_c_setter_checks_the_protocol_value() {
    use backend_api::ffi::*;
    use std::ptr;
    // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive each
    // call and out-parameters on this stack.
    unsafe {
        let mut c = ptr::null_mut();
        let url = std::ffi::CString::new("http://127.0.0.1:1/v1").unwrap();
        assert_eq!(
            backend_api_client_new(url.as_ptr(), &mut c, ptr::null_mut()),
            Status::Ok
        );
        for ok in [0, 1] {
            assert_eq!(
                backend_api_client_set_protocol(c, ok, ptr::null_mut()),
                Status::Ok
            );
        }
        for bad in [2, 0x7FFF_FFFF, u32::MAX] {
            let mut err = ptr::null_mut();
            assert_eq!(
                backend_api_client_set_protocol(c, bad, &mut err),
                Status::InvalidArgument
            );
            assert_eq!(backend_api_error_status(err), Status::InvalidArgument);
            backend_api_error_free(err);
        }
        assert_eq!(
            backend_api_client_set_protocol(ptr::null_mut(), 1, ptr::null_mut()),
            Status::InvalidArgument
        );
        backend_api_client_free(c);
    }
}
