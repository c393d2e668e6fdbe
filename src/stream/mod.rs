//! The streaming engine. A stream's worker (its own thread, `worker`) performs the
//! request and feeds decoded chunks, in batches, through a channel budgeted in
//! bytes; the reader side (this module, with `reader`) hands them out one at a
//! time with the caller's timeout, can be cancelled from any thread, and can be
//! driven by an event loop through a descriptor. The worker owns every network
//! clock: the reader waits only for the channel, a cancel or its caller's timeout.
//!
//! Closing never waits for the worker: the reader side is dropped, the stream is
//! cancelled, and the worker, which owns everything it touches, finishes on its
//! own at once (every network wait also watches the cancel, see `net`).

mod batch;
mod reader;
mod shared;
mod worker;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crossbeam_channel::{select_biased, unbounded, Receiver};

use crate::answer::Answer;
use crate::cancel::{Canceller, HookGuard};
use crate::chunk::Chunk;
use crate::client::Client;
use crate::error::{Error, Result, Status};
use crate::net::{Clock, Link};
use crate::notify::RawDescriptor;
use crate::request::Request;
use crate::response_headers::ResponseHeaders;
use crate::threads::{self, Operation};

use reader::{Assembled, CallerDeadline, Cursor, Terminal, TimedLock};
use shared::{Budget, Counters, Readiness, Shared};
use worker::{Job, Msg};

/// Stack of the worker: ureq and rustls need little.
const WORKER_STACK: usize = 256 << 10;

/// What `next` returns.
#[derive(Debug)]
pub enum Next {
    Chunk(Chunk),
    End,
    /// Nothing arrived within the caller's timeout: call again.
    Again,
    Cancelled,
    Error(Error),
}

/// A stream's statistics. Times are microseconds since `open`; -1 until known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Response body bytes read (after HTTP framing).
    pub bytes: u64,
    /// Chunks decoded by the stream's thread.
    pub chunks: u64,
    /// Chunks handed to the caller by `next`.
    pub delivered: u64,
    /// Malformed lines skipped (with skip-malformed on).
    pub skipped: u64,
    /// Requests sent again after a failure before any answer.
    pub retries: u32,
    /// When the response headers arrived.
    pub headers_us: i64,
    /// When the first chunk was decoded.
    pub first_chunk_us: i64,
    /// How long the stream ran: until it ended, or until now.
    pub elapsed_us: i64,
    /// The stream's thread has finished: nothing more will arrive.
    pub ended: bool,
    /// Bytes of decoded chunks waiting for the caller.
    pub queued_bytes: u64,
    /// The answer came on a connection an earlier request of the client had used.
    pub reused_connection: bool,
}

/// One streaming answer. Dropping it cancels the request without waiting for the
/// worker (see the module docs).
pub struct Stream {
    shared: Arc<Shared>,
    rx: Receiver<Msg>,
    /// Served to one `next` call at a time; waiting for it honours the caller's timeout.
    /// Boxed: the lock moves its value out and back in on every call.
    cursor: TimedLock<Box<Cursor>>,
    /// `None` when the client turned assembling off.
    answer: Option<Assembled>,
    /// The assembled answer's bound in bytes ([`Answer::size`]).
    max_answer: usize,
    /// Chunks handed out by `next`; Relaxed: a statistic written under `cursor`.
    delivered: AtomicU64,
    _hook: HookGuard,
}

impl Stream {
    /// Starts the request on the stream's own thread and returns at once. Fails
    /// with [`Status::Limit`] when the system refuses a thread.
    pub fn open(client: &Client, request: &Request) -> Result<Stream> {
        let start = Instant::now();
        let cancel = Canceller::new();
        let link = Arc::new(Link {
            cancel: cancel.clone(),
            clock: Clock::new(start, client.timeouts.idle, client.timeouts.total),
        });
        let (tx, rx) = unbounded();
        let shared = Arc::new(Shared {
            start,
            agent: client.agent(None),
            link,
            budget: Budget::new(),
            counters: Counters::default(),
            readiness: Readiness::default(),
            response_headers: Mutex::new(Vec::new()),
        });
        // A cancel wakes an event loop (the connection in use is shut by its
        // own hook in `net`). Weak: a canceller kept after close holds no
        // stream alive.
        let weak: Weak<Shared> = Arc::downgrade(&shared);
        let hook = cancel.on_cancel(move || {
            if let Some(s) = weak.upgrade() {
                s.readiness.signal();
            }
        });
        let job = Job {
            shared: shared.clone(),
            client: client.clone(),
            request: request.clone(),
            tx,
            _operation: Operation::begin(&cancel),
        };
        threads::spawn("backend-api", WORKER_STACK, move || job.run()).map_err(|e| {
            Error::new(
                Status::Limit,
                format!("cannot start the stream's thread: {e}"),
            )
        })?;
        Ok(Stream {
            shared,
            rx,
            cursor: TimedLock::new(Box::new(Cursor::new())),
            answer: client
                .assemble
                .then(|| Assembled::new(Answer::new(client.base_url()))),
            max_answer: client.max_answer,
            delivered: AtomicU64::new(0),
            _hook: hook,
        })
    }

    /// Cancels the stream: any thread, any number of times. A blocked `next` wakes;
    /// unless the stream already ended, it and every later call return
    /// [`Next::Cancelled`]. The connection is shut.
    pub fn cancel(&self) {
        self.shared.link.cancel.cancel();
    }

    /// A handle that cancels this stream from any thread, also after the stream
    /// is dropped (it then does nothing).
    pub fn canceller(&self) -> Canceller {
        self.shared.link.cancel.clone()
    }

    /// Whether the stream was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.shared.link.cancel.is_cancelled()
    }

    /// The next chunk, or how the stream ended. `timeout`: `None` waits for ever,
    /// zero only looks. Calls from several threads are served one at a time; each
    /// waits no longer than its own timeout, also for its turn.
    pub fn next(&self, timeout: Option<Duration>) -> Next {
        let deadline = CallerDeadline::new(timeout);
        let Some(mut cursor) = self.cursor.acquire(&deadline) else {
            return Next::Again;
        };
        let next = self.next_held(&mut cursor, &deadline);
        if let Next::Chunk(c) = &next {
            if let Some(a) = &self.answer {
                a.add(c);
            }
            // Written under the cursor only: a store, not a read-modify-write.
            let delivered = self.delivered.load(Ordering::Relaxed);
            self.delivered.store(delivered + 1, Ordering::Relaxed);
        }
        // The descriptor stays readable while `next` would not block.
        if !matches!(next, Next::Again)
            && (cursor.pending.len() > 0 || !self.rx.is_empty() || cursor.terminal.is_some())
        {
            self.shared.readiness.still_ready();
        }
        next
    }

    fn next_held(&self, cursor: &mut Cursor, deadline: &CallerDeadline) -> Next {
        loop {
            if cursor.terminal.is_none() && self.is_cancelled() {
                self.finish(cursor, Terminal::Cancelled);
            }
            if let Some(t) = &cursor.terminal {
                return match t {
                    Terminal::End => Next::End,
                    Terminal::Cancelled => Next::Cancelled,
                    Terminal::Error(e) => Next::Error(e.clone()),
                };
            }
            if let Some(c) = cursor.pending.next() {
                if cursor.pending.len() == 0 {
                    // The batch's buffer goes with its share of the budget.
                    cursor.pending = Default::default();
                    self.shared
                        .budget
                        .release(std::mem::take(&mut cursor.pending_bytes));
                }
                if self.answer.is_some() {
                    // The assembled answer's bound, checked before the chunk is
                    // delivered: past it the stream ends instead.
                    let size = cursor.assembled.saturating_add(Answer::growth(&c));
                    if size > self.max_answer {
                        self.finish(cursor, Terminal::Error(Answer::over_limit(self.max_answer)));
                        continue;
                    }
                    cursor.assembled = size;
                }
                return Next::Chunk(c);
            }
            self.shared.readiness.reset();
            let waker = self.shared.link.cancel.waker();
            let got = match deadline.at() {
                None => select_biased! {
                    recv(self.rx) -> m => m,
                    recv(waker) -> _ => continue,
                },
                Some(at) => select_biased! {
                    recv(self.rx) -> m => m,
                    recv(waker) -> _ => continue,
                    default(at.saturating_duration_since(Instant::now())) => return Next::Again,
                },
            };
            match got {
                Ok(Msg::Chunks(batch, bytes)) => {
                    cursor.pending = batch.into_iter();
                    cursor.pending_bytes = bytes;
                }
                // The worker's last word after a cancel is the cancel's doing (a
                // connection shut mid-read ends cleanly or breaks): CANCELLED.
                Ok(Msg::End | Msg::Fail(_)) if self.is_cancelled() => {
                    self.finish(cursor, Terminal::Cancelled)
                }
                Ok(Msg::End) => self.finish(cursor, Terminal::End),
                Ok(Msg::Fail(e)) => self.finish(cursor, Terminal::Error(e)),
                Err(_) => self.finish(
                    cursor,
                    Terminal::Error(Error::new(
                        Status::Internal,
                        "the stream's thread ended without a result",
                    )),
                ),
            }
        }
    }

    /// Makes `terminal` final and drops what was not handed out.
    fn finish(&self, cursor: &mut Cursor, terminal: Terminal) {
        cursor.terminal = Some(terminal);
        cursor.pending = Default::default();
        self.shared
            .budget
            .release(std::mem::take(&mut cursor.pending_bytes));
    }

    /// How long until the stream's idle or total timeout would end it; `None` when
    /// neither runs now, or once nothing more can arrive. The worker ends the
    /// stream itself at that moment and the descriptor turns readable, so an event
    /// loop may also simply wait without a timeout.
    pub fn time_to_deadline(&self) -> Option<Duration> {
        if self.shared.counters.ended_at.get() >= 0 || self.is_cancelled() {
            return None;
        }
        self.shared
            .link
            .clock
            .deadline()
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// A descriptor (a file descriptor; a `SOCKET` on Windows) that is readable
    /// whenever `next` would not block (a chunk, the end or an error is there, or
    /// the stream was cancelled). Made on first use; closed with the stream.
    pub fn ready_descriptor(&self) -> Result<RawDescriptor> {
        self.shared
            .readiness
            .descriptor()
            .map_err(|e| crate::notify::descriptor_error(e, "the stream's descriptor"))
    }

    /// The statistics so far.
    pub fn stats(&self) -> Stats {
        let s = &self.shared;
        let c = &s.counters;
        let ended = c.ended_at.get();
        Stats {
            bytes: c.bytes.load(Ordering::Relaxed),
            chunks: c.chunks.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            skipped: c.skipped.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            headers_us: c.headers_at.get(),
            first_chunk_us: c.first_chunk_at.get(),
            elapsed_us: if ended >= 0 {
                ended
            } else {
                s.start.elapsed().as_micros() as i64
            },
            ended: ended >= 0,
            queued_bytes: s.budget.queued() as u64,
            reused_connection: c.reused.load(Ordering::Relaxed),
        }
    }

    /// The headers of the last response, once one arrived: the one that
    /// answered, or the error of the last attempt (a 429's rate-limit headers).
    /// Each stays alive with the stream, so references into it stay valid.
    pub fn response_headers(&self) -> Option<Arc<ResponseHeaders>> {
        let all = self
            .shared
            .response_headers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        all.last().cloned()
    }

    /// What the chunks handed out by `next` so far add up to (empty when the
    /// client turned assembling off).
    pub fn answer(&self) -> Answer {
        self.answer
            .as_ref()
            .map(|a| a.read(Answer::clone))
            .unwrap_or_default()
    }

    /// [`Stream::answer`] as the JSON of an `"answer"` chunk, without a copy of it.
    pub fn answer_json(&self) -> String {
        match &self.answer {
            Some(a) => a.read(Answer::to_json),
            None => Answer::default().to_json(),
        }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.cancel();
        // A log record past its last look at the cancel reaches the user's code
        // now or never: none starts afterwards.
        self.shared.link.cancel.settle();
        // The descriptor closes now, not when the worker finishes.
        self.shared.readiness.close();
    }
}
