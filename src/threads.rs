//! The library's own threads and in-flight operations, so that a program can wait
//! for the library to go quiet ([`shutdown`], the role of `curl_global_cleanup`).
//!
//! Every thread the library starts goes through [`spawn`]: a failure to start one
//! is an error for the caller (never a panic), and its handle is kept until the
//! thread has finished, so [`shutdown`] can wait for it and join it. Every network
//! operation in flight (a stream's request, a model listing) holds an [`Operation`]
//! for its duration, so [`shutdown`] can cancel it.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, LazyLock, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::cancel::{lock, Canceller};

struct Registry {
    /// Threads started and not yet joined; finished ones are joined on the next
    /// spawn or by [`shutdown`].
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Signalled by each thread as its last step.
    finished: Condvar,
    /// Operations in flight, by id.
    operations: Mutex<HashMap<u64, Canceller>>,
    /// Ids for operations; Relaxed: only uniqueness matters.
    next_id: AtomicU64,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| Registry {
    threads: Mutex::new(Vec::new()),
    finished: Condvar::new(),
    operations: Mutex::new(HashMap::new()),
    next_id: AtomicU64::new(0),
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
    let mut threads = lock(&REGISTRY.threads);
    join_finished(&mut threads);
    let handle = std::thread::Builder::new()
        .name(name.into())
        .stack_size(stack)
        .spawn(move || {
            let _finished = Finished;
            f();
        })?;
    threads.push(handle);
    Ok(())
}

fn join_finished(threads: &mut Vec<JoinHandle<()>>) {
    let mut i = 0;
    while i < threads.len() {
        if threads[i].is_finished() {
            // Finished: the join only waits for the thread's exit, which is under way.
            let _ = threads.swap_remove(i).join();
        } else {
            i += 1;
        }
    }
}

/// A network operation in flight; [`shutdown`] cancels it. Dropped when it ends.
pub(crate) struct Operation(u64);

impl Operation {
    pub(crate) fn begin(cancel: &Canceller) -> Operation {
        let id = REGISTRY.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&REGISTRY.operations).insert(id, cancel.clone());
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
    threads.len()
}

/// Cancels every operation in flight (streams end with `Cancelled` unless they had
/// ended) and waits until every thread of the library has finished and been
/// joined, or until `timeout` (`None`: for as long as it takes). Returns whether
/// the library is quiet. New operations may start afterwards.
pub fn shutdown(timeout: Option<Duration>) -> bool {
    let deadline = timeout.map(|t| Instant::now() + t);
    let cancels: Vec<Canceller> = lock(&REGISTRY.operations).values().cloned().collect();
    for c in cancels {
        c.cancel();
    }
    let mut threads = lock(&REGISTRY.threads);
    loop {
        join_finished(&mut threads);
        if threads.is_empty() {
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
        threads = REGISTRY
            .finished
            .wait_timeout(threads, wait)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}
