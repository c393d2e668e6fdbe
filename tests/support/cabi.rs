//! Drives one stream through the C ABI entry points (the same functions the shared
//! library exports), for tests that must cross the C boundary.

use std::ffi::{c_char, c_void, CStr, CString};
use std::path::PathBuf;
use std::ptr;
use std::sync::Mutex;

use backend_api::ffi::*;
use backend_api::ChunkKind;
use serde_json::Value;

/// One request and the client settings it needs.
#[derive(Default, Clone)]
pub struct Call {
    pub model: Option<String>,
    pub fields: Vec<(String, Value)>,
    pub media_bytes: Vec<(Vec<u8>, String)>,
    pub media_files: Vec<PathBuf>,
    pub api_key: Option<(String, u32)>,
    pub ca_file: Option<PathBuf>,
    pub verify_tls: Option<bool>,
    /// (backend_api_timeout, ms)
    pub timeouts: Vec<(u32, i64)>,
    pub max_line: Option<usize>,
    /// Client headers (name, value).
    pub headers: Vec<(String, String)>,
    /// A `backend_api_protocol`, set on the client when given.
    pub protocol: Option<u32>,
    /// Keeps the proxy the environment names (by default the client has none).
    pub env_proxy: bool,
    /// Sends the client's log records up to this `backend_api_log_level` to [`LOGS`].
    pub log_level: Option<u32>,
}

/// Every log record of the clients made with [`Call::log_level`].
pub static LOGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe extern "C" fn to_logs(_: *mut c_void, level: backend_api_log_level, message: *const c_char) {
    // SAFETY: the library calls a log callback with a NUL-terminated message.
    unsafe {
        let m = CStr::from_ptr(message).to_string_lossy();
        LOGS.lock().unwrap().push(format!("{level:?} {m}"));
    }
}

impl Call {
    pub fn field(mut self, key: &str, value: Value) -> Call {
        self.fields.push((key.to_owned(), value));
        self
    }
}

/// One chunk as C sees it.
pub struct CChunk {
    pub type_: String,
    pub kind: backend_api_kind,
    pub value: Value,
    pub text: Option<String>,
}

/// What a stream gave: its chunks, how it ended, and the error's details.
pub struct Outcome {
    pub chunks: Vec<CChunk>,
    pub end: backend_api_status,
    pub message: String,
    pub http: Option<(u16, Option<String>)>,
}

impl Outcome {
    /// The content text, joined.
    pub fn content(&self) -> String {
        self.chunks
            .iter()
            .filter(|c| c.kind == ChunkKind::Content)
            .filter_map(|c| c.text.clone())
            .collect()
    }
}

pub fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// # Safety
/// `p` is NULL or a valid C string.
pub unsafe fn text(p: *const c_char) -> Option<String> {
    // SAFETY: NULL, or a valid C string (this function's contract).
    unsafe { (!p.is_null()).then(|| CStr::from_ptr(p).to_str().unwrap().to_owned()) }
}

fn ok(s: backend_api_status) {
    assert_eq!(s, backend_api_status::Ok);
}

/// A request for `model` with one user message ("hi") and extra body fields.
///
/// # Safety
/// Returns an owned request: free it with `backend_api_request_free`.
pub unsafe fn request<'a>(
    model: &str,
    fields: impl IntoIterator<Item = (&'a String, &'a Value)>,
) -> *mut backend_api_request {
    // SAFETY: C API calls on the request made here, with C strings that outlive each call.
    unsafe {
        let req = backend_api_request_new();
        ok(backend_api_request_set_model(
            req,
            cs(model).as_ptr(),
            ptr::null_mut(),
        ));
        ok(backend_api_request_add_message(
            req,
            cs("user").as_ptr(),
            cs("hi").as_ptr(),
            ptr::null_mut(),
        ));
        for (k, v) in fields {
            ok(backend_api_request_set_field_json(
                req,
                cs(k).as_ptr(),
                cs(&v.to_string()).as_ptr(),
                ptr::null_mut(),
            ));
        }
        req
    }
}

/// Opens `call` against `url` and drains it (each `next` waits up to 30 s).
pub fn stream(url: &str, call: &Call) -> Outcome {
    // SAFETY: C API calls on the objects made here, each freed once at the end, with C
    // strings that outlive each call and out-parameters on this stack.
    unsafe {
        let mut client = ptr::null_mut();
        ok(backend_api_client_new(
            cs(url).as_ptr(),
            &mut client,
            ptr::null_mut(),
        ));
        if !call.env_proxy {
            ok(backend_api_client_set_proxy(
                client,
                ptr::null_mut(),
                ptr::null_mut(),
            ));
        }
        if let Some(level) = call.log_level {
            ok(backend_api_client_set_log(
                client,
                Some(to_logs),
                ptr::null_mut(),
                None,
                level,
                ptr::null_mut(),
            ));
        }
        if let Some(ca) = &call.ca_file {
            ok(backend_api_client_set_ca_file(
                client,
                cs(ca.to_str().unwrap()).as_ptr(),
                ptr::null_mut(),
            ));
        }
        if let Some(v) = call.verify_tls {
            ok(backend_api_client_set_verify_tls(
                client,
                v,
                ptr::null_mut(),
            ));
        }
        for (kind, ms) in &call.timeouts {
            ok(backend_api_client_set_timeout(
                client,
                *kind,
                *ms,
                ptr::null_mut(),
            ));
        }
        if let Some(p) = call.protocol {
            ok(backend_api_client_set_protocol(client, p, ptr::null_mut()));
        }
        if let Some(n) = call.max_line {
            ok(backend_api_client_set_max_line(client, n, ptr::null_mut()));
        }
        for (name, value) in &call.headers {
            ok(backend_api_client_add_header(
                client,
                cs(name).as_ptr(),
                cs(value).as_ptr(),
                ptr::null_mut(),
            ));
        }
        let model = call.model.as_deref().unwrap_or("test-model");
        let req = request(model, call.fields.iter().map(|(k, v)| (k, v)));
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
        let outcome = loop {
            let mut chunk = ptr::null_mut();
            let mut err = ptr::null_mut();
            match backend_api_next(s, 30_000, &mut chunk, &mut err) {
                backend_api_status::Ok => chunks.push(take_chunk(chunk)),
                end => {
                    let http = (backend_api_error_http_status(err) != 0).then(|| {
                        (
                            backend_api_error_http_status(err),
                            text(backend_api_error_server_message(err)),
                        )
                    });
                    let message = text(backend_api_error_message(err)).unwrap_or_default();
                    backend_api_error_free(err);
                    break Outcome {
                        chunks: Vec::new(),
                        end,
                        message,
                        http,
                    };
                }
            }
        };
        backend_api_close(s);
        Outcome { chunks, ..outcome }
    }
}

/// The status and message of a C error, which is freed.
///
/// # Safety
/// `err` is an error from this library, not used afterwards.
pub unsafe fn take_error(err: *mut backend_api_error) -> (backend_api_status, String) {
    // SAFETY: `err` is a live error, freed here once (this function's contract).
    unsafe {
        let taken = (
            backend_api_error_status(err),
            text(backend_api_error_message(err)).unwrap_or_default(),
        );
        backend_api_error_free(err);
        taken
    }
}

/// A client for `url` through `backend_api_client_new`, or its error.
pub fn client_new(url: &str) -> Result<*mut backend_api_client, (backend_api_status, String)> {
    // SAFETY: a C string that outlives the call and out-parameters on this stack; the
    // error, if any, is taken once.
    unsafe {
        let (mut client, mut err) = (ptr::null_mut(), ptr::null_mut());
        match backend_api_client_new(cs(url).as_ptr(), &mut client, &mut err) {
            backend_api_status::Ok => Ok(client),
            _ => Err(take_error(err)),
        }
    }
}

/// A client for `url` through the C API, without a proxy, speaking `protocol`
/// (a `backend_api_protocol`) when given. Free it with `backend_api_client_free`.
pub fn c_client(url: &str, protocol: Option<u32>) -> *mut backend_api_client {
    let client = client_new(url).unwrap_or_else(|e| panic!("client for {url}: {e:?}"));
    // SAFETY: a live client made above; NULL proxy and error are allowed.
    unsafe {
        ok(backend_api_client_set_proxy(
            client,
            ptr::null(),
            ptr::null_mut(),
        ));
        if let Some(p) = protocol {
            ok(backend_api_client_set_protocol(client, p, ptr::null_mut()));
        }
    }
    client
}

/// The media of an answer chunk through `backend_api_answer_medium`.
///
/// # Safety
/// `answer` is a live chunk.
pub unsafe fn answer_media(
    answer: *const backend_api_chunk,
) -> Vec<(backend_api_media_kind, String, Option<String>)> {
    // SAFETY: a live chunk from the caller; lent strings are copied before it is freed.
    unsafe {
        (0..backend_api_answer_media_count(answer))
            .map(|i| {
                let (mut kind, mut url, mut alt) =
                    (backend_api_media_kind::MaxEnum, ptr::null(), ptr::null());
                assert_eq!(
                    backend_api_answer_medium(
                        answer,
                        i,
                        &mut kind,
                        &mut url,
                        &mut alt,
                        ptr::null_mut()
                    ),
                    backend_api_status::Ok
                );
                let alt =
                    (!alt.is_null()).then(|| CStr::from_ptr(alt).to_str().unwrap().to_owned());
                (kind, CStr::from_ptr(url).to_str().unwrap().to_owned(), alt)
            })
            .collect()
    }
}

/// Reads a chunk `backend_api_next` handed out into a [`CChunk`], and frees it.
///
/// # Safety
/// `chunk` is a live chunk, not used afterwards.
unsafe fn take_chunk(chunk: *mut backend_api_chunk) -> CChunk {
    // SAFETY: a live chunk (this function's contract), freed once, after its strings are copied.
    unsafe {
        let json = text(backend_api_chunk_json(chunk, ptr::null_mut())).unwrap();
        let c = CChunk {
            type_: text(backend_api_chunk_type(chunk)).unwrap(),
            kind: backend_api_chunk_kind(chunk),
            value: serde_json::from_str(&json).unwrap(),
            text: text(backend_api_chunk_text(chunk, ptr::null_mut())),
        };
        backend_api_chunk_free(chunk);
        c
    }
}

/// Opens `req` on `client` and drains it through the C API (each `next` waits up
/// to 30 s): the stream, still open (close it with `backend_api_close`), its
/// chunks and how it ended.
///
/// # Safety
/// `client` and `req` are live.
pub unsafe fn open_drained(
    client: *const backend_api_client,
    req: *const backend_api_request,
) -> (*mut backend_api_stream, Vec<CChunk>, backend_api_status) {
    // SAFETY: live objects (this function's contract); each chunk is freed once.
    unsafe {
        let mut s = ptr::null_mut();
        ok(backend_api_open(client, req, &mut s, ptr::null_mut()));
        let mut chunks = Vec::new();
        loop {
            let mut chunk = ptr::null_mut();
            match backend_api_next(s, 30_000, &mut chunk, ptr::null_mut()) {
                backend_api_status::Ok => chunks.push(take_chunk(chunk)),
                end => return (s, chunks, end),
            }
        }
    }
}

/// The assembled answer of a stream, as a chunk (free it with `backend_api_chunk_free`).
///
/// # Safety
/// `stream` is live.
pub unsafe fn stream_answer(stream: *const backend_api_stream) -> *mut backend_api_chunk {
    let mut answer = ptr::null_mut();
    // SAFETY: a live stream (this function's contract).
    unsafe {
        ok(backend_api_stream_answer(
            stream,
            &mut answer,
            ptr::null_mut(),
        ))
    };
    answer
}

/// The JSON body a request would send (without its key), as a value.
///
/// # Safety
/// `req` is live.
pub unsafe fn request_json(req: *const backend_api_request) -> Value {
    // SAFETY: a live request (this function's contract); the string is freed once.
    unsafe {
        let mut json = ptr::null();
        ok(backend_api_request_json(
            req,
            &mut json,
            ptr::null_mut(),
            ptr::null_mut(),
        ));
        let v = serde_json::from_str(CStr::from_ptr(json).to_str().unwrap()).unwrap();
        backend_api_string_free(json);
        v
    }
}
