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

mod agent;
mod clock;
mod exchange;
mod link;
mod operation;
mod pool;
mod resolve;
mod socket;
mod socks;
mod wait;

pub(crate) use agent::agent;
pub(crate) use clock::{Clock, Expired};
pub(crate) use link::Link;
pub(crate) use operation::{discard_connection, enter, exchange, exchange_begins};
pub(crate) use pool::Pool;
