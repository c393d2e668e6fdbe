//! The streaming engine: a background thread performs the request (retrying it
//! while no answer has begun, when the client allows) and feeds decoded chunks, in
//! batches, through a channel budgeted in bytes; the reader takes them one at a
//! time with a timeout, can be cancelled from any thread, and can be driven by an
//! event loop through a descriptor. The stream keeps statistics and the assembled
//! answer.
//!
//! Closing never waits for the thread: the reader side is dropped, the stream is
//! cancelled (its connection shut), and the thread, which owns everything it
//! touches, finishes on its own: at once when it is reading or waiting, or when a
//! connection attempt in progress gives up (bounded by the CONNECT timeout).

use std::cell::OnceCell;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, select, unbounded, Receiver, Sender};

use crate::answer::Answer;
use crate::cancel::{lock, Canceller, HookGuard};
use crate::chunk::Chunk;
use crate::client::Client;
use crate::decoder::{Decoder, Progress};
use crate::error::{Error, Result, Status};
use crate::log::LogLevel;
use crate::notify::{Notifier, RawDescriptor};
use crate::request::Request;
use crate::{retry, transport};

/// Bytes asked of the body reader per read; one read's chunks travel as one batch.
const READ_SIZE: usize = 16 << 10;
/// Stack of the background thread: ureq and rustls need little.
const WORKER_STACK: usize = 256 << 10;
/// Bytes of decoded chunks a stream holds for its reader (in the channel and in
/// the batch being handed out) before its thread stops reading. A batch larger
/// than this (one long line) is let in alone, once the queue is empty.
pub const QUEUE_BYTES: usize = 128 << 10;
/// `idle_since` while the stream is not waiting on the server: before the
/// response headers, and while its thread waits for the reader to make room.
const NOT_WAITING: u64 = u64::MAX;

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

/// A terminal state: once reached, `next` returns it again and again.
#[derive(Debug, Clone)]
enum Terminal {
    End,
    Cancelled,
    Error(Error),
}

/// What travels from the worker to the reader: chunks with their footprint.
enum Msg {
    Chunks(Vec<Chunk>, usize),
    End,
    Fail(Error),
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
}

/// A moment after `start`, in microseconds, stored +1 so that 0 means "not yet".
#[derive(Default)]
struct Moment(AtomicU64);

impl Moment {
    fn mark(&self, start: Instant) {
        let us = start.elapsed().as_micros() as u64 + 1;
        let _ = self
            .0
            .compare_exchange(0, us, Ordering::Relaxed, Ordering::Relaxed);
    }
    fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed) as i64 - 1
    }
}

/// State shared by the reader, the worker and cancellers.
struct Shared {
    start: Instant,
    cancel: Canceller,
    /// Nanoseconds after `start` since which the stream has been waiting on the
    /// server for a chunk (its last chunk, or its thread's return to reading after
    /// a wait for room), or `NOT_WAITING`. The idle timeout counts from here, so a
    /// slow reader never makes the server look silent.
    idle_since: AtomicU64,
    agent: ureq::Agent,
    /// Made when the caller first asks for the event-loop descriptor; closed with
    /// the stream's reader side.
    notifier: RwLock<Option<Notifier>>,
    /// Footprint of the chunks decoded and not yet handed out.
    queued: AtomicUsize,
    /// The reader pokes it when it frees room in the queue.
    room_tx: Sender<()>,
    room_rx: Receiver<()>,
    bytes: AtomicU64,
    chunks: AtomicU64,
    skipped: AtomicU64,
    retries: AtomicU32,
    headers_at: Moment,
    first_chunk_at: Moment,
    ended_at: Moment,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn signal(&self) {
        if let Some(n) = &*self.notifier.read().unwrap_or_else(|e| e.into_inner()) {
            n.signal();
        }
    }

    /// The reader handed out a batch of this footprint: room for the worker.
    fn release(&self, footprint: usize) {
        if footprint > 0 {
            self.queued.fetch_sub(footprint, Ordering::AcqRel);
            let _ = self.room_tx.try_send(());
        }
    }
}

struct Reader {
    /// The rest of the batch being handed out, and the batch's footprint.
    pending: std::vec::IntoIter<Chunk>,
    pending_bytes: usize,
    terminal: Option<Terminal>,
}

/// One streaming answer. Dropping it cancels the request and shuts its
/// connection without waiting for the background thread (see the module docs).
pub struct Stream {
    shared: Arc<Shared>,
    rx: Receiver<Msg>,
    /// The reader state, taken out by the thread inside `next` (a timed lock:
    /// waiting for it honours the caller's timeout).
    reader: Mutex<Slot>,
    reader_back: Condvar,
    /// What the delivered chunks add up to; `None` when the client turned it off.
    answer: Option<Mutex<Answer>>,
    delivered: AtomicU64,
    idle: Option<Duration>,
    total: Option<Duration>,
    _hook: HookGuard,
}

/// The caller's timeout, made an instant only when a wait needs it: a chunk that
/// is already there costs no clock read.
struct Deadline {
    timeout: Option<Duration>,
    at: OnceCell<Instant>,
}

impl Deadline {
    fn get(&self) -> Option<Instant> {
        self.timeout
            .map(|t| *self.at.get_or_init(|| Instant::now() + t))
    }
}

/// Where the reader state waits between `next` calls, and how many calls wait for
/// it (the condition variable is signalled only when one does: no system call on
/// the uncontended path).
struct Slot {
    reader: Option<Reader>,
    waiting: usize,
}

/// The reader state while one `next` call holds it; put back when dropped.
struct Turn<'a> {
    stream: &'a Stream,
    reader: Option<Reader>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut slot = lock(&self.stream.reader);
        slot.reader = self.reader.take();
        let waiting = slot.waiting > 0;
        drop(slot);
        if waiting {
            self.stream.reader_back.notify_one();
        }
    }
}

impl Stream {
    /// Starts the request on a background thread and returns at once.
    pub fn open(client: &Client, request: &Request) -> Result<Stream> {
        let cancel = Canceller::new();
        let (tx, rx) = unbounded();
        let (room_tx, room_rx) = bounded(1);
        let shared = Arc::new(Shared {
            start: Instant::now(),
            cancel: cancel.clone(),
            idle_since: AtomicU64::new(NOT_WAITING),
            agent: client.agent(),
            notifier: RwLock::new(None),
            queued: AtomicUsize::new(0),
            room_tx,
            room_rx,
            bytes: AtomicU64::new(0),
            chunks: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            retries: AtomicU32::new(0),
            headers_at: Moment::default(),
            first_chunk_at: Moment::default(),
            ended_at: Moment::default(),
        });
        // Cancelling shuts the connection (a blocked read returns) and wakes an
        // event loop. Weak: a canceller kept after close holds no stream alive.
        let weak: Weak<Shared> = Arc::downgrade(&shared);
        let hook = cancel.on_cancel(move || {
            if let Some(s) = weak.upgrade() {
                s.agent.clone().shutdown();
                s.signal();
            }
        });
        let job = Job {
            shared: shared.clone(),
            client: client.clone(),
            request: request.clone(),
            tx,
        };
        std::thread::Builder::new()
            .name("backend-api".into())
            .stack_size(WORKER_STACK)
            .spawn(move || job.run())
            .map_err(|e| {
                Error::new(
                    Status::Internal,
                    format!("cannot start the stream's thread: {e}"),
                )
            })?;
        Ok(Stream {
            shared,
            rx,
            reader: Mutex::new(Slot {
                reader: Some(Reader {
                    pending: Vec::new().into_iter(),
                    pending_bytes: 0,
                    terminal: None,
                }),
                waiting: 0,
            }),
            reader_back: Condvar::new(),
            answer: client.assemble.then(|| Mutex::new(Answer::default())),
            delivered: AtomicU64::new(0),
            idle: client.timeouts.idle,
            total: client.timeouts.total,
            _hook: hook,
        })
    }

    /// Cancels the stream: any thread, any number of times. A blocked `next` wakes;
    /// unless the stream already ended, it and every later call return
    /// [`Next::Cancelled`]. The connection is shut.
    pub fn cancel(&self) {
        self.shared.cancel.cancel();
    }

    /// A handle that cancels this stream from any thread, also after the stream
    /// is dropped (it then does nothing).
    pub fn canceller(&self) -> Canceller {
        self.shared.cancel.clone()
    }

    /// Whether the stream was cancelled, or stopped by its idle or total timeout.
    pub fn is_cancelled(&self) -> bool {
        self.shared.cancel.is_cancelled()
    }

    /// Waits until no other thread is inside `next`, or until the deadline.
    fn turn(&self, deadline: &Deadline) -> Option<Turn<'_>> {
        let mut slot = lock(&self.reader);
        loop {
            if let Some(reader) = slot.reader.take() {
                return Some(Turn {
                    stream: self,
                    reader: Some(reader),
                });
            }
            let until = deadline.get();
            let left = match until {
                None => None,
                Some(u) => match u.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return None,
                },
            };
            slot.waiting += 1;
            slot = match left {
                None => self
                    .reader_back
                    .wait(slot)
                    .unwrap_or_else(|e| e.into_inner()),
                Some(left) => {
                    self.reader_back
                        .wait_timeout(slot, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
            slot.waiting -= 1;
        }
    }

    /// The next chunk, or how the stream ended. `timeout`: `None` waits for ever,
    /// zero only looks. Calls from several threads are served one at a time; each
    /// waits no longer than its own timeout, also for its turn.
    pub fn next(&self, timeout: Option<Duration>) -> Next {
        let deadline = Deadline {
            timeout,
            at: OnceCell::new(),
        };
        let Some(mut turn) = self.turn(&deadline) else {
            return Next::Again;
        };
        let reader = turn.reader.as_mut().expect("a turn holds the reader");
        let next = self.next_locked(reader, &deadline);
        if let Next::Chunk(c) = &next {
            if let Some(a) = &self.answer {
                lock(a).add(c);
            }
            self.delivered.fetch_add(1, Ordering::Relaxed);
        }
        // The descriptor stays readable while `next` would not block.
        if !matches!(next, Next::Again)
            && (reader.pending.len() > 0 || !self.rx.is_empty() || reader.terminal.is_some())
        {
            self.shared.signal();
        }
        next
    }

    fn next_locked(&self, reader: &mut Reader, deadline: &Deadline) -> Next {
        loop {
            if reader.terminal.is_none() && self.is_cancelled() {
                self.finish(reader, Terminal::Cancelled);
            }
            if let Some(t) = &reader.terminal {
                return match t {
                    Terminal::End => Next::End,
                    Terminal::Cancelled => Next::Cancelled,
                    Terminal::Error(e) => Next::Error(e.clone()),
                };
            }
            if let Some(c) = reader.pending.next() {
                if reader.pending.len() == 0 {
                    self.shared
                        .release(std::mem::take(&mut reader.pending_bytes));
                }
                return Next::Chunk(c);
            }
            // About to look at the channel: the descriptor goes quiet first, so a
            // message sent from now on signals it again.
            if let Some(n) = &*self
                .shared
                .notifier
                .read()
                .unwrap_or_else(|e| e.into_inner())
            {
                n.reset();
            }
            let until = deadline.get();
            let (limit, limit_error) = self.stream_deadline();
            let wake = match (until, limit) {
                (Some(u), Some(l)) => Some(u.min(l)),
                (u, l) => u.or(l),
            };
            let wait = wake.map(|w| w.saturating_duration_since(Instant::now()));
            let waker = self.shared.cancel.waker();
            let got = match wait {
                None => select! {
                    recv(self.rx) -> m => Some(m),
                    recv(waker) -> _ => None,
                },
                Some(w) => select! {
                    recv(self.rx) -> m => Some(m),
                    recv(waker) -> _ => None,
                    default(w) => {
                        let now = Instant::now();
                        // Fails only when the deadline still holds now that we
                        // look again and nothing is queued.
                        if limit.is_some_and(|l| now >= l)
                            && self.stream_deadline().0 == limit
                            && self.rx.is_empty()
                        {
                            self.shared.cancel.cancel();
                            self.finish(reader, Terminal::Error(limit_error));
                        } else if until.is_some_and(|u| now >= u) {
                            return Next::Again;
                        }
                        continue;
                    }
                },
            };
            match got {
                None => continue,
                Some(Ok(Msg::Chunks(batch, bytes))) => {
                    reader.pending = batch.into_iter();
                    reader.pending_bytes = bytes;
                }
                // The thread's last word after a cancel is the cancel's doing (a
                // connection shut mid-read ends cleanly or breaks): CANCELLED.
                Some(Ok(Msg::End | Msg::Fail(_))) if self.is_cancelled() => {
                    self.finish(reader, Terminal::Cancelled)
                }
                Some(Ok(Msg::End)) => self.finish(reader, Terminal::End),
                Some(Ok(Msg::Fail(e))) => self.finish(reader, Terminal::Error(e)),
                Some(Err(_)) => self.finish(
                    reader,
                    Terminal::Error(Error::new(
                        Status::Internal,
                        "the stream's thread ended without a result",
                    )),
                ),
            }
        }
    }

    /// Makes `terminal` final and drops what was not handed out.
    fn finish(&self, reader: &mut Reader, terminal: Terminal) {
        reader.terminal = Some(terminal);
        reader.pending = Vec::new().into_iter();
        self.shared
            .release(std::mem::take(&mut reader.pending_bytes));
    }

    /// The earliest of the idle and total deadlines, and the error each one means.
    fn stream_deadline(&self) -> (Option<Instant>, Error) {
        let start = self.shared.start;
        let since = self.shared.idle_since.load(Ordering::Acquire);
        let idle = self.idle.filter(|_| since != NOT_WAITING).map(|d| {
            (
                start + Duration::from_nanos(since) + d,
                format!("no chunk arrived for {} ms (idle timeout)", d.as_millis()),
            )
        });
        let total = self.total.map(|d| {
            (
                start + d,
                format!(
                    "the stream ran longer than {} ms (total timeout)",
                    d.as_millis()
                ),
            )
        });
        match [idle, total]
            .into_iter()
            .flatten()
            .min_by_key(|(at, _)| *at)
        {
            Some((at, why)) => (Some(at), Error::new(Status::TimedOut, why)),
            None => (None, Error::new(Status::TimedOut, "")),
        }
    }

    /// How long until `next` would fail with an idle or total timeout; `None` when
    /// no such timeout runs now, or once nothing more can arrive (the stream's
    /// thread finished or the stream was cancelled). Event loops use it as their
    /// poll timeout.
    pub fn time_to_deadline(&self) -> Option<Duration> {
        if self.shared.ended_at.get() >= 0 || self.is_cancelled() {
            return None;
        }
        self.stream_deadline()
            .0
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// A descriptor (a file descriptor; a `SOCKET` on Windows) that is readable
    /// whenever `next` would not block (a chunk, the end or an error is there, or
    /// the stream was cancelled). Made on first use; closed with the stream.
    pub fn ready_descriptor(&self) -> Result<RawDescriptor> {
        let mut slot = self
            .shared
            .notifier
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = &*slot {
            return Ok(n.descriptor());
        }
        let made = Notifier::new().map_err(|e| {
            Error::new(
                Status::Internal,
                format!("cannot make the stream's descriptor: {e}"),
            )
        })?;
        // Whatever arrived before the descriptor existed: signal once, maybe
        // spuriously (`next(0)` then says AGAIN).
        made.signal();
        let d = made.descriptor();
        *slot = Some(made);
        Ok(d)
    }

    /// The statistics so far.
    pub fn stats(&self) -> Stats {
        let s = &self.shared;
        let ended = s.ended_at.get();
        Stats {
            bytes: s.bytes.load(Ordering::Relaxed),
            chunks: s.chunks.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            skipped: s.skipped.load(Ordering::Relaxed),
            retries: s.retries.load(Ordering::Relaxed),
            headers_us: s.headers_at.get(),
            first_chunk_us: s.first_chunk_at.get(),
            elapsed_us: if ended >= 0 {
                ended
            } else {
                s.start.elapsed().as_micros() as i64
            },
            ended: ended >= 0,
            queued_bytes: s.queued.load(Ordering::Relaxed) as u64,
        }
    }

    /// What the chunks handed out by `next` so far add up to (empty when the
    /// client turned assembling off).
    pub fn answer(&self) -> Answer {
        self.answer
            .as_ref()
            .map(|a| lock(a).clone())
            .unwrap_or_default()
    }

    /// [`Stream::answer`] as the JSON of an `"answer"` chunk, without a copy of it.
    pub fn answer_json(&self) -> String {
        match &self.answer {
            Some(a) => lock(a).to_json(),
            None => Answer::default().to_json(),
        }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.cancel();
        // The descriptor closes now, not when the thread finishes.
        *self
            .shared
            .notifier
            .write()
            .unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Everything the background thread owns.
struct Job {
    shared: Arc<Shared>,
    client: Client,
    request: Request,
    tx: Sender<Msg>,
}

impl Job {
    /// Logs a record, unless the stream was cancelled or closed: from then on a
    /// stream sends no records, so closing never waits on the caller's sink.
    fn log(&self, level: LogLevel, make: impl FnOnce() -> String) {
        if !self.shared.cancel.is_cancelled() {
            self.client.logger.log(level, make);
        }
    }

    fn run(self) {
        let outcome = catch_unwind(AssertUnwindSafe(|| self.stream()));
        let last = match outcome {
            Ok(Ok(())) => Msg::End,
            Ok(Err(e)) => Msg::Fail(e),
            Err(_) => Msg::Fail(Error::new(Status::Internal, "the stream's thread panicked")),
        };
        self.shared.ended_at.mark(self.shared.start);
        let s = &self.shared;
        self.log(LogLevel::Info, || {
            let how = match &last {
                Msg::Fail(e) => format!("failed ({}): {}", e.status.name(), e.message),
                _ => "ended".to_owned(),
            };
            format!(
                "stream {how}; {} chunks, {} bytes, {} retries in {} ms",
                s.chunks.load(Ordering::Relaxed),
                s.bytes.load(Ordering::Relaxed),
                s.retries.load(Ordering::Relaxed),
                s.start.elapsed().as_millis()
            )
        });
        if self.tx.send(last).is_ok() {
            self.shared.signal();
        }
    }

    /// Hands a batch to the reader once the queue has room for it (or is empty);
    /// false once the stream is cancelled or closed.
    fn send(&self, batch: Vec<Chunk>) -> bool {
        let s = &self.shared;
        let size: usize = batch.iter().map(Chunk::footprint).sum();
        loop {
            let queued = s.queued.load(Ordering::Acquire);
            if queued == 0 || queued + size <= QUEUE_BYTES {
                break;
            }
            // The reader is behind: the server is not what we wait on now.
            s.idle_since.store(NOT_WAITING, Ordering::Release);
            select! {
                recv(s.room_rx) -> _ => {}
                recv(s.cancel.waker()) -> _ => return false,
            }
        }
        s.queued.fetch_add(size, Ordering::AcqRel);
        s.chunks.fetch_add(batch.len() as u64, Ordering::Relaxed);
        s.first_chunk_at.mark(s.start);
        if self.tx.send(Msg::Chunks(batch, size)).is_err() {
            return false;
        }
        // Back to waiting on the server: the idle clock starts now.
        s.idle_since.store(s.now_ns(), Ordering::Release);
        s.signal();
        true
    }

    /// Sends the request, retrying failures before any answer as the client's
    /// policy allows; `None` when cancelled while waiting to retry.
    fn connect(&self) -> Result<Option<ureq::Body>> {
        let policy = self.client.retry;
        let url = self.client.redacted_url(self.client.protocol.chat_path());
        let noise = std::collections::hash_map::RandomState::new();
        for attempt in 0.. {
            self.log(LogLevel::Info, || {
                format!(
                    "POST {url} model={:?} attempt {}",
                    self.request.model(),
                    attempt + 1
                )
            });
            self.log(LogLevel::Debug, || {
                format!(
                    "extra headers: {:?} {:?}",
                    self.client.headers(),
                    self.request.headers()
                )
            });
            let e =
                match transport::post_conversation(&self.shared.agent, &self.client, &self.request)
                {
                    Ok(body) => {
                        let s = &self.shared;
                        s.headers_at.mark(s.start);
                        s.idle_since.store(s.now_ns(), Ordering::Release);
                        self.log(LogLevel::Debug, || {
                            format!(
                                "response headers after {} ms",
                                s.start.elapsed().as_millis()
                            )
                        });
                        return Ok(Some(body));
                    }
                    Err(e) => e,
                };
            if attempt >= policy.max_retries
                || !retry::retryable(&e)
                || self.shared.cancel.is_cancelled()
            {
                return Err(e);
            }
            let delay = policy.delay(
                attempt,
                e.retry_after,
                std::hash::BuildHasher::hash_one(&noise, attempt),
            );
            self.log(LogLevel::Warn, || {
                format!(
                    "attempt {} failed: {}; retrying in {} ms",
                    attempt + 1,
                    e.message,
                    delay.as_millis()
                )
            });
            self.shared.retries.fetch_add(1, Ordering::Relaxed);
            if self
                .shared
                .cancel
                .waker()
                .recv_timeout(delay)
                .is_err_and(|e| e.is_disconnected())
            {
                return Ok(None);
            }
        }
        unreachable!("the loop returns")
    }

    fn stream(&self) -> Result<()> {
        let Some(body) = self.connect()? else {
            return Ok(());
        };
        let mut reader = body.into_reader();
        let mut decoder = Decoder::for_protocol(
            self.client.protocol,
            self.client.max_line,
            self.client.skip_malformed,
        );
        let mut buf = vec![0u8; READ_SIZE];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(n) => n,
                Err(_) if self.shared.cancel.is_cancelled() => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(transport::map_io_error(e)),
            };
            self.shared.bytes.fetch_add(n as u64, Ordering::Relaxed);
            let mut batch = Vec::new();
            let progress = if n == 0 {
                decoder.finish(&mut |c| batch.push(c))
            } else {
                decoder.feed(&buf[..n], &mut |c| batch.push(c))
            };
            self.shared
                .skipped
                .store(decoder.skipped(), Ordering::Relaxed);
            self.log(LogLevel::Trace, || {
                format!("read {n} bytes: {} chunks", batch.len())
            });
            // Chunks decoded before an error still reach the reader, in order.
            if !batch.is_empty() && !self.send(batch) {
                return Ok(());
            }
            if progress? == Progress::Done || n == 0 {
                return Ok(());
            }
        }
    }
}
