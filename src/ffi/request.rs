//! The request: model, messages, media, api key, headers and extra body fields.

use super::enums::backend_api_status;
use std::ffi::c_char;
use std::ptr;

use super::chunk::backend_api_chunk;
use super::error::{backend_api_error, report};
use super::guard::{
    borrow, bytes_arg, change, entry, give, give_raw, give_text, opt_text_arg, out_arg, release,
    text_arg,
};
use crate::answer::Answer;
use crate::error::{Error, Status};
use crate::media::Media;
use crate::request::{KeyPlacement, Request};

/// One conversation request: model, messages, media, api key, extra body fields.
#[allow(non_camel_case_types)]
pub struct backend_api_request(pub(crate) Request);

/// `backend_api_request_set_api_key` placement: in the body as `"api_key"`.
pub const BACKEND_API_KEY_BODY: u32 = 1;
/// `backend_api_request_set_api_key` placement: as `Authorization: Bearer <key>`.
pub const BACKEND_API_KEY_BEARER: u32 = 2;

/// Creates an empty request (model `""`, no messages). Free it with
/// `backend_api_request_free`. Any thread.
#[unsafe(no_mangle)]
pub extern "C" fn backend_api_request_new() -> *mut backend_api_request {
    entry!(or ptr::null_mut(), {
        give_raw(backend_api_request(Request::new()))
    })
}

/// Frees a request. Streams opened with it stay valid (they copied it). NULL is
/// a no-op; must not be called twice.
/// Any thread, once no other call uses the request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_free(request: *mut backend_api_request) {
    entry!(or(), { release(request) })
}

/// Sets the model name. The string is copied. Not concurrently with other calls
/// on the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_set_model(
    request: *mut backend_api_request,
    model: *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(request, "request", |backend_api_request(r)| {
            r.set_model(text_arg(model, "model")?);
            Ok(())
        })
    })
}

/// Appends a message with plain-text content. Strings are copied.
/// Any thread; not concurrently with other calls on the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_add_message(
    request: *mut backend_api_request,
    role: *const c_char,
    content: *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(request, "request", |backend_api_request(r)| {
            r.add_message(text_arg(role, "role")?, text_arg(content, "content")?);
            Ok(())
        })
    })
}

/// Appends a message whose content is JSON text (a string or a list of parts).
/// Any thread; not concurrently with other calls on the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_add_message_json(
    request: *mut backend_api_request,
    role: *const c_char,
    content_json: *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(request, "request", |backend_api_request(r)| {
            r.add_message_json(
                text_arg(role, "role")?,
                text_arg(content_json, "content_json")?,
            )
        })
    })
}

/// Replaces all messages with a JSON array of `{"role": ..., "content": ...}` objects.
/// Any thread; not concurrently with other calls on the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_set_messages_json(
    request: *mut backend_api_request,
    messages_json: *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(request, "request", |backend_api_request(r)| {
            r.set_messages_json(text_arg(messages_json, "messages_json")?)
        })
    })
}

/// Adds a header sent with this request only, after the client's headers (for
/// example `x-secret` of a demo deployment, or a tracing id). Secret values never
/// reach logs or error messages. Strings are copied.
/// Any thread; not concurrently with other calls on the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_add_header(
    request: *mut backend_api_request,
    name: *const c_char,
    value: *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(request, "request", |backend_api_request(r)| {
            r.add_header(text_arg(name, "name")?, text_arg(value, "value")?)
        })
    })
}

/// The placement a C bit set names: `BACKEND_API_KEY_BODY`, `BACKEND_API_KEY_BEARER`
/// or both; anything else is invalid.
fn key_placement(code: u32) -> Result<KeyPlacement, Error> {
    match code {
        BACKEND_API_KEY_BODY => Ok(KeyPlacement::Body),
        BACKEND_API_KEY_BEARER => Ok(KeyPlacement::Bearer),
        c if c == BACKEND_API_KEY_BODY | BACKEND_API_KEY_BEARER => Ok(KeyPlacement::Both),
        _ => Err(Error::invalid(format!("invalid api key placement {code}"))),
    }
}

/// Sets the api key (NULL removes it) and where it goes: `BACKEND_API_KEY_BODY`
/// (the body's `"api_key"`, as the Python client), `BACKEND_API_KEY_BEARER`
/// (`Authorization: Bearer`), or both. Without a key the body has no `api_key`
/// field, so the server's own `Authorization` fallback works. The key is copied
/// and never appears in logs or error messages.
/// Any thread; not concurrently with other calls on the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_set_api_key(
    request: *mut backend_api_request,
    key: *const c_char,
    placement: u32,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(request, "request", |backend_api_request(r)| {
            r.set_api_key(opt_text_arg(key, "key")?, key_placement(placement)?)
        })
    })
}

/// Sets an extra body field (the Python client's `**kwargs`: `provider`,
/// `conversation`, `web_search`, ...) to a JSON value given as text. `model`,
/// `messages`, `media` and `api_key` have their own setters and are refused here.
/// When `key` looks secret (holds `key`, `token`, `secret`, `pass`, `auth`, ...),
/// a parse error says nothing of the value.
/// Any thread; not concurrently with other calls on the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_set_field_json(
    request: *mut backend_api_request,
    key: *const c_char,
    value_json: *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(request, "request", |backend_api_request(r)| {
            r.set_field_json(text_arg(key, "key")?, text_arg(value_json, "value_json")?)
        })
    })
}

/// Sets an extra body field to a string value (no JSON quoting needed).
/// Any thread; not concurrently with other calls on the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_set_field_string(
    request: *mut backend_api_request,
    key: *const c_char,
    value: *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(request, "request", |backend_api_request(r)| {
            r.set_field_str(text_arg(key, "key")?, text_arg(value, "value")?)
        })
    })
}

/// Bounds each media item added afterwards to `bytes` of raw data (default 20 MiB;
/// at least 1): a larger item fails with `BACKEND_API_STATUS_LIMIT`, and a larger
/// file is refused before it is read. Not concurrently with other calls on the
/// same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_set_max_media(
    request: *mut backend_api_request,
    bytes: usize,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(request, "request", |backend_api_request(r)| {
            r.set_max_media(bytes)
        })
    })
}

/// Adds media from `len` bytes at `data` (copied and base64-encoded now). The MIME
/// type comes from `filename`'s extension for audio, else from the bytes (jpeg,
/// png, gif, webp); anything else fails with `BACKEND_API_STATUS_MEDIA`. More than
/// the media limit (`backend_api_request_set_max_media`, default 20 MiB) fails
/// with `BACKEND_API_STATUS_LIMIT`.
/// `filename` may be NULL. `data` may be NULL only when `len` is 0.
/// Any thread; not concurrently with other calls on the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_add_media_bytes(
    request: *mut backend_api_request,
    data: *const u8,
    len: usize,
    filename: *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(request, "request", |backend_api_request(r)| {
            r.add_media_bytes(bytes_arg(data, len, "data")?, opt_text_arg(filename, "filename")?)
        })
    })
}

/// Adds media from a file, read now; its base name is sent as the file name.
/// Only a regular file is read: a directory, FIFO, socket or device fails at once
/// (opened without blocking) with `BACKEND_API_STATUS_MEDIA`, as does an
/// unreadable or unrecognised file. A file over the media limit
/// (`backend_api_request_set_max_media`, default 20 MiB) fails with
/// `BACKEND_API_STATUS_LIMIT` before it is read.
/// Any thread; not concurrently with other calls on the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_add_media_file(
    request: *mut backend_api_request,
    path: *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(request, "request", |backend_api_request(r)| {
            r.add_media_file(text_arg(path, "path")?)
        })
    })
}

/// Adds media by reference: a `data:` URI or an `http(s)://` URL, sent as it is.
/// `filename` may be NULL.
/// Any thread; not concurrently with other calls on the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_add_media_uri(
    request: *mut backend_api_request,
    uri: *const c_char,
    filename: *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(request, "request", |backend_api_request(r)| {
            r.add_media(Media::from_uri(
                text_arg(uri, "uri")?,
                opt_text_arg(filename, "filename")?,
            )?);
            Ok(())
        })
    })
}

/// Appends the result of a tool the model called: the message `{"role": "tool",
/// "tool_call_id": tool_call_id, "content": content}` (the `id` of one of the
/// answer's `tool_calls`, and the tool's output as text, JSON or not). Strings
/// are copied. `INVALID_ARGUMENT` for NULL or an empty `tool_call_id`.
/// Any thread; not concurrently with other calls on the same request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_add_tool_result(
    request: *mut backend_api_request,
    tool_call_id: *const c_char,
    content: *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(request, "request", |backend_api_request(r)| {
            r.add_tool_result(
                text_arg(tool_call_id, "tool_call_id")?,
                text_arg(content, "content")?,
            )
        })
    })
}

/// Copies a request: model, messages, media, api key (copied inside the library,
/// never shown), headers, extra fields and media limit. On success `*out` owns the
/// copy (free it with `backend_api_request_free`); the two then change apart.
/// Any thread; not concurrently with a call that changes `request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_clone(
    request: *const backend_api_request,
    out: *mut *mut backend_api_request,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        out_arg(out, "out")?;
        give(out, backend_api_request(borrow(request, "request")?.0.clone()));
        Ok(Status::Ok)
    })
}

/// The JSON body the request makes (the backend API's: `model`, `messages`,
/// `media` with its data, the extra fields), WITHOUT `api_key` whatever the key's
/// placement, so that a program can inspect a request and the key still stays in
/// the library. Headers are not in it. On success `*json_out` owns the
/// NUL-terminated text (free it with `backend_api_string_free`) and `*len_out`,
/// when not NULL, gets its length.
/// Any thread; not concurrently with a call that changes `request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_json(
    request: *const backend_api_request,
    json_out: *mut *const c_char,
    len_out: *mut usize,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        out_arg(json_out, "json_out")?;
        let body = borrow(request, "request")?.0.body_without_key();
        give_text(json_out, len_out, &String::from_utf8_lossy(&body));
        Ok(Status::Ok)
    })
}

/// `backend_api_request_follow_up` from an answer chunk rather than a live stream:
/// `answer` is a chunk of kind `BACKEND_API_KIND_ANSWER`, as
/// `backend_api_stream_answer` returns it (also one kept after the stream was
/// closed, or made with `backend_api_chunk_parse` from saved JSON); its `content`
/// (text) and `tool_calls` become the assistant's message, and its
/// `conversation` (unless absent or null) goes back as g4f expects it, by its
/// `provider`, as `backend_api_request_follow_up` says. `user_message` may be
/// NULL (after tool calls). Any other chunk, or an answer whose `content` is not
/// a string, is `INVALID_ARGUMENT`. Takes no ownership of `answer`. On success
/// `*out` owns a new request (free it with `backend_api_request_free`).
/// Any thread; not concurrently with a call that changes `request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_follow_up_answer(
    request: *const backend_api_request,
    answer: *const backend_api_chunk,
    user_message: *const c_char,
    out: *mut *mut backend_api_request,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        out_arg(out, "out")?;
        let answer = Answer::from_chunk(borrow(answer, "answer")?.chunk())?;
        give_follow_up(request, &answer, user_message, out)
    })
}

/// The follow-up of `request` after `answer` into `*out` (checked by the caller):
/// what both follow-up functions do once they have the answer.
pub(super) fn give_follow_up(
    request: *const backend_api_request,
    answer: &Answer,
    user_message: *const c_char,
    out: *mut *mut backend_api_request,
) -> Result<Status, Error> {
    let next = borrow(request, "request")?
        .0
        .follow_up(answer, opt_text_arg(user_message, "user_message")?);
    give(out, backend_api_request(next));
    Ok(Status::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_placement_codes_are_a_non_empty_bit_set() {
        assert_eq!(key_placement(1), Ok(KeyPlacement::Body));
        assert_eq!(key_placement(2), Ok(KeyPlacement::Bearer));
        assert_eq!(key_placement(3), Ok(KeyPlacement::Both));
        assert!(key_placement(0).is_err());
        assert!(key_placement(4).is_err());
    }

    #[test]
    fn key_placements_keep_their_numbers() {
        assert_eq!(BACKEND_API_KEY_BODY, 1);
        assert_eq!(BACKEND_API_KEY_BEARER, 2);
    }
}
