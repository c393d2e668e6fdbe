//! The ureq agent a client's operations share, and with it the client's idle
//! connections: made on the first operation, shared by the client's clones, and
//! replaced (a new pool) when a setter changes what a connection depends on
//! (proxy, TLS, idle bounds); the old one closes with its last user.
//!
//! `backend_api_shutdown` closes the idle connections of every client: each agent
//! is registered as an operation of the library (`threads`), whose cancel shuts
//! the agent down (its idle connections closed; those in use are their
//! operations' to end, which the shutdown cancels too); the next operation of
//! the client makes a new agent. After `fork`, a child never uses a
//! pool its parent made (the parent's connections, shared by both processes,
//! stay the parent's): its operations on such a client each get an agent that
//! keeps nothing, until a setter gives the client a pool of the child's own.

use std::sync::{Arc, Mutex};

use crate::cancel::{lock, Canceller, HookGuard};
use crate::threads::Operation;

/// A client's pool (see the module docs); clones share it.
#[derive(Clone)]
pub(crate) struct Pool(Arc<Shared>);

struct Shared {
    /// The process that made the pool.
    owner: u32,
    agent: Mutex<Option<Entry>>,
}

/// The agent and what shuts it down with the library.
struct Entry {
    agent: ureq::Agent,
    cancel: Canceller,
    _hook: HookGuard,
    _operation: Operation,
}

impl Default for Pool {
    fn default() -> Pool {
        Pool(Arc::new(Shared {
            owner: std::process::id(),
            agent: Mutex::new(None),
        }))
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pool")
    }
}

impl Pool {
    /// The agent for an operation: the shared one, made by `make(true)` when there
    /// is none (first use, or after a shutdown); in a child of `fork` for a pool
    /// of the parent, `make(false)`, whose agent must keep no connection.
    pub(crate) fn agent(&self, make: impl FnOnce(bool) -> ureq::Agent) -> ureq::Agent {
        if self.0.owner != std::process::id() {
            return make(false);
        }
        let mut entry = lock(&self.0.agent);
        if let Some(e) = &*entry {
            if !e.cancel.is_cancelled() {
                return e.agent.clone();
            }
        }
        let agent = make(true);
        let cancel = Canceller::new();
        let closer = agent.clone();
        let hook = cancel.on_cancel(move || closer.clone().shutdown());
        let operation = Operation::begin(&cancel);
        // The earlier agent (shut down) closes once its last operation ends.
        *entry = Some(Entry {
            agent: agent.clone(),
            cancel,
            _hook: hook,
            _operation: operation,
        });
        agent
    }
}
