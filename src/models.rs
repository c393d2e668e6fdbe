//! The model listing: the counterpart of the Python client's `ProviderModelMixin`.

use std::io::Read;

use crate::client::Client;
use crate::error::{Error, Result, Status};
use crate::transport;

/// Most bytes of a model listing that are read.
const LISTING_LIMIT: u64 = 16 << 20;

/// `GET /backend-api/v2/models` (a map of provider to model names), or with a
/// provider, `GET /backend-api/v2/models/<provider>` (a list of model objects).
/// Returns the JSON text, checked to be JSON. Blocks the calling thread.
pub fn models(client: &Client, provider: Option<&str>) -> Result<String> {
    let path = match provider {
        None => "/backend-api/v2/models".to_owned(),
        Some(p)
            if !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.') =>
        {
            format!("/backend-api/v2/models/{p}")
        }
        Some(p) => return Err(Error::invalid(format!("invalid provider name {p:?}"))),
    };
    let agent = client.agent();
    let body = transport::get(&agent, client, &path)?;
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
