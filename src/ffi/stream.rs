//! Streams: open, next, cancel, close, and what a running stream tells (its
//! event-loop descriptor, deadline, statistics and assembled answer).

use super::enums::backend_api_status;
use std::ffi::c_char;
use std::ptr;
use std::time::Duration;

use super::chunk::backend_api_chunk;
use super::client::backend_api_client;
use super::error::{backend_api_error, report};
use super::guard::{borrow, entry, give, out_arg, put, release, text_arg};
use super::request::{backend_api_request, give_follow_up};
use crate::chunk::Chunk;
use crate::error::{Error, Status};
use crate::stream::{Next, Stream};

/// One streaming answer in flight.
#[allow(non_camel_case_types)]
pub struct backend_api_stream(pub(crate) Stream);

/// Starts streaming the answer to `request` and returns at once: the HTTP request
/// runs on a thread of its own (one per stream; a host name, unlike a literal
/// address, is looked up on a process-wide pool of at most 4 threads); connection
/// errors arrive from `backend_api_next`. Fails with `LIMIT` when the system
/// refuses a thread. The client and the request are copied: free or change them
/// freely afterwards. On success `*out` owns the stream: end it with
/// `backend_api_close`. Any thread, also concurrently on one client and request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_open(
    client: *const backend_api_client,
    request: *const backend_api_request,
    out: *mut *mut backend_api_stream,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        out_arg(out, "out")?;
        let stream = Stream::open(&borrow(client, "client")?.0, &borrow(request, "request")?.0)?;
        give(out, backend_api_stream(stream));
        Ok(Status::Ok)
    })
}

/// Waits up to `timeout_ms` for the next chunk (0: only look, never block;
/// negative: wait for ever). Returns:
/// - `OK`: `*chunk_out` owns a new chunk (free it with `backend_api_chunk_free`);
/// - `END`: the answer is complete (the server closed the stream cleanly);
/// - `AGAIN`: not an error: nothing yet within `timeout_ms`; call again;
/// - `CANCELLED`: the stream was cancelled (`backend_api_cancel` or a canceller);
/// - any other status: the stream failed; `*err_out` (when not NULL) owns an error.
///   `TIMED_OUT` there means one of the client's timeouts elapsed: each phase
///   (name resolution, connect with proxy and TLS handshakes, response headers,
///   each wait for a chunk, the whole exchange) is timed by the stream's own
///   thread, which ends the stream when one runs out, whatever `timeout_ms` is
///   and whether `next` was called before or after the headers.
///
/// END, CANCELLED and errors are final: later calls return the same again, and a
/// cancel after END or an error does not change it. In-stream `error`/`auth`
/// chunks are chunks (see `backend_api_chunk_kind`), like the Python client yields
/// them. Any thread; calls from several threads are served one at a time, each
/// waiting no longer than its own `timeout_ms` (also while another thread is
/// inside `next`; then it may return `AGAIN`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_next(
    stream: *mut backend_api_stream,
    timeout_ms: i64,
    chunk_out: *mut *mut backend_api_chunk,
    err_out: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err_out, {
        out_arg(chunk_out, "chunk_out")?;
        let stream = &borrow(stream, "stream")?.0;
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        match stream.next(timeout) {
            Next::Chunk(chunk) => {
                give(chunk_out, backend_api_chunk::new(chunk));
                Ok(Status::Ok)
            }
            Next::End => Ok(Status::End),
            Next::Again => Ok(Status::Again),
            Next::Cancelled => Ok(Status::Cancelled),
            Next::Error(e) => Err(e),
        }
    })
}

/// Cancels the stream: the connection is shut, a blocked `backend_api_next` wakes
/// at once, and every later `next` returns `CANCELLED` (unless the stream had
/// already reached END or an error, which stay). Never waits for the stream's
/// thread. Safe to repeat; NULL is a no-op. Any thread, also while another thread
/// is inside `backend_api_next`, but not during or after `backend_api_close` of the
/// same stream: a thread that cannot know when the owner closes it uses a
/// canceller (`backend_api_stream_canceller`) instead.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_cancel(stream: *const backend_api_stream) {
    entry!(or(), {
        if let Ok(s) = borrow(stream, "stream") {
            s.0.cancel();
        }
    })
}

/// Cancels the stream, shuts its connection and frees it. Returns at once in every
/// state of the stream (name resolution, connect, TLS handshake, waiting for
/// headers, reading, stalled): it never waits for the stream's thread nor for a
/// log callback. That thread owns all it still uses and finishes on its own, at
/// once in every phase (its waits watch the cancel), closing its socket; a name
/// lookup already running on the resolver pool finishes there, without the
/// stream. Log records: none starts after this call returned, whatever its
/// size (a record past its last look at the cancel is waited for only while the
/// library copies its text, never while it is in the callback: one already in
/// the callback may still finish); `backend_api_shutdown` waits for all of it. The event-loop descriptor is closed before this returns. Chunks already returned and
/// cancellers stay valid. NULL is a no-op; must not be called twice, nor while
/// another thread uses the stream.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_close(stream: *mut backend_api_stream) {
    entry!(or(), { release(stream) })
}

/// For event loops (poll, epoll, kqueue, libuv, GLib; `select`/`WSAPoll` on
/// Windows): writes to `*fd_out` a descriptor (a file descriptor; a `SOCKET` on
/// Windows) that is readable whenever `backend_api_next(stream, 0, ...)` would not
/// return `AGAIN` (a chunk, the end or an error is there, or the stream was
/// cancelled). Level-triggered: it stays readable until `next` has taken what
/// made it so; non-blocking. One descriptor per stream: an eventfd on Linux, a
/// socket pair elsewhere. Made on the first call (the same one after), never
/// before: a stream that is not asked for it holds one descriptor only, its
/// socket. `LIMIT` when the process or the system has no descriptor left. It may be
/// readable spuriously (then `next` returns `AGAIN`). Only wait for readability on
/// it; never read, write or close it: it belongs to the stream and is closed by
/// `backend_api_close` (remove it from your event loop first). Timeouts need no
/// poll timeout: when one runs out the stream's thread ends the stream and the
/// descriptor turns readable. Any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_stream_fd(
    stream: *const backend_api_stream,
    fd_out: *mut isize,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        out_arg(fd_out, "fd_out")?;
        put(fd_out, borrow(stream, "stream")?.0.ready_descriptor()?);
        Ok(Status::Ok)
    })
}

/// Milliseconds until the stream's idle or total timeout ends it (rounded up, at
/// least 1: when due, the stream's thread is about to end it), or -1 when neither runs now (the idle timeout runs from the
/// response headers or the last chunk, not while the stream waits for its
/// reader), once nothing more can arrive (the stream ended or was cancelled), or
/// for NULL. Informative: the stream's thread ends the stream at that moment and
/// the descriptor turns readable, so an event loop may wait without a timeout.
/// While the stream waits to retry (`backend_api_client_set_retries`, a server's
/// `Retry-After`), neither timeout runs: this is the time until the retry is sent.
/// Any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_stream_timeout_ms(stream: *const backend_api_stream) -> i64 {
    entry!(or - 1, {
        let Ok(s) = borrow(stream, "stream") else {
            return -1;
        };
        s.0.time_to_deadline().map_or(-1, |d| {
            i64::try_from(d.as_nanos().div_ceil(1_000_000).max(1)).unwrap_or(i64::MAX)
        })
    })
}

/// A stream's statistics. Times are microseconds since `backend_api_open`; -1
/// until known. New fields are only ever added at the end.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct backend_api_stats {
    /// Set by the caller to `sizeof(backend_api_stats)` before the call; the library
    /// writes only the fields that fit and sets it to the size it wrote. A program
    /// built against an older header thus keeps working with a newer library.
    pub size: usize,
    /// Response body bytes read (after HTTP framing).
    pub bytes: u64,
    /// Chunks decoded by the stream's thread.
    pub chunks: u64,
    /// Chunks handed to the caller by `backend_api_next`.
    pub delivered: u64,
    /// Malformed lines skipped (with skip-malformed on).
    pub skipped: u64,
    /// Requests sent again after a failure before any answer.
    pub retries: u32,
    /// The stream's thread has finished: nothing more will arrive.
    pub ended: bool,
    /// When the response headers arrived.
    pub headers_us: i64,
    /// When the first chunk was decoded.
    pub first_chunk_us: i64,
    /// How long the stream ran: until it ended, or until now.
    pub elapsed_us: i64,
    /// Bytes of decoded chunks held for the caller (bounded: see the README).
    pub queued_bytes: u64,
    /// The answer came on a connection kept from an earlier request of the
    /// client (see `backend_api_client_set_keep_alive`), not a new one.
    pub reused_connection: bool,
}

/// Writes the stream's statistics so far to `*out`, whose `size` the caller set
/// (see `backend_api_stats`); `INVALID_ARGUMENT` when `size` is smaller than the
/// first version of the struct. Any thread, also while another thread is in `next`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_stream_stats(
    stream: *const backend_api_stream,
    out: *mut backend_api_stats,
) -> backend_api_status {
    entry!(reports ptr::null_mut(), {
        out_arg(out, "out")?;
        // SAFETY: `out` is not NULL (checked above), and the caller set the `size`
        // field of the struct it points to (the contract of `backend_api_stats`):
        // `size` comes first in every version of the struct, so reading it alone
        // stays within what the caller has, however old its header.
        let size = unsafe { (*out).size };
        if size < STATS_V1_SIZE {
            return Err(Error::invalid(
                "stats.size must be set to sizeof(backend_api_stats)",
            ));
        }
        let s = borrow(stream, "stream")?.0.stats();
        let full = backend_api_stats {
            size: size.min(std::mem::size_of::<backend_api_stats>()),
            bytes: s.bytes,
            chunks: s.chunks,
            delivered: s.delivered,
            skipped: s.skipped,
            retries: s.retries,
            ended: s.ended,
            headers_us: s.headers_us,
            first_chunk_us: s.first_chunk_us,
            elapsed_us: s.elapsed_us,
            queued_bytes: s.queued_bytes,
            reused_connection: s.reused_connection,
        };
        // SAFETY: the caller's struct is `size` bytes long (it set `size` to its
        // `sizeof`) and writable (an out-parameter); `full.size` is at most `size`
        // and at most `full`'s own size, so only the fields both versions have are
        // copied, and the local `full` cannot overlap C's struct.
        unsafe {
            ptr::copy_nonoverlapping(
                (&full as *const backend_api_stats).cast::<u8>(),
                out.cast::<u8>(),
                full.size,
            )
        };
        Ok(Status::Ok)
    })
}

/// `sizeof(backend_api_stats)` in 0.2.0, the first version with a size field: up
/// to its last field then, `queued_bytes`. Fields added later do not change it.
const STATS_V1_SIZE: usize = std::mem::offset_of!(backend_api_stats, queued_bytes) + 8;

/// The assembled answer so far: what the chunks `backend_api_next` has handed out
/// add up to, as a chunk of type `"answer"` (kind `BACKEND_API_KIND_ANSWER`). Read it
/// with `backend_api_chunk_field` or the JSON Pointer getters: `content` and
/// `reasoning` (text), `finish_reason`, `title`, `provider`, `model`, `error` and
/// `refusal` (text, or `null`), `usage`, `tool_calls` and `conversation` (JSON),
/// and `media` (a list of `{kind, url, alt}`; see `backend_api_answer_medium`).
/// Only the first choice is assembled (`n` > 1: see `backend_api_chunk_choice`). During and after the stream. The answer holds all the
/// text handed out: for very long streams see `backend_api_client_set_assemble`. On success `*out` owns the
/// chunk (free it with `backend_api_chunk_free`). Any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_stream_answer(
    stream: *const backend_api_stream,
    out: *mut *mut backend_api_chunk,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        out_arg(out, "out")?;
        let json = borrow(stream, "stream")?.0.answer_json();
        let chunk =
            Chunk::parse_owned(json).map_err(|m| Error::new(Status::Internal, m.why))?;
        give(out, backend_api_chunk::new(chunk));
        Ok(Status::Ok)
    })
}

/// Makes the request that continues a conversation: `request`'s model, key and
/// extra fields, its messages plus `stream`'s answer so far as the assistant's
/// message (its text, and its `tool_calls` when the model asked for tools) and
/// then `user_message`. `user_message` may be NULL: no user message is added, for
/// a conversation that goes on after tool calls (add their results first with
/// `backend_api_request_add_tool_result`, on the returned request). The
/// provider's conversation state goes back as the `conversation` field the way
/// g4f expects it: the state of the provider that answered (g4f keys it by
/// provider), or the whole state when it is not keyed (AnyProvider), several
/// `conversation` chunks merged; the state sent before stays when the answer
/// brought none. Media are not sent again. On success `*out` owns a new request
/// (free it with `backend_api_request_free`). Any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_request_follow_up(
    request: *const backend_api_request,
    stream: *const backend_api_stream,
    user_message: *const c_char,
    out: *mut *mut backend_api_request,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        out_arg(out, "out")?;
        let answer = borrow(stream, "stream")?.0.answer();
        give_follow_up(request, &answer, user_message, out)
    })
}

/// The value of the response header `name` (any case; such as `x-request-id` or
/// `x-ratelimit-remaining-requests`) of the stream's last response: the one that
/// answered, or, when the stream failed with `HTTP`, that error's (a 429's
/// `retry-after` and rate-limit headers; with retries, the last attempt's).
/// NUL-terminated into `*value_out` (its length into `*len_out` when not NULL;
/// the first value when the header came several times). Owned by the stream:
/// valid until `backend_api_close`. Returns `OK`, `NOT_FOUND` (the response has
/// no such header), `AGAIN` (no response headers yet: call again after
/// `backend_api_next` returned a chunk, END or an error; a stream that failed
/// before any response never gets them), or `INVALID_ARGUMENT`. No error object
/// is made. Any thread, also while another thread is in `next`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_stream_header(
    stream: *const backend_api_stream,
    name: *const c_char,
    value_out: *mut *const c_char,
    len_out: *mut usize,
) -> backend_api_status {
    entry!(reports ptr::null_mut(), {
        out_arg(value_out, "value_out")?;
        let name = text_arg(name, "name")?;
        let Some(headers) = borrow(stream, "stream")?.0.response_headers() else {
            return Ok(Status::Again);
        };
        let Some(value) = headers.get_with_nul(name) else {
            return Ok(Status::NotFound);
        };
        put(value_out, value.as_ptr().cast());
        put(len_out, value.len() - 1);
        Ok(Status::Ok)
    })
}

/// The header at `index` (from 0, in the order received) of the stream's last
/// response (see `backend_api_stream_header`): its name
/// (lower case) into `*name_out` and its value into `*value_out`, NUL-terminated
/// and owned by the stream (valid until `backend_api_close`). Returns `OK`,
/// `NOT_FOUND` past the last header, `AGAIN` before the headers arrived (see
/// `backend_api_stream_header`), or `INVALID_ARGUMENT`. Any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_stream_header_at(
    stream: *const backend_api_stream,
    index: usize,
    name_out: *mut *const c_char,
    value_out: *mut *const c_char,
) -> backend_api_status {
    entry!(reports ptr::null_mut(), {
        out_arg(name_out, "name_out")?;
        out_arg(value_out, "value_out")?;
        let Some(headers) = borrow(stream, "stream")?.0.response_headers() else {
            return Ok(Status::Again);
        };
        let Some((name, value)) = headers.at_with_nul(index) else {
            return Ok(Status::NotFound);
        };
        put(name_out, name.as_ptr().cast());
        put(value_out, value.as_ptr().cast());
        Ok(Status::Ok)
    })
}
