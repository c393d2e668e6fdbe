//! The streaming engine: a background thread performs the request and feeds
//! decoded chunks, in batches, through a bounded channel; the reader takes them
//! one at a time with a timeout, and can be cancelled from any thread.

use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, select, Receiver, Sender};

use crate::chunk::Chunk;
use crate::client::Client;
use crate::decoder::{Decoder, Progress};
use crate::error::{Error, Result, Status};
use crate::request::Request;
use crate::transport;

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

/// State shared by the reader, the worker and cancellers.
struct Shared {
    start: Instant,
    /// Nanoseconds after `start` of the last chunk decoded.
    last_chunk: AtomicU64,
    cancelled: AtomicBool,
    /// Dropped on cancel: every `select!` on the paired receiver wakes at once.
    cancel_tx: Mutex<Option<Sender<()>>>,
    agent: ureq::Agent,
}

impl Shared {
    fn mark_chunk(&self) {
        self.last_chunk
            .store(self.start.elapsed().as_nanos() as u64, Ordering::Relaxed);
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
    idle: Option<Duration>,
    total: Option<Duration>,
    worker: Option<JoinHandle<()>>,
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
            idle: client.timeouts.idle,
            total: client.timeouts.total,
            worker: Some(worker),
        })
    }

    /// Cancels the stream: any thread, any number of times. A blocked `next` wakes
    /// and returns [`Next::Cancelled`], as does every later call; the connection is shut.
    pub fn cancel(&self) {
        if !self.shared.cancelled.swap(true, Ordering::SeqCst) {
            drop(
                self.shared
                    .cancel_tx
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take(),
            );
            self.shared.agent.clone().shutdown();
        }
    }

    /// Whether [`Stream::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.shared.cancelled.load(Ordering::SeqCst)
    }

    /// The next chunk, or how the stream ended. `timeout`: `None` waits for ever,
    /// zero only looks. Calls from several threads are serialised.
    pub fn next(&self, timeout: Option<Duration>) -> Next {
        let mut reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
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
                            self.cancel_with(&mut reader, limit_error);
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

    /// Ends the stream with `error`, stopping the worker.
    fn cancel_with(&self, reader: &mut Reader, error: Error) {
        reader.terminal = Some(Terminal::Error(error));
        reader.pending = Vec::new().into_iter();
        if let Some(tx) = self
            .shared
            .cancel_tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            drop(tx);
            self.shared.agent.clone().shutdown();
        }
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
    fn run(self) {
        let outcome = catch_unwind(AssertUnwindSafe(|| self.stream()));
        let last = match outcome {
            Ok(Ok(())) => Msg::End,
            Ok(Err(e)) => Msg::Fail(e),
            Err(_) => Msg::Fail(Error::new(Status::Internal, "the stream's thread panicked")),
        };
        self.send(last);
    }

    /// Hands a message to the reader; false once the stream is cancelled.
    fn send(&self, msg: Msg) -> bool {
        select! {
            send(self.tx, msg) -> r => r.is_ok(),
            recv(self.cancel_rx) -> _ => false,
        }
    }

    fn stream(&self) -> Result<()> {
        let body = transport::post_conversation(&self.shared.agent, &self.client, &self.request)?;
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
            let mut batch = Vec::new();
            let progress = if n == 0 {
                decoder.finish(&mut |c| batch.push(c))
            } else {
                decoder.feed(&buf[..n], &mut |c| batch.push(c))
            };
            // Chunks decoded before an error still reach the reader, in order.
            if !batch.is_empty() {
                self.shared.mark_chunk();
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
