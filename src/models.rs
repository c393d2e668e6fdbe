//! The model listing: the counterpart of the Python client's `ProviderModelMixin`.
//!
//! The fetch runs on the caller's thread: every network step waits on its socket
//! and the canceller together (see `net`), so a cancel from another thread ends it
//! at once in every phase. Every phase is bounded by the client's timeouts:
//! CONNECT, HEADERS, then IDLE for the whole body (one JSON document), and TOTAL
//! when set.

use std::io::Read;

use std::sync::Arc;
use std::time::Instant;

use crate::cancel::Canceller;
use crate::client::Client;
use crate::error::{Error, Result, Status};
use crate::net::{Clock, Link};
use crate::threads::Operation;
use crate::transport;

/// Most bytes of a model listing that are read.
const LISTING_LIMIT: u64 = 16 << 20;

/// `GET /backend-api/v2/models` (a map of provider to model names), or with a
/// provider, `GET /backend-api/v2/models/<provider>` (a list of model objects);
/// with the OpenAI-compatible protocol `GET {base}/models` (no provider).
/// Returns the JSON text, checked to be JSON. Blocks the calling thread until the
/// listing arrives, fails, or `cancel` is cancelled ([`Status::Cancelled`]).
pub fn models(
    client: &Client,
    provider: Option<&str>,
    cancel: Option<&Canceller>,
) -> Result<String> {
    let path = client.protocol.models_path(provider)?;
    let cancel = cancel.cloned().unwrap_or_default();
    let cancelled = || Error::new(Status::Cancelled, "the model listing was cancelled");
    if cancel.is_cancelled() {
        return Err(cancelled());
    }
    let _operation = Operation::begin(&cancel);
    let link = Arc::new(Link {
        cancel: cancel.clone(),
        clock: Clock::new(Instant::now(), None, client.timeouts.total),
    });
    let agent = client.agent(link.clone(), client.timeouts.idle);
    let got = fetch(&agent, &link, client, &path);
    if cancel.is_cancelled() {
        return Err(cancelled());
    }
    got.map_err(|e| link.explain(e))
}

/// The GET itself.
fn fetch(agent: &ureq::Agent, link: &Link, client: &Client, path: &str) -> Result<String> {
    client.check_proxy()?;
    let authorization = client.authorization(None);
    let headers = client
        .header_pairs()
        .chain(authorization.as_deref().map(|a| ("Authorization", a)));
    let body = transport::get(agent, &link.clock, &client.url(path), headers)?;
    let mut text = String::new();
    body.into_reader()
        .take(LISTING_LIMIT + 1)
        .read_to_string(&mut text)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => {
                Error::new(Status::Protocol, "the model listing is not UTF-8")
            }
            _ => transport::map_io_error(e),
        })?;
    if text.len() as u64 > LISTING_LIMIT {
        return Err(Error::new(
            Status::Limit,
            "the model listing exceeds 16 MiB",
        ));
    }
    serde_json::from_str::<serde::de::IgnoredAny>(&text).map_err(|e| {
        Error::new(
            Status::Protocol,
            format!("the model listing is not JSON: {e}"),
        )
    })?;
    Ok(text)
}
