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
