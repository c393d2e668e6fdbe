//! TCP for ureq that never blocks past a cancel or a deadline: the socket is
//! non-blocking from its creation, and each connect, read and write that would
//! block waits on the socket ([`wait`](super::wait::wait)) until the earlier of
//! ureq's timeout for the step and the operation's [`Clock`](super::clock::Clock),
//! or a cancel: from its creation on, the socket is shut down by the cancel of the
//! operation using it (its [`Tie`]), which wakes the wait (and the connect under
//! way). A connection kept for reuse serves each later operation the same way,
//! and is never reused once it failed, timed out or was cancelled.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Instant;

use socket2::{Domain, Protocol, Socket, Type};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
};
use ureq::{Error, Timeout};

use super::link::Link;
use super::operation::Tie;
use super::wait::{wait, Interest, Wake};
use crate::notify::RawDescriptor;

/// Opens the TCP connection of a direct request or of an HTTP proxy's.
#[derive(Debug)]
pub(crate) struct SocketConnector;

/// An open, non-blocking TCP connection.
pub(crate) struct SocketTransport {
    /// Which operation's cancel shuts `stream` down, and whose clock bounds its waits.
    tie: Arc<Tie>,
    /// Shared (weakly) with ureq's shutdown handle and the tie.
    stream: Arc<TcpStream>,
    buffers: LazyBuffers,
}

impl std::fmt::Debug for SocketTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketTransport")
            .field("peer", &self.stream.peer_addr().ok())
            .finish()
    }
}

fn raw(s: &TcpStream) -> RawDescriptor {
    #[cfg(unix)]
    return std::os::fd::AsRawFd::as_raw_fd(s) as RawDescriptor;
    #[cfg(windows)]
    return std::os::windows::io::AsRawSocket::as_raw_socket(s) as RawDescriptor;
}

/// The error a cancelled wait returns; the operation reports it as a cancel.
pub(super) fn cancelled() -> Error {
    Error::Io(io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "the operation was cancelled",
    ))
}

impl Link {
    /// The end of one step: ureq's timeout for it, or the clock's deadline when
    /// earlier; with the reason ureq's timeout would give.
    pub(super) fn step_deadline(&self, timeout: NextTimeout) -> (Option<Instant>, Timeout) {
        let ureq = (!timeout.after.is_not_happening()).then(|| Instant::now() + *timeout.after);
        let at = match (ureq, self.clock.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        (at, timeout.reason)
    }

    /// Waits for `socket`; a time-out is reported with ureq's `reason` (the
    /// operation tells its own clock's expiry from it by looking at the clock).
    fn wait_for(
        &self,
        socket: RawDescriptor,
        interest: Interest,
        deadline: (Option<Instant>, Timeout),
    ) -> Result<(), Error> {
        match wait(socket, interest, &self.cancel, deadline.0)? {
            Wake::Ready => Ok(()),
            Wake::Cancelled => Err(cancelled()),
            Wake::TimedOut => Err(Error::Timeout(deadline.1)),
        }
    }
}

/// Whether the next address may still connect after this failure (as ureq's own
/// TCP connector decides).
fn next_address_may_work(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::NetworkDown
            | io::ErrorKind::AddrNotAvailable
    )
}

impl Link {
    /// A non-blocking connect to `addr`, waited for until `deadline`; the socket
    /// is shut down by a cancel from before the connect on.
    fn connect_one(
        &self,
        addr: SocketAddr,
        deadline: (Option<Instant>, Timeout),
    ) -> Result<(Arc<TcpStream>, Arc<Tie>), Error> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        let stream = Arc::new(TcpStream::from(socket));
        let tie = Tie::new(&stream);
        tie.tie();
        match socket2::SockRef::from(&*stream).connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if in_progress(&e) => {
                self.wait_for(raw(&stream), Interest::Write, deadline)?;
                if let Some(e) = stream.take_error()? {
                    return Err(e.into());
                }
            }
            Err(e) => return Err(e.into()),
        }
        Ok((stream, tie))
    }

    /// A TCP connection to the first of `addrs` that answers, within the step's
    /// `timeout` and the clock.
    pub(super) fn connect(
        &self,
        addrs: &[SocketAddr],
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<SocketTransport, Error> {
        let (end, reason) = self.step_deadline(timeout);
        let mut last = None;
        let n = addrs.len();
        for (i, addr) in addrs.iter().enumerate() {
            // Half the time left for each address but the last (as ureq does),
            // so a black-holed first address leaves time for the others.
            let mine = match end {
                Some(end) if i + 1 < n => {
                    let left = end.saturating_duration_since(Instant::now());
                    Some(Instant::now() + left / 2)
                }
                other => other,
            };
            match self.connect_one(*addr, (mine, reason)) {
                Ok((stream, tie)) => {
                    stream.set_nodelay(config.no_delay())?;
                    return Ok(SocketTransport {
                        tie,
                        stream,
                        buffers: LazyBuffers::new(
                            config.input_buffer_size(),
                            config.output_buffer_size(),
                        ),
                    });
                }
                Err(Error::Io(e)) if next_address_may_work(&e) => last = Some(Error::Io(e)),
                Err(Error::Timeout(r)) if end.is_none_or(|e| Instant::now() < e) => {
                    last = Some(Error::Timeout(r))
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(Error::ConnectionFailed))
    }
}

fn in_progress(e: &io::Error) -> bool {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::EINPROGRESS) {
        return true;
    }
    e.kind() == io::ErrorKind::WouldBlock
}

impl<In: Transport> Connector<In> for SocketConnector {
    type Out = Either<In, SocketTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, Error> {
        if chained.is_some() {
            // A SOCKS proxy's connection came first in the chain.
            return Ok(chained.map(Either::A));
        }
        // Not registered with ureq's `Agent::shutdown`: the client's agent is
        // shut down to close its idle connections (see `pool`), while a connection
        // in use is shut by its own operation's cancel only, which is then
        // reported as the cancel it is.
        let transport =
            super::operation::link().connect(&details.addrs, details.config, details.timeout)?;
        Ok(Some(Either::B(transport)))
    }
}

impl Transport for SocketTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        self.step(|t, link| t.send(link, amount, timeout))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        self.step(|t, link| t.receive(link, timeout))
    }

    /// Asked by ureq's pool as a connection goes idle and again before it is
    /// reused: not broken, this process's, and nothing to read (bytes or an end
    /// mean the server closed it or sent what was not asked for). An open one is
    /// idle from here on: no operation's cancel or clock is its concern.
    fn is_open(&mut self) -> bool {
        let open = self.tie.reusable()
            && matches!(self.stream.peek(&mut [0]), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
        if open {
            self.tie.untie();
        }
        open
    }
}

impl SocketTransport {
    /// One read or write, for the operation at hand (the connection tied to it):
    /// a failed one leaves the connection never to be reused.
    fn step<R>(
        &mut self,
        io: impl FnOnce(&mut Self, &Link) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let link = self.tie.tie();
        let done = io(self, &link);
        if done.is_err() {
            self.tie.break_off();
        }
        done
    }

    /// Writes `amount` bytes of the output buffer, waiting through `link`.
    fn send(&mut self, link: &Link, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        let deadline = link.step_deadline(timeout.for_write());
        let socket = raw(&self.stream);
        let mut sent = 0;
        while sent < amount {
            let output = &self.buffers.output()[sent..amount];
            match (&*self.stream).write(output) {
                Ok(0) => return Err(Error::Io(io::ErrorKind::WriteZero.into())),
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    link.wait_for(socket, Interest::Write, deadline)?
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Reads what the socket has into the input buffer, waiting through `link`.
    fn receive(&mut self, link: &Link, timeout: NextTimeout) -> Result<bool, Error> {
        let deadline = link.step_deadline(timeout.for_read());
        let socket = raw(&self.stream);
        loop {
            let input = self.buffers.input_append_buf();
            match (&*self.stream).read(input) {
                Ok(n) => {
                    self.buffers.input_appended(n);
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    link.wait_for(socket, Interest::Read, deadline)?
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}
