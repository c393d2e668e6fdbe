//! The JSON Pointer look-ups of the C API (`backend_api_chunk_get_*`) and
//! `backend_api_redact_url`, through the C entry points: a real loopback server
//! sends one chunk with nesting, arrays, escaped keys and every JSON type, read
//! back as a C program reads it.

use std::ffi::c_char;
use std::io::{BufReader, Write};
use std::net::TcpListener;
use std::ptr;

use backend_api::ffi::backend_api_json_type as JsonType;
use backend_api::ffi::backend_api_status as Status;
use backend_api::ffi::*;
use support::cabi::{cs, request, text};

const CHUNK: &str = r#"{"type": "usage", "usage": {"prompt_tokens": 3, "completion_tokens": 10,
 "ratio": 0.25, "big": 9223372036854775808, "whole": 3.0},
 "provider": {"name": "Test", "label": "T\u00e9st \u001b[2J", "model": null, "nul": "a\u0000b"},
 "list": [true, false, {"x": "in a list"}], "a/b": "slash", "m~n": "tilde", "": "empty key"}"#;

/// A server that answers one request with `CHUNK` as a Server-Sent Event.
fn serve_one_chunk() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        support::http::read_request(&mut reader).unwrap();
        let event = format!("data: {}\n\n", CHUNK.replace('\n', ""));
        let mut conn = conn;
        write!(
            conn,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n{event}"
        )
        .unwrap();
    });
    url
}

/// The first chunk of an answer from `url`, through the C API.
unsafe fn first_chunk(url: &str) -> (*mut backend_api_stream, *mut backend_api_chunk) {
    // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive each
    // call and out-parameters on this stack.
    unsafe {
        let mut client = ptr::null_mut();
        let no_err = ptr::null_mut();
        assert_eq!(
            backend_api_client_new(cs(url).as_ptr(), &mut client, no_err),
            Status::Ok
        );
        backend_api_client_set_proxy(client, ptr::null(), no_err);
        let req = request("m", std::iter::empty());
        let mut stream = ptr::null_mut();
        assert_eq!(
            backend_api_open(client, req, &mut stream, no_err),
            Status::Ok
        );
        backend_api_request_free(req);
        backend_api_client_free(client);
        let mut chunk = ptr::null_mut();
        assert_eq!(
            backend_api_next(stream, 30_000, &mut chunk, no_err),
            Status::Ok
        );
        (stream, chunk)
    }
}

#[test]
fn typed_look_ups_by_json_pointer() {
    // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive each
    // call and out-parameters on this stack.
    unsafe {
        let (stream, chunk) = first_chunk(&serve_one_chunk());
        let string = |p: &str| {
            let mut v: *const c_char = ptr::null();
            let mut len = 0usize;
            let st = backend_api_chunk_get_string(chunk, cs(p).as_ptr(), &mut v, &mut len);
            (st, (st == Status::Ok).then(|| (text(v).unwrap(), len, v)))
        };
        let (st, got) = string("/provider/name");
        assert_eq!((st, got.map(|g| g.0)), (Status::Ok, Some("Test".into())));
        let (_, label) = string("/provider/label");
        let (label, _, first) = label.unwrap();
        assert_eq!(label, "Tést \u{1b}[2J", "escapes decoded");
        let (_, again) = string("/provider/label");
        assert_eq!(again.unwrap().2, first, "lent once, the same pointer again");
        let (_, nul) = string("/provider/nul");
        assert_eq!(
            nul.map(|n| n.1),
            Some(3),
            "a NUL inside shows in the length"
        );
        assert_eq!(string("/a~1b").1.unwrap().0, "slash");
        assert_eq!(string("/m~0n").1.unwrap().0, "tilde");
        assert_eq!(string("/").1.unwrap().0, "empty key");
        assert_eq!(string("/list/2/x").1.unwrap().0, "in a list");
        assert_eq!(string("/provider/model").0, Status::WrongType, "null");
        assert_eq!(string("/usage/prompt_tokens").0, Status::WrongType);
        assert_eq!(string("/provider/absent").0, Status::NotFound);
        assert_eq!(string("/list/3").0, Status::NotFound);
        assert_eq!(string("/list/-").0, Status::NotFound);
        assert_eq!(string("provider").0, Status::InvalidArgument);
        assert_eq!(string("/m~2n").0, Status::InvalidArgument);
        // A top-level field of the same name is another value: "usage" is the object.
        let mut field: *const c_char = ptr::null();
        let name = cs("/provider/name");
        assert_eq!(
            backend_api_chunk_field(chunk, name.as_ptr(), &mut field, ptr::null_mut()),
            Status::NotFound
        );

        let int = |p: &str| {
            let mut v = -1i64;
            let st = backend_api_chunk_get_int64(chunk, cs(p).as_ptr(), &mut v);
            (st, v)
        };
        assert_eq!(int("/usage/prompt_tokens"), (Status::Ok, 3));
        assert_eq!(int("/usage/ratio"), (Status::WrongType, -1), "untouched");
        assert_eq!(int("/usage/big"), (Status::WrongType, -1), "2^63");
        assert_eq!(int("/usage/whole"), (Status::WrongType, -1), "3.0");
        assert_eq!(int("/usage/nothing"), (Status::NotFound, -1));

        let num = |p: &str| {
            let mut v = -1.0f64;
            let st = backend_api_chunk_get_number(chunk, cs(p).as_ptr(), &mut v);
            (st, v)
        };
        assert_eq!(num("/usage/ratio"), (Status::Ok, 0.25));
        assert_eq!(num("/usage/completion_tokens"), (Status::Ok, 10.0));
        assert_eq!(num("/usage/big"), (Status::Ok, 9223372036854775808.0));
        assert_eq!(num("/provider/name"), (Status::WrongType, -1.0));

        let boolean = |p: &str| {
            let mut v = false;
            let st = backend_api_chunk_get_bool(chunk, cs(p).as_ptr(), &mut v);
            (st, v)
        };
        assert_eq!(boolean("/list/0"), (Status::Ok, true));
        assert_eq!(boolean("/list/1"), (Status::Ok, false));
        assert_eq!(boolean("/usage/prompt_tokens").0, Status::WrongType);

        let kind = |p: &str| {
            let mut t = JsonType::MaxEnum;
            let st = backend_api_chunk_get_type(chunk, cs(p).as_ptr(), &mut t);
            (st, t)
        };
        assert_eq!(kind(""), (Status::Ok, JsonType::Object));
        assert_eq!(kind("/list"), (Status::Ok, JsonType::Array));
        assert_eq!(kind("/list/0"), (Status::Ok, JsonType::Bool));
        assert_eq!(kind("/usage/ratio"), (Status::Ok, JsonType::Number));
        assert_eq!(kind("/type"), (Status::Ok, JsonType::String));
        assert_eq!(kind("/provider/model"), (Status::Ok, JsonType::Null));
        assert_eq!(kind("/nope").0, Status::NotFound);

        // NULL anywhere: INVALID_ARGUMENT, nothing written.
        let mut v = 7i64;
        let p = cs("/usage/prompt_tokens");
        assert_eq!(
            backend_api_chunk_get_int64(ptr::null(), p.as_ptr(), &mut v),
            Status::InvalidArgument
        );
        assert_eq!(
            backend_api_chunk_get_int64(chunk, ptr::null(), &mut v),
            Status::InvalidArgument
        );
        assert_eq!(
            backend_api_chunk_get_int64(chunk, p.as_ptr(), ptr::null_mut()),
            Status::InvalidArgument
        );
        assert_eq!(v, 7);
        let bad_utf8 = [b'/', 0xff, 0];
        assert_eq!(
            backend_api_chunk_get_int64(chunk, bad_utf8.as_ptr().cast(), &mut v),
            Status::InvalidArgument
        );
        backend_api_chunk_free(chunk);
        backend_api_close(stream);
    }
}

/// `backend_api_redact_url` into a caller's buffer.
fn redact(url: &str, len: usize) -> (Status, String, usize) {
    // One byte more than `len`, a NUL the function must not need: its own ends earlier.
    let mut buf = vec![b'#' as c_char; len + 1];
    buf[len] = 0;
    let mut needed = 0usize;
    // SAFETY: a C string that outlives the call, a buffer of at least `len` bytes and an
    // out-parameter on this stack.
    let st =
        unsafe { backend_api_redact_url(cs(url).as_ptr(), buf.as_mut_ptr(), len, &mut needed) };
    // SAFETY: the buffer holds a NUL: the function writes one, or the test put one at `len`.
    let shown = unsafe { text(buf.as_ptr()) }.unwrap_or_default();
    (st, shown, needed)
}

#[test]
fn redact_url_hides_credentials_up_to_the_last_at() {
    assert_eq!(
        redact("http://user:p@ssw0rd@host:1/x", 64),
        (Status::Ok, "http://***@host:1/x".into(), 20)
    );
    assert_eq!(
        redact("http://admin:hunter2@127.0.0.1:9/v1?q=a@b", 64).1,
        "http://***@127.0.0.1:9/v1?q=a@b"
    );
    assert_eq!(redact("http://h/x@y", 64).1, "http://h/x@y");
    let (st, shown, needed) = redact("http://user:secret@host", 9);
    assert_eq!(
        (st, shown.as_str(), needed),
        (Status::Limit, "http://*", 16),
        "cut short, NUL-terminated, never the password"
    );
    assert_eq!(redact("http://h", 0).0, Status::InvalidArgument);
    let mut buf = [0 as c_char; 8];
    // SAFETY: NULL is allowed for the URL and `needed`; the buffer has 8 bytes.
    let st = unsafe { backend_api_redact_url(ptr::null(), buf.as_mut_ptr(), 8, ptr::null_mut()) };
    assert_eq!(st, Status::InvalidArgument);
    // SAFETY: a C string that outlives the call; NULL is allowed for the buffer and `needed`.
    let st = unsafe {
        backend_api_redact_url(cs("http://h").as_ptr(), ptr::null_mut(), 8, ptr::null_mut())
    };
    assert_eq!(st, Status::InvalidArgument);
}

#[test]
fn a_chunk_from_json_text_walked_by_count_and_key() {
    // SAFETY: C API calls on objects made here, each freed once, with C strings that outlive each
    // call and out-parameters on this stack.
    unsafe {
        let json = r#"{"B": [1, 2, 3], "a/~": {"x": null}, "A": "s"}"#;
        let mut chunk = ptr::null_mut();
        let mut err = ptr::null_mut();
        assert_eq!(
            backend_api_chunk_parse(json.as_ptr().cast(), json.len(), &mut chunk, &mut err),
            Status::Ok
        );
        assert_eq!(text(backend_api_chunk_type(chunk)).unwrap(), "", "no type");
        let count = |p: &str| {
            let mut n = 99usize;
            (
                backend_api_chunk_get_count(chunk, cs(p).as_ptr(), &mut n),
                n,
            )
        };
        assert_eq!(count(""), (Status::Ok, 3));
        assert_eq!(count("/B"), (Status::Ok, 3));
        assert_eq!(count("/A"), (Status::WrongType, 99));
        let key = |p: &str, i: usize| {
            let mut k: *const c_char = ptr::null();
            let st = backend_api_chunk_get_key(chunk, cs(p).as_ptr(), i, &mut k, ptr::null_mut());
            (st, text(k))
        };
        let keys: Vec<_> = (0..3).map(|i| key("", i).1.unwrap()).collect();
        assert_eq!(keys, ["A", "B", "a/~"], "sorted");
        assert_eq!(key("", 3).0, Status::NotFound);
        assert_eq!(key("/B", 0).0, Status::WrongType);
        let mut k1: *const c_char = ptr::null();
        let mut k2: *const c_char = ptr::null();
        let root = cs("");
        backend_api_chunk_get_key(chunk, root.as_ptr(), 1, &mut k1, ptr::null_mut());
        backend_api_chunk_get_key(chunk, root.as_ptr(), 1, &mut k2, ptr::null_mut());
        assert_eq!(k1, k2, "lent once");
        let mut t = JsonType::MaxEnum;
        assert_eq!(
            backend_api_chunk_get_type(chunk, cs("/a~1~0/x").as_ptr(), &mut t),
            Status::Ok
        );
        assert_eq!(t, JsonType::Null);
        backend_api_chunk_free(chunk);

        for bad in ["[1, 2]", "{\"a\": ", "", "{} {}"] {
            let mut c = ptr::null_mut();
            let mut e = ptr::null_mut();
            let st = backend_api_chunk_parse(bad.as_ptr().cast(), bad.len(), &mut c, &mut e);
            assert_eq!(st, Status::InvalidArgument, "{bad:?}");
            assert!(c.is_null() && !e.is_null());
            backend_api_error_free(e);
        }
        let invalid = [b'{', b'"', 0xff, b'"', b':', b'1', b'}'];
        let mut c = ptr::null_mut();
        assert_eq!(
            backend_api_chunk_parse(
                invalid.as_ptr().cast(),
                invalid.len(),
                &mut c,
                ptr::null_mut()
            ),
            Status::InvalidArgument
        );
    }
}
