//! A descriptor that is readable while a stream has something for `next`, so
//! event loops (poll, epoll, kqueue, libuv, GLib, WSAPoll) can drive many streams
//! from one thread. Level-triggered (readable from `signal` until `reset`) and
//! non-blocking at both ends. One eventfd on Linux; elsewhere a connected pair
//! (a Unix socket pair, or a loopback TCP pair on Windows, which `select` and
//! `WSAPoll` accept) whose read end is handed out.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// What the caller waits on: a file descriptor on Unix, a `SOCKET` on Windows.
pub type RawDescriptor = isize;

pub struct Notifier {
    ends: imp::Ends,
    /// Whether a `signal` wrote since the last `reset`: signals write once. AcqRel
    /// on the swap, Release on the clear; the token in the descriptor carries the
    /// wakeup, the flag only saves redundant writes.
    signaled: AtomicBool,
}

impl Notifier {
    pub fn new() -> io::Result<Notifier> {
        Ok(Notifier {
            ends: imp::Ends::new()?,
            signaled: AtomicBool::new(false),
        })
    }

    /// The end to wait on for readability.
    pub fn descriptor(&self) -> RawDescriptor {
        self.ends.descriptor()
    }

    /// Makes the descriptor readable (one write, however often called).
    pub fn signal(&self) {
        if !self.signaled.swap(true, Ordering::AcqRel) {
            let _ = self.ends.signal_end().write(&imp::TOKEN);
        }
    }

    /// Makes the descriptor not readable. Drains first, then clears the flag: a
    /// signal racing the reset either lands before the drain (the caller then
    /// looks at the channel and finds its message) or writes again afterwards.
    /// A write that lands between leaves one spurious wakeup, drained next time.
    pub fn reset(&self) {
        let mut buf = [0u8; 64];
        while matches!(self.ends.drain_end().read(&mut buf), Ok(n) if n > 0) {}
        self.signaled.store(false, Ordering::Release);
    }
}

/// The error for a descriptor the system would not make: [`Status::Limit`] when
/// the process or the system has no descriptor (or memory) left, else `Io`.
///
/// [`Status::Limit`]: crate::error::Status::Limit
pub(crate) fn descriptor_error(e: io::Error, what: &str) -> crate::error::Error {
    use crate::error::{Error, Status};
    #[cfg(unix)]
    let limit = matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOMEM | libc::ENOBUFS)
    );
    #[cfg(windows)]
    let limit = e.raw_os_error() == Some(10024 /* WSAEMFILE */)
        || e.raw_os_error() == Some(10055 /* WSAENOBUFS */);
    let status = if limit { Status::Limit } else { Status::Io };
    Error::new(status, format!("cannot make {what}: {e}"))
}

#[cfg(target_os = "linux")]
mod imp {
    use std::fs::File;
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    /// An eventfd takes 8-byte counter increments.
    pub const TOKEN: [u8; 8] = 1u64.to_ne_bytes();

    /// One eventfd serves as both ends.
    pub struct Ends(File);

    impl Ends {
        pub fn new() -> io::Result<Ends> {
            // SAFETY: eventfd takes no pointers; a non-negative result is a new fd we own.
            let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `fd` is open and owned by nobody else.
            Ok(Ends(File::from(unsafe { OwnedFd::from_raw_fd(fd) })))
        }
        pub fn descriptor(&self) -> isize {
            self.0.as_raw_fd() as isize
        }
        pub fn drain_end(&self) -> &File {
            &self.0
        }
        pub fn signal_end(&self) -> &File {
            &self.0
        }
    }
}

#[cfg(all(unix, not(target_os = "linux")))]
mod imp {
    use std::io;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    pub const TOKEN: [u8; 1] = [1];

    pub struct Ends {
        read: UnixStream,
        write: UnixStream,
    }

    impl Ends {
        pub fn new() -> io::Result<Ends> {
            let (read, write) = UnixStream::pair()?;
            read.set_nonblocking(true)?;
            write.set_nonblocking(true)?;
            Ok(Ends { read, write })
        }
        pub fn descriptor(&self) -> isize {
            self.read.as_raw_fd() as isize
        }
        pub fn drain_end(&self) -> &UnixStream {
            &self.read
        }
        pub fn signal_end(&self) -> &UnixStream {
            &self.write
        }
    }
}

#[cfg(windows)]
mod imp {
    use std::io;
    use std::net::{Ipv4Addr, TcpListener, TcpStream};
    use std::os::windows::io::AsRawSocket;

    pub const TOKEN: [u8; 1] = [1];

    pub struct Ends {
        read: TcpStream,
        write: TcpStream,
    }

    impl Ends {
        /// A connected loopback pair; the accepted end must be our own connection.
        pub fn new() -> io::Result<Ends> {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
            let write = TcpStream::connect(listener.local_addr()?)?;
            let (read, peer) = listener.accept()?;
            if peer != write.local_addr()? {
                return Err(io::Error::new(
                    io::ErrorKind::Other,
                    "another process connected to the notifier's socket",
                ));
            }
            write.set_nodelay(true)?;
            read.set_nonblocking(true)?;
            write.set_nonblocking(true)?;
            Ok(Ends { read, write })
        }
        pub fn descriptor(&self) -> isize {
            self.read.as_raw_socket() as isize
        }
        pub fn drain_end(&self) -> &TcpStream {
            &self.read
        }
        pub fn signal_end(&self) -> &TcpStream {
            &self.write
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn readable(n: &Notifier) -> bool {
        let mut p = libc::pollfd {
            fd: n.descriptor() as i32,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut p, 1, 0) == 1 }
    }

    #[test]
    fn level_triggered_signal_and_reset() {
        let n = Notifier::new().unwrap();
        assert!(n.descriptor() >= 0);
        n.reset(); // nothing to read: does not block
        assert!(!readable(&n));
        n.signal();
        n.signal();
        assert!(readable(&n));
        assert!(readable(&n), "stays readable until reset");
        n.reset();
        assert!(!readable(&n));
        n.signal();
        assert!(readable(&n));
    }
}
