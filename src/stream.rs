//! The streaming engine: a background thread performs the request (retrying it
//! while no answer has begun, when the client allows) and feeds decoded chunks, in
//! batches, through a bounded channel; the reader takes them one at a time with a
//! timeout, can be cancelled from any thread, and can be driven by an event loop
//! through a descriptor. The stream keeps statistics and the assembled answer.

use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, select, Receiver, Sender};

use crate::answer::Answer;
use crate::chunk::Chunk;
use crate::client::Client;
use crate::decoder::{Decoder, Progress};
use crate::error::{Error, Result, Status};
use crate::log::LogLevel;
use crate::notify::Notifier;
use crate::request::Request;
use crate::{retry, transport};

/// Bytes asked of the body reader per read; one read's chunks travel as one batch.
const READ_SIZE: usize = 16 << 10;
/// Stack of the background thread: ureq and rustls need little.
const WORKER_STACK: usize = 256 << 10;

/// What `next` returns.
#[derive(Debug)]
pub enum Next {
    Chunk(Chunk),
    End,
    /// Nothing arrived within the caller's timeout: call again.
    Timeout,
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

/// What travels from the worker to the reader.
enum Msg {
    Chunks(Vec<Chunk>),
    End,
    Fail(Error),
}

/// A stream's statistics. Times are microseconds since `open`; -1 until known.
#[repr(C)]
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
    /// Nanoseconds after `start` of the last chunk decoded.
    last_chunk: AtomicU64,
    cancelled: AtomicBool,
    /// Dropped on cancel: every `select!` on the paired receiver wakes at once.
    cancel_tx: Mutex<Option<Sender<()>>>,
    agent: ureq::Agent,
    /// Made when the caller first asks for the event-loop descriptor.
    notifier: OnceLock<Notifier>,
    bytes: AtomicU64,
    chunks: AtomicU64,
    skipped: AtomicU64,
    retries: AtomicU32,
    headers_at: Moment,
    first_chunk_at: Moment,
    ended_at: Moment,
}

impl Shared {
    fn mark_chunks(&self, n: usize) {
        self.last_chunk
            .store(self.start.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.chunks.fetch_add(n as u64, Ordering::Relaxed);
        self.first_chunk_at.mark(self.start);
    }

    fn signal(&self) {
        if let Some(n) = self.notifier.get() {
            n.signal();
        }
    }
}

struct Reader {
    /// The rest of the batch being handed out.
    pending: std::vec::IntoIter<Chunk>,
    terminal: Option<Terminal>,
}

/// One streaming answer. Dropping it cancels the request, interrupts any blocked
/// socket read and joins the background thread.
pub struct Stream {
    shared: Arc<Shared>,
    rx: Receiver<Msg>,
    cancel_rx: Receiver<()>,
    reader: Mutex<Reader>,
    /// What the delivered chunks add up to; `None` when the client turned it off.
    answer: Option<Mutex<Answer>>,
    delivered: AtomicU64,
    idle: Option<Duration>,
    total: Option<Duration>,
    worker: Option<JoinHandle<()>>,
}

/// Locks a mutex, also after a panic elsewhere (the data stays consistent: every
/// critical section here leaves it whole).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Stream {
    /// Starts the request on a background thread and returns at once.
    pub fn open(client: &Client, request: &Request) -> Result<Stream> {
        let agent = client.agent();
        let (tx, rx) = bounded(client.queue_batches.max(1));
        let (cancel_tx, cancel_rx) = bounded::<()>(0);
        let shared = Arc::new(Shared {
            start: Instant::now(),
            last_chunk: AtomicU64::new(0),
            cancelled: AtomicBool::new(false),
            cancel_tx: Mutex::new(Some(cancel_tx)),
            agent: agent.clone(),
            notifier: OnceLock::new(),
            bytes: AtomicU64::new(0),
            chunks: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            retries: AtomicU32::new(0),
            headers_at: Moment::default(),
            first_chunk_at: Moment::default(),
            ended_at: Moment::default(),
        });
        let job = Job {
            shared: shared.clone(),
            client: client.clone(),
            request: request.clone(),
            tx,
            cancel_rx: cancel_rx.clone(),
        };
        let worker = std::thread::Builder::new()
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
            cancel_rx,
            reader: Mutex::new(Reader {
                pending: Vec::new().into_iter(),
                terminal: None,
            }),
            answer: client.assemble.then(|| Mutex::new(Answer::default())),
            delivered: AtomicU64::new(0),
            idle: client.timeouts.idle,
            total: client.timeouts.total,
            worker: Some(worker),
        })
    }

    /// Cancels the stream: any thread, any number of times. A blocked `next` wakes
    /// and returns [`Next::Cancelled`], as does every later call; the connection is shut.
    pub fn cancel(&self) {
        if !self.shared.cancelled.swap(true, Ordering::SeqCst) {
            self.stop();
        }
    }

    /// Wakes everything waiting on the stream and shuts its connection.
    fn stop(&self) {
        if let Some(tx) = lock(&self.shared.cancel_tx).take() {
            drop(tx);
            self.shared.agent.clone().shutdown();
        }
        self.shared.signal();
    }

    /// Whether [`Stream::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.shared.cancelled.load(Ordering::SeqCst)
    }

    /// The next chunk, or how the stream ended. `timeout`: `None` waits for ever,
    /// zero only looks. Calls from several threads are serialised.
    pub fn next(&self, timeout: Option<Duration>) -> Next {
        let mut reader = lock(&self.reader);
        let next = self.next_locked(&mut reader, timeout);
        if let Next::Chunk(c) = &next {
            if let Some(a) = &self.answer {
                lock(a).add(c);
            }
            self.delivered.fetch_add(1, Ordering::Relaxed);
        }
        // The descriptor stays readable while `next` would not block.
        if !matches!(next, Next::Timeout)
            && (reader.pending.len() > 0 || !self.rx.is_empty() || reader.terminal.is_some())
        {
            self.shared.signal();
        }
        next
    }

    fn next_locked(&self, reader: &mut Reader, timeout: Option<Duration>) -> Next {
        let until = timeout.map(|t| Instant::now() + t);
        loop {
            if self.is_cancelled() {
                reader.terminal = Some(Terminal::Cancelled);
            }
            if let Some(t) = &reader.terminal {
                return match t {
                    Terminal::End => Next::End,
                    Terminal::Cancelled => Next::Cancelled,
                    Terminal::Error(e) => Next::Error(e.clone()),
                };
            }
            if let Some(c) = reader.pending.next() {
                return Next::Chunk(c);
            }
            // About to look at the channel: the descriptor goes quiet first, so a
            // message sent from now on signals it again.
            if let Some(n) = self.shared.notifier.get() {
                n.reset();
            }
            let (limit, limit_error) = self.stream_deadline();
            let wake = match (until, limit) {
                (Some(u), Some(l)) => Some(u.min(l)),
                (u, l) => u.or(l),
            };
            let wait = wake.map(|w| w.saturating_duration_since(Instant::now()));
            let got = match wait {
                None => select! {
                    recv(self.rx) -> m => Some(m),
                    recv(self.cancel_rx) -> _ => None,
                },
                Some(w) => select! {
                    recv(self.rx) -> m => Some(m),
                    recv(self.cancel_rx) -> _ => None,
                    default(w) => {
                        if limit.is_some_and(|l| Instant::now() >= l) && self.stream_deadline().0 == limit {
                            self.fail_with(reader, limit_error);
                        } else if until.is_some_and(|u| Instant::now() >= u) {
                            return Next::Timeout;
                        }
                        continue;
                    }
                },
            };
            match got {
                None => continue,
                Some(Ok(Msg::Chunks(batch))) => reader.pending = batch.into_iter(),
                Some(Ok(Msg::End)) => reader.terminal = Some(Terminal::End),
                Some(Ok(Msg::Fail(e))) => reader.terminal = Some(Terminal::Error(e)),
                Some(Err(_)) => {
                    let e = Error::new(
                        Status::Internal,
                        "the stream's thread ended without a result",
                    );
                    reader.terminal = Some(Terminal::Error(e));
                }
            }
        }
    }

    /// The earliest of the idle and total deadlines, and the error each one means.
    fn stream_deadline(&self) -> (Option<Instant>, Error) {
        let start = self.shared.start;
        let idle = self.idle.map(|d| {
            let last = Duration::from_nanos(self.shared.last_chunk.load(Ordering::Relaxed));
            (
                start + last + d,
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
    /// no such timeout is set, or once nothing more can arrive (the stream's thread
    /// finished or the stream was cancelled). Event loops use it as their poll timeout.
    pub fn time_to_deadline(&self) -> Option<Duration> {
        if self.shared.ended_at.get() >= 0 || self.is_cancelled() {
            return None;
        }
        self.stream_deadline()
            .0
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Ends the stream with `error`, stopping the worker.
    fn fail_with(&self, reader: &mut Reader, error: Error) {
        reader.terminal = Some(Terminal::Error(error));
        reader.pending = Vec::new().into_iter();
        self.stop();
    }

    /// A descriptor that is readable whenever `next` would not block (a chunk, the
    /// end or an error is there, or the stream was cancelled). Made on first use;
    /// closed with the stream.
    #[cfg(unix)]
    pub fn ready_fd(&self) -> Result<std::os::fd::RawFd> {
        if let Some(n) = self.shared.notifier.get() {
            return Ok(n.fd());
        }
        let made = Notifier::new().map_err(|e| {
            Error::new(
                Status::Internal,
                format!("cannot make the stream's descriptor: {e}"),
            )
        })?;
        // Whatever arrived before the descriptor existed: signal once, maybe
        // spuriously (`next(0)` then says TIMEOUT).
        made.signal();
        let _ = self.shared.notifier.set(made);
        Ok(self.shared.notifier.get().expect("set above").fd())
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
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.cancel();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// Everything the background thread owns.
struct Job {
    shared: Arc<Shared>,
    client: Client,
    request: Request,
    tx: Sender<Msg>,
    cancel_rx: Receiver<()>,
}

impl Job {
    fn log(&self, level: LogLevel, make: impl FnOnce() -> String) {
        self.client.logger.log(level, make);
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
                _ if s.cancelled.load(Ordering::SeqCst) => "cancelled".to_owned(),
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
        self.send(last);
    }

    /// Hands a message to the reader; false once the stream is cancelled.
    fn send(&self, msg: Msg) -> bool {
        let sent = select! {
            send(self.tx, msg) -> r => r.is_ok(),
            recv(self.cancel_rx) -> _ => false,
        };
        if sent {
            self.shared.signal();
        }
        sent
    }

    /// Sends the request, retrying failures before any answer as the client's
    /// policy allows; `None` when cancelled while waiting to retry.
    fn connect(&self) -> Result<Option<ureq::Body>> {
        let policy = self.client.retry;
        let url = self.client.url(transport::CONVERSATION_PATH);
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
                        self.shared.headers_at.mark(self.shared.start);
                        self.log(LogLevel::Debug, || {
                            format!(
                                "response headers after {} ms",
                                self.shared.start.elapsed().as_millis()
                            )
                        });
                        return Ok(Some(body));
                    }
                    Err(e) => e,
                };
            if attempt >= policy.max_retries
                || !retry::retryable(&e)
                || self.shared.cancelled.load(Ordering::SeqCst)
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
                .cancel_rx
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
        let mut decoder = Decoder::new(self.client.max_line, self.client.skip_malformed);
        let mut buf = vec![0u8; READ_SIZE];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(n) => n,
                Err(_) if self.shared.cancelled.load(Ordering::SeqCst) => return Ok(()),
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
            if !batch.is_empty() {
                self.shared.mark_chunks(batch.len());
                if !self.send(Msg::Chunks(batch)) {
                    return Ok(());
                }
            }
            if progress? == Progress::Done || n == 0 {
                return Ok(());
            }
        }
    }
}
