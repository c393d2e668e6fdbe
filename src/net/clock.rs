//! The network clocks of one operation that ureq does not keep: the idle timeout
//! (counted from the response headers or the last chunk, paused while the stream
//! waits for its reader) and the total timeout; and the wait before a retry, a
//! state of its own (neither idle nor total time runs out during it: a retry the
//! total timeout would not leave time for is not waited for). Kept by the operation's own thread;
//! every network wait of that thread ends at [`Clock::deadline`], and the reader
//! side only reads it ([`Clock::deadline`] for an event loop's poll timeout).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Status};

/// Which of the clock's limits ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expired {
    Idle,
    Total,
}

/// Idle and total limits, measured from `start`.
#[derive(Debug)]
pub(crate) struct Clock {
    start: Instant,
    idle: Option<Duration>,
    total: Option<Duration>,
    /// Nanoseconds after `start` (plus one) since which the idle timeout runs; 0
    /// while it does not. Written by the operation's thread only (Release), read
    /// by it and by the reader side (Acquire): a lone value, no other data rides on it.
    idle_from: AtomicU64,
    /// Nanoseconds after `start` (plus one) when a retry is due; 0 unless the
    /// operation waits to retry. Same ordering as `idle_from`.
    retry_at: AtomicU64,
}

impl Clock {
    pub(crate) fn new(start: Instant, idle: Option<Duration>, total: Option<Duration>) -> Clock {
        Clock {
            start,
            idle,
            total,
            idle_from: AtomicU64::new(0),
            retry_at: AtomicU64::new(0),
        }
    }

    /// The idle timeout runs from now (the headers arrived, a chunk arrived, or
    /// the reader made room).
    pub(crate) fn restart_idle(&self) {
        let ns = self.start.elapsed().as_nanos() as u64 + 1;
        self.idle_from.store(ns, Ordering::Release);
    }

    /// The idle timeout stops (the stream waits for its reader, not the server).
    pub(crate) fn pause_idle(&self) {
        self.idle_from.store(0, Ordering::Release);
    }

    /// The operation waits until `at` to send its request again: the idle
    /// timeout stops, and [`Clock::deadline`] is the retry's moment.
    pub(crate) fn wait_to_retry(&self, at: Instant) {
        self.pause_idle();
        let ns = at.saturating_duration_since(self.start).as_nanos() as u64 + 1;
        self.retry_at.store(ns, Ordering::Release);
    }

    /// A short wait of the operation's own until `at` (reading the end of a body
    /// whose answer has ended): as a retry's wait, its moment is the deadline.
    pub(crate) fn wait_briefly(&self, at: Instant) {
        self.wait_to_retry(at);
    }

    /// The retry is being sent (or the short wait is over): the wait is over.
    pub(crate) fn retrying(&self) {
        self.retry_at.store(0, Ordering::Release);
    }

    fn idle_deadline(&self) -> Option<Instant> {
        let from = self.idle_from.load(Ordering::Acquire);
        let idle = self.idle?;
        (from != 0).then(|| self.start + Duration::from_nanos(from - 1) + idle)
    }

    pub(crate) fn total_deadline(&self) -> Option<Instant> {
        self.total.map(|t| self.start + t)
    }

    /// The earliest limit now running, if any; while the operation waits to
    /// retry, the moment of the retry.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        let retry = self.retry_at.load(Ordering::Acquire);
        if retry != 0 {
            return Some(self.start + Duration::from_nanos(retry - 1));
        }
        match (self.idle_deadline(), self.total_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Which limit has run out by `now`, the total one first.
    pub(crate) fn expired(&self, now: Instant) -> Option<Expired> {
        if self.total_deadline().is_some_and(|d| now >= d) {
            Some(Expired::Total)
        } else if self.idle_deadline().is_some_and(|d| now >= d) {
            Some(Expired::Idle)
        } else {
            None
        }
    }

    /// The error a run-out limit means, in the words the caller reads.
    pub(crate) fn error(&self, what: Expired) -> Error {
        let ms = |d: Option<Duration>| d.map_or(0, |d| d.as_millis());
        Error::new(
            Status::TimedOut,
            match what {
                Expired::Idle => {
                    format!("no chunk arrived for {} ms (idle timeout)", ms(self.idle))
                }
                Expired::Total => format!(
                    "the stream ran longer than {} ms (total timeout)",
                    ms(self.total)
                ),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_runs_only_while_restarted_and_total_always() {
        let start = Instant::now();
        let c = Clock::new(
            start,
            Some(Duration::from_secs(2)),
            Some(Duration::from_secs(10)),
        );
        assert_eq!(c.deadline(), Some(start + Duration::from_secs(10)));
        c.restart_idle();
        let d = c.deadline().unwrap();
        assert!(d >= start + Duration::from_secs(2) && d < start + Duration::from_secs(3));
        assert_eq!(
            c.expired(start + Duration::from_secs(5)),
            Some(Expired::Idle)
        );
        assert_eq!(
            c.expired(start + Duration::from_secs(11)),
            Some(Expired::Total)
        );
        c.pause_idle();
        assert_eq!(c.expired(start + Duration::from_secs(5)), None);
        c.wait_to_retry(start + Duration::from_secs(4));
        assert_eq!(c.deadline(), Some(start + Duration::from_secs(4)));
        assert_eq!(c.expired(start + Duration::from_secs(5)), None);
        c.retrying();
        assert_eq!(c.deadline(), Some(start + Duration::from_secs(10)));
        let none = Clock::new(start, None, None);
        none.restart_idle();
        assert_eq!(none.deadline(), None);
        assert!(c
            .error(Expired::Idle)
            .message
            .contains("2000 ms (idle timeout)"));
    }
}
