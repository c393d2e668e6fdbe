//! Name resolution for ureq: literal addresses need none; host names are looked up
//! on a small process-wide pool of threads ([`POOL_THREADS`] at most), never on the
//! stream's thread, so a cancel or the CONNECT timeout ends the wait at once. A
//! lookup given up before it started is dropped; one under way holds its pool
//! thread until the system's resolver answers (getaddrinfo cannot be interrupted),
//! never the stream. Pool threads exit as soon as the queue is empty.

use std::collections::VecDeque;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Instant;

use crossbeam_channel::{bounded, select_biased, Receiver, Sender};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;
use ureq::Error;

use super::Link;
use crate::cancel::lock;

/// Most threads resolving at once, for the whole process.
pub(crate) const POOL_THREADS: usize = 4;
/// Stack of a pool thread: the system's resolver (NSS modules) may want more than
/// the stream's thread does.
const POOL_STACK: usize = 1 << 20;

/// Resolves through the pool, bounded by the step's timeout and the operation's
/// clock, ended at once by its cancel.
#[derive(Debug)]
pub(crate) struct PoolResolver(pub(crate) Arc<Link>);

/// One lookup waiting in the queue.
struct Lookup {
    /// `host:port`.
    target: String,
    /// Set when the asker stopped waiting: not started then. Release by the asker,
    /// Acquire by the pool's thread; a lone flag, no other data rides on it.
    abandoned: Arc<AtomicBool>,
    reply: Sender<std::io::Result<Vec<SocketAddr>>>,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Lookup>,
    threads: usize,
}

static QUEUE: LazyLock<Mutex<Queue>> = LazyLock::new(Mutex::default);

/// Queues a lookup, starting a pool thread when fewer than the maximum run.
fn submit(lookup: Lookup) -> std::io::Result<()> {
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

/// A pool thread: takes lookups until the queue is empty, then exits.
fn serve() {
    loop {
        let next = {
            let mut q = lock(&QUEUE);
            loop {
                match q.waiting.pop_front() {
                    Some(l) if l.abandoned.load(Ordering::Acquire) => continue,
                    Some(l) => break Some(l),
                    None => {
                        q.threads -= 1;
                        break None;
                    }
                }
            }
        };
        let Some(lookup) = next else { return };
        let found = lookup
            .target
            .to_socket_addrs()
            .map(|addrs| addrs.collect::<Vec<_>>());
        let _ = lookup.reply.send(found);
    }
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
        let link = &self.0;
        if link.cancel.is_cancelled() {
            return Err(super::socket::cancelled());
        }
        let (deadline, reason) = link.step_deadline(timeout);
        let (reply, answer): (_, Receiver<_>) = bounded(1);
        let abandoned = Arc::new(AtomicBool::new(false));
        submit(Lookup {
            target,
            abandoned: abandoned.clone(),
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
        abandoned.store(true, Ordering::Release);
        got
    }
}
