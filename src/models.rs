//! The bounded GETs of a client: the model listing (the counterpart of the Python
//! client's `ProviderModelMixin`), the provider listing, and the download of a
//! generated medium. One path for all three ([`download`]).
//!
//! A GET runs on the caller's thread: every network step waits on its socket
//! and the canceller together (see `net`), so a cancel from another thread ends it
//! at once in every phase. Every phase is bounded by the client's timeouts:
//! CONNECT, HEADERS, then IDLE for the whole body, and TOTAL when set.

use std::io::{Read, Write};

use std::sync::Arc;
use std::time::Instant;

use base64::Engine;

use crate::cancel::Canceller;
use crate::client::Client;
use crate::error::{Error, Result, Status};
use crate::generated::{escape, resolve, same_origin};
use crate::media::too_large;
use crate::net::{Clock, Link};
use crate::protocol::Protocol;
use crate::request::Request;
use crate::threads::Operation;
use crate::transport;

/// Most bytes of a model or provider listing that are read.
const LISTING_LIMIT: u64 = 16 << 20;

/// What a GET fetches, for its messages, its `Accept` header and its bound.
struct Fetch<'a> {
    /// "the model listing", "the medium", ...
    what: &'a str,
    accept: &'a str,
    limit: u64,
}

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
    listing(client, &path, "the model listing", cancel)
}

/// The provider listing's path: `/backend-api/v2/providers` (g4f's GUI backend:
/// a list of `{name, label, image, audio, video, vision, auth, ...}`), or
/// `{base}/providers` with the OpenAI-compatible protocol (`g4f api`'s
/// `/v1/providers`: a list of `{id, object, created, url, label}`).
fn providers_path(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Openai => "/providers",
        Protocol::Backend => "/backend-api/v2/providers",
    }
}

/// The provider listing as JSON text (see [`providers_path`]), as [`models`] fetches.
pub fn providers(client: &Client, cancel: Option<&Canceller>) -> Result<String> {
    listing(
        client,
        providers_path(client.protocol),
        "the provider listing",
        cancel,
    )
}

/// A JSON listing at `path`, read whole within [`LISTING_LIMIT`].
fn listing(client: &Client, path: &str, what: &str, cancel: Option<&Canceller>) -> Result<String> {
    let fetch = Fetch {
        what,
        accept: "application/json",
        limit: LISTING_LIMIT,
    };
    let mut bytes = Vec::new();
    download(client, None, &client.url(path), &fetch, cancel, &mut bytes)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::new(Status::Protocol, format!("{what} is not UTF-8")))?;
    serde_json::from_str::<serde::de::IgnoredAny>(&text)
        .map_err(|e| Error::new(Status::Protocol, format!("{what} is not JSON: {e}")))?;
    Ok(text)
}

/// A generated medium fetched: its bytes went to the sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Bytes written.
    pub len: u64,
    /// The MIME type the server (or the `data:` URI) named, without parameters.
    pub content_type: Option<String>,
}

/// Downloads one generated medium into `sink`: `url` resolved against the base
/// URL (`/media/<file>` as g4f sends it), or a `data:` URI decoded here. At most
/// `limit` bytes: past it the download stops with [`Status::Limit`]. The client's
/// headers and credentials, and `request`'s headers and api key (when its
/// placement sends it as a bearer token), go only to the base URL's origin; to
/// another host the medium is fetched without them (TLS, proxy and timeouts
/// still apply), so a provider's CDN never sees a key.
pub fn fetch_medium(
    client: &Client,
    request: Option<&Request>,
    url: &str,
    limit: u64,
    cancel: Option<&Canceller>,
    sink: &mut dyn Write,
) -> Result<Fetched> {
    let url = resolve(client.base_url(), url);
    if url
        .get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("data:"))
    {
        return decode_data_uri(&url, limit, sink);
    }
    let fetch = Fetch {
        what: "the medium",
        accept: "*/*",
        limit,
    };
    download(client, request, &escape(&url), &fetch, cancel, sink)
        .map(|(len, content_type)| Fetched { len, content_type })
}

/// A `data:[<mime>][;base64],<data>` URI's bytes into `sink`, within `limit`.
fn decode_data_uri(uri: &str, limit: u64, sink: &mut dyn Write) -> Result<Fetched> {
    let bad = || Error::new(Status::Media, "the medium is a malformed data: URI");
    let (head, data) = uri[5..].split_once(',').ok_or_else(bad)?;
    let base64 = head.ends_with(";base64");
    let mime = head.split(';').next().filter(|m| !m.is_empty());
    let bytes = if base64 {
        base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|_| bad())?
    } else {
        percent_encoding::percent_decode_str(data).collect()
    };
    if bytes.len() as u64 > limit {
        return Err(too_large("the medium", bytes.len() as u64, limit as usize));
    }
    sink.write_all(&bytes)
        .map_err(|e| Error::new(Status::Io, format!("cannot write the medium: {e}")))?;
    Ok(Fetched {
        len: bytes.len() as u64,
        content_type: mime.map(str::to_owned),
    })
}

/// The one bounded GET: `url` with the client's headers and credentials (and
/// `request`'s, when given), its body (at most `fetch.limit` bytes) into `sink`.
/// Returns the bytes written and the response's MIME type.
fn download(
    client: &Client,
    request: Option<&Request>,
    url: &str,
    fetch: &Fetch,
    cancel: Option<&Canceller>,
    sink: &mut dyn Write,
) -> Result<(u64, Option<String>)> {
    let what = fetch.what;
    let cancel = cancel.cloned().unwrap_or_default();
    let cancelled = || Error::new(Status::Cancelled, format!("{what} was cancelled"));
    if cancel.is_cancelled() {
        return Err(cancelled());
    }
    let _operation = Operation::begin(&cancel);
    let link = Arc::new(Link {
        cancel: cancel.clone(),
        clock: Clock::new(Instant::now(), None, client.timeouts.total),
    });
    let _network = crate::net::enter(link.clone());
    let agent = client.agent(client.timeouts.idle);
    let got = get(&agent, &link, client, request, url, fetch, sink);
    if cancel.is_cancelled() {
        return Err(cancelled());
    }
    got.map_err(|e| link.explain(e))
}

/// The GET itself.
fn get(
    agent: &crate::client::Agent,
    link: &Link,
    client: &Client,
    request: Option<&Request>,
    url: &str,
    fetch: &Fetch,
    sink: &mut dyn Write,
) -> Result<(u64, Option<String>)> {
    client.check_proxy()?;
    let own_headers = request.map_or(&[][..], Request::headers);
    let authorization = client.authorization(request);
    let headers = client
        .header_pairs()
        .chain(
            own_headers
                .iter()
                .map(|h| (h.name.as_str(), h.value.as_str())),
        )
        .chain(authorization.as_deref().map(|a| ("Authorization", a)));
    // Headers and credentials go to the base URL's origin only.
    let body = if same_origin(client.base_url(), url) {
        transport::get(agent, &link.clock, url, fetch.accept, headers)?
    } else {
        transport::get(agent, &link.clock, url, fetch.accept, std::iter::empty())?
    };
    let content_type = body.mime_type().map(str::to_owned);
    let mut reader = body.into_reader().take(fetch.limit + 1);
    let mut buf = vec![0u8; 16 << 10];
    let mut len = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(transport::map_io_error(e)),
        };
        len += n as u64;
        if len > fetch.limit {
            return Err(Error::new(
                Status::Limit,
                format!("{} exceeds its limit of {} bytes", fetch.what, fetch.limit),
            ));
        }
        sink.write_all(&buf[..n])
            .map_err(|e| Error::new(Status::Io, format!("cannot write {}: {e}", fetch.what)))?;
    }
    Ok((len, content_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_uris_decode_within_the_limit() {
        let mut out = Vec::new();
        let f = decode_data_uri("data:image/png;base64,iVBORw==", 10, &mut out).unwrap();
        assert_eq!(out, b"\x89PNG");
        assert_eq!(f.content_type.as_deref(), Some("image/png"));
        let e = decode_data_uri("data:image/png;base64,iVBORw==", 3, &mut Vec::new()).unwrap_err();
        assert_eq!(e.status, Status::Limit);
        let mut out = Vec::new();
        decode_data_uri("data:,a%20b", 10, &mut out).unwrap();
        assert_eq!(out, b"a b");
        assert_eq!(
            decode_data_uri("data:nocomma", 10, &mut Vec::new())
                .unwrap_err()
                .status,
            Status::Media
        );
    }

    #[test]
    fn provider_paths() {
        assert_eq!(providers_path(Protocol::Openai), "/providers");
        assert_eq!(
            providers_path(Protocol::Backend),
            "/backend-api/v2/providers"
        );
    }
}
