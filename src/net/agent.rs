//! The chain a client's ureq agent connects through: SOCKS or HTTP proxy, then
//! TCP, then TLS, then the note of what each request saw of its connection.

use ureq::unversioned::transport::{ConnectProxyConnector, Connector};

use super::{exchange, resolve, socket, socks};

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
