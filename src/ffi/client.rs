//! The client: connection settings shared by every request made through it.

use std::ffi::c_char;
use std::time::Duration;

use super::enums::{
    backend_api_protocol, backend_api_status, backend_api_timeout, backend_api_trust_store,
};
use super::error::{backend_api_error, report};
use super::guard::{change, entry, give, opt_text_arg, out_arg, release, text_arg};
use crate::client::Client;
use crate::error::{Error, Status};
use crate::retry::RetryPolicy;

/// Connection settings: base URL, headers, TLS, proxy, timeouts, limits.
#[allow(non_camel_case_types)]
pub struct backend_api_client(pub(crate) Client);

/// Creates a client for the g4f server at `base_url` (`http://` or `https://`; no
/// query, no fragment: refused with `BACKEND_API_STATUS_INVALID_ARGUMENT`). A
/// `user:password@` in it is percent-decoded and sent as `Authorization: Basic`
/// unless another `Authorization` is sent; error messages never show the password.
/// TLS certificates are verified by the platform's verifier against the system's
/// trust store (`BACKEND_API_TRUST_STORE_PLATFORM`; the bundled Mozilla roots only
/// when chosen with `backend_api_client_set_trust_store` or built with the Cargo
/// feature `bundled-roots`). The proxy comes from
/// the environment as curl reads it unless set: `http_proxy` (lower case only:
/// `HTTP_PROXY` is never read) for `http://`, `https_proxy`/`HTTPS_PROXY` for
/// `https://`, else `all_proxy`/`ALL_PROXY`, minus the hosts of
/// `no_proxy`/`NO_PROXY`. When that variable holds no usable proxy URL, streams
/// and model listings fail with `BACKEND_API_STATUS_INVALID_ARGUMENT` instead of
/// connecting directly, until `backend_api_client_set_proxy` is called.
/// On success `*out` owns a new client: free it with `backend_api_client_free`.
/// Any thread; `base_url` is copied.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_client_new(
    base_url: *const c_char,
    out: *mut *mut backend_api_client,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        out_arg(out, "out")?;
        let client = Client::new(text_arg(base_url, "base_url")?)?;
        give(out, backend_api_client(client));
        Ok(Status::Ok)
    })
}

/// Frees a client. Streams opened from it stay valid. NULL is a no-op; must not
/// be called twice, nor while another thread uses the client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_client_free(client: *mut backend_api_client) {
    entry!(or(), { release(client) })
}

/// Adds a header sent with every request (the Python client's `headers`).
/// Values of secret headers (`Authorization`, `Cookie`, `*token*`, ...) never reach
/// logs or error messages. Strings are copied. Not concurrently with other calls
/// on the same client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_client_add_header(
    client: *mut backend_api_client,
    name: *const c_char,
    value: *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(client, "client", |backend_api_client(c)| {
            c.add_header(text_arg(name, "name")?, text_arg(value, "value")?)
        })
    })
}

/// Turns TLS certificate verification on (the default) or off (`verify` false:
/// the Python client's `ssl=False`; insecure). Off also skips the check of an
/// `https://` proxy's certificate: the connection to the proxy uses the same TLS
/// settings, and there is no separate switch (curl's `--proxy-insecure`). Not
/// concurrently with other calls on the same client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_client_set_verify_tls(
    client: *mut backend_api_client,
    verify: bool,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(client, "client", |backend_api_client(c)| {
            c.set_verify_tls(verify);
            Ok(())
        })
    })
}

/// Trusts only the certificates of the PEM file at `path` (read now), instead of
/// the trust store and of certificates added before. Not concurrently with other
/// calls on the same client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_client_set_ca_file(
    client: *mut backend_api_client,
    path: *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(client, "client", |backend_api_client(c)| {
            c.set_ca_file(text_arg(path, "path")?)
        })
    })
}

/// Trusts the certificates of the PEM file at `path` (read now) besides the roots
/// already trusted (the trust store's, or a `set_ca_file`'s): a private or
/// corporate CA next to the public ones. Not concurrently with other calls on the
/// same client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_client_add_ca_file(
    client: *mut backend_api_client,
    path: *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(client, "client", |backend_api_client(c)| {
            c.add_ca_file(text_arg(path, "path")?)
        })
    })
}

/// Chooses the trust store, a `backend_api_trust_store`: `PLATFORM` (the default:
/// the OS verifier and store on macOS and Windows, the system bundle on Linux,
/// `SSL_CERT_FILE` honoured) or `BUNDLED` (the Mozilla roots compiled into the
/// library). Ends a `set_ca_file`; added CAs stay. Any other value is
/// `INVALID_ARGUMENT`. Not concurrently with other calls on the same client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_client_set_trust_store(
    client: *mut backend_api_client,
    store: u32,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(client, "client", |backend_api_client(c)| {
            let store = backend_api_trust_store::from_code(store)
                .ok_or_else(|| Error::invalid(format!("unknown trust store {store}")))?;
            c.set_trust_store(store)
        })
    })
}

/// Routes requests through a proxy: `http://`, `https://`, `socks4://`, `socks5://`
/// or `socks5h://` URL, with optional `user:password@` (never shown in errors).
/// Every timeout and cancel holds through any of them as on a direct connection
/// (the connect to the proxy included). A proxy's refusal (an HTTP proxy's 407 or
/// 502, a SOCKS refusal, a proxy that closes) is `CONNECT`, with the proxy's HTTP
/// status in `backend_api_error_http_status`, and is retried as a connection failure.
/// NULL means no proxy at all (the environment is ignored too, a broken proxy
/// variable included). Not concurrently with other calls on the client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_client_set_proxy(
    client: *mut backend_api_client,
    url: *const c_char,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(client, "client", |backend_api_client(c)| {
            c.set_proxy(opt_text_arg(url, "url")?)
        })
    })
}

/// Sets a timeout in milliseconds; 0 turns it off; negative is an error.
/// `kind` is a `backend_api_timeout`: CONNECT (default 30 s), HEADERS (each of:
/// sending the request head, sending its body, waiting for the response headers;
/// default 120 s), IDLE (longest gap between two chunks;
/// keep-alive comments do not count; default 300 s), TOTAL (off by default).
/// Not concurrently with other calls on the same client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_client_set_timeout(
    client: *mut backend_api_client,
    kind: u32,
    ms: i64,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(client, "client", |backend_api_client(c)| {
            let kind = backend_api_timeout::from_code(kind)
                .ok_or_else(|| Error::invalid(format!("unknown timeout kind {kind}")))?;
            c.set_timeout(kind, millis_or_off(ms, "a timeout")?);
            Ok(())
        })
    })
}

/// Bounds one line or event of the response to `bytes` (default 16 MiB; at least 1).
/// A longer one ends the stream with `BACKEND_API_STATUS_LIMIT`. Not concurrently
/// with other calls on the same client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_client_set_max_line(
    client: *mut backend_api_client,
    bytes: usize,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(client, "client", |backend_api_client(c)| {
            c.set_max_line(bytes)
        })
    })
}

/// Bounds the assembled answer of each stream to `bytes` (default 64 MiB; at least
/// 1), counting its content and reasoning text as sent (JSON escapes in full) and
/// its tool-call JSON. The chunk
/// that would pass it is not delivered: the stream ends there with
/// `BACKEND_API_STATUS_LIMIT`, and the chunks delivered before stay delivered and
/// assembled. With assembling off (`backend_api_client_set_assemble`) nothing is
/// kept and the limit does not apply. Not concurrently with other calls on the
/// same client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_client_set_max_answer(
    client: *mut backend_api_client,
    bytes: usize,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(client, "client", |backend_api_client(c)| {
            c.set_max_answer(bytes)
        })
    })
}

/// With `skip` true, lines that are not JSON objects are dropped instead of ending
/// the stream with `BACKEND_API_STATUS_PROTOCOL` (the default). Not concurrently
/// with other calls on the same client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_client_set_skip_malformed(
    client: *mut backend_api_client,
    skip: bool,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(client, "client", |backend_api_client(c)| {
            c.set_skip_malformed(skip);
            Ok(())
        })
    })
}

/// With `assemble` false, streams of this client keep no assembled answer (see
/// `backend_api_stream_answer`, which then reports an empty one): for very long
/// streams whose text the caller keeps itself. On by default. Not concurrently with
/// other calls on the same client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_client_set_assemble(
    client: *mut backend_api_client,
    assemble: bool,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(client, "client", |backend_api_client(c)| {
            c.set_assemble(assemble);
            Ok(())
        })
    })
}

/// Retries a request that failed before any answer began: a connection that could
/// not be made, or HTTP 429/502/503/504. Never once the answer has begun. Up to
/// `max_retries` times (0, the default, turns retries off), waiting `base_ms`
/// doubled at each retry with jitter, or the server's `Retry-After`, but never more
/// than `cap_ms`. The wait is neither idle time nor a timeout (`backend_api_stream_timeout_ms`
/// gives the time to the retry); a wait that would end past the TOTAL timeout is not
/// made, and the stream fails with that attempt's error, as when no retry is left.
/// Each retry is logged (warn) and counted in the stream's stats once it is sent.
/// Not concurrently with other calls on the same client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_client_set_retries(
    client: *mut backend_api_client,
    max_retries: u32,
    base_ms: u32,
    cap_ms: u32,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(client, "client", |backend_api_client(c)| {
            if max_retries > 0 && (base_ms == 0 || cap_ms < base_ms) {
                return Err(Error::invalid(
                    "retries need base_ms > 0 and cap_ms >= base_ms",
                ));
            }
            c.set_retry(RetryPolicy {
                max_retries,
                base: Duration::from_millis(base_ms.into()),
                cap: Duration::from_millis(cap_ms.into()),
            });
            Ok(())
        })
    })
}

/// Chooses the wire protocol, a `backend_api_protocol`: `BACKEND_API_PROTOCOL_BACKEND`
/// (g4f's backend API, the default; base URL such as `http://host:8080`) or
/// `BACKEND_API_PROTOCOL_OPENAI` (the OpenAI-compatible API of `g4f api` and its
/// peers; base URL such as `http://host:1337/v1`: chat at `{base}/chat/completions`,
/// models at `{base}/models`). Requests, streams, chunks and answers work the same
/// for both. Any other value is `BACKEND_API_STATUS_INVALID_ARGUMENT`. Not
/// concurrently with other calls on the same client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_client_set_protocol(
    client: *mut backend_api_client,
    protocol: u32,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(client, "client", |backend_api_client(c)| {
            let p = backend_api_protocol::from_code(protocol)
                .ok_or_else(|| Error::invalid(format!("unknown protocol {protocol}")))?;
            c.set_protocol(p);
            Ok(())
        })
    })
}

/// Keeps up to `max_idle` idle connections of this client open for its later
/// requests (streams, model listings, media fetches), each for at most `idle_ms`
/// milliseconds; 0 in either turns reuse off (every request on a connection of
/// its own); negative `idle_ms` is `BACKEND_API_STATUS_INVALID_ARGUMENT`. By
/// default 10 connections for 4000 ms (g4f's server closes an idle connection
/// after 5 s). A connection is kept only after a 2xx answer read to its end,
/// never after an error status, a cancel, a timeout or a body left unread; the
/// timeouts and cancel of each stream apply to a reused connection as to a new
/// one. A request that fails on a reused connection before any byte of its
/// answer (the server closed it meanwhile) is sent again at once on a new one,
/// not counted as a retry. Connections are kept per client (its clones share
/// them) and per proxy and TLS setting: changing those, or calling this, starts
/// afresh, and the connections kept so far close. Idle connections hold a
/// descriptor each, closed by `backend_api_client_free` (when no stream of the
/// client runs), by `backend_api_shutdown`, or on the next request after their
/// time. A child of `fork` never uses connections its parent kept. Not
/// concurrently with other calls on the same client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_client_set_keep_alive(
    client: *mut backend_api_client,
    max_idle: usize,
    idle_ms: i64,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        change(client, "client", |backend_api_client(c)| {
            c.set_keep_alive(max_idle, millis_or_off(idle_ms, "an idle time")?);
            Ok(())
        })
    })
}

/// A duration the C API gives in milliseconds: 0 is off (`None`), a negative one
/// an invalid argument, `what` naming it in the error.
fn millis_or_off(ms: i64, what: &str) -> Result<Option<Duration>, Error> {
    let ms = u64::try_from(ms).map_err(|_| Error::invalid(format!("{what} cannot be negative")))?;
    Ok((ms > 0).then(|| Duration::from_millis(ms)))
}
