//! What an operation's network steps wait on besides their socket: its cancel
//! and its clock.

use super::clock::Clock;
use crate::cancel::Canceller;

/// What the network steps of one operation wait on besides their socket.
#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) cancel: Canceller,
    pub(crate) clock: Clock,
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
