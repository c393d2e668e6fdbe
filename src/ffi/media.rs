//! Generated media: the media an answer lists, and their download with the
//! client's settings into memory or a file.

use std::borrow::Cow;
use std::ffi::c_char;
use std::io::Write;
use std::ptr;

use serde_json::Value;

use super::cancel::backend_api_canceller;
use super::chunk::{backend_api_chunk, Ask};
use super::client::backend_api_client;
use super::enums::{backend_api_media_kind, backend_api_status};
use super::error::{backend_api_error, report};
use super::guard::{
    borrow, entry, give_bytes, give_text, opt_borrow, out_arg, put, release_bytes, text_arg,
};
use super::request::backend_api_request;
use crate::chunk::ChunkKind;
use crate::error::{Error, Status};
use crate::generated::MediaKind;
use crate::media::DEFAULT_MAX_MEDIA;
use crate::models::{fetch_medium, Fetched};

/// The `media` list of an answer chunk.
fn media_list(chunk: &backend_api_chunk) -> Result<Vec<Value>, Error> {
    if chunk.chunk().kind() != ChunkKind::Answer {
        return Err(Error::invalid(
            "not an answer chunk (kind BACKEND_API_KIND_ANSWER, from backend_api_stream_answer)",
        ));
    }
    let v: Value = serde_json::from_str(chunk.chunk().json())
        .map_err(|e| Error::new(Status::Internal, e.to_string()))?;
    Ok(match v {
        Value::Object(mut o) => match o.remove("media") {
            Some(Value::Array(list)) => list,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    })
}

/// How many generated media (images, audio, video) the answer chunk `answer`
/// lists (`backend_api_stream_answer`); 0 for NULL or another kind of chunk.
/// Any thread; the chunk must stay alive (not freed) meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_answer_media_count(answer: *const backend_api_chunk) -> usize {
    entry!(or 0, {
        let Ok(c) = borrow(answer, "answer") else {
            return 0;
        };
        media_list(c).map_or(0, |l| l.len())
    })
}

/// The generated medium at `index` (from 0) of the answer chunk `answer`: its
/// kind into `*kind_out`, its URL into `*url_out` (absolute: a server-relative
/// `/media/<file>` was resolved against the client's base URL; or a `data:` URI
/// as sent) and its alternative text (g4f: the prompt) into `*alt_out` when not
/// NULL (NULL when the server sent none). The strings are NUL-terminated UTF-8
/// owned by the chunk: valid until `backend_api_chunk_free`. Returns `OK`,
/// `NOT_FOUND` past the last medium, or `INVALID_ARGUMENT` (a NULL argument, a
/// chunk that is not an answer). Also `answer["media"]` through the JSON Pointer
/// getters (`/media/0/url`). Any thread; the chunk must stay alive meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_answer_medium(
    answer: *const backend_api_chunk,
    index: usize,
    kind_out: *mut backend_api_media_kind,
    url_out: *mut *const c_char,
    alt_out: *mut *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        out_arg(kind_out, "kind_out")?;
        out_arg(url_out, "url_out")?;
        let c = borrow(answer, "answer")?;
        let list = media_list(c)?;
        let Some(m) = list.get(index) else {
            return Ok(Status::NotFound);
        };
        let kind = m["kind"]
            .as_str()
            .and_then(MediaKind::from_name)
            .unwrap_or(MediaKind::Image);
        let lend = |field: &str| -> Option<*const c_char> {
            let s = m[field].as_str()?;
            let pointer = format!("/media/{index}/{field}");
            c.lend(Ask::Pointer(&pointer), || Some(Cow::Owned(s.to_owned())))
                .map(|(p, _)| p)
        };
        let url =
            lend("url").ok_or_else(|| Error::new(Status::Internal, "a medium has no URL"))?;
        put(kind_out, kind.into());
        put(url_out, url);
        if !alt_out.is_null() {
            put(alt_out, lend("alt").unwrap_or(ptr::null()));
        }
        Ok(Status::Ok)
    })
}

/// The bound of one download: `max_bytes`, or the media limit by default.
fn limit(max_bytes: usize) -> u64 {
    match max_bytes {
        0 => DEFAULT_MAX_MEDIA as u64,
        n => n as u64,
    }
}

/// Runs a download for a C call: the client, the optional request and the URL.
fn download_for(
    client: *const backend_api_client,
    request: *const backend_api_request,
    url: *const c_char,
    canceller: *const backend_api_canceller,
    max_bytes: usize,
    sink: &mut dyn Write,
) -> Result<Fetched, Error> {
    fetch_medium(
        &borrow(client, "client")?.0,
        opt_borrow(request).map(|r| &r.0),
        text_arg(url, "url")?,
        limit(max_bytes),
        opt_borrow(canceller).map(backend_api_canceller::get),
        sink,
    )
}

/// Hands the content type out when asked for.
fn hand_out_type(content_type_out: *mut *const c_char, fetched: &Fetched) {
    match &fetched.content_type {
        Some(t) => give_text(content_type_out, ptr::null_mut(), t),
        None => put(content_type_out, ptr::null()),
    }
}

/// Downloads a generated medium into memory: `url` as an answer lists it
/// (`backend_api_answer_medium`; a server-relative `/media/<file>` is resolved
/// against the base URL, a `data:` URI is decoded without a request). Uses the
/// client's TLS settings, proxy and timeouts (CONNECT, HEADERS, then IDLE for
/// the whole body, and TOTAL when set); the client's headers and credentials,
/// and `request`'s headers and api key as a bearer token when its placement
/// says so (`request` may be NULL), go only to the base URL's origin: a medium
/// on another host is fetched without them. At most `max_bytes` (0: the media
/// limit, 20 MiB): past it `LIMIT`. `canceller` (may be NULL) ends the wait from
/// another thread with `CANCELLED`. Blocks the calling thread.
///
/// On success `*data_out` owns the bytes (free them with `backend_api_bytes_free`;
/// NULL for an empty medium), `*len_out` gets their length, and
/// `*content_type_out`, when not NULL, owns the MIME type the server named
/// (such as `image/png`; free it with `backend_api_string_free`) or is NULL.
/// Any thread, also concurrently on one client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_media_fetch(
    client: *const backend_api_client,
    request: *const backend_api_request,
    url: *const c_char,
    canceller: *const backend_api_canceller,
    max_bytes: usize,
    data_out: *mut *mut u8,
    len_out: *mut usize,
    content_type_out: *mut *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        out_arg(data_out, "data_out")?;
        out_arg(len_out, "len_out")?;
        let mut bytes = Vec::new();
        let fetched = download_for(client, request, url, canceller, max_bytes, &mut bytes)?;
        hand_out_type(content_type_out, &fetched);
        give_bytes(data_out, len_out, bytes);
        Ok(Status::Ok)
    })
}

/// `backend_api_media_fetch` into the file `path`: the bytes go to `path` plus
/// `.part`, renamed to `path` once complete, so a failed or cancelled download
/// never leaves a partial file nor replaces an existing one (the `.part` file is
/// removed). `*len_out` (when not NULL) gets the bytes written;
/// `content_type_out` as for `backend_api_media_fetch`. A file that cannot be
/// written is `IO`. Blocks the calling thread; any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_media_save(
    client: *const backend_api_client,
    request: *const backend_api_request,
    url: *const c_char,
    path: *const c_char,
    canceller: *const backend_api_canceller,
    max_bytes: usize,
    len_out: *mut u64,
    content_type_out: *mut *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        let path = text_arg(path, "path")?;
        let part = format!("{path}.part");
        let cannot =
            |e: std::io::Error| Error::new(Status::Io, format!("cannot write {path:?}: {e}"));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&part).map_err(cannot)?);
        let got = download_for(client, request, url, canceller, max_bytes, &mut file)
            .and_then(|f| file.flush().map(|()| f).map_err(cannot));
        drop(file);
        let fetched = got
            .and_then(|f| std::fs::rename(&part, path).map(|()| f).map_err(cannot))
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&part);
            })?;
        hand_out_type(content_type_out, &fetched);
        put(len_out, fetched.len);
        Ok(Status::Ok)
    })
}

/// Frees bytes this library handed out (`backend_api_media_fetch`), with the
/// length it gave. NULL is a no-op; must not be called twice. Any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_bytes_free(data: *mut u8, len: usize) {
    entry!(or(), { release_bytes(data, len) })
}
