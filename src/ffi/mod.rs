//! The C ABI, one module per object: [`enums`] (the C form of the enums), [`error`], [`client`], [`log`] (the client's
//! log callback), [`models`] (model and provider listings), [`media`] (generated
//! media and their download), [`request`], [`stream`], [`cancel`], [`chunk`],
//! [`pointer`] (typed look-ups in a chunk by JSON Pointer), [`text`] (URL redaction); the
//! habits they share live in `guard`. Every function here:
//! - catches panics (none crosses into C) and checks every pointer for NULL;
//! - writes its out-parameters only when it returns `BACKEND_API_STATUS_OK`, and
//!   writes a new error object to `*err` (when `err` is not NULL) only on failure;
//! - keeps error detail in the returned error object, never in thread-local state.
//!
//! Each object is created by one function and freed by its `*_free` (or
//! `backend_api_close`), which accept NULL and must not be called twice.

use std::ffi::c_char;

pub mod cancel;
pub mod chunk;
pub mod client;
pub mod enums;
pub mod error;
mod guard;
pub mod log;
pub mod media;
pub mod models;
pub mod pointer;
pub mod request;
pub mod stream;
pub mod text;

pub use cancel::*;
pub use chunk::*;
pub use client::*;
pub use enums::*;
pub use error::*;
pub use guard::backend_api_error;
pub use log::*;
pub use media::*;
pub use models::*;
pub use pointer::*;
pub use request::*;
pub use stream::*;
pub use text::*;

use crate::error::Status;
use guard::guard_or;

/// Version macros; a test checks them against Cargo.toml.
pub const BACKEND_API_VERSION_MAJOR: u32 = 0;
pub const BACKEND_API_VERSION_MINOR: u32 = 3;
pub const BACKEND_API_VERSION_PATCH: u32 = 0;
/// The version as one number, `0xMMmmpp` (major, minor, patch), for `#if`
/// comparisons: `#if BACKEND_API_VERSION_NUM >= 0x000200`.
pub const BACKEND_API_VERSION_NUM: u32 = (BACKEND_API_VERSION_MAJOR << 16)
    | (BACKEND_API_VERSION_MINOR << 8)
    | BACKEND_API_VERSION_PATCH;

/// `backend_api_request_set_api_key` placement: in the body as `"api_key"`.
pub const BACKEND_API_KEY_BODY: u32 = 1;
/// `backend_api_request_set_api_key` placement: as `Authorization: Bearer <key>`.
pub const BACKEND_API_KEY_BEARER: u32 = 2;

/// A model capability (`backend_api_model_list_get`): image input (vision).
pub const BACKEND_API_CAPABILITY_VISION: u32 = 1;
/// A model capability: image generation.
pub const BACKEND_API_CAPABILITY_IMAGE: u32 = 2;
/// A model capability: audio input or output.
pub const BACKEND_API_CAPABILITY_AUDIO: u32 = 4;
/// A model capability: video input or generation.
pub const BACKEND_API_CAPABILITY_VIDEO: u32 = 8;
/// A model capability: tool (function) calls.
pub const BACKEND_API_CAPABILITY_TOOLS: u32 = 16;

/// The library version, such as `"0.2.0"`. Static; any thread.
#[unsafe(no_mangle)]
pub extern "C" fn backend_api_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The version of the library loaded at run time as `0xMMmmpp`: compare it with
/// `BACKEND_API_VERSION_NUM`, the version the program was compiled against. Any thread.
#[unsafe(no_mangle)]
pub extern "C" fn backend_api_version_num() -> u32 {
    BACKEND_API_VERSION_NUM
}

/// Waits for the library to go quiet, the role of `curl_global_cleanup`: cancels
/// every stream and model listing still in flight (their `next` returns
/// `CANCELLED` unless they had ended; the handles stay valid and must still be
/// closed), then waits until every thread of the library (streams, the resolver
/// pool) has finished and been joined, up to `timeout_ms` (negative: for as long as
/// it takes; a name lookup in the system's resolver cannot be interrupted). Returns
/// `OK` when none is left: from then on no log callback and no log sink `destroy`
/// runs on a thread of the library. `TIMED_OUT` when some still run (call again).
///
/// Streams and listings opened while it runs are cancelled at once, and it does
/// not wait for them: threads that keep opening streams cannot hold it.
///
/// Call it before unloading the library (`dlclose`, `FreeLibrary`) and before
/// returning from `main` when a log sink uses objects with static lifetime (a C++
/// logger destroyed at exit). Streams and listings may be started again
/// afterwards. Any thread but a log callback's.
///
/// `fork` (as libcurl and OpenSSL state theirs): a child of `fork` may call
/// `exec` or `_exit` at once, as always. It may also go on using the library: it
/// makes clients and opens streams of its own as a new process would (the
/// resolver pool starts empty in the child, also when a lookup was in flight at
/// the fork). What it inherited from the parent stays the parent's: the child
/// may only close (or free) inherited streams, cancellers and clients, which
/// releases its own copies and never touches the parent's connections; `next` on
/// an inherited stream gets nothing (the stream's thread exists only in the
/// parent). `backend_api_shutdown` in the child returns at once for what it
/// inherited (the parent's threads are not the child's), so an `atexit` shutdown
/// does not hang a child's `exit`. Log callbacks of inherited streams never run
/// in the child. (Windows has no `fork`.)
#[unsafe(no_mangle)]
pub extern "C" fn backend_api_shutdown(timeout_ms: i64) -> backend_api_status {
    let timeout = u64::try_from(timeout_ms)
        .ok()
        .map(std::time::Duration::from_millis);
    guard_or(Status::Internal, || {
        if crate::threads::shutdown(timeout) {
            Status::Ok
        } else {
            Status::TimedOut
        }
    })
    .into()
}

/// The name of a status code, such as `"HTTP"`, or `"UNKNOWN"` for a number that
/// is not a status. Static; any thread.
#[unsafe(no_mangle)]
pub extern "C" fn backend_api_status_name(status: u32) -> *const c_char {
    backend_api_status::from_code(status)
        .map_or(c"UNKNOWN", Status::c_name)
        .as_ptr()
}

#[cfg(test)]
mod tests {
    #[test]
    fn capability_bits_are_the_core_ones() {
        use crate::capabilities as c;
        assert_eq!(
            [
                super::BACKEND_API_CAPABILITY_VISION,
                super::BACKEND_API_CAPABILITY_IMAGE,
                super::BACKEND_API_CAPABILITY_AUDIO,
                super::BACKEND_API_CAPABILITY_VIDEO,
                super::BACKEND_API_CAPABILITY_TOOLS
            ],
            [c::VISION, c::IMAGE, c::AUDIO, c::VIDEO, c::TOOLS]
        );
    }

    #[test]
    fn key_placements_keep_their_numbers() {
        assert_eq!(super::BACKEND_API_KEY_BODY, 1);
        assert_eq!(super::BACKEND_API_KEY_BEARER, 2);
    }
}
