//! Name resolution for ureq: literal addresses need none; host names are looked up
//! on a small process-wide pool of threads ([`POOL_THREADS`] at most), never on the
//! stream's thread, so a cancel or the CONNECT timeout ends the wait at once. A
//! lookup given up before it started is dropped. One given up while under way
//! keeps its thread until the system's resolver answers (getaddrinfo cannot be
//! interrupted), never the stream, and gives its place in the pool back at once:
//! such stray threads are counted apart, up to [`MAX_STRAYS`] (beyond it a given-up
//! lookup keeps its place), and each exits when its lookup returns. So slow names
//! given up cannot starve the others. Pool threads exit as soon as the queue is
//! empty. After `fork`, the child starts with an empty pool (`pthread_atfork`).

use std::collections::VecDeque;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Instant;

use crossbeam_channel::{bounded, select_biased, Receiver, Sender};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;
use ureq::Error;

use crate::cancel::lock;

/// Most threads resolving at once, for the whole process.
pub(crate) const POOL_THREADS: usize = 4;
/// Most threads still running lookups given up, beside the pool.
pub(crate) const MAX_STRAYS: usize = 32;
/// Stack of a pool thread: the system's resolver (NSS modules) may want more than
/// the stream's thread does.
const POOL_STACK: usize = 1 << 20;

/// Resolves through the pool, bounded by the step's timeout and the operation's
/// clock, ended at once by its cancel.
#[derive(Debug)]
pub(crate) struct PoolResolver;

/// Where a lookup stands. Changed under the queue's lock only (Relaxed: the lock
/// orders it).
const WAITING: u8 = 0;
const RUNNING: u8 = 1;
/// Given up before it started: never started.
const ABANDONED: u8 = 2;
/// Given up while running: its thread left the pool and exits when it returns.
const STRAY: u8 = 3;
const DONE: u8 = 4;

/// One lookup waiting in the queue.
struct Lookup {
    /// `host:port`.
    target: String,
    state: Arc<AtomicU8>,
    reply: Sender<std::io::Result<Vec<SocketAddr>>>,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Lookup>,
    /// Threads of the pool.
    threads: usize,
    /// Threads running a lookup given up, outside the pool.
    strays: usize,
}

static QUEUE: LazyLock<Mutex<Queue>> = LazyLock::new(Mutex::default);

/// Queues a lookup, starting a pool thread when fewer than the maximum run.
fn submit(lookup: Lookup) -> std::io::Result<()> {
    fork::register();
    let mut q = lock(&QUEUE);
    q.waiting.push_back(lookup);
    if q.threads < POOL_THREADS {
        match crate::threads::spawn("backend-api-resolve", POOL_STACK, serve) {
            Ok(()) => q.threads += 1,
            // Another pool thread will take it; with none, the lookup cannot run.
            Err(e) if q.threads == 0 => {
                q.waiting.pop_back();
                return Err(e);
            }
            Err(_) => {}
        }
    }
    Ok(())
}

/// Starts a pool thread for lookups waiting, when a place in the pool is free.
fn fill(q: &mut Queue) {
    if !q.waiting.is_empty()
        && q.threads < POOL_THREADS
        && crate::threads::spawn("backend-api-resolve", POOL_STACK, serve).is_ok()
    {
        q.threads += 1;
    }
}

/// A pool thread: takes lookups until the queue is empty, then exits; or exits
/// after a lookup given up while it ran (its place went to another thread).
fn serve() {
    let mut q = lock(&QUEUE);
    loop {
        let Some(lookup) = q.waiting.pop_front() else {
            q.threads -= 1;
            return;
        };
        if lookup.state.load(Ordering::Relaxed) == ABANDONED {
            continue;
        }
        lookup.state.store(RUNNING, Ordering::Relaxed);
        drop(q);
        let found = lookup
            .target
            .to_socket_addrs()
            .map(|addrs| addrs.collect::<Vec<_>>());
        q = lock(&QUEUE);
        if lookup.state.load(Ordering::Relaxed) == STRAY {
            q.strays -= 1;
            return;
        }
        lookup.state.store(DONE, Ordering::Relaxed);
        // Never blocks: the reply channel holds the one answer.
        let _ = lookup.reply.send(found);
    }
}

/// The asker stopped waiting for a lookup: one not started never starts; one
/// under way gives its place in the pool back (within [`MAX_STRAYS`]).
fn abandon(state: &AtomicU8) {
    let mut q = lock(&QUEUE);
    match state.load(Ordering::Relaxed) {
        WAITING => state.store(ABANDONED, Ordering::Relaxed),
        RUNNING if q.strays < MAX_STRAYS => {
            state.store(STRAY, Ordering::Relaxed);
            q.strays += 1;
            q.threads -= 1;
            fill(&mut q);
        }
        _ => {}
    }
}

/// After `fork`: the child has none of the pool's threads, nor the askers of the
/// lookups queued. Its pool starts empty.
mod fork {
    #[cfg(unix)]
    pub(super) fn register() {
        use super::{lock, Queue, QUEUE};
        use std::cell::RefCell;
        use std::sync::{MutexGuard, Once};

        thread_local! {
            static HELD: RefCell<Option<MutexGuard<'static, Queue>>> = const { RefCell::new(None) };
        }
        extern "C" fn prepare() {
            let q = lock(&QUEUE);
            HELD.with(|h| *h.borrow_mut() = Some(q));
        }
        extern "C" fn parent() {
            HELD.with(|h| drop(h.borrow_mut().take()));
        }
        extern "C" fn child() {
            HELD.with(|h| {
                if let Some(mut q) = h.borrow_mut().take() {
                    *q = Queue::default();
                }
            });
        }
        static ONCE: Once = Once::new();
        // The registry's handlers first: `prepare` handlers run in reverse order of
        // registration, so the queue's lock is taken before the registry's, the
        // order `submit` takes them in.
        crate::threads::fork_safe();
        ONCE.call_once(|| {
            // SAFETY: three functions of the right type that live for the whole
            // process. A failure (ENOMEM) leaves fork as it was before.
            unsafe {
                libc::pthread_atfork(Some(prepare), Some(parent), Some(child));
            }
        });
    }

    #[cfg(not(unix))]
    pub(super) fn register() {}
}

impl Resolver for PoolResolver {
    fn resolve(
        &self,
        uri: &Uri,
        _config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, Error> {
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return Err(Error::BadUri(format!("{uri} has no scheme or host")));
        };
        let target = DefaultResolver::host_and_port(scheme, authority)
            .ok_or_else(|| Error::BadUri(format!("{uri} has no port")))?;
        let mut out = self.empty();
        // A literal address ("127.0.0.1:80", "[::1]:443") needs no lookup.
        if let Ok(addr) = target.parse::<SocketAddr>() {
            out.push(addr);
            return Ok(out);
        }
        let found = self.lookup(target, timeout)?;
        for addr in found {
            if out.try_push(addr).is_err() {
                break;
            }
        }
        if out.is_empty() {
            return Err(Error::HostNotFound);
        }
        Ok(out)
    }
}

impl PoolResolver {
    fn lookup(&self, target: String, timeout: NextTimeout) -> Result<Vec<SocketAddr>, Error> {
        let link = &super::operation::link();
        if link.cancel.is_cancelled() {
            return Err(super::socket::cancelled());
        }
        let (deadline, reason) = link.step_deadline(timeout);
        let (reply, answer): (_, Receiver<_>) = bounded(1);
        let state = Arc::new(AtomicU8::new(WAITING));
        submit(Lookup {
            target,
            state: state.clone(),
            reply,
        })?;
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let timer = left.map_or_else(crossbeam_channel::never, crossbeam_channel::after);
        let got = select_biased! {
            recv(link.cancel.waker()) -> _ => Err(super::socket::cancelled()),
            recv(answer) -> found => match found {
                Ok(Ok(addrs)) => return Ok(addrs),
                Ok(Err(e)) => Err(Error::Io(e)),
                Err(_) => Err(Error::HostNotFound),
            },
            recv(timer) -> _ => Err(Error::Timeout(reason)),
        };
        abandon(&state);
        got
    }
}
