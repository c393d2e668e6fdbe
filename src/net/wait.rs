//! One blocking step of the network: wait until a socket is ready, the operation
//! is cancelled or a deadline passes, whichever comes first. poll(2) on Unix, on
//! the socket alone: a cancel shuts the socket down (see `socket`), which wakes
//! the poll. WSAPoll on Windows, on the socket and the canceller's descriptor.

use std::io;
use std::time::Instant;

use crate::cancel::Canceller;
use crate::notify::RawDescriptor;

/// What the socket is awaited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interest {
    Read,
    Write,
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wake {
    /// The socket is ready, or has an error or hang-up to report.
    Ready,
    Cancelled,
    TimedOut,
}

/// Waits on `socket` for `interest` until `cancel` or `deadline` (`None`: no
/// limit). A cancel wins over a ready socket.
pub(crate) fn wait(
    socket: RawDescriptor,
    interest: Interest,
    cancel: &Canceller,
    deadline: Option<Instant>,
) -> io::Result<Wake> {
    #[cfg(unix)]
    let cancel_descriptor = ();
    #[cfg(windows)]
    let cancel_descriptor = cancel.descriptor()?;
    loop {
        if cancel.is_cancelled() {
            return Ok(Wake::Cancelled);
        }
        let ms = match deadline {
            None => -1,
            Some(d) => match d.checked_duration_since(Instant::now()) {
                None => return Ok(Wake::TimedOut),
                // Rounded up, so a wake before the deadline is rare; capped to fit.
                Some(left) => left.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32,
            },
        };
        let socket_ready = match sys::poll(socket, interest, cancel_descriptor, ms) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => r?,
        };
        if cancel.is_cancelled() {
            return Ok(Wake::Cancelled);
        }
        if socket_ready {
            return Ok(Wake::Ready);
        }
        // Timed out, or woke a little early: the loop looks at the clock again.
    }
}

#[cfg(unix)]
mod sys {
    use super::Interest;
    use crate::notify::RawDescriptor;
    use std::io;

    /// One poll(2): whether the socket has an event (a cancel shuts it down,
    /// which is one).
    pub fn poll(socket: RawDescriptor, interest: Interest, _: (), ms: i32) -> io::Result<bool> {
        let events = match interest {
            Interest::Read => libc::POLLIN,
            Interest::Write => libc::POLLOUT,
        };
        let mut fd = libc::pollfd {
            fd: socket as i32,
            events,
            revents: 0,
        };
        // SAFETY: one initialised pollfd, valid for the call.
        let n = unsafe { libc::poll(&mut fd, 1, ms) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(fd.revents != 0)
    }
}

#[cfg(windows)]
mod sys {
    use super::Interest;
    use crate::notify::RawDescriptor;
    use std::io;
    use windows_sys::Win32::Networking::WinSock::{
        WSAGetLastError, WSAPoll, POLLRDNORM, POLLWRNORM, SOCKET, WSAPOLLFD,
    };

    /// One WSAPoll: whether the socket has an event or the cancel socket is readable.
    pub fn poll(
        socket: RawDescriptor,
        interest: Interest,
        cancel: RawDescriptor,
        ms: i32,
    ) -> io::Result<bool> {
        let events = match interest {
            Interest::Read => POLLRDNORM,
            Interest::Write => POLLWRNORM,
        };
        let mut fds = [
            WSAPOLLFD {
                fd: socket as SOCKET,
                events,
                revents: 0,
            },
            WSAPOLLFD {
                fd: cancel as SOCKET,
                events: POLLRDNORM,
                revents: 0,
            },
        ];
        // SAFETY: `fds` is an array of two initialised WSAPOLLFD, valid for the call.
        let n = unsafe { WSAPoll(fds.as_mut_ptr(), 2, ms) };
        if n < 0 {
            // SAFETY: no arguments; reads this thread's last socket error.
            return Err(io::Error::from_raw_os_error(unsafe { WSAGetLastError() }));
        }
        Ok(fds[0].revents != 0 || fds[1].revents != 0)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::cancel::Canceller;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;
    use std::time::Duration;

    #[test]
    fn ready_cancelled_and_timed_out() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (mut b, _) = l.accept().unwrap();
        let c = Canceller::new();
        let fd = a.as_raw_fd() as RawDescriptor;
        let soon = || Some(Instant::now() + Duration::from_millis(30));
        assert_eq!(
            wait(fd, Interest::Read, &c, soon()).unwrap(),
            Wake::TimedOut
        );
        assert_eq!(wait(fd, Interest::Write, &c, soon()).unwrap(), Wake::Ready);
        std::io::Write::write_all(&mut b, b"x").unwrap();
        assert_eq!(wait(fd, Interest::Read, &c, None).unwrap(), Wake::Ready);
        c.cancel();
        assert_eq!(wait(fd, Interest::Read, &c, None).unwrap(), Wake::Cancelled);
    }
}
