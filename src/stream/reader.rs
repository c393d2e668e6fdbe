//! The reader side's building blocks: the caller's deadline, the timed lock that
//! serves `next` calls one at a time, the cursor over received chunks, and the
//! assembled answer that `next` adds to without ever waiting for a caller copying it.
//!
//! "Reader" in this module means one thing: the side of the stream that calls
//! `next` (the caller's threads), as opposed to the worker. The response body is
//! "the body", and a caller copying the assembled answer is "a copier".

use std::cell::OnceCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use super::batch::Chunks;
use crate::answer::Answer;
use crate::cancel::lock;
use crate::chunk::Chunk;
use crate::error::Error;

/// The caller's timeout, made an instant only when a wait needs it: a chunk that
/// is already there costs no clock read. `None` waits for ever.
pub(super) struct CallerDeadline {
    timeout: Option<Duration>,
    at: OnceCell<Instant>,
}

impl CallerDeadline {
    pub(super) fn new(timeout: Option<Duration>) -> CallerDeadline {
        CallerDeadline {
            timeout,
            at: OnceCell::new(),
        }
    }

    pub(super) fn at(&self) -> Option<Instant> {
        self.timeout
            .map(|t| *self.at.get_or_init(|| Instant::now() + t))
    }

    /// Time left; `Some(ZERO)` once passed, `None` without a deadline.
    fn left(&self) -> Option<Duration> {
        self.at()
            .map(|at| at.saturating_duration_since(Instant::now()))
    }
}

/// A lock whose waiters give up at their own deadline: the value is taken out by
/// one holder at a time and put back when its [`Held`] drops. The condition
/// variable is signalled only when someone waits: no system call on the
/// uncontended path.
pub(super) struct TimedLock<T> {
    slot: Mutex<Slot<T>>,
    returned: Condvar,
}

struct Slot<T> {
    value: Option<T>,
    waiting: usize,
}

/// The value while one caller holds it.
pub(super) struct Held<'a, T> {
    lock: &'a TimedLock<T>,
    value: Option<T>,
}

impl<T> TimedLock<T> {
    pub(super) fn new(value: T) -> TimedLock<T> {
        TimedLock {
            slot: Mutex::new(Slot {
                value: Some(value),
                waiting: 0,
            }),
            returned: Condvar::new(),
        }
    }

    /// The value, once nobody else holds it, or `None` at the deadline.
    pub(super) fn acquire(&self, deadline: &CallerDeadline) -> Option<Held<'_, T>> {
        let mut slot = lock(&self.slot);
        loop {
            if let Some(value) = slot.value.take() {
                return Some(Held {
                    lock: self,
                    value: Some(value),
                });
            }
            let left = deadline.left();
            if left.is_some_and(|l| l.is_zero()) {
                return None;
            }
            slot.waiting += 1;
            slot = match left {
                None => self.returned.wait(slot).unwrap_or_else(|e| e.into_inner()),
                Some(left) => {
                    self.returned
                        .wait_timeout(slot, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
            slot.waiting -= 1;
        }
    }
}

impl<T> std::ops::Deref for Held<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_ref().expect("held until dropped")
    }
}

impl<T> std::ops::DerefMut for Held<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect("held until dropped")
    }
}

impl<T> Drop for Held<'_, T> {
    fn drop(&mut self) {
        let mut slot = lock(&self.lock.slot);
        slot.value = self.value.take();
        let waiting = slot.waiting > 0;
        drop(slot);
        if waiting {
            self.lock.returned.notify_one();
        }
    }
}

/// A terminal state: once reached, `next` returns it again and again.
#[derive(Debug, Clone)]
pub(super) enum Terminal {
    End,
    Cancelled,
    Error(Error),
}

/// Where the reader is in the stream: the rest of the batch being handed out
/// (and the batch's footprint, released when it is done), or the end.
pub(super) struct Cursor {
    pub(super) pending: Chunks,
    pub(super) pending_bytes: usize,
    pub(super) terminal: Option<Terminal>,
    /// [`Answer::size`] of the chunks delivered so far.
    pub(super) assembled: usize,
}

impl Cursor {
    pub(super) fn new() -> Cursor {
        Cursor {
            pending: Chunks::default(),
            pending_bytes: 0,
            terminal: None,
            assembled: 0,
        }
    }
}

/// The answer the delivered chunks add up to. `next` adds without waiting: while
/// another thread copies the answer, the chunk waits in a backlog, applied (in
/// order) by whoever takes the answer next.
#[derive(Default)]
pub(super) struct Assembled {
    answer: Mutex<Answer>,
    /// Chunks delivered while the answer was busy; never held during a copy.
    backlog: Mutex<Vec<Chunk>>,
    /// Whether the backlog may hold chunks: set under the backlog's lock after a
    /// push, cleared under the answer's lock before a drain. Lets the common case
    /// (no contention) skip the backlog's lock; the locks order the data.
    behind: AtomicBool,
}

impl Assembled {
    /// Assembles into `answer` (empty, with the base URL media resolve against).
    pub(super) fn new(answer: Answer) -> Assembled {
        Assembled {
            answer: Mutex::new(answer),
            ..Assembled::default()
        }
    }

    fn catch_up(&self, answer: &mut Answer) {
        // A load first: the swap, a read-modify-write, only when there is a backlog.
        if !self.behind.load(Ordering::Acquire) || !self.behind.swap(false, Ordering::Acquire) {
            return;
        }
        let backlog = std::mem::take(&mut *lock(&self.backlog));
        for c in &backlog {
            answer.add(c);
        }
    }

    /// Adds a delivered chunk; never waits for a copier of the answer.
    pub(super) fn add(&self, c: &Chunk) {
        let held: Option<MutexGuard<'_, Answer>> = match self.answer.try_lock() {
            Ok(a) => Some(a),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        match held {
            Some(mut a) => {
                self.catch_up(&mut a);
                a.add(c);
            }
            None => {
                lock(&self.backlog).push(c.clone());
                self.behind.store(true, Ordering::Release);
            }
        }
    }

    /// Runs `f` on the answer of every chunk delivered so far.
    pub(super) fn read<R>(&self, f: impl FnOnce(&Answer) -> R) -> R {
        let mut a = lock(&self.answer);
        self.catch_up(&mut a);
        f(&a)
    }
}
