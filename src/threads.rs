//! The library's own threads and in-flight operations, so that a program can wait
//! for the library to go quiet ([`shutdown`], the role of `curl_global_cleanup`).
//!
//! Every thread the library starts goes through [`spawn`]: a failure to start one
//! is an error for the caller (never a panic), and its handle is kept until the
//! thread has finished, so [`shutdown`] can wait for it and join it. Every network
//! operation in flight (a stream's request, a model listing) holds an [`Operation`]
//! for its duration, so [`shutdown`] can cancel it. An operation that begins while
//! a shutdown runs is cancelled at once, and the shutdown does not wait for threads
//! started after it began (a program whose threads keep opening streams still sees
//! it return).
//!
//! After `fork`, the child has none of the parent's threads: it forgets them and
//! the parent's operations (handlers of `pthread_atfork`), so its own shutdown
//! returns at once and cancels nothing of the parent's.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, LazyLock, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::cancel::{lock, Canceller};

/// Threads started and not yet joined, each with its number in start order.
#[derive(Default)]
struct Threads {
    running: Vec<(u64, JoinHandle<()>)>,
    started: u64,
}

struct Registry {
    /// Finished threads are joined on the next spawn or by [`shutdown`].
    threads: Mutex<Threads>,
    /// Signalled by each thread as its last step.
    finished: Condvar,
    /// Operations in flight, by id.
    operations: Mutex<HashMap<u64, Canceller>>,
    /// Ids for operations; Relaxed: only uniqueness matters.
    next_id: AtomicU64,
    /// Shutdowns under way. SeqCst, as the operations' map's lock: an operation
    /// either is seen by a shutdown or sees it (see [`Operation::begin`]).
    shutting_down: AtomicUsize,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| Registry {
    threads: Mutex::new(Threads::default()),
    finished: Condvar::new(),
    operations: Mutex::new(HashMap::new()),
    next_id: AtomicU64::new(0),
    shutting_down: AtomicUsize::new(0),
});

/// Tells [`shutdown`] that a thread has finished: dropped after everything the
/// thread's closure owned, so a log sink's `destroy` has run by then.
struct Finished;

impl Drop for Finished {
    fn drop(&mut self) {
        let r = &*REGISTRY;
        drop(lock(&r.threads));
        r.finished.notify_all();
    }
}

/// Starts a thread of the library. Joins the threads that finished since the last
/// call, so the kept handles stay as few as the threads alive.
pub(crate) fn spawn(name: &str, stack: usize, f: impl FnOnce() + Send + 'static) -> io::Result<()> {
    fork_safe();
    let mut threads = lock(&REGISTRY.threads);
    join_finished(&mut threads);
    let handle = std::thread::Builder::new()
        .name(name.into())
        .stack_size(stack)
        .spawn(move || {
            let _finished = Finished;
            f();
        })?;
    let n = threads.started;
    threads.started += 1;
    threads.running.push((n, handle));
    Ok(())
}

fn join_finished(threads: &mut Threads) {
    let running = &mut threads.running;
    let mut i = 0;
    while i < running.len() {
        if running[i].1.is_finished() {
            // Finished: the join only waits for the thread's exit, which is under way.
            let _ = running.swap_remove(i).1.join();
        } else {
            i += 1;
        }
    }
}

/// A network operation in flight; [`shutdown`] cancels it. Dropped when it ends.
pub(crate) struct Operation(u64);

impl Operation {
    /// Registers `cancel`'s operation; cancels it at once when a shutdown is
    /// under way.
    pub(crate) fn begin(cancel: &Canceller) -> Operation {
        fork_safe();
        let id = REGISTRY.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&REGISTRY.operations).insert(id, cancel.clone());
        if REGISTRY.shutting_down.load(Ordering::SeqCst) > 0 {
            cancel.cancel();
        }
        Operation(id)
    }
}

impl Drop for Operation {
    fn drop(&mut self) {
        lock(&REGISTRY.operations).remove(&self.0);
    }
}

/// How many of the library's threads are running now.
pub fn running() -> usize {
    let mut threads = lock(&REGISTRY.threads);
    join_finished(&mut threads);
    threads.running.len()
}

/// Cancels every operation in flight (streams end with `Cancelled` unless they had
/// ended) and waits until every thread the library had started when the call began
/// has finished and been joined, or until `timeout` (`None`: for as long as it
/// takes). Operations that begin meanwhile are cancelled at once, and their
/// threads are not waited for. Returns whether the library is quiet. New
/// operations may start afterwards.
pub fn shutdown(timeout: Option<Duration>) -> bool {
    let deadline = timeout.map(|t| Instant::now() + t);
    let r = &*REGISTRY;
    r.shutting_down.fetch_add(1, Ordering::SeqCst);
    struct Done;
    impl Drop for Done {
        fn drop(&mut self) {
            REGISTRY.shutting_down.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let _done = Done;
    let before = lock(&r.threads).started;
    let cancels: Vec<Canceller> = lock(&r.operations).values().cloned().collect();
    for c in cancels {
        c.cancel();
    }
    let mut threads = lock(&r.threads);
    loop {
        join_finished(&mut threads);
        if threads.running.iter().all(|(n, _)| *n >= before) {
            return true;
        }
        // A thread marks itself finished a moment after its last signal: look
        // again every few milliseconds.
        let mut wait = Duration::from_millis(5);
        if let Some(d) = deadline {
            match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => wait = wait.min(left),
                _ => return false,
            }
        }
        threads = r
            .finished
            .wait_timeout(threads, wait)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

/// Makes the registry safe across `fork` (once per process; before any lock of
/// the library is taken). Modules with locks of their own register their
/// handlers after calling this, so that theirs are taken first.
pub(crate) fn fork_safe() {
    #[cfg(unix)]
    fork::register();
}

#[cfg(unix)]
mod fork {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::sync::{MutexGuard, Once};

    use super::{Threads, REGISTRY};
    use crate::cancel::{lock, Canceller};

    type Held = (
        MutexGuard<'static, HashMap<u64, Canceller>>,
        MutexGuard<'static, Threads>,
    );

    thread_local! {
        /// The registry's locks, held by the forking thread across `fork`.
        static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
    }

    extern "C" fn prepare() {
        let held = (lock(&REGISTRY.operations), lock(&REGISTRY.threads));
        HELD.with(|h| *h.borrow_mut() = Some(held));
    }

    extern "C" fn parent() {
        HELD.with(|h| drop(h.borrow_mut().take()));
    }

    /// The child has only the forking thread: the parent's threads cannot be
    /// joined (nor detached) here, and its operations are not the child's to cancel.
    extern "C" fn child() {
        HELD.with(|h| {
            if let Some((mut operations, mut threads)) = h.borrow_mut().take() {
                operations.clear();
                for (_, handle) in threads.running.drain(..) {
                    std::mem::forget(handle);
                }
            }
        });
    }

    pub(super) fn register() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            // SAFETY: three functions of the right type that live for the whole
            // process. A failure (ENOMEM) leaves fork as it was before: nothing to undo.
            unsafe {
                libc::pthread_atfork(Some(prepare), Some(parent), Some(child));
            }
        });
    }
}
