//! The state a stream's reader side, its worker and cancellers share
//! ([`Shared`]), one type per concern: the queue's budget in bytes ([`Budget`]),
//! the counters behind the statistics ([`Counters`]), and the event-loop
//! descriptor ([`Readiness`]).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use crossbeam_channel::{bounded, select_biased, Receiver, Sender};

use crate::cancel::Canceller;
use crate::net::Link;
use crate::notify::{Notifier, RawDescriptor};
use crate::response_headers::ResponseHeaders;

/// What the reader side, the worker and cancellers share.
pub(super) struct Shared {
    pub(super) start: Instant,
    /// The cancel and the network clock, also seen by the agent's sockets.
    pub(super) link: Arc<Link>,
    pub(super) agent: crate::client::Agent,
    pub(super) budget: Budget,
    pub(super) counters: Counters,
    pub(super) readiness: Readiness,
    /// The headers of each response, in order (one per attempt; the worker
    /// appends). Kept until the stream is dropped, so what was lent stays valid.
    pub(super) response_headers: Mutex<Vec<Arc<ResponseHeaders>>>,
}

impl Shared {
    /// Records the headers of one response (the worker, once per attempt).
    pub(super) fn record_headers(&self, headers: ResponseHeaders) {
        self.response_headers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::new(headers));
    }
}

/// Bytes of decoded chunks a stream holds for its reader (in the channel and in
/// the batch being handed out) before its worker stops reading. A batch larger
/// than this (one long line) is let in alone, once the queue is empty.
pub(super) const QUEUE_BYTES: usize = 128 << 10;

/// How a wait for room ended.
pub(super) enum Room {
    Made,
    Cancelled,
    /// The deadline passed first.
    TimedOut,
}

/// The queue's budget: the footprint of the chunks decoded and not yet handed
/// out. One producer (the worker) adds, one consumer (the reader) releases.
///
/// Correct because the worker is the only one that adds: between its check
/// ([`Budget::wait_for_room`]) and its add ([`Budget::add`]) the count can only fall.
/// AcqRel on both changes and Acquire on the check pair them; the room token
/// only wakes the worker, it carries no data.
pub(super) struct Budget {
    queued: AtomicUsize,
    /// The reader pokes it when it frees room; holds one poke at most.
    room_tx: Sender<()>,
    room_rx: Receiver<()>,
}

impl Budget {
    pub(super) fn new() -> Budget {
        let (room_tx, room_rx) = bounded(1);
        Budget {
            queued: AtomicUsize::new(0),
            room_tx,
            room_rx,
        }
    }

    /// Worker: waits until a batch of `size` bytes fits (or the queue is empty).
    /// `before_wait` runs once if it must wait.
    pub(super) fn wait_for_room(
        &self,
        size: usize,
        cancel: &Canceller,
        deadline: Option<Instant>,
        before_wait: impl FnOnce(),
    ) -> Room {
        let mut before_wait = Some(before_wait);
        loop {
            let queued = self.queued.load(Ordering::Acquire);
            if queued == 0 || queued + size <= QUEUE_BYTES {
                return Room::Made;
            }
            if let Some(f) = before_wait.take() {
                f();
            }
            let timer = deadline.map_or_else(crossbeam_channel::never, crossbeam_channel::at);
            select_biased! {
                recv(cancel.waker()) -> _ => return Room::Cancelled,
                recv(self.room_rx) -> _ => {}
                recv(timer) -> _ => return Room::TimedOut,
            }
        }
    }

    /// Worker: a batch of `size` bytes is on its way to the reader.
    pub(super) fn add(&self, size: usize) {
        self.queued.fetch_add(size, Ordering::AcqRel);
    }

    /// Reader: a batch of this footprint was handed out (or dropped).
    pub(super) fn release(&self, footprint: usize) {
        if footprint > 0 {
            self.queued.fetch_sub(footprint, Ordering::AcqRel);
            let _ = self.room_tx.try_send(());
        }
    }

    pub(super) fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }
}

/// A moment after the stream's start, in microseconds, stored +1 so that 0 means
/// "not yet". Set once; Relaxed: a statistic that orders nothing else.
#[derive(Default)]
pub(super) struct Moment(AtomicU64);

impl Moment {
    pub(super) fn mark(&self, start: Instant) {
        let us = start.elapsed().as_micros() as u64 + 1;
        let _ = self
            .0
            .compare_exchange(0, us, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// Microseconds since the start, or -1 when not yet.
    pub(super) fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed) as i64 - 1
    }
}

/// What the worker counts for the statistics. Relaxed throughout: each is a
/// lone figure, read as a snapshot.
#[derive(Default)]
pub(super) struct Counters {
    pub(super) bytes: AtomicU64,
    pub(super) chunks: AtomicU64,
    pub(super) skipped: AtomicU64,
    pub(super) retries: AtomicU32,
    /// The answer's connection was a reused one (see `Stats`).
    pub(super) reused: AtomicBool,
    pub(super) headers_at: Moment,
    pub(super) first_chunk_at: Moment,
    /// When the worker finished: nothing more arrives after it.
    pub(super) ended_at: Moment,
}

/// The event-loop descriptor: made when the caller first asks for it, signalled
/// whenever `next` would not block, closed with the stream's reader side.
#[derive(Default)]
pub(super) struct Readiness {
    notifier: RwLock<Option<Notifier>>,
    /// Whether a descriptor was ever made, for the reader's per-chunk calls: until
    /// then they cost one load, not the lock (most streams never have one). Set
    /// after the descriptor was made and signalled, never cleared. A reader that
    /// does not see it yet skips a signal the new descriptor's own covers (it stays
    /// readable until a reset, and a reset that drains saw the flag: every later
    /// `next`, ordered after it by the cursor's lock, sees it too).
    made: AtomicBool,
}

impl Readiness {
    fn with(&self, f: impl FnOnce(&Notifier)) {
        if let Some(n) = &*self.notifier.read().unwrap_or_else(|e| e.into_inner()) {
            f(n);
        }
    }

    /// Something is there for `next` (the worker: always through the lock).
    pub(super) fn signal(&self) {
        self.with(Notifier::signal);
    }

    /// [`Readiness::signal`] from `next`, for what is still there after it.
    pub(super) fn still_ready(&self) {
        if self.made.load(Ordering::Acquire) {
            self.with(Notifier::signal);
        }
    }

    /// `next` is about to look at the channel: quiet first, so that a message
    /// sent from now on signals again.
    pub(super) fn reset(&self) {
        if self.made.load(Ordering::Acquire) {
            self.with(Notifier::reset);
        }
    }

    /// The descriptor, made on first use. A new one is signalled once (maybe
    /// spuriously: `next(0)` then says AGAIN) for what arrived before it existed.
    pub(super) fn descriptor(&self) -> std::io::Result<RawDescriptor> {
        let mut slot = self.notifier.write().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = &*slot {
            return Ok(n.descriptor());
        }
        let made = Notifier::new()?;
        made.signal();
        let d = made.descriptor();
        *slot = Some(made);
        self.made.store(true, Ordering::Release);
        Ok(d)
    }

    /// Closes the descriptor.
    pub(super) fn close(&self) {
        *self.notifier.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
