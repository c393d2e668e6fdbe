//! Shared by the integration tests, the test backend (examples/test_backend.rs)
//! and the benchmark: the in-process backend and small helpers. A dev-only crate
//! of the workspace (`support` in the root's dev-dependencies), compiled once.

pub mod backend;
pub mod cabi;
pub mod http;
pub mod keepalive;
pub mod process;
pub mod recorder;
pub mod tls;

use std::sync::LazyLock;
use std::time::Duration;

use backend_api::{Chunk, Client, Next, Request, Stream};

/// One backend for the whole test binary.
pub static BACKEND: LazyLock<backend::Backend> = LazyLock::new(backend::Backend::start);

pub fn client() -> Client {
    let mut c = Client::new(&BACKEND.url).unwrap();
    c.set_proxy(None).unwrap();
    c
}

/// A request with one user message and the given scenario fields (a JSON object).
pub fn request(fields: serde_json::Value) -> Request {
    let mut r = Request::new();
    r.set_model("test-model");
    r.add_message("user", "hi");
    for (k, v) in fields.as_object().unwrap() {
        r.set_field_json(k, &v.to_string()).unwrap();
    }
    r
}

/// Drains a stream: its chunks and how it ended.
pub fn drain(stream: &Stream) -> (Vec<Chunk>, Next) {
    let mut chunks = Vec::new();
    loop {
        match stream.next(Some(Duration::from_secs(20))) {
            Next::Chunk(c) => chunks.push(c),
            other => return (chunks, other),
        }
    }
}

/// The content text of the chunks, joined.
pub fn content(chunks: &[Chunk]) -> String {
    chunks
        .iter()
        .filter(|c| c.type_() == "content")
        .filter_map(Chunk::text)
        .collect()
}
