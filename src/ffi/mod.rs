//! The C ABI. Every function here:
//! - catches panics (none crosses into C) and checks every pointer for NULL;
//! - writes its out-parameters only when it returns `BACKEND_API_STATUS_OK`, and
//!   writes a new error object to `*err` (when `err` is not NULL) only on failure;
//! - keeps error detail in the returned error object, never in thread-local state.
//!
//! Objects: a client (connection settings), a request (the conversation), a stream
//! (one answer in flight), a chunk (one piece of the answer), an error. Each is
//! created by one function and freed by its `*_free`/`backend_api_close`, which accept
//! NULL and must not be called twice.

use std::ffi::{c_char, c_void};
use std::ptr;
use std::sync::Mutex;
use std::time::Duration;

mod guard;

pub use guard::backend_api_error;
use guard::{c_string, free, guard, guard_or, obj, obj_mut, opt_str_arg, out_arg, str_arg};

use crate::chunk::{Chunk, ChunkKind};
use crate::client::{Client, TimeoutKind};
use crate::error::{Error, Status};
use crate::log::{LogLevel, Logger};
use crate::media::Media;
use crate::request::Request;
use crate::retry::RetryPolicy;
use crate::stream::{Next, Stats, Stream};

/// Version macros; a test checks them against Cargo.toml.
pub const BACKEND_API_VERSION_MAJOR: u32 = 0;
pub const BACKEND_API_VERSION_MINOR: u32 = 2;
pub const BACKEND_API_VERSION_PATCH: u32 = 0;

/// `backend_api_request_set_api_key` placement: in the body as `"api_key"`.
pub const BACKEND_API_KEY_BODY: u32 = 1;
/// `backend_api_request_set_api_key` placement: as `Authorization: Bearer <key>`.
pub const BACKEND_API_KEY_BEARER: u32 = 2;

/// Connection settings: base URL, headers, TLS, proxy, timeouts, limits.
#[allow(non_camel_case_types)]
pub struct backend_api_client(Client);

/// One conversation request: model, messages, media, api key, extra body fields.
#[allow(non_camel_case_types)]
pub struct backend_api_request(Request);

/// One streaming answer in flight.
#[allow(non_camel_case_types)]
pub struct backend_api_stream(Stream);

/// One chunk of the answer (g4f's `RawResponse`).
#[allow(non_camel_case_types)]
pub struct backend_api_chunk {
    chunk: Chunk,
    /// Values lent to C, NUL-terminated, by field (`None`: the main text); kept until
    /// the chunk is freed, and lent again, not copied again, when asked again.
    lent: Mutex<Vec<Lent>>,
}

/// The library version, such as `"0.2.0"`. Static; any thread.
#[no_mangle]
pub extern "C" fn backend_api_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The name of a status code, such as `"HTTP"`, or `"UNKNOWN"` for a number that
/// is not a status. Static; any thread.
#[no_mangle]
pub extern "C" fn backend_api_status_name(status: u32) -> *const c_char {
    Status::from_code(status)
        .map_or(c"UNKNOWN", Status::c_name)
        .as_ptr()
}

// ---------------------------------------------------------------- errors

/// The status of an error (`BACKEND_API_STATUS_INVALID_ARGUMENT` for NULL). Any thread.
///
/// # Safety
/// `err` is NULL or a live error.
#[no_mangle]
pub unsafe extern "C" fn backend_api_error_status(err: *const backend_api_error) -> Status {
    err.as_ref()
        .map_or(Status::InvalidArgument, |e| e.error.status)
}

/// The error's message, NUL-terminated UTF-8; `""` for NULL. Owned by the error:
/// valid until `backend_api_error_free`. Never contains the api key.
/// Any thread; the object must stay alive (not freed) meanwhile.
///
/// # Safety
/// `err` is NULL or a live error.
#[no_mangle]
pub unsafe extern "C" fn backend_api_error_message(err: *const backend_api_error) -> *const c_char {
    err.as_ref().map_or(c"".as_ptr(), |e| e.message.as_ptr())
}

/// The HTTP status code of a `BACKEND_API_STATUS_HTTP` error, else 0.
/// Any thread; the object must stay alive (not freed) meanwhile.
///
/// # Safety
/// `err` is NULL or a live error.
#[no_mangle]
pub unsafe extern "C" fn backend_api_error_http_status(err: *const backend_api_error) -> u16 {
    err.as_ref().map_or(0, |e| e.error.http_status)
}

/// The server's own message (`{"error":{"message":...}}`) of an HTTP error, or NULL.
/// Owned by the error: valid until `backend_api_error_free`.
/// Any thread; the object must stay alive (not freed) meanwhile.
///
/// # Safety
/// `err` is NULL or a live error.
#[no_mangle]
pub unsafe extern "C" fn backend_api_error_server_message(
    err: *const backend_api_error,
) -> *const c_char {
    err.as_ref()
        .and_then(|e| e.server_message.as_ref())
        .map_or(ptr::null(), |m| m.as_ptr())
}

/// Frees an error. NULL is a no-op; must not be called twice. Any thread.
///
/// # Safety
/// `err` is NULL or an error from this library, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn backend_api_error_free(err: *mut backend_api_error) {
    free(err)
}

// ---------------------------------------------------------------- client

/// Creates a client for the g4f server at `base_url` (`http://` or `https://`).
/// TLS certificates are verified against the bundled Mozilla roots; the proxy
/// comes from `ALL_PROXY`/`HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` unless set.
/// On success `*out` owns a new client: free it with `backend_api_client_free`.
/// Any thread; `base_url` is copied.
///
/// # Safety
/// `base_url` is NULL or a NUL-terminated string; `out` and `err` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn backend_api_client_new(
    base_url: *const c_char,
    out: *mut *mut backend_api_client,
    err: *mut *mut backend_api_error,
) -> Status {
    guard(err, || {
        out_arg(out, "out")?;
        let client = Client::new(str_arg(base_url, "base_url")?)?;
        *out = Box::into_raw(Box::new(backend_api_client(client)));
        Ok(Status::Ok)
    })
}

/// Frees a client. Streams opened from it stay valid. NULL is a no-op; must not
/// be called twice, nor while another thread uses the client.
///
/// # Safety
/// `client` is NULL or a client from `backend_api_client_new`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn backend_api_client_free(client: *mut backend_api_client) {
    free(client)
}

/// Runs a client setter: the setters change the client, so they must not run
/// while another thread uses the same client.
unsafe fn with_client(
    client: *mut backend_api_client,
    err: *mut *mut backend_api_error,
    f: impl FnOnce(&mut Client) -> Result<(), Error>,
) -> Status {
    guard(err, || {
        f(&mut obj_mut(client, "client")?.0)?;
        Ok(Status::Ok)
    })
}

/// Adds a header sent with every request (the Python client's `headers`).
/// Values of secret headers (`Authorization`, `Cookie`, `*token*`, ...) never reach
/// logs or error messages. Strings are copied. Not concurrently with other calls
/// on the same client.
///
/// # Safety
/// Pointers are NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn backend_api_client_add_header(
    client: *mut backend_api_client,
    name: *const c_char,
    value: *const c_char,
    err: *mut *mut backend_api_error,
) -> Status {
    with_client(client, err, |c| {
        c.add_header(str_arg(name, "name")?, str_arg(value, "value")?)
    })
}

/// Turns TLS certificate verification on (the default) or off (`verify` false:
/// the Python client's `ssl=False`; insecure). Not concurrently with other calls
/// on the same client.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn backend_api_client_set_verify_tls(
    client: *mut backend_api_client,
    verify: bool,
    err: *mut *mut backend_api_error,
) -> Status {
    with_client(client, err, |c| {
        c.set_verify_tls(verify);
        Ok(())
    })
}

/// Trusts only the certificates of the PEM file at `path` (read now). Not
/// concurrently with other calls on the same client.
///
/// # Safety
/// Pointers are NULL or valid; `path` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn backend_api_client_set_ca_file(
    client: *mut backend_api_client,
    path: *const c_char,
    err: *mut *mut backend_api_error,
) -> Status {
    with_client(client, err, |c| c.set_ca_file(str_arg(path, "path")?))
}

/// Routes requests through a proxy: `http://`, `socks4://`, `socks5://` or
/// `socks5h://` URL, with optional `user:password@`. NULL means no proxy at all
/// (the environment is ignored too). Not concurrently with other calls on the client.
///
/// # Safety
/// Pointers are NULL or valid; `url` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn backend_api_client_set_proxy(
    client: *mut backend_api_client,
    url: *const c_char,
    err: *mut *mut backend_api_error,
) -> Status {
    with_client(client, err, |c| c.set_proxy(opt_str_arg(url, "url")?))
}

/// Sets a timeout in milliseconds; 0 turns it off; negative is an error.
/// `kind` is a `backend_api_timeout`: CONNECT (default 30 s), HEADERS (request
/// sent to response headers, default 120 s), IDLE (longest gap between two chunks;
/// keep-alive comments do not count; default 300 s), TOTAL (off by default).
/// Not concurrently with other calls on the same client.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn backend_api_client_set_timeout(
    client: *mut backend_api_client,
    kind: u32,
    ms: i64,
    err: *mut *mut backend_api_error,
) -> Status {
    with_client(client, err, |c| {
        let kind = TimeoutKind::from_code(kind)
            .ok_or_else(|| Error::invalid(format!("unknown timeout kind {kind}")))?;
        let ms = u64::try_from(ms).map_err(|_| Error::invalid("a timeout cannot be negative"))?;
        c.set_timeout(kind, (ms > 0).then(|| Duration::from_millis(ms)));
        Ok(())
    })
}

/// Bounds one line or event of the response to `bytes` (default 16 MiB; at least 1).
/// A longer one ends the stream with `BACKEND_API_STATUS_LIMIT`. Not concurrently
/// with other calls on the same client.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn backend_api_client_set_max_line(
    client: *mut backend_api_client,
    bytes: usize,
    err: *mut *mut backend_api_error,
) -> Status {
    with_client(client, err, |c| c.set_max_line(bytes))
}

/// With `skip` true, lines that are not JSON objects are dropped instead of ending
/// the stream with `BACKEND_API_STATUS_PROTOCOL` (the default). Not concurrently
/// with other calls on the same client.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn backend_api_client_set_skip_malformed(
    client: *mut backend_api_client,
    skip: bool,
    err: *mut *mut backend_api_error,
) -> Status {
    with_client(client, err, |c| {
        c.set_skip_malformed(skip);
        Ok(())
    })
}

/// With `assemble` false, streams of this client keep no assembled answer (see
/// `backend_api_stream_answer`, which then reports an empty one): for very long
/// streams whose text the caller keeps itself. On by default. Not concurrently with
/// other calls on the same client.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn backend_api_client_set_assemble(
    client: *mut backend_api_client,
    assemble: bool,
    err: *mut *mut backend_api_error,
) -> Status {
    with_client(client, err, |c| {
        c.set_assemble(assemble);
        Ok(())
    })
}

/// Retries a request that failed before any answer began: a connection that could
/// not be made, or HTTP 429/502/503/504. Never once the answer has begun. Up to
/// `max_retries` times (0, the default, turns retries off), waiting `base_ms`
/// doubled at each retry with jitter, or the server's `Retry-After`, but never more
/// than `cap_ms`. Each retry is logged (warn) and counted in the stream's stats.
/// Not concurrently with other calls on the same client.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn backend_api_client_set_retries(
    client: *mut backend_api_client,
    max_retries: u32,
    base_ms: u32,
    cap_ms: u32,
    err: *mut *mut backend_api_error,
) -> Status {
    with_client(client, err, |c| {
        if max_retries > 0 && (base_ms == 0 || cap_ms < base_ms) {
            return Err(Error::invalid(
                "retries need base_ms > 0 and cap_ms >= base_ms",
            ));
        }
        c.set_retry(RetryPolicy {
            max_retries,
            base: Duration::from_millis(base_ms.into()),
            cap: Duration::from_millis(cap_ms.into()),
        });
        Ok(())
    })
}

/// Receives log records: `callback(user_data, level, message)` for each record up
/// to `max_level` (a `backend_api_log_level`). Called on the streams' own threads,
/// possibly several at once: it must be thread-safe, return quickly and not call
/// into the same stream. `message` is NUL-terminated UTF-8, valid during the call
/// only. Messages never hold the api key or secret header values. A NULL `callback`
/// turns logging off (`max_level` is then ignored). Without this call, records go to standard error when the
/// environment variable `BACKEND_API_LOG` names a level (`error` ... `trace`).
/// `user_data` must stay valid while streams of this client run.
/// Not concurrently with other calls on the same client.
///
/// # Safety
/// Pointers are NULL or valid; `callback` NULL or a function safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn backend_api_client_set_log(
    client: *mut backend_api_client,
    callback: backend_api_log_callback,
    user_data: *mut c_void,
    max_level: u32,
    err: *mut *mut backend_api_error,
) -> Status {
    with_client(client, err, |c| {
        let logger = match callback {
            None => Logger::off(),
            Some(f) => {
                let max = LogLevel::from_code(max_level)
                    .ok_or_else(|| Error::invalid(format!("unknown log level {max_level}")))?;
                let data = UserData(user_data);
                Logger::new(
                    std::sync::Arc::new(move |level, message: &str| {
                        let text = c_string(message);
                        // SAFETY: the caller promised a thread-safe callback and live user_data.
                        unsafe { f(data.get(), level, text.as_ptr()) }
                    }),
                    max,
                )
            }
        };
        c.set_logger(logger);
        Ok(())
    })
}

/// A log callback: `user_data` as given, the record's level and its message.
#[allow(non_camel_case_types)]
pub type backend_api_log_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, level: LogLevel, message: *const c_char)>;

/// The caller's `user_data`, which the caller promised may be used from any thread.
struct UserData(*mut c_void);
// SAFETY: see `backend_api_client_set_log`: the caller vouches for thread safety.
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

impl UserData {
    fn get(&self) -> *mut c_void {
        self.0
    }
}

/// Fetches the model listing: `GET /backend-api/v2/models` (an object mapping
/// provider names to model names) or, with a `provider`, `/backend-api/v2/models/<provider>`
/// (a list of model objects). Blocks the calling thread. On success `*json_out`
/// owns the NUL-terminated JSON text (free it with `backend_api_string_free`) and
/// `*len_out`, when not NULL, gets its length. Any thread, also concurrently on one client.
///
/// # Safety
/// Pointers are NULL or valid; `provider` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn backend_api_models(
    client: *const backend_api_client,
    provider: *const c_char,
    json_out: *mut *mut c_char,
    len_out: *mut usize,
    err: *mut *mut backend_api_error,
) -> Status {
    guard(err, || {
        out_arg(json_out, "json_out")?;
        let text = crate::models::models(
            &obj(client, "client")?.0,
            opt_str_arg(provider, "provider")?,
        )?;
        let text = c_string(&text);
        if !len_out.is_null() {
            *len_out = text.as_bytes().len();
        }
        *json_out = text.into_raw();
        Ok(Status::Ok)
    })
}

/// Frees a string this library returned. NULL is a no-op; must not be called twice.
/// Any thread.
///
/// # Safety
/// `s` is NULL or a string from this library, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn backend_api_string_free(s: *mut c_char) {
    if !s.is_null() {
        guard_or((), || drop(std::ffi::CString::from_raw(s)));
    }
}

// ---------------------------------------------------------------- request

/// Creates an empty request (model `""`, no messages). Free it with
/// `backend_api_request_free`. Any thread.
#[no_mangle]
pub extern "C" fn backend_api_request_new() -> *mut backend_api_request {
    guard_or(ptr::null_mut(), || {
        Box::into_raw(Box::new(backend_api_request(Request::new())))
    })
}

/// Frees a request. Streams opened with it stay valid (they copied it). NULL is
/// a no-op; must not be called twice.
/// Any thread, once no other call uses the request.
///
/// # Safety
/// `request` is NULL or a request from `backend_api_request_new`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn backend_api_request_free(request: *mut backend_api_request) {
    free(request)
}

/// Runs a request setter: setters must not run while another thread uses the request.
unsafe fn with_request(
    request: *mut backend_api_request,
    err: *mut *mut backend_api_error,
    f: impl FnOnce(&mut Request) -> Result<(), Error>,
) -> Status {
    guard(err, || {
        f(&mut obj_mut(request, "request")?.0)?;
        Ok(Status::Ok)
    })
}

/// Sets the model name. The string is copied. Not concurrently with other calls
/// on the same request.
///
/// # Safety
/// Pointers are NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn backend_api_request_set_model(
    request: *mut backend_api_request,
    model: *const c_char,
    err: *mut *mut backend_api_error,
) -> Status {
    with_request(request, err, |r| {
        r.set_model(str_arg(model, "model")?);
        Ok(())
    })
}

/// Appends a message with plain-text content. Strings are copied.
/// Any thread; not concurrently with other calls on the same request.
///
/// # Safety
/// Pointers are NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn backend_api_request_add_message(
    request: *mut backend_api_request,
    role: *const c_char,
    content: *const c_char,
    err: *mut *mut backend_api_error,
) -> Status {
    with_request(request, err, |r| {
        r.add_message(str_arg(role, "role")?, str_arg(content, "content")?);
        Ok(())
    })
}

/// Appends a message whose content is JSON text (a string or a list of parts).
/// Any thread; not concurrently with other calls on the same request.
///
/// # Safety
/// Pointers are NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn backend_api_request_add_message_json(
    request: *mut backend_api_request,
    role: *const c_char,
    content_json: *const c_char,
    err: *mut *mut backend_api_error,
) -> Status {
    with_request(request, err, |r| {
        r.add_message_json(
            str_arg(role, "role")?,
            str_arg(content_json, "content_json")?,
        )
    })
}

/// Replaces all messages with a JSON array of `{"role": ..., "content": ...}` objects.
/// Any thread; not concurrently with other calls on the same request.
///
/// # Safety
/// Pointers are NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn backend_api_request_set_messages_json(
    request: *mut backend_api_request,
    messages_json: *const c_char,
    err: *mut *mut backend_api_error,
) -> Status {
    with_request(request, err, |r| {
        r.set_messages_json(str_arg(messages_json, "messages_json")?)
    })
}

/// Adds a header sent with this request only, after the client's headers (for
/// example `x-secret` of a demo deployment, or a tracing id). Secret values never
/// reach logs or error messages. Strings are copied.
/// Any thread; not concurrently with other calls on the same request.
///
/// # Safety
/// Pointers are NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn backend_api_request_add_header(
    request: *mut backend_api_request,
    name: *const c_char,
    value: *const c_char,
    err: *mut *mut backend_api_error,
) -> Status {
    with_request(request, err, |r| {
        r.add_header(str_arg(name, "name")?, str_arg(value, "value")?)
    })
}

/// Sets the api key (NULL removes it) and where it goes: `BACKEND_API_KEY_BODY`
/// (the body's `"api_key"`, as the Python client), `BACKEND_API_KEY_BEARER`
/// (`Authorization: Bearer`), or both. Without a key the body has no `api_key`
/// field, so the server's own `Authorization` fallback works. The key is copied
/// and never appears in logs or error messages.
/// Any thread; not concurrently with other calls on the same request.
///
/// # Safety
/// Pointers are NULL or valid; `key` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn backend_api_request_set_api_key(
    request: *mut backend_api_request,
    key: *const c_char,
    placement: u32,
    err: *mut *mut backend_api_error,
) -> Status {
    with_request(request, err, |r| {
        r.set_api_key(opt_str_arg(key, "key")?, placement)
    })
}

/// Sets an extra body field (the Python client's `**kwargs`: `provider`,
/// `conversation`, `web_search`, ...) to a JSON value given as text. `model`,
/// `messages`, `media` and `api_key` have their own setters and are refused here.
/// Any thread; not concurrently with other calls on the same request.
///
/// # Safety
/// Pointers are NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn backend_api_request_set_field_json(
    request: *mut backend_api_request,
    key: *const c_char,
    value_json: *const c_char,
    err: *mut *mut backend_api_error,
) -> Status {
    with_request(request, err, |r| {
        r.set_field_json(str_arg(key, "key")?, str_arg(value_json, "value_json")?)
    })
}

/// Sets an extra body field to a string value (no JSON quoting needed).
/// Any thread; not concurrently with other calls on the same request.
///
/// # Safety
/// Pointers are NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn backend_api_request_set_field_string(
    request: *mut backend_api_request,
    key: *const c_char,
    value: *const c_char,
    err: *mut *mut backend_api_error,
) -> Status {
    with_request(request, err, |r| {
        r.set_field_str(str_arg(key, "key")?, str_arg(value, "value")?)
    })
}

/// Adds media from `len` bytes at `data` (copied and base64-encoded now). The MIME
/// type comes from `filename`'s extension for audio, else from the bytes (jpeg,
/// png, gif, webp); anything else fails with `BACKEND_API_STATUS_MEDIA`.
/// `filename` may be NULL. `data` may be NULL only when `len` is 0.
/// Any thread; not concurrently with other calls on the same request.
///
/// # Safety
/// `data` is valid for `len` bytes; other pointers NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn backend_api_request_add_media_bytes(
    request: *mut backend_api_request,
    data: *const u8,
    len: usize,
    filename: *const c_char,
    err: *mut *mut backend_api_error,
) -> Status {
    with_request(request, err, |r| {
        let bytes = match (data.is_null(), len) {
            (_, 0) => &[][..],
            (true, _) => return Err(Error::invalid("data is NULL")),
            (false, n) => std::slice::from_raw_parts(data, n),
        };
        r.add_media(Media::from_bytes(
            bytes,
            opt_str_arg(filename, "filename")?,
        )?);
        Ok(())
    })
}

/// Adds media from a file, read now; its base name is sent as the file name.
/// An unreadable or unrecognised file fails with `BACKEND_API_STATUS_MEDIA`.
/// Any thread; not concurrently with other calls on the same request.
///
/// # Safety
/// Pointers are NULL or valid; `path` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn backend_api_request_add_media_file(
    request: *mut backend_api_request,
    path: *const c_char,
    err: *mut *mut backend_api_error,
) -> Status {
    with_request(request, err, |r| {
        r.add_media(Media::from_file(str_arg(path, "path")?)?);
        Ok(())
    })
}

/// Adds media by reference: a `data:` URI or an `http(s)://` URL, sent as it is.
/// `filename` may be NULL.
/// Any thread; not concurrently with other calls on the same request.
///
/// # Safety
/// Pointers are NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn backend_api_request_add_media_uri(
    request: *mut backend_api_request,
    uri: *const c_char,
    filename: *const c_char,
    err: *mut *mut backend_api_error,
) -> Status {
    with_request(request, err, |r| {
        r.add_media(Media::from_uri(
            str_arg(uri, "uri")?,
            opt_str_arg(filename, "filename")?,
        )?);
        Ok(())
    })
}

/// Makes the request that continues a conversation: `request`'s model, key and
/// extra fields, its messages plus `stream`'s answer so far (as the assistant) and
/// `user_message`, and the `conversation` state the server returned (sent back as
/// the `conversation` field); media are not sent again. On success `*out` owns a
/// new request (free it with `backend_api_request_free`). Any thread.
///
/// # Safety
/// Pointers are NULL or valid; `user_message` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn backend_api_request_follow_up(
    request: *const backend_api_request,
    stream: *const backend_api_stream,
    user_message: *const c_char,
    out: *mut *mut backend_api_request,
    err: *mut *mut backend_api_error,
) -> Status {
    guard(err, || {
        out_arg(out, "out")?;
        let answer = obj(stream, "stream")?.0.answer();
        let next = obj(request, "request")?
            .0
            .follow_up(&answer, str_arg(user_message, "user_message")?);
        *out = Box::into_raw(Box::new(backend_api_request(next)));
        Ok(Status::Ok)
    })
}

// ---------------------------------------------------------------- stream

/// Starts streaming the answer to `request` and returns at once: the HTTP request
/// runs on a background thread of its own; connection errors arrive from
/// `backend_api_next`. The client and the request are copied: free or change them
/// freely afterwards. On success `*out` owns the stream: end it with
/// `backend_api_close`. Any thread, also concurrently on one client and request.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn backend_api_open(
    client: *const backend_api_client,
    request: *const backend_api_request,
    out: *mut *mut backend_api_stream,
    err: *mut *mut backend_api_error,
) -> Status {
    guard(err, || {
        out_arg(out, "out")?;
        let stream = Stream::open(&obj(client, "client")?.0, &obj(request, "request")?.0)?;
        *out = Box::into_raw(Box::new(backend_api_stream(stream)));
        Ok(Status::Ok)
    })
}

/// Waits up to `timeout_ms` for the next chunk (0: only look; negative: wait for ever).
/// Returns:
/// - `OK`: `*chunk_out` owns a new chunk (free it with `backend_api_chunk_free`);
/// - `END`: the answer is complete (the server closed the stream cleanly);
/// - `TIMEOUT`: nothing yet; call again;
/// - `CANCELLED`: `backend_api_cancel` was called;
/// - any other status: the stream failed; `*err_out` (when not NULL) owns an error.
///
/// END, CANCELLED and errors are final: later calls return them again. In-stream
/// `error`/`auth` chunks are chunks (see `backend_api_chunk_kind`), like the Python
/// client yields them. One thread at a time per stream (concurrent calls are
/// serialised); any thread.
///
/// # Safety
/// `stream` is NULL or a live stream; out-pointers NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn backend_api_next(
    stream: *mut backend_api_stream,
    timeout_ms: i64,
    chunk_out: *mut *mut backend_api_chunk,
    err_out: *mut *mut backend_api_error,
) -> Status {
    guard(err_out, || {
        out_arg(chunk_out, "chunk_out")?;
        let stream = &obj(stream, "stream")?.0;
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        match stream.next(timeout) {
            Next::Chunk(chunk) => {
                *chunk_out = Box::into_raw(Box::new(backend_api_chunk::new(chunk)));
                Ok(Status::Ok)
            }
            Next::End => Ok(Status::End),
            Next::Timeout => Ok(Status::Timeout),
            Next::Cancelled => Ok(Status::Cancelled),
            Next::Error(e) => Err(e),
        }
    })
}

/// Cancels the stream: the connection is shut, a blocked `backend_api_next` wakes
/// at once, and every later `next` returns `CANCELLED`. Safe to repeat; NULL is a
/// no-op. Any thread, also while another thread is inside `backend_api_next`, but
/// not during or after `backend_api_close` of the same stream.
///
/// # Safety
/// `stream` is NULL or a live stream.
#[no_mangle]
pub unsafe extern "C" fn backend_api_cancel(stream: *const backend_api_stream) {
    if let Some(s) = stream.as_ref() {
        guard_or((), || s.0.cancel());
    }
}

/// Cancels the stream, interrupts its connection, joins its background thread and
/// frees it; returns promptly even when the server stalls mid-stream (the socket
/// is shut, not waited out). Chunks already returned stay valid. NULL is a no-op;
/// must not be called twice, nor while another thread uses the stream.
///
/// # Safety
/// `stream` is NULL or a stream from `backend_api_open`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn backend_api_close(stream: *mut backend_api_stream) {
    free(stream)
}

/// For event loops (poll, epoll, kqueue, libuv, GLib): writes to `*fd_out` a file
/// descriptor that is readable whenever `backend_api_next(stream, 0, ...)` would
/// not return TIMEOUT (a chunk, the end or an error is there, or the stream was
/// cancelled). Made on the first call (the same one after); it may be readable
/// spuriously once then: `next` returns TIMEOUT. Only
/// wait for readability on it; never read, write or close it: it belongs to the
/// stream and is closed by `backend_api_close`. Idle and total timeouts are noticed
/// by `next`: use `backend_api_stream_timeout_ms` as the poll timeout. Any thread.
///
/// # Safety
/// `stream` is NULL or a live stream; out-pointers NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn backend_api_stream_fd(
    stream: *const backend_api_stream,
    fd_out: *mut i32,
    err: *mut *mut backend_api_error,
) -> Status {
    guard(err, || {
        out_arg(fd_out, "fd_out")?;
        *fd_out = obj(stream, "stream")?.0.ready_fd()?;
        Ok(Status::Ok)
    })
}

/// Milliseconds until `backend_api_next` would fail with the idle or total timeout
/// (0 when due: call `next`), or -1 when neither is set, once nothing more can
/// arrive (the stream ended or was cancelled), or for NULL. The poll
/// timeout for event loops. Any thread.
///
/// # Safety
/// `stream` is NULL or a live stream.
#[no_mangle]
pub unsafe extern "C" fn backend_api_stream_timeout_ms(stream: *const backend_api_stream) -> i64 {
    let Some(s) = stream.as_ref() else { return -1 };
    guard_or(-1, || {
        s.0.time_to_deadline().map_or(-1, |d| {
            i64::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(i64::MAX)
        })
    })
}

/// Writes the stream's statistics so far to `*out`: bytes and chunks received,
/// chunks delivered, malformed lines skipped, retries, and the times (µs since open;
/// -1 until known) of the response headers, the first chunk and the end (or now),
/// and whether the stream's thread has ended (nothing more will arrive).
/// Any thread, also while another thread is in `next`.
///
/// # Safety
/// `stream` is NULL or a live stream; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn backend_api_stream_stats(
    stream: *const backend_api_stream,
    out: *mut Stats,
) -> Status {
    guard(ptr::null_mut(), || {
        out_arg(out, "out")?;
        *out = obj(stream, "stream")?.0.stats();
        Ok(Status::Ok)
    })
}

/// The assembled answer so far: what the chunks `backend_api_next` has handed out
/// add up to, as a chunk of type `"answer"` (kind `BACKEND_API_KIND_ANSWER`). Read it
/// with `backend_api_chunk_field`: `content` and `reasoning` (text), `finish_reason`,
/// `title`, `provider`, `model`, `error` (text, or `null`), `usage`, `tool_calls` and
/// `conversation` (JSON). During and after the stream. The answer holds all the
/// text handed out: for very long streams see `backend_api_client_set_assemble`. On success `*out` owns the
/// chunk (free it with `backend_api_chunk_free`). Any thread.
///
/// # Safety
/// `stream` is NULL or a live stream; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn backend_api_stream_answer(
    stream: *const backend_api_stream,
    out: *mut *mut backend_api_chunk,
    err: *mut *mut backend_api_error,
) -> Status {
    guard(err, || {
        out_arg(out, "out")?;
        let json = obj(stream, "stream")?.0.answer().to_json();
        let chunk = Chunk::parse(&json).map_err(|e| Error::new(Status::Internal, e))?;
        *out = Box::into_raw(Box::new(backend_api_chunk::new(chunk)));
        Ok(Status::Ok)
    })
}

// ---------------------------------------------------------------- chunks

/// The chunk's `type` (`"content"`, `"reasoning"`, `"error"`, ...), NUL-terminated;
/// `""` when it has none or for NULL. Owned by the chunk: valid until
/// `backend_api_chunk_free`. Any thread.
///
/// # Safety
/// `chunk` is NULL or a live chunk.
#[no_mangle]
pub unsafe extern "C" fn backend_api_chunk_type(chunk: *const backend_api_chunk) -> *const c_char {
    chunk
        .as_ref()
        .map_or(c"".as_ptr(), |c| c.chunk.type_with_nul().as_ptr().cast())
}

/// The chunk's kind: tells `error` and `auth` (fatal: the answer ends) from
/// `message` (non-fatal) and the rest without comparing strings;
/// `BACKEND_API_KIND_OTHER` for types without a name here, and for NULL.
/// Any thread; the object must stay alive (not freed) meanwhile.
///
/// # Safety
/// `chunk` is NULL or a live chunk.
#[no_mangle]
pub unsafe extern "C" fn backend_api_chunk_kind(chunk: *const backend_api_chunk) -> ChunkKind {
    chunk.as_ref().map_or(ChunkKind::Other, |c| c.chunk.kind())
}

/// The chunk's whole JSON object as the server sent it, NUL-terminated UTF-8;
/// `*len_out` (when not NULL) gets its length. `""` for NULL. Owned by the chunk:
/// valid until `backend_api_chunk_free`.
/// Any thread; the object must stay alive (not freed) meanwhile.
///
/// # Safety
/// `chunk` is NULL or a live chunk; `len_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn backend_api_chunk_json(
    chunk: *const backend_api_chunk,
    len_out: *mut usize,
) -> *const c_char {
    let Some(c) = chunk.as_ref() else {
        return c"".as_ptr();
    };
    if !len_out.is_null() {
        *len_out = c.chunk.json().len();
    }
    c.chunk.json_with_nul().as_ptr().cast()
}

/// One value a chunk lent: its field (`None`: the main text) and the bytes with a NUL.
type Lent = (Option<Box<str>>, Box<[u8]>);

impl backend_api_chunk {
    fn new(chunk: Chunk) -> backend_api_chunk {
        backend_api_chunk {
            chunk,
            lent: Mutex::new(Vec::new()),
        }
    }

    /// Lends the value of `key` (`None`: the main text), NUL-terminated, made by
    /// `make` on the first request only; `None` when there is no such value.
    fn lend(
        &self,
        key: Option<&str>,
        make: impl FnOnce() -> Option<String>,
    ) -> Option<(*const c_char, usize)> {
        let mut lent = self.lent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, v)) = lent.iter().find(|(k, _)| k.as_deref() == key) {
            return Some((v.as_ptr().cast(), v.len() - 1));
        }
        let mut owned = make()?.into_bytes();
        owned.push(0);
        let owned = owned.into_boxed_slice();
        let out = (owned.as_ptr().cast(), owned.len() - 1);
        lent.push((key.map(Into::into), owned));
        Some(out)
    }
}

/// The chunk's main text: `content` of a content chunk, `token` of reasoning,
/// `message` of error/auth/message, `title`, `log`, `preview`; NULL when the chunk
/// has none. NUL-terminated UTF-8 (a NUL inside the text shows in `*len_out`,
/// when not NULL). Owned by the chunk: valid until `backend_api_chunk_free`; asking
/// again lends the same string. Any thread.
///
/// # Safety
/// `chunk` is NULL or a live chunk; `len_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn backend_api_chunk_text(
    chunk: *const backend_api_chunk,
    len_out: *mut usize,
) -> *const c_char {
    let Some(c) = chunk.as_ref() else {
        return ptr::null();
    };
    guard_or(ptr::null(), || {
        match c.lend(None, || c.chunk.text().map(Into::into)) {
            Some((p, n)) => {
                if !len_out.is_null() {
                    *len_out = n;
                }
                p
            }
            None => ptr::null(),
        }
    })
}

/// Reads a top-level field of the chunk without a JSON parser of your own: a
/// string's value as text, any other value (number, object, list, true, null) as
/// its JSON text. Returns `OK` and writes `*value_out` (and `*len_out` when not
/// NULL), `NOT_FOUND` when the field is absent, or `INVALID_ARGUMENT`. The value is
/// owned by the chunk: valid until `backend_api_chunk_free`; asking again for the
/// same field lends the same string (no new copy). Any thread.
///
/// # Safety
/// `chunk` is NULL or a live chunk; `key` NULL or NUL-terminated; out-pointers NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn backend_api_chunk_field(
    chunk: *const backend_api_chunk,
    key: *const c_char,
    value_out: *mut *const c_char,
    len_out: *mut usize,
) -> Status {
    guard(ptr::null_mut(), || {
        out_arg(value_out, "value_out")?;
        let c = obj(chunk, "chunk")?;
        let key = str_arg(key, "key")?;
        let Some((p, n)) = c.lend(Some(key), || {
            c.chunk.field(key).map(|f| f.as_str().to_owned())
        }) else {
            return Ok(Status::NotFound);
        };
        *value_out = p;
        if !len_out.is_null() {
            *len_out = n;
        }
        Ok(Status::Ok)
    })
}

/// Frees a chunk and every string it lent. NULL is a no-op; must not be called
/// twice. Any thread.
///
/// # Safety
/// `chunk` is NULL or a chunk from `backend_api_next`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn backend_api_chunk_free(chunk: *mut backend_api_chunk) {
    free(chunk)
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_placements_match_the_request_module() {
        use crate::request::key_placement;
        assert_eq!(super::BACKEND_API_KEY_BODY, key_placement::BODY);
        assert_eq!(super::BACKEND_API_KEY_BEARER, key_placement::BEARER);
    }
}
