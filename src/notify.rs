//! A file descriptor that is readable while a stream has something for `next`, so
//! event loops (poll, epoll, kqueue, libuv, GLib) can drive many streams from one
//! thread. A pipe (portable), holding at most one byte: `signaled` says whether it
//! is there, so neither end ever blocks for long.

use std::io::{PipeReader, PipeWriter, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

pub struct Notifier {
    reader: PipeReader,
    writer: PipeWriter,
    signaled: AtomicBool,
}

impl Notifier {
    pub fn new() -> std::io::Result<Notifier> {
        let (reader, writer) = std::io::pipe()?;
        Ok(Notifier {
            reader,
            writer,
            signaled: AtomicBool::new(false),
        })
    }

    /// The readable end.
    pub fn fd(&self) -> RawFd {
        self.reader.as_raw_fd()
    }

    /// Makes the descriptor readable (once, however often called).
    pub fn signal(&self) {
        if !self.signaled.swap(true, Ordering::AcqRel) {
            let _ = (&self.writer).write(&[1]);
        }
    }

    /// Makes the descriptor not readable. A reset racing a signal may wait for the
    /// signal's byte to land: a moment, never long.
    pub fn reset(&self) {
        if self.signaled.swap(false, Ordering::AcqRel) {
            let _ = (&self.reader).read(&mut [0]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_and_reset_pair_up() {
        let n = Notifier::new().unwrap();
        assert!(n.fd() >= 0);
        n.reset(); // nothing to read: does not block
        n.signal();
        n.signal(); // still one byte
        n.reset();
        n.reset();
        n.signal();
        let mut buf = [0u8; 4];
        // Exactly one byte is there.
        assert_eq!((&n.reader).read(&mut buf).unwrap(), 1);
    }
}
