//! The network under ureq: sockets, name resolution and the waits between them,
//! each bounded by the operation's timeouts and ended at once by its cancel.
//! Knows nothing of HTTP messages (see `transport`) nor of the wire format.
//!
//! An operation (a stream's request, a model listing) has one [`Link`]: its
//! canceller and its [`Clock`]. [`agent`] makes a ureq agent whose resolver and
//! TCP connections wait through that link, so no step (resolve, connect, TLS,
//! headers, body, error body) blocks past a cancel or a deadline, through a SOCKS
//! proxy (`socks`) as through an HTTP one or none.

mod clock;
mod resolve;
mod socket;
mod socks;
mod wait;

use std::sync::Arc;

use ureq::unversioned::transport::{ConnectProxyConnector, Connector, RustlsConnector};

use crate::cancel::Canceller;

pub(crate) use clock::{Clock, Expired};

/// What the network steps of one operation wait on besides their socket.
#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) cancel: Canceller,
    pub(crate) clock: Clock,
}

/// A ureq agent for one operation: SOCKS or HTTP proxy, then TCP through
/// [`Link`], then TLS; names resolved on the pool.
pub(crate) fn agent(config: ureq::config::Config, link: Arc<Link>) -> ureq::Agent {
    let connector =
        ().chain(socks::SocksConnector(link.clone()))
            .chain(ConnectProxyConnector::default())
            .chain(socket::SocketConnector(link.clone()))
            .chain(RustlsConnector::default());
    ureq::Agent::with_parts(config, connector, resolve::PoolResolver(link))
}

impl Link {
    /// The error to report for a step that timed out: the clock's own when one of
    /// its limits has run out (the wait ended at the clock's deadline), else `e`.
    pub(crate) fn explain(&self, e: crate::error::Error) -> crate::error::Error {
        match self.clock.expired(std::time::Instant::now()) {
            Some(what) if e.status == crate::error::Status::TimedOut => self.clock.error(what),
            _ => e,
        }
    }
}
