//! A whole conversation through the C ABI against the loopback test backend:
//! the agent loop example over tool calls (OpenAI protocol), generated media
//! and what their download sends where, media input of every kind g4f takes,
//! and the follow-ups that carry the provider's state back.

use std::ffi::CStr;
use std::path::Path;
use std::process::Command;
use std::ptr;

use backend_api::ffi::backend_api_status as Status;
use backend_api::ffi::*;
use serde_json::{json, Value};
use support::backend::TEST_DOT;
use support::cabi::{
    answer_media, c_client, cs, open_drained, request, request_json, stream_answer, take_error,
};

use crate::c_build::compile;

/// Builds examples/agent_loop.c with AddressSanitizer, LeakSanitizer and UBSan
/// (a leak or a memory error fails it) and runs it with `args`: its exit code and output.
pub fn agent_loop(args: &[&str]) -> (i32, String) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/agent_loop.c");
    let sanitize = [
        "-fsanitize=address,undefined",
        "-fno-omit-frame-pointer",
        "-fno-sanitize-recover=all",
    ];
    let exe = compile(&source, "agent_loop", &sanitize);
    let out = Command::new(&exe)
        .args(args)
        .env("ASAN_OPTIONS", "detect_leaks=1:exitcode=86")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&exe);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    eprintln!("{text}");
    (out.status.code().unwrap_or(-1), text)
}

/// The C agent loop against the test backend's OpenAI mode: one tool round,
/// then the answer built from the tool's result.
#[test]
fn the_c_agent_loop_runs_a_tool_round_over_the_openai_protocol() {
    let base = format!("{}/v1", support::BACKEND.url);
    let (code, out) = agent_loop(&[&base, "openai", "test-model", "test_openai=\"agent\""]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("assistant calls: get_weather({\"city\": \"Paris\"}) [call_w1]"),
        "{out}"
    );
    assert!(
        out.contains(
            "assistant: The weather in Paris: {\"city\": \"Paris\", \"forecast\": \"sunny, 21 C\"}"
        ),
        "{out}"
    );
    assert!(out.contains("done after 2 rounds"), "{out}");
}

/// Fetches `url` through the C API with `client` (and `req`): the status, the
/// bytes and the content type.
fn fetch(
    client: *const backend_api_client,
    req: *const backend_api_request,
    url: &str,
    max: usize,
    canceller: *const backend_api_canceller,
) -> (Status, Vec<u8>, Option<String>, String) {
    // SAFETY: live objects from the caller, out-parameters on this stack, each
    // handed-out value freed once.
    unsafe {
        let (mut data, mut len, mut ct, mut err) =
            (ptr::null_mut(), 0, ptr::null(), ptr::null_mut());
        let st = backend_api_media_fetch(
            client,
            req,
            cs(url).as_ptr(),
            canceller,
            max,
            &mut data,
            &mut len,
            &mut ct,
            &mut err,
        );
        if st != Status::Ok {
            let (_, message) = take_error(err);
            return (st, Vec::new(), None, message);
        }
        let bytes = if data.is_null() {
            Vec::new()
        } else {
            std::slice::from_raw_parts(data, len).to_vec()
        };
        backend_api_bytes_free(data, len);
        let ct_text = (!ct.is_null()).then(|| CStr::from_ptr(ct).to_str().unwrap().to_owned());
        backend_api_string_free(ct);
        (st, bytes, ct_text, String::new())
    }
}

/// A generated image as g4f sends one it stored: listed with its URL resolved,
/// fetched with the client's headers and the request's key, which go to the
/// base URL's origin only: a medium on another host gets neither.
#[test]
fn generated_media_are_listed_and_fetched_with_credentials_for_their_origin_only() {
    let home = &support::BACKEND.url;
    let elsewhere = support::backend::Backend::start().url;
    let client = c_client(home, None);
    // SAFETY: objects made here, each freed once; C strings outlive each call.
    unsafe {
        assert_eq!(
            backend_api_client_add_header(
                client,
                cs("x-secret").as_ptr(),
                cs("s3cret").as_ptr(),
                ptr::null_mut()
            ),
            Status::Ok
        );
        let req = request("test-model", [(&"test_media".to_owned(), &json!(true))]);
        assert_eq!(
            backend_api_request_set_api_key(
                req,
                cs("sk-media").as_ptr(),
                BACKEND_API_KEY_BEARER,
                ptr::null_mut()
            ),
            Status::Ok
        );
        let (s, _, end) = open_drained(client, req);
        assert_eq!(end, Status::End);
        let answer = stream_answer(s);
        backend_api_close(s);
        let media = answer_media(answer);
        backend_api_chunk_free(answer);
        assert_eq!(
            media,
            [(
                backend_api_media_kind::Image,
                format!("{home}/media/test-dot.png"),
                Some("a test dot".to_owned())
            )]
        );
        let (st, bytes, ct, _) = fetch(client, req, &media[0].1, 0, ptr::null());
        assert_eq!(
            (st, bytes.as_slice(), ct.as_deref()),
            (Status::Ok, TEST_DOT, Some("image/png"))
        );

        let headers_at = |base: &str| {
            let (st, bytes, _, m) = fetch(
                client,
                req,
                &format!("{base}/media/headers.json"),
                0,
                ptr::null(),
            );
            assert_eq!(st, Status::Ok, "{m}");
            serde_json::from_slice::<Value>(&bytes).unwrap()
        };
        let same = headers_at(home);
        assert_eq!(same["x-secret"], "s3cret");
        assert_eq!(same["authorization"], "Bearer sk-media");
        let other = headers_at(&elsewhere);
        assert!(
            other.get("x-secret").is_none() && other.get("authorization").is_none(),
            "{other}"
        );

        // Bounded, and cancelled before it starts.
        let (st, _, _, m) = fetch(client, req, "/media/test-dot.png", 8, ptr::null());
        assert_eq!(st, Status::Limit, "{m}");
        let canceller = backend_api_canceller_new();
        backend_api_canceller_cancel(canceller);
        let (st, ..) = fetch(client, req, "/media/test-dot.png", 0, canceller);
        assert_eq!(st, Status::Cancelled);
        backend_api_canceller_free(canceller);
        // A data: URI is decoded without a request.
        let (st, bytes, ct, _) = fetch(
            client,
            ptr::null(),
            "data:image/gif;base64,R0lGODlh",
            0,
            ptr::null(),
        );
        assert_eq!(
            (st, bytes.as_slice(), ct.as_deref()),
            (Status::Ok, &b"GIF89a"[..], Some("image/gif"))
        );
        backend_api_request_free(req);
        backend_api_client_free(client);
    }
}

/// Video, audio and images, by name and by content, reach the body as g4f's
/// backend takes them; an unsupported file says what is accepted.
#[test]
fn media_input_of_every_kind_g4f_takes() {
    let dir = std::env::temp_dir().join(format!("backend-api-media-in-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mp4 = dir.join("clip.mp4");
    std::fs::write(&mp4, b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2").unwrap();
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, b"plain text").unwrap();
    // SAFETY: a request made here and freed once; C strings outlive each call.
    unsafe {
        let req = request("test-model", []);
        let add_file = |p: &Path| {
            let mut err = ptr::null_mut();
            match backend_api_request_add_media_file(
                req,
                cs(p.to_str().unwrap()).as_ptr(),
                &mut err,
            ) {
                Status::Ok => Ok(()),
                _ => Err(take_error(err)),
            }
        };
        add_file(&mp4).unwrap();
        let webm = b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x84webm";
        assert_eq!(
            backend_api_request_add_media_bytes(
                req,
                webm.as_ptr(),
                webm.len(),
                ptr::null(),
                ptr::null_mut()
            ),
            Status::Ok
        );
        let mov = b"\0\0\0\x14ftypqt  \0\0\x02\0";
        assert_eq!(
            backend_api_request_add_media_bytes(
                req,
                mov.as_ptr(),
                mov.len(),
                cs("take.mov").as_ptr(),
                ptr::null_mut()
            ),
            Status::Ok
        );
        let (status, message) = add_file(&notes).unwrap_err();
        assert_eq!(status, Status::Media);
        assert!(
            message.contains("notes.txt") && message.contains("video (mp4, webm, mov"),
            "{message}"
        );
        let body = request_json(req);
        let mimes: Vec<&str> = body["media"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m[0].as_str().unwrap().split(';').next().unwrap())
            .collect();
        assert_eq!(
            mimes,
            ["data:video/mp4", "data:video/webm", "data:video/quicktime"]
        );
        assert_eq!(body["media"][0][1], "clip.mp4");
        backend_api_request_free(req);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// The headers of a stream's last response: a 429's `Retry-After` when the
/// stream failed with it, the answer's after a retry.
#[test]
fn response_headers_of_an_error_and_after_a_retry() {
    let client = c_client(&support::BACKEND.url, None);
    let header = |s: *const backend_api_stream, name: &str| -> (Status, Option<String>) {
        // SAFETY: a live stream; the value is copied at once.
        unsafe {
            let mut value = ptr::null();
            let st = backend_api_stream_header(s, cs(name).as_ptr(), &mut value, ptr::null_mut());
            (
                st,
                (st == Status::Ok).then(|| CStr::from_ptr(value).to_str().unwrap().to_owned()),
            )
        }
    };
    let key = format!("headers-{}", std::process::id());
    let fields = json!({"test_fail_key": key, "test_fail_times": 1, "test_fail_status": 429, "test_retry_after": "0"});
    let fields: Vec<(String, Value)> = fields.as_object().unwrap().clone().into_iter().collect();
    // SAFETY: objects made here, each freed once.
    unsafe {
        let req = request("test-model", fields.iter().map(|(k, v)| (k, v)));
        let (s, _, end) = open_drained(client, req);
        assert_eq!(end, Status::Http);
        assert_eq!(header(s, "Retry-After"), (Status::Ok, Some("0".to_owned())));
        assert_eq!(header(s, "x-request-id").0, Status::NotFound);
        backend_api_close(s);
        // The key failed once: now, with a retry allowed, the answer's headers.
        let key2 = format!("{key}-retry");
        let req2 = request(
            "test-model",
            [
                (&"test_fail_key".to_owned(), &json!(key2)),
                (&"test_fail_times".to_owned(), &json!(1)),
                (&"test_fail_status".to_owned(), &json!(429)),
            ],
        );
        assert_eq!(
            backend_api_client_set_retries(client, 1, 1, 10, ptr::null_mut()),
            Status::Ok
        );
        let (s, _, end) = open_drained(client, req2);
        assert_eq!(end, Status::End);
        assert_eq!(
            header(s, "x-request-id"),
            (Status::Ok, Some("req-test".to_owned()))
        );
        assert_eq!(header(s, "retry-after").0, Status::NotFound);
        backend_api_close(s);
        backend_api_request_free(req);
        backend_api_request_free(req2);
        backend_api_client_free(client);
    }
}
