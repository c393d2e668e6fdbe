//! The network under ureq: sockets, name resolution and the waits between them,
//! each bounded by the operation's timeouts and ended at once by its cancel;
//! and the connections a client keeps for reuse (`pool`).
//! Knows nothing of HTTP messages (see `transport`) nor of the wire format.
//!
//! An operation (a stream's request, a model listing, a media fetch) has one
//! [`Link`]: its canceller and its [`Clock`]. Its thread enters the operation's
//! [`Scope`] ([`enter`]); the client's agent ([`agent`]), shared by every
//! operation, resolves names, connects and reads and writes through the link of
//! the operation at hand (`operation`), so no step (resolve, connect, TLS,
//! headers, body, error body) blocks past a cancel or a deadline, through a SOCKS
//! proxy (`socks`) as through an HTTP one or none, on a new connection as on a
//! reused one.

mod clock;
mod exchange;
mod operation;
mod pool;
mod resolve;
mod socket;
mod socks;
mod wait;

use ureq::unversioned::transport::{ConnectProxyConnector, Connector};

use crate::cancel::Canceller;

pub(crate) use clock::{Clock, Expired};
pub(crate) use operation::{discard_connection, enter, exchange, exchange_begins};
pub(crate) use pool::Pool;

/// What the network steps of one operation wait on besides their socket.
#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) cancel: Canceller,
    pub(crate) clock: Clock,
}

/// A ureq agent with `config`: SOCKS or HTTP proxy, then TCP, then TLS through
/// the client's `tls`; names resolved on the pool; each step through the link
/// of the operation its thread runs.
pub(crate) fn agent(config: ureq::config::Config, tls: crate::trust::SharedTls) -> ureq::Agent {
    let connector =
        ().chain(socks::SocksConnector)
            .chain(ConnectProxyConnector::default())
            .chain(socket::SocketConnector)
            .chain(tls)
            .chain(exchange::NoteConnector);
    ureq::Agent::with_parts(config, connector, resolve::PoolResolver)
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
