//! The worker: the stream's own thread. It sends the request (retrying failures
//! before any answer, as the client allows), reads and decodes the body, and hands
//! chunks to the reader in batches within the queue's budget. It owns every
//! network clock (see `net::Clock`): a timeout ends the stream from here, and the
//! reader learns of it as of any other end, through the channel.

use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crossbeam_channel::Sender;

use super::batch::Batch;
use super::shared::{Room, Shared};
use crate::client::Client;
use crate::decoder::{Decoder, Progress};
use crate::error::{Error, Result, Status};
use crate::log::LogLevel;
use crate::net::Expired;
use crate::request::Request;
use crate::response_headers::ResponseHeaders;
use crate::threads::Operation;
use crate::{retry, transport};

/// Bytes asked of the response body per read; one read's chunks travel as one batch.
const READ_SIZE: usize = 16 << 10;

/// What travels from the worker to the reader.
pub(super) enum Msg {
    /// Decoded chunks and their footprint in the queue's budget.
    Chunks(Batch, usize),
    End,
    Fail(Error),
}

/// Everything the worker owns.
pub(super) struct Job {
    pub(super) shared: Arc<Shared>,
    pub(super) client: Client,
    pub(super) request: Request,
    pub(super) tx: Sender<Msg>,
    /// Lets `backend_api_shutdown` cancel the stream while the worker runs.
    pub(super) _operation: Operation,
}

impl Job {
    /// Logs a record unless the stream was cancelled or closed: the flag is
    /// looked at after the record is built, and `close` waits (`settle`) for a
    /// record past that look until the sink's own work on it is done: no record
    /// starts after `close` returned, whatever its size; one already in the
    /// user's callback may finish, and is never waited for.
    fn log(&self, level: LogLevel, make: impl FnOnce() -> String) {
        let cancel = &self.shared.link.cancel;
        self.client
            .logger
            .log_through(level, make, |sink| cancel.unless_cancelled(sink));
    }

    pub(super) fn run(self) {
        let _network = crate::net::enter(self.shared.link.clone());
        let outcome = catch_unwind(AssertUnwindSafe(|| self.stream()));
        let last = match outcome {
            Ok(Ok(())) => Msg::End,
            Ok(Err(e)) => Msg::Fail(e),
            Err(_) => Msg::Fail(Error::new(Status::Internal, "the stream's thread panicked")),
        };
        let s = &self.shared;
        s.counters.ended_at.mark(s.start);
        self.log(LogLevel::Info, || {
            let how = match &last {
                Msg::Fail(e) => format!("failed ({}): {}", e.status.name(), e.message),
                _ => "ended".to_owned(),
            };
            let c = &s.counters;
            format!(
                "stream {how}; {} chunks, {} bytes, {} retries in {} ms",
                c.chunks.load(Ordering::Relaxed),
                c.bytes.load(Ordering::Relaxed),
                c.retries.load(Ordering::Relaxed),
                s.start.elapsed().as_millis()
            )
        });
        if self.tx.send(last).is_ok() {
            s.readiness.signal();
        }
    }

    /// Hands a batch to the reader once the queue has room for it; `Ok(false)`
    /// once the stream is cancelled or closed. Waiting for room is the reader's
    /// time, not the server's: the idle clock pauses meanwhile and runs again
    /// from the moment the batch is queued.
    fn send(&self, batch: Batch) -> Result<bool> {
        let s = &self.shared;
        let clock = &s.link.clock;
        let size = batch.footprint();
        match s
            .budget
            .wait_for_room(size, &s.link.cancel, clock.total_deadline(), || {
                clock.pause_idle()
            }) {
            Room::Made => {}
            Room::Cancelled => return Ok(false),
            Room::TimedOut => return Err(clock.error(Expired::Total)),
        }
        s.budget.add(size);
        s.counters
            .chunks
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        s.counters.first_chunk_at.mark(s.start);
        if self.tx.send(Msg::Chunks(batch, size)).is_err() {
            return Ok(false);
        }
        clock.restart_idle();
        s.readiness.signal();
        Ok(true)
    }

    /// One attempt at the request: the response body of a 2xx answer.
    fn attempt(&self) -> Result<ureq::Body> {
        self.client.check_proxy()?;
        let protocol = self.client.protocol;
        let authorization = self.client.authorization(Some(&self.request));
        let headers = self
            .client
            .header_pairs()
            .chain(
                self.request
                    .headers()
                    .iter()
                    .map(|h| (h.name.as_str(), h.value.as_str())),
            )
            .chain(authorization.as_deref().map(|a| ("Authorization", a)));
        let link = &self.shared.link;
        // The idle clock runs from the headers only: not across a retry's wait.
        link.clock.pause_idle();
        transport::post(
            &self.shared.agent,
            &link.clock,
            &self.client.url(protocol.chat_path()),
            headers,
            &protocol.body(&self.request),
            |h| self.shared.record_headers(ResponseHeaders::from_map(h)),
        )
        .map_err(|e| link.explain(e))
    }

    /// Sends the request, retrying failures before any answer as the client's
    /// policy allows; `None` when cancelled while waiting to retry.
    fn connect(&self) -> Result<Option<ureq::Body>> {
        let policy = self.client.retry;
        let url = self.client.redacted_url(self.client.protocol.chat_path());
        let noise = std::collections::hash_map::RandomState::new();
        let s = &self.shared;
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
            let e = match self.attempt() {
                Ok(body) => {
                    s.counters.headers_at.mark(s.start);
                    let reused = crate::net::exchange().reused;
                    s.counters.reused.store(reused, Ordering::Relaxed);
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
            let clock = &s.link.clock;
            let now = std::time::Instant::now();
            if attempt >= policy.max_retries
                || !retry::retryable(&e)
                || clock.expired(now).is_some()
                || s.link.cancel.is_cancelled()
            {
                return Err(e);
            }
            let delay = policy.delay(
                attempt,
                e.retry_after,
                std::hash::BuildHasher::hash_one(&noise, attempt),
            );
            // A retry the total timeout leaves no time for is not waited for: the
            // stream fails with this attempt's error.
            let due = now + delay;
            if clock.total_deadline().is_some_and(|end| due >= end) {
                return Err(e);
            }
            self.log(LogLevel::Warn, || {
                format!(
                    "attempt {} failed: {}; retrying in {} ms",
                    attempt + 1,
                    e.message,
                    delay.as_millis()
                )
            });
            // The wait is neither idle time nor a reason to time out.
            clock.wait_to_retry(due);
            crossbeam_channel::select_biased! {
                recv(s.link.cancel.waker()) -> _ => return Ok(None),
                recv(crossbeam_channel::at(due)) -> _ => {}
            }
            clock.retrying();
            s.counters.retries.fetch_add(1, Ordering::Relaxed);
        }
        unreachable!("the loop returns")
    }

    fn stream(&self) -> Result<()> {
        let Some(body) = self.connect()? else {
            return Ok(());
        };
        let s = &self.shared;
        let mut body = body.into_reader();
        let mut decoder = Decoder::for_protocol(
            self.client.protocol,
            self.client.max_line,
            self.client.skip_malformed,
        );
        let mut buf = vec![0u8; READ_SIZE];
        let mut last_chunks = 0;
        loop {
            let n = match body.read(&mut buf) {
                Ok(n) => n,
                Err(_) if s.link.cancel.is_cancelled() => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(s.link.explain(transport::map_io_error(e))),
            };
            s.counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
            // Room for the read's text (its lines, each with a NUL for its end).
            let mut batch = Batch::with_capacity(n + 64, last_chunks);
            let progress = if n == 0 {
                decoder.finish(&mut batch)
            } else {
                decoder.feed(&buf[..n], &mut batch)
            };
            s.counters
                .skipped
                .store(decoder.skipped(), Ordering::Relaxed);
            self.log(LogLevel::Trace, || {
                format!("read {n} bytes: {} chunks", batch.len())
            });
            last_chunks = batch.len();
            // Chunks decoded before an error still reach the reader, in order.
            if !batch.is_empty() && !self.send(batch)? {
                return Ok(());
            }
            if progress? == Progress::Done || n == 0 {
                if n > 0 {
                    transport::finish_body(body, &s.link.clock);
                }
                return Ok(());
            }
        }
    }
}
