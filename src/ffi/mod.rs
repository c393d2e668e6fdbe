//! The C ABI, one C object per module: [`enums`] (the C form of the enums and
//! `backend_api_status_name`), [`error`] (the error object, and how a failure
//! reaches it), [`library`] (version and `shutdown`), [`client`], [`log`] (the
//! client's log callback), [`models`] (model and provider listings), [`media`]
//! (generated media and their download), [`request`], [`stream`] (with the
//! follow-up that reads a stream's answer), [`cancel`], [`chunk`] (with
//! `backend_api_chunk_parse`), [`pointer`] (typed look-ups in a chunk by JSON
//! Pointer), [`text`] (strings handed out and URL redaction); the raw steps they
//! share (borrow a handle, read a C string, write an out-parameter, free a
//! handle) live in `guard`. This file only names them. Every function here:
//! - catches panics (none crosses into C) and checks every pointer for NULL;
//! - writes its out-parameters only when it returns `BACKEND_API_STATUS_OK`, and
//!   writes a new error object to `*err` (when `err` is not NULL) only on failure;
//! - keeps error detail in the returned error object, never in thread-local state.
//!
//! Each object is created by one function and freed by its `*_free` (or
//! `backend_api_close`), which accept NULL and must not be called twice.
//!
//! How the functions are written (as hyper's `src/ffi` and rustls-ffi): each body is
//! one `entry!` (in `guard`), which catches panics and gives the status, the error
//! object or the NULL/0 default; the body is safe code. The raw steps (borrow a
//! handle, read a C string or buffer, write an out-parameter, hand out or free an
//! object) are a few helpers in `guard`, each with the reason it holds; the two
//! steps of a versioned struct (`backend_api_stream_stats`) and the log callback's
//! calls are justified where they are. The functions stay `unsafe extern "C"` for
//! Rust callers (the tests): what makes a call sound is the C contract, written
//! once for every function at the top of the header (`cbindgen.toml`), not in a
//! `# Safety` section per function.
#![allow(
    clippy::missing_safety_doc,
    reason = "the C contract is written once, at the top of include/backend_api.h"
)]

pub mod cancel;
pub mod chunk;
pub mod client;
pub mod enums;
pub mod error;
mod guard;
pub mod library;
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
pub use library::*;
pub use log::*;
pub use media::*;
pub use models::*;
pub use pointer::*;
pub use request::*;
pub use stream::*;
pub use text::*;
