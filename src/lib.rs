//! backend-api: a native streaming client for the g4f (gpt4free) backend server.
//!
//! It posts a conversation to `{base}/backend-api/v2/conversation` and yields the
//! server's chunks (one JSON object each, like g4f's `RawResponse`), speaking both
//! wire generations: one JSON object per line (g4f up to 6.7.4) and Server-Sent
//! Events (g4f 6.7.5 and later). It also speaks the OpenAI-compatible protocol
//! (`POST {base}/chat/completions`, served by `g4f api` under `/v1` and by its
//! peers), chosen per client ([`Protocol`]). The C ABI is in [`ffi`].
//!
//! **The Rust API is internal.** The supported interface is the C ABI
//! (`include/backend_api.h`, with its soname policy) and the C++, Go and Swift
//! bindings on top of it. The Rust items below exist to build that ABI and to test
//! it; they are public only so that the integration tests, benchmarks and fuzz
//! targets can reach them, carry no stability promise, may change in any release,
//! and the crate is not published (`publish = false`). Rust programs that want a
//! chat client are better served by a crate built for Rust callers.
//!
//! Modules, each with one job: [`decoder`] (bytes to chunks, no I/O), [`chunk`]
//! (one chunk), [`answer`] (what the chunks add up to), [`media`] (data URIs),
//! [`request`] (the JSON body), `header` (checked HTTP headers), `secret` (what
//! never reaches a log), `base_url` (the checked base URL and its credentials),
//! `proxy_env` (the environment's proxy, as curl reads it), [`client`] (connection settings), `trust` (TLS settings, the trust store read once), [`retry`] (when and how
//! long to wait), [`log`] (log records), `net` (sockets, name resolution and
//! every network wait, bounded and cancellable), `transport` (HTTP exchanges),
//! [`cancel`] (cancellation from any thread), [`threads`] (the library's threads
//! and `shutdown`), [`stream`] (the worker thread and the channel), `notify`
//! (the event-loop descriptor), [`mod@models`] (the model
//! listing, the provider listing and media downloads), [`generated`] (generated
//! media of an answer), [`capabilities`] (typed model capabilities),
//! [`response_headers`] (a stream's response headers), [`protocol`] (which wire protocol a client speaks), [`openai`] (the
//! OpenAI-compatible protocol's body and events, no I/O), [`pointer`] (JSON
//! Pointer look-ups), [`ffi`] (the C boundary).

pub mod answer;
mod base_url;
pub mod cancel;
pub mod capabilities;
pub mod chunk;
pub mod client;
pub mod decoder;
pub mod error;
pub mod ffi;
mod flat_object;
pub mod generated;
mod header;
pub mod log;
pub mod media;
pub mod models;
mod net;
mod notify;
pub mod openai;
pub mod pointer;
pub mod protocol;
mod proxy_env;
pub mod request;
pub mod response_headers;
pub mod retry;
mod secret;
mod shape;
pub mod stream;
pub mod threads;
mod transport;
mod trust;

pub use answer::Answer;
pub use cancel::Canceller;
pub use chunk::{Chunk, ChunkKind, Field};
pub use client::{Client, TimeoutKind, Timeouts};
pub use error::{Error, Result, Status};
pub use log::{LogLevel, Logger};
pub use media::Media;
pub use models::models;
pub use protocol::Protocol;
pub use request::{KeyPlacement, Request};
pub use retry::RetryPolicy;
pub use stream::{Next, Stats, Stream};

/// This library's version, from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
