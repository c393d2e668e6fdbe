//! Cancellation shared by a stream (or a model listing) and whoever may cancel
//! it: any thread, any number of times, also after the stream was closed. The
//! flag stays set; cancelling wakes everything waiting on [`Canceller::waker`]
//! and runs the hooks the operation registered (shutting its connection,
//! signalling its event-loop descriptor). Hooks must not block.
//!
//! Network waits end at once on cancel: on Unix a hook of the operation shuts its
//! socket down (so a canceller holds no descriptor of its own); on Windows the
//! wait polls the canceller's descriptor beside the socket.
//!
//! After `fork`, a canceller made in the parent only sets its flag in the child:
//! no hook runs there, since the sockets and descriptors it would shut are the
//! parent's too.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crossbeam_channel::{bounded, Receiver, Sender};

type Hook = Box<dyn Fn() + Send + Sync>;

struct Inner {
    /// Set once, for good. SeqCst: the one flag every thread reads to learn of a
    /// cancel; its swap happens under `hooks` (see `cancel`), which orders the hooks.
    cancelled: AtomicBool,
    /// Dropped on cancel: every `select!` on `rx` wakes at once.
    tx: Mutex<Option<Sender<()>>>,
    rx: Receiver<()>,
    /// Also guards the flag's changes and the descriptor's creation.
    hooks: Mutex<Vec<(u64, Hook)>>,
    /// Ids for hooks; Relaxed: only uniqueness matters.
    next_id: AtomicU64,
    /// The process that made the canceller: hooks run only in it (see the module docs).
    owner: u32,
    /// Log records past their last look at the flag and not yet in the user's
    /// code ([`Canceller::unless_cancelled`], [`Canceller::settle`]). SeqCst, as
    /// the flag: a record either sees the cancel or is seen by `settle`.
    entering: AtomicUsize,
    /// Readable once cancelled; made on first use.
    #[cfg(windows)]
    descriptor: std::sync::OnceLock<crate::notify::Notifier>,
}

thread_local! {
    /// The canceller whose record this thread is entering, until [`record_starts`].
    static ENTERING: RefCell<Option<Canceller>> = const { RefCell::new(None) };
}

/// A log sink calls this right before the user's code, once its size-dependent
/// work (copying the message for C) is done: from here on the record has started,
/// and `close` no longer waits for it. Outside a record, nothing.
pub(crate) fn record_starts() {
    if let Some(c) = ENTERING.with(|e| e.borrow_mut().take()) {
        c.0.entering.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A cancellation handle; clones share one flag.
#[derive(Clone)]
pub struct Canceller(Arc<Inner>);

impl std::fmt::Debug for Canceller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Canceller(cancelled: {})", self.is_cancelled())
    }
}

impl Default for Canceller {
    fn default() -> Canceller {
        Canceller::new()
    }
}

/// Locks a mutex, also after a panic elsewhere (every critical section here
/// leaves the data whole).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Canceller {
    pub fn new() -> Canceller {
        let (tx, rx) = bounded(0);
        Canceller(Arc::new(Inner {
            cancelled: AtomicBool::new(false),
            tx: Mutex::new(Some(tx)),
            rx,
            hooks: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(0),
            owner: std::process::id(),
            entering: AtomicUsize::new(0),
            #[cfg(windows)]
            descriptor: std::sync::OnceLock::new(),
        }))
    }

    /// Cancels: sets the flag for good, runs the hooks and wakes every waiter.
    /// Never blocks on the operation it cancels.
    pub fn cancel(&self) {
        // The flag and the hooks change under one lock, and waiters wake only
        // after the hooks ran: a waiter that returns and drops its hook guard can
        // neither unregister a hook this cancel is about to run nor run before it.
        let hooks = {
            let mut hooks = lock(&self.0.hooks);
            if self.0.cancelled.swap(true, Ordering::SeqCst) {
                return;
            }
            std::mem::take(&mut *hooks)
        };
        // In a child of `fork`, the sockets and descriptors the hooks act on are
        // shared with the parent: shutting them would end the parent's stream.
        if std::process::id() == self.0.owner {
            // Made before the flag was set (under the lock), or it was made
            // signalled: either way it is readable from now on.
            #[cfg(windows)]
            if let Some(d) = self.0.descriptor.get() {
                d.signal();
            }
            for (_, hook) in hooks {
                hook();
            }
        }
        drop(lock(&self.0.tx).take());
    }

    /// Runs `record` (a log sink's call) unless cancelled. Between the last look
    /// at the flag and [`record_starts`] (called by the sink right before the
    /// user's code) the record is "entering": [`Canceller::settle`] waits for it.
    pub(crate) fn unless_cancelled(&self, record: impl FnOnce()) {
        self.0.entering.fetch_add(1, Ordering::SeqCst);
        if self.is_cancelled() {
            self.0.entering.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        ENTERING.with(|e| *e.borrow_mut() = Some(self.clone()));
        /// Ends the entering on every way out, a panic included.
        struct Started;
        impl Drop for Started {
            fn drop(&mut self) {
                record_starts();
            }
        }
        let _started = Started;
        record();
    }

    /// After a cancel: waits until no record is entering, so none starts after
    /// this returns. Never waits for user code: a record in the user's callback
    /// has started already. The window waited for is the sink's own work (copying
    /// one message), however long the message.
    pub(crate) fn settle(&self) {
        while self.0.entering.load(Ordering::SeqCst) > 0 {
            std::thread::yield_now();
        }
    }

    /// A descriptor (a `SOCKET`) that becomes readable on cancel and stays so:
    /// network waits poll it beside their socket. Made on first use, closed with
    /// the last clone of this canceller.
    #[cfg(windows)]
    pub(crate) fn descriptor(&self) -> std::io::Result<crate::notify::RawDescriptor> {
        use crate::notify::Notifier;
        if let Some(d) = self.0.descriptor.get() {
            return Ok(d.descriptor());
        }
        let _flag = lock(&self.0.hooks);
        if let Some(d) = self.0.descriptor.get() {
            return Ok(d.descriptor());
        }
        let made = Notifier::new()?;
        if self.is_cancelled() {
            made.signal();
        }
        Ok(self.0.descriptor.get_or_init(|| made).descriptor())
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// A receiver that never yields a message and disconnects on cancel: put it
    /// in a `select!` to wake when cancelled.
    pub fn waker(&self) -> &Receiver<()> {
        &self.0.rx
    }

    /// Runs `hook` on cancel (at once when already cancelled) until the returned
    /// guard is dropped.
    pub(crate) fn on_cancel(&self, hook: impl Fn() + Send + Sync + 'static) -> HookGuard {
        let id = self.0.next_id.fetch_add(1, Ordering::Relaxed);
        let mut hooks = lock(&self.0.hooks);
        if self.is_cancelled() {
            drop(hooks);
            hook();
        } else {
            hooks.push((id, Box::new(hook)));
        }
        HookGuard {
            canceller: self.clone(),
            id,
        }
    }
}

/// Unregisters a hook when dropped.
pub(crate) struct HookGuard {
    canceller: Canceller,
    id: u64,
}

impl Drop for HookGuard {
    fn drop(&mut self) {
        lock(&self.canceller.0.hooks).retain(|(id, _)| *id != self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn cancel_runs_live_hooks_once_and_stays_set() {
        let c = Canceller::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        let kept = c.on_cancel(move || {
            r.fetch_add(1, Ordering::SeqCst);
        });
        let r = runs.clone();
        drop(c.on_cancel(move || {
            r.fetch_add(100, Ordering::SeqCst);
        }));
        assert!(c.waker().try_recv().is_err_and(|e| e.is_empty()));
        c.clone().cancel();
        c.cancel();
        assert!(c.is_cancelled());
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(c.waker().try_recv().is_err_and(|e| e.is_disconnected()));
        let r = runs.clone();
        let _late = c.on_cancel(move || {
            r.fetch_add(10, Ordering::SeqCst);
        });
        assert_eq!(runs.load(Ordering::SeqCst), 11);
        drop(kept);
    }
}
