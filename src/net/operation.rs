//! Which operation the network steps of a thread belong to, and which operation
//! each connection belongs to while it is in use.
//!
//! A client's connections outlive the operations (streams, model listings, media
//! fetches) that use them: an idle one waits in the client's pool for the next.
//! The operation's thread enters a [`Scope`] for the whole operation (the stream's
//! worker for its request and body, the caller's thread for a listing); the
//! resolver, the connectors and every read and write find the operation's
//! [`Link`] through it. A connection is [`Tie`]d to the operation using it: its
//! cancel shuts exactly that socket down, its clock bounds the socket's waits. A
//! connection that goes idle (into the pool) is untied at once, and when the
//! operation ends every connection it tied is untied too, so a later cancel or
//! close of a finished stream never touches a pooled socket.
//!
//! Each request (one attempt) also notes what happened on its connection: whether
//! it was a reused one, whether any byte of the answer arrived (the condition of
//! the one transparent retry of a stale connection, see `transport`), and whether
//! the connection must not be kept (an error status).

use std::cell::RefCell;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};

use super::clock::Clock;
use super::link::Link;
use crate::cancel::{lock, Canceller, HookGuard};

/// What one request (attempt) saw of its connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Exchange {
    /// The connection had served an earlier request (it came from the pool).
    pub(crate) reused: bool,
    /// A byte of the answer arrived (after TLS: the server's HTTP bytes).
    pub(crate) answered: bool,
    /// The connection must not go back to the pool once the exchange ends.
    pub(crate) discard: bool,
}

/// The operation this thread runs.
struct Current {
    link: Arc<Link>,
    /// Connections tied to it (weakly): untied when it ends.
    ties: Vec<Weak<Tie>>,
    exchange: Exchange,
}

thread_local! {
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
}

/// Until dropped, the network steps of this thread belong to one operation.
/// Not `Send`: it marks the thread that entered it.
pub(crate) struct Scope {
    previous: Option<Current>,
    _thread_bound: std::marker::PhantomData<*const ()>,
}

/// The network steps of this thread belong to `link`'s operation until the
/// returned scope is dropped.
pub(crate) fn enter(link: Arc<Link>) -> Scope {
    let current = Current {
        link,
        ties: Vec::new(),
        exchange: Exchange::default(),
    };
    Scope {
        previous: CURRENT.with(|c| c.borrow_mut().replace(current)),
        _thread_bound: std::marker::PhantomData,
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let ended = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), self.previous.take()));
        if let Some(ended) = ended {
            for tie in ended.ties.iter().filter_map(Weak::upgrade) {
                tie.untie_from(&ended.link);
            }
        }
    }
}

fn with<R>(f: impl FnOnce(&mut Current) -> R) -> Option<R> {
    CURRENT.with(|c| c.borrow_mut().as_mut().map(f))
}

/// Outside every operation (never on a path the library takes): no cancel, no clock.
static UNBOUND: LazyLock<Arc<Link>> = LazyLock::new(|| {
    Arc::new(Link {
        cancel: Canceller::new(),
        clock: Clock::new(std::time::Instant::now(), None, None),
    })
});

/// The link of this thread's operation.
pub(super) fn link() -> Arc<Link> {
    with(|c| c.link.clone()).unwrap_or_else(|| UNBOUND.clone())
}

/// A request (an attempt) begins: what its connection sees is noted afresh.
pub(crate) fn exchange_begins() {
    with(|c| c.exchange = Exchange::default());
}

/// What the current request saw of its connection so far.
pub(crate) fn exchange() -> Exchange {
    with(|c| c.exchange).unwrap_or_default()
}

/// The current request's connection is closed at its end instead of kept.
pub(crate) fn discard_connection() {
    with(|c| c.exchange.discard = true);
}

pub(super) fn note(change: impl FnOnce(&mut Exchange)) {
    with(|c| change(&mut c.exchange));
}

/// A connection's tie to the operation using it (see the module docs).
pub(super) struct Tie {
    stream: Weak<TcpStream>,
    /// The operation using the connection; `None` while idle. Changed under the
    /// lock, and a cancel's hook looks at it under the lock, so a hook of an
    /// operation the connection left never shuts it.
    tied: Mutex<Option<Tied>>,
    /// Shut by a cancel, or failed: never reused. SeqCst: read on another thread
    /// than the one that sets it (the pool's probe after a cancel's hook).
    broken: AtomicBool,
    /// The process that made the connection: in a child of `fork` it is the
    /// parent's, never used.
    owner: u32,
}

struct Tied {
    link: Arc<Link>,
    _hook: HookGuard,
}

impl Tie {
    pub(super) fn new(stream: &Arc<TcpStream>) -> Arc<Tie> {
        Arc::new(Tie {
            stream: Arc::downgrade(stream),
            tied: Mutex::new(None),
            broken: AtomicBool::new(false),
            owner: std::process::id(),
        })
    }

    /// Ties the connection to this thread's operation, unless it is already; the
    /// operation's link.
    pub(super) fn tie(self: &Arc<Self>) -> Arc<Link> {
        let link = link();
        if let Some(t) = &*lock(&self.tied) {
            if Arc::ptr_eq(&t.link, &link) {
                return link;
            }
        }
        let weak = Arc::downgrade(self);
        let by = Arc::as_ptr(&link) as usize;
        // Registered before taking the lock: a hook that runs at once (the
        // operation is cancelled already) takes it.
        let hook = link.cancel.on_cancel(move || {
            if let Some(tie) = weak.upgrade() {
                tie.cut_if_tied_to(by);
            }
        });
        let before = lock(&self.tied).replace(Tied {
            link: link.clone(),
            _hook: hook,
        });
        // Its guard unregisters the earlier hook outside the lock.
        drop(before);
        if link.cancel.is_cancelled() {
            self.cut_if_tied_to(by);
        }
        let me = Arc::downgrade(self);
        with(|c| c.ties.push(me));
        link
    }

    /// Unties the connection from whatever operation: it goes idle.
    pub(super) fn untie(&self) {
        let before = lock(&self.tied).take();
        drop(before);
    }

    /// Unties the connection from `link`'s operation, if still tied to it.
    fn untie_from(&self, link: &Arc<Link>) {
        let mut tied = lock(&self.tied);
        if tied.as_ref().is_some_and(|t| Arc::ptr_eq(&t.link, link)) {
            let before = tied.take();
            drop(tied);
            drop(before);
        }
    }

    /// A cancel's hook: shuts the socket down if it still serves the cancelled
    /// operation (`by`, its link's address).
    fn cut_if_tied_to(&self, by: usize) {
        let tied = lock(&self.tied);
        if tied
            .as_ref()
            .is_some_and(|t| Arc::as_ptr(&t.link) as usize == by)
        {
            self.broken.store(true, Ordering::SeqCst);
            if let Some(s) = self.stream.upgrade() {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        }
    }

    /// The connection failed (an error, a time-out): never reused.
    pub(super) fn break_off(&self) {
        self.broken.store(true, Ordering::SeqCst);
    }

    /// Whether the connection may serve another request as far as its owner
    /// knows: not broken, this process's, and its request did not ask to discard it.
    pub(super) fn reusable(&self) -> bool {
        !self.broken.load(Ordering::SeqCst)
            && self.owner == std::process::id()
            && !exchange().discard
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn pair() -> (Arc<TcpStream>, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = Arc::new(TcpStream::connect(l.local_addr().unwrap()).unwrap());
        (a, l.accept().unwrap().0)
    }

    fn operation() -> Arc<Link> {
        Arc::new(Link {
            cancel: Canceller::new(),
            clock: Clock::new(std::time::Instant::now(), None, None),
        })
    }

    #[test]
    fn a_cancel_shuts_a_connection_only_while_tied_to_its_operation() {
        let (a, _b) = pair();
        let tie = Tie::new(&a);
        let first = operation();
        {
            let _scope = enter(first.clone());
            assert!(Arc::ptr_eq(&tie.tie(), &first));
        }
        // The operation ended: its cancel no longer touches the connection.
        first.cancel.cancel();
        assert!(tie.reusable());
        let second = operation();
        let _scope = enter(second.clone());
        tie.tie();
        tie.untie();
        second.cancel.cancel();
        assert!(tie.reusable(), "an idle connection is nobody's to cut");
        let third = operation();
        let _inner = enter(third.clone());
        tie.tie();
        third.cancel.cancel();
        assert!(!tie.reusable());
        let mut byte = [0u8];
        assert_eq!(a.peek(&mut byte).unwrap(), 0, "shut down");
    }

    #[test]
    fn a_request_may_ask_to_discard_its_connection() {
        let (a, _b) = pair();
        let tie = Tie::new(&a);
        let _scope = enter(operation());
        exchange_begins();
        assert!(tie.reusable());
        discard_connection();
        assert!(!tie.reusable());
        exchange_begins();
        assert!(tie.reusable());
    }
}
