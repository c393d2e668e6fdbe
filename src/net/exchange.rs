//! The outermost layer of every connection (after TLS): notes for the current
//! request whether its connection came from the pool and whether a byte of the
//! answer arrived (see `operation`). Bytes are counted after TLS, so a server's
//! TLS close alert on a stale connection is no answer.

use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};
use ureq::Error;

use super::operation::note;

/// Wraps each new connection in [`Noted`].
#[derive(Debug)]
pub(crate) struct NoteConnector;

/// A connection whose requests are noted.
#[derive(Debug)]
pub(crate) struct Noted<T> {
    inner: T,
    /// Found open by the pool (going idle or coming back): its next request is
    /// on a reused connection.
    idle: bool,
}

impl<In: Transport> Connector<In> for NoteConnector {
    type Out = Noted<In>;

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, Error> {
        Ok(chained.map(|inner| Noted { inner, idle: false }))
    }
}

impl<T: Transport> Transport for Noted<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        if std::mem::take(&mut self.idle) {
            note(|e| e.reused = true);
        }
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        let before = self.inner.buffers().input().len();
        let got = self.inner.await_input(timeout);
        if self.inner.buffers().input().len() > before {
            note(|e| e.answered = true);
        }
        got
    }

    fn is_open(&mut self) -> bool {
        self.idle = self.inner.is_open();
        self.idle
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}
