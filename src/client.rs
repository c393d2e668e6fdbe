//! The client: where and how to connect (base URL, headers, proxy, timeouts,
//! limits; TLS in `trust`; the connections kept for reuse in `net::pool`), and
//! which `Authorization` a request carries. It knows nothing of the wire format.

use std::time::Duration;

use ureq::Proxy;

use crate::answer::DEFAULT_MAX_ANSWER;
use crate::base_url::BaseUrl;
use crate::decoder::DEFAULT_MAX_LINE;
use crate::error::{Error, Result};
use crate::header::Header;
use crate::log::Logger;
use crate::net::Pool;
use crate::protocol::Protocol;
use crate::proxy_env;
use crate::request::Request;
use crate::retry::RetryPolicy;
use crate::secret::redact_url;
use crate::trust::Tls;
pub use crate::trust::TrustStore;

/// `User-Agent` sent unless the caller sets one.
pub const USER_AGENT: &str = concat!("backend-api/", env!("CARGO_PKG_VERSION"));

/// ureq's input and output buffer per connection.
const IO_BUFFER: usize = 16 << 10;

/// Idle connections kept by default.
pub(crate) const DEFAULT_MAX_IDLE: usize = 10;

/// How long an idle connection is kept by default: under the 5 s after which
/// g4f's server (uvicorn) closes an idle keep-alive connection, so a kept
/// connection is rarely one the server is closing as the next request leaves.
pub(crate) const DEFAULT_IDLE_TIME: Duration = Duration::from_secs(4);

/// Which timeout a setter names. What each one bounds (and its default) is
/// written once, on its C form with the ABI's numbers,
/// [`ffi::backend_api_timeout`](crate::ffi::backend_api_timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    Connect,
    Headers,
    Idle,
    Total,
}

/// The four timeouts; `None` is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Option<Duration>,
    pub headers: Option<Duration>,
    pub idle: Option<Duration>,
    pub total: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Some(Duration::from_secs(30)),
            headers: Some(Duration::from_secs(120)),
            idle: Some(Duration::from_secs(300)),
            total: None,
        }
    }
}

/// Connection settings shared by every request made through the client.
#[derive(Clone)]
pub struct Client {
    base_url: String,
    /// `Basic ...` from the base URL's `user:password@`.
    basic_auth: Option<String>,
    headers: Vec<Header>,
    tls: Tls,
    proxy: Option<Proxy>,
    /// Why the environment's proxy could not be used, until a proxy is set.
    proxy_error: Option<String>,
    /// Most idle connections kept, and for how long; `None`: none kept.
    keep_alive: Option<(usize, Duration)>,
    /// The agent and its idle connections: new whenever a setting they depend
    /// on changes (TLS, proxy, `keep_alive`).
    pool: Pool,
    pub(crate) timeouts: Timeouts,
    pub(crate) max_line: usize,
    pub(crate) max_answer: usize,
    pub(crate) skip_malformed: bool,
    pub(crate) assemble: bool,
    pub(crate) retry: RetryPolicy,
    pub(crate) logger: Logger,
    pub(crate) protocol: Protocol,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field(
                "basic_auth",
                &self.basic_auth.as_ref().map(|_| "<redacted>"),
            )
            .field("headers", &self.headers)
            .field("tls", &self.tls)
            .field(
                "proxy",
                &self
                    .proxy
                    .as_ref()
                    .map(|p| format!("{}:{}", p.host(), p.port())),
            )
            .field("proxy_error", &self.proxy_error)
            .field("keep_alive", &self.keep_alive)
            .field("timeouts", &self.timeouts)
            .field("max_answer", &self.max_answer)
            .field("retry", &self.retry)
            .field("logger", &self.logger)
            .field("protocol", &self.protocol)
            .finish()
    }
}

impl Client {
    /// A client for the g4f server at `base_url` (`http://` or `https://`, with or
    /// without a trailing slash; no query, no fragment). A `user:password@` in it is
    /// percent-decoded and sent as `Authorization: Basic`, unless the request carries
    /// another `Authorization` (see [`Client::authorization`]). The proxy comes from
    /// the environment as curl reads it (module `proxy_env`) unless set.
    pub fn new(base_url: &str) -> Result<Client> {
        Client::with_env(base_url, |name| std::env::var(name).ok())
    }

    /// [`Client::new`] with the environment read through `env`.
    fn with_env(base_url: &str, env: impl Fn(&str) -> Option<String>) -> Result<Client> {
        let base = BaseUrl::parse(base_url)?;
        let (proxy, proxy_error) = match proxy_env::proxy_for(base.scheme, &base.host, env) {
            None => (None, None),
            Some(p) => match Proxy::new(&p.url) {
                Ok(proxy) => (Some(proxy), None),
                Err(e) => (
                    None,
                    Some(format!(
                        "the proxy in ${} is not a usable proxy URL ({e}): {:?}; fix or unset \
                         the variable, or set a proxy on the client",
                        p.var,
                        redact_url(&p.url)
                    )),
                ),
            },
        };
        Ok(Client {
            base_url: base.url,
            basic_auth: base.basic_auth,
            headers: Vec::new(),
            tls: Tls::default(),
            proxy,
            proxy_error,
            keep_alive: Some((DEFAULT_MAX_IDLE, DEFAULT_IDLE_TIME)),
            pool: Pool::default(),
            timeouts: Timeouts::default(),
            max_line: DEFAULT_MAX_LINE,
            max_answer: DEFAULT_MAX_ANSWER,
            skip_malformed: false,
            assemble: true,
            retry: RetryPolicy::default(),
            logger: Logger::default(),
            protocol: Protocol::Backend,
        })
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The full URL of an API path such as `/backend-api/v2/conversation`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// [`Client::url`] without the `user:password@` of the base URL: for logs.
    pub fn redacted_url(&self, path: &str) -> String {
        redact_url(&self.url(path))
    }

    /// The `Authorization` header to add to a request (`None`: add none): an
    /// `Authorization` the caller set as a header of the client or of the request
    /// wins, and nothing is added to it; else the request's api key as a bearer
    /// token, when its placement (or the protocol) asks for one; else the Basic
    /// credentials of the base URL's `user:password@`. Exactly one `Authorization`
    /// ever goes on the wire. `request` is `None` for a model listing.
    pub(crate) fn authorization(&self, request: Option<&Request>) -> Option<String> {
        let own = request.map_or(&[][..], Request::headers);
        if self
            .headers
            .iter()
            .chain(own)
            .any(|h| h.name.eq_ignore_ascii_case("authorization"))
        {
            return None;
        }
        request
            .and_then(|r| self.protocol.bearer(r))
            .or_else(|| self.basic_auth.clone())
    }

    /// Fails when the environment names a proxy that is not a usable URL and no
    /// proxy was set on the client: the request must not go out directly when a
    /// proxy was meant. Checked before each request is sent.
    pub(crate) fn check_proxy(&self) -> Result<()> {
        match &self.proxy_error {
            Some(m) => Err(Error::invalid(m.clone())),
            None => Ok(()),
        }
    }

    /// Adds a header sent with every request (the reference client's `headers`).
    pub fn add_header(&mut self, name: &str, value: &str) -> Result<()> {
        self.headers.push(Header::new(name, value)?);
        Ok(())
    }

    /// The caller's headers, in the order added.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// Turns certificate verification on (the default) or off (the reference
    /// client's `ssl=False`; insecure, only for servers you control). Off also turns
    /// off the check of an `https://` proxy's certificate: ureq 3 makes the TLS
    /// connection to the proxy with the same settings, and has no separate switch
    /// (curl's `--proxy-insecure`).
    pub fn set_verify_tls(&mut self, verify: bool) {
        self.tls.set_verify(verify);
        self.pool = Pool::default();
    }

    /// Trusts only the certificates of a PEM file (read now), instead of the trust
    /// store and of certificates added before.
    pub fn set_ca_file(&mut self, path: &str) -> Result<()> {
        self.tls.set_ca_file(path)?;
        self.pool = Pool::default();
        Ok(())
    }

    /// Trusts the certificates of a PEM file (read now) besides the roots already
    /// trusted: the trust store's, or those of [`Client::set_ca_file`]. For a private
    /// CA next to the public ones. Adding to the platform store reads the system's
    /// certificates now.
    pub fn add_ca_file(&mut self, path: &str) -> Result<()> {
        self.tls.add_ca_file(path)?;
        self.pool = Pool::default();
        Ok(())
    }

    /// Chooses the trust store whose roots are trusted: [`TrustStore::Platform`] (the
    /// default) or [`TrustStore::Bundled`]. Ends a [`Client::set_ca_file`]; certificates
    /// from [`Client::add_ca_file`] stay added. The store is read once per client, on
    /// its first TLS connection; choosing it again reads it again from then on.
    pub fn set_trust_store(&mut self, store: TrustStore) -> Result<()> {
        self.tls.set_trust_store(store)?;
        self.pool = Pool::default();
        Ok(())
    }

    /// Routes requests through a proxy (`http://`, `https://`, `socks5://`, `socks5h://`,
    /// `socks4://`), or through none when `url` is `None` (the environment is then
    /// ignored too, a broken proxy variable included).
    pub fn set_proxy(&mut self, url: Option<&str>) -> Result<()> {
        self.proxy = match url {
            None => None,
            Some(u) => Some(Proxy::new(u).map_err(|e| {
                Error::invalid(format!("invalid proxy URL {:?}: {e}", redact_url(u)))
            })?),
        };
        self.proxy_error = None;
        self.pool = Pool::default();
        Ok(())
    }

    /// Keeps up to `max_idle` idle connections open for later requests of this
    /// client and its clones, each for at most `idle` (`None`, or a count of 0:
    /// none kept, every request on a connection of its own). A connection is
    /// kept only after a complete 2xx answer read to its end, never after an
    /// error, a cancel, a time-out or a body left unread. Connections kept so far
    /// are closed (once no stream uses them).
    pub fn set_keep_alive(&mut self, max_idle: usize, idle: Option<Duration>) {
        self.keep_alive = idle.filter(|_| max_idle > 0).map(|t| (max_idle, t));
        self.pool = Pool::default();
    }

    /// Sets one timeout; `None` turns it off.
    pub fn set_timeout(&mut self, kind: TimeoutKind, value: Option<Duration>) {
        let t = &mut self.timeouts;
        match kind {
            TimeoutKind::Connect => t.connect = value,
            TimeoutKind::Headers => t.headers = value,
            TimeoutKind::Idle => t.idle = value,
            TimeoutKind::Total => t.total = value,
        }
    }

    /// Bounds one line or event of the response (default 16 MiB).
    pub fn set_max_line(&mut self, bytes: usize) -> Result<()> {
        if bytes == 0 {
            return Err(Error::invalid("the line limit must be at least 1 byte"));
        }
        self.max_line = bytes;
        Ok(())
    }

    /// Retries a request that failed before any answer began (see [`crate::retry`]).
    pub fn set_retry(&mut self, policy: RetryPolicy) {
        self.retry = policy;
    }

    /// Sends the log records of this client's requests to `logger` (by default, to
    /// standard error at the level `BACKEND_API_LOG` names, or nowhere).
    pub fn set_logger(&mut self, logger: Logger) {
        self.logger = logger;
    }

    /// Chooses the wire protocol (the backend API by default). With
    /// [`Protocol::Openai`] the base URL is the one an OpenAI client takes, such
    /// as `http://host:1337/v1` for `g4f api`.
    pub fn set_protocol(&mut self, protocol: Protocol) {
        self.protocol = protocol;
    }

    /// Bounds the assembled answer of each stream (default [`DEFAULT_MAX_ANSWER`];
    /// at least 1 byte): see [`crate::Answer::add_within`].
    pub fn set_max_answer(&mut self, bytes: usize) -> Result<()> {
        if bytes == 0 {
            return Err(Error::invalid("the answer limit must be at least 1 byte"));
        }
        self.max_answer = bytes;
        Ok(())
    }

    /// Drops and counts malformed lines instead of failing the stream.
    pub fn set_skip_malformed(&mut self, skip: bool) {
        self.skip_malformed = skip;
    }

    /// Keeps the assembled answer of each stream (on by default). Off, a stream
    /// keeps no copy of the text it hands out: for very long streams whose text the
    /// caller stores itself.
    pub fn set_assemble(&mut self, assemble: bool) {
        self.assemble = assemble;
    }

    /// The caller's headers as name and value.
    pub(crate) fn header_pairs(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_str()))
    }

    /// The agent of this client's settings, shared by its operations (and its
    /// clones'), with `body` bounding the reading of a whole response body (a
    /// model listing is one JSON document, not an open-ended stream).
    pub(crate) fn agent(&self, body: Option<Duration>) -> Agent {
        Agent {
            agent: self.pool.agent(|pooled| self.make_agent(pooled)),
            timeouts: self.timeouts,
            body,
        }
    }

    /// A new agent for this client's pool; `pooled` false keeps no connection.
    fn make_agent(&self, pooled: bool) -> ureq::Agent {
        let (max_idle, idle) = self.keep_alive.filter(|_| pooled).unwrap_or_default();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(USER_AGENT)
            .tls_config(self.tls.config())
            .proxy(self.proxy.clone())
            .max_idle_connections(max_idle)
            .max_idle_connections_per_host(max_idle)
            .max_idle_age(idle)
            // ureq zero-fills 128 KiB each way by default: with a thousand streams open
            // that alone is 256 MB resident. Chunks are small; requests are written in pieces.
            .input_buffer_size(IO_BUFFER)
            .output_buffer_size(IO_BUFFER)
            .build();
        crate::net::agent(config, self.tls.connector())
    }
}

/// A client's shared agent with the timeouts of one operation, set on each of
/// its requests (so they do not split the pool).
pub(crate) struct Agent {
    agent: ureq::Agent,
    timeouts: Timeouts,
    body: Option<Duration>,
}

impl Agent {
    /// A POST to `url`.
    pub(crate) fn post(&self, url: &str) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
        self.timed(self.agent.post(url))
    }

    /// A GET of `url`.
    pub(crate) fn get(&self, url: &str) -> ureq::RequestBuilder<ureq::typestate::WithoutBody> {
        self.timed(self.agent.get(url))
    }

    fn timed<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        let t = self.timeouts;
        request
            .config()
            // Name resolution has the CONNECT budget too, as has the connection
            // (with proxy and TLS handshakes) after it.
            .timeout_resolve(t.connect)
            .timeout_connect(t.connect)
            // Sending the request and its body has the HEADERS budget too: a server
            // that never reads cannot hold a stream past it.
            .timeout_send_request(t.headers)
            .timeout_send_body(t.headers)
            .timeout_recv_response(t.headers)
            .timeout_recv_body(self.body)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;

    #[test]
    fn base_urls() {
        assert_eq!(
            Client::new("http://h:1/").unwrap().url("/x"),
            "http://h:1/x"
        );
        assert_eq!(
            Client::new("HTTPS://h/api").unwrap().base_url(),
            "HTTPS://h/api"
        );
        for bad in [
            "",
            "h:1",
            "ftp://h",
            "http://",
            "http:///x",
            "http://h x",
            "http://h\n",
        ] {
            assert_eq!(
                Client::new(bad).unwrap_err().status,
                Status::InvalidArgument,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn headers_are_checked_and_secrets_redacted_in_debug() {
        let mut c = Client::new("http://h").unwrap();
        assert!(c.add_header("bad name", "v").is_err());
        assert!(c.add_header("X-A", "line\nbreak").is_err());
        c.add_header("Authorization", "Bearer sk-MARKER").unwrap();
        c.add_header("X-Plain", "shown").unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("MARKER") && dbg.contains("shown"), "{dbg}");
    }

    #[test]
    fn proxy_and_ca_errors() {
        let mut c = Client::new("http://h").unwrap();
        assert!(c.set_proxy(Some("socks5://127.0.0.1:1080")).is_ok());
        assert!(c.set_proxy(Some("::bad")).is_err());
        assert_eq!(
            c.set_ca_file("/nonexistent.pem").unwrap_err().status,
            Status::InvalidArgument
        );
        assert!(c.set_max_line(0).is_err());
        assert!(c.set_max_answer(0).is_err());
        let e = c.set_proxy(Some("ftp://u:hunter2@p:1")).unwrap_err();
        assert!(!e.message.contains("hunter2"), "{}", e.message);
    }

    /// A client made with these environment variables only.
    fn with(base: &str, vars: &[(&str, &str)]) -> Client {
        Client::with_env(base, |n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        })
        .unwrap()
    }

    #[test]
    fn the_environment_proxy_is_read_as_curl_reads_it() {
        let addr = |c: &Client| {
            c.proxy
                .as_ref()
                .map(|p| format!("{}:{}", p.host(), p.port()))
        };
        let c = with("http://h", &[("HTTP_PROXY", "http://evil:1")]);
        assert_eq!(addr(&c), None);
        let c = with("http://h", &[("http_proxy", "http://p:2")]);
        assert_eq!(addr(&c).as_deref(), Some("p:2"));
        let c = with(
            "https://h",
            &[("HTTPS_PROXY", "http://p:3"), ("NO_PROXY", "h")],
        );
        assert_eq!(addr(&c), None);
        assert!(c.check_proxy().is_ok());
    }

    #[test]
    fn a_broken_proxy_variable_fails_requests_until_a_proxy_is_set() {
        let mut c = with("http://h", &[("http_proxy", "ftp://u:hunter2@p:1")]);
        let e = c.check_proxy().unwrap_err();
        assert_eq!(e.status, Status::InvalidArgument);
        assert!(e.message.contains("$http_proxy"), "{}", e.message);
        assert!(!e.message.contains("hunter2"), "{}", e.message);
        assert!(!format!("{c:?}").contains("hunter2"));
        c.set_proxy(None).unwrap();
        assert!(c.check_proxy().is_ok());
    }

    #[test]
    fn one_authorization_whichever_sources_there_are() {
        use crate::request::KeyPlacement::{Body as BODY, Both};
        let mut c = Client::new("http://user:p%40ss@h").unwrap();
        assert_eq!(c.base_url(), "http://h");
        let basic = Some("Basic dXNlcjpwQHNz".to_owned());
        assert_eq!(c.authorization(None), basic);
        let mut r = Request::new();
        assert_eq!(c.authorization(Some(&r)), basic);
        r.set_api_key(Some("sk-1"), BODY).unwrap();
        assert_eq!(c.authorization(Some(&r)), basic, "the key goes in the body");
        r.set_api_key(Some("sk-1"), Both).unwrap();
        assert_eq!(c.authorization(Some(&r)).as_deref(), Some("Bearer sk-1"));
        c.set_protocol(Protocol::Openai);
        r.set_api_key(Some("sk-1"), BODY).unwrap();
        assert_eq!(c.authorization(Some(&r)).as_deref(), Some("Bearer sk-1"));
        // The caller's own header wins, on the request or on the client.
        let mut own = r.clone();
        own.add_header("authorization", "Token t").unwrap();
        assert_eq!(c.authorization(Some(&own)), None);
        c.add_header("Authorization", "Token t").unwrap();
        assert_eq!(
            (c.authorization(Some(&r)), c.authorization(None)),
            (None, None)
        );
    }
}
