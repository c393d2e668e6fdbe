//! The model listing: the counterpart of the Python client's `ProviderModelMixin`.
//!
//! The fetch runs on a thread of its own, so a cancel returns at once in every
//! state, connecting included; the thread then finishes on its own, owning all it
//! touches. Every phase is bounded by the client's timeouts: CONNECT, HEADERS,
//! then IDLE for the whole body (one JSON document), and TOTAL when set.

use std::io::Read;

use crossbeam_channel::{bounded, select};

use crate::cancel::Canceller;
use crate::client::Client;
use crate::error::{Error, Result, Status};
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
    let agent = client.agent_with_body_timeout(client.timeouts.idle);
    let shut = agent.clone();
    let _hook = cancel.on_cancel(move || shut.clone().shutdown());
    let (tx, rx) = bounded(1);
    let client = client.clone();
    std::thread::Builder::new()
        .name("backend-api-models".into())
        .spawn(move || {
            let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                fetch(&agent, &client, &path)
            }))
            .unwrap_or_else(|_| {
                Err(Error::new(
                    Status::Internal,
                    "the model listing's thread panicked",
                ))
            });
            let _ = tx.send(got);
        })
        .map_err(|e| {
            Error::new(
                Status::Internal,
                format!("cannot start the listing's thread: {e}"),
            )
        })?;
    select! {
        recv(rx) -> got => match got {
            Ok(r) if !cancel.is_cancelled() => r,
            Ok(_) => Err(cancelled()),
            Err(_) => Err(Error::new(Status::Internal, "the model listing's thread ended without a result")),
        },
        recv(cancel.waker()) -> _ => Err(cancelled()),
    }
}

/// The GET itself, on the listing's thread.
fn fetch(agent: &ureq::Agent, client: &Client, path: &str) -> Result<String> {
    let body = transport::get(agent, client, path)?;
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
