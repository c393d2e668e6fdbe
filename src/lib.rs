//! backend-api: a native streaming client for the g4f (gpt4free) backend server.
//!
//! It posts a conversation to `{base}/backend-api/v2/conversation` and yields the
//! server's chunks (one JSON object each, like g4f's `RawResponse`), speaking both
//! wire generations: one JSON object per line (g4f up to 6.7.4) and Server-Sent
//! Events (g4f 6.7.5 and later). The Rust API is below; the C ABI is in [`ffi`].
//!
//! Modules, each with one job: [`decoder`] (bytes to chunks, no I/O), [`chunk`]
//! (one chunk), [`media`] (data URIs), [`request`] (the JSON body), [`client`]
//! (connection settings), `transport` (HTTP), [`stream`] (the background thread and
//! the channel), [`models`] (the model listing), [`ffi`] (the C boundary).

pub mod chunk;
pub mod client;
pub mod decoder;
pub mod error;
pub mod ffi;
pub mod media;
pub mod models;
pub mod request;
mod secret;
pub mod stream;
mod transport;

pub use chunk::{Chunk, ChunkKind, Field};
pub use client::{Client, TimeoutKind, Timeouts};
pub use error::{Error, Result, Status};
pub use media::Media;
pub use models::models;
pub use request::{key_placement, Request};
pub use stream::{Next, Stream};

/// This library's version, from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
