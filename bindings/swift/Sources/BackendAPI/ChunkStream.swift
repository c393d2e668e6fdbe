import CBackendAPI
import Foundation

/// The streamed answer to one request: an `AsyncSequence` of ``Chunk``s.
///
/// ```swift
/// for try await chunk in client.stream(request) {
///     if let text = chunk.content { print(text, terminator: "") }
/// }
/// ```
///
/// - Each iteration (each `makeAsyncIterator()`) sends the request anew and owns its
///   own native stream. The request goes out when the iterator is made.
/// - The blocking native `next` runs on a dedicated thread per iteration, never on
///   Swift's cooperative thread pool. That thread fetches one chunk per `next()` call
///   of the iterator (back-pressure: an idle consumer holds no growing buffer).
/// - Cancelling the iterating task ends the iteration with `CancellationError`;
///   dropping the iterator (a `break` out of `for try await`) cancels too. Either way
///   the native stream is cancelled at once and closed and freed by its thread.
/// - Failures throw ``BackendAPIError``; after a throw or the end, `next()` returns nil.
///   In-stream `error`/`auth` chunks are yielded as chunks (``Chunk/isFatal``).
public struct ChunkStream: AsyncSequence, Sendable {
    public typealias Element = Chunk

    public let client: BackendAPIClient
    public let request: ChatRequest

    public func makeAsyncIterator() -> Iterator {
        Iterator(owner: IteratorOwner(core: StreamCore(client: client, request: request)))
    }

    public struct Iterator: AsyncIteratorProtocol, Sendable {
        let owner: IteratorOwner

        public mutating func next() async throws -> Chunk? {
            try await owner.core.next()
        }

        /// The native stream's statistics: live while it runs, then the final figures
        /// (taken just before the native stream is closed, so they are there once
        /// `next()` has returned nil or thrown). nil until the request went out on the
        /// iteration's thread, and when it never did (a bad request). Any task or thread.
        public var stats: StreamStats? { owner.core.stats() }

        /// The assembled answer of the chunks handed out so far (see ``Answer``): live
        /// while the stream runs, then final, like ``stats``. nil until the request went
        /// out, and when it never did. Any task or thread.
        public var answer: Answer? { owner.core.answer() }
    }

    /// Reads the whole stream and returns the assembled answer (an in-stream `error`
    /// or `auth` chunk is in ``Answer/error``, not thrown). Throws like iteration does.
    public func answer() async throws -> Answer {
        var iterator = makeAsyncIterator()
        while try await iterator.next() != nil {}
        guard let answer = iterator.answer else {
            throw BackendAPIError.internalError("the stream ended without an answer")
        }
        return answer
    }
}

/// Cancels the native stream when the last copy of an iterator goes away.
final class IteratorOwner: Sendable {
    let core: StreamCore

    init(core: StreamCore) {
        self.core = core
        core.start()
    }

    deinit {
        core.cancel()
    }
}

/// The state of one iteration, shared by the consumer and the stream's own thread.
///
/// Ownership: the dedicated thread ("pump") opens the native stream, calls
/// `backend_api_next` only when a consumer waits, and is the only one to call
/// `backend_api_close`, after its loop ends. `cancel()` may come from any thread (task
/// cancellation handler, iterator deinit); it calls `backend_api_cancel` only while
/// `handle` is set, under `cond`, and the pump clears `handle` under `cond` before
/// closing, so cancel never overlaps or follows close (the header forbids that).
final class StreamCore: @unchecked Sendable {
    // @unchecked: the compiler cannot see that every `var` below is guarded by `cond`
    // (a lock and condition variable); nothing mutable is touched without holding it.
    private let cond = NSCondition()
    private let client: BackendAPIClient
    private let request: ChatRequest

    /// The open native stream; nil before open and from just before close.
    private var handle: OpaquePointer?
    /// Set once by `cancel()`; the pump stops at the next opportunity.
    private var cancelRequested = false
    /// The consumer waiting in `next()`: there is demand for one chunk.
    private var waiter: CheckedContinuation<Chunk?, any Error>?
    /// The final outcome (nil: end; an error) when no consumer was waiting for it.
    private var pending: Result<Chunk?, any Error>?
    /// The pump has finished; `next()` returns `pending`, then nil.
    private var done = false
    /// The native stream is closed (or was never opened) and freed.
    private var closed = false
    /// The statistics and the answer's JSON, taken just before the native stream was closed.
    private var finalStats: StreamStats?
    private var finalAnswer: Data?

    init(client: BackendAPIClient, request: ChatRequest) {
        self.client = client
        self.request = request
    }

    func start() {
        let thread = Thread { [self] in pump() }
        thread.name = "backend-api stream"
        thread.start()
    }

    /// The consumer's side: waits for the next chunk, nil at the end.
    func next() async throws -> Chunk? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Chunk?, any Error>) in
                cond.lock()
                if let outcome = pending {
                    pending = nil
                    cond.unlock()
                    c.resume(with: outcome)
                    return
                }
                if done {
                    cond.unlock()
                    c.resume(returning: nil)
                    return
                }
                guard waiter == nil else {
                    cond.unlock()
                    fatalError("ChunkStream.Iterator.next() called while another next() of the same iteration waits")
                }
                waiter = c
                cond.broadcast()
                cond.unlock()
            }
        } onCancel: {
            cancel()
        }
    }

    /// Cancels the iteration: any thread, any time, repeatable.
    func cancel() {
        cond.lock()
        defer { cond.unlock() }
        guard !cancelRequested else { return }
        cancelRequested = true
        if let handle {
            backend_api_cancel(handle) // wakes a `backend_api_next` blocked in the pump
        }
        cond.broadcast() // wakes a pump waiting for demand
    }

    /// The dedicated thread: open, feed the consumer one chunk per demand, close.
    private func pump() {
        let opened = Result { () throws(BackendAPIError) -> OpaquePointer in
            try request.withNative(client: client) { r throws(BackendAPIError) in
                var stream: OpaquePointer?
                try withExtendedLifetime(client) { () throws(BackendAPIError) in
                    try check { backend_api_open(client.raw, r, &stream, $0) }
                }
                guard let stream else { throw .internalError("backend_api_open returned no stream") }
                return stream
            }
        }
        guard case .success(let stream) = opened else {
            if case .failure(let error) = opened { finish(.failure(error)) }
            return
        }
        cond.lock()
        handle = stream
        cond.unlock()

        var outcome: Result<Chunk?, any Error>
        while true {
            cond.lock()
            while waiter == nil && !cancelRequested {
                cond.wait()
            }
            let stop = cancelRequested
            cond.unlock()
            if stop {
                outcome = .failure(CancellationError())
                break
            }
            var chunk: OpaquePointer?
            var err: OpaquePointer?
            let status = backend_api_next(stream, -1, &chunk, &err).rawValue
            if status == BACKEND_API_STATUS_OK.rawValue, let chunk {
                let value = Chunk(native: chunk) // copies every string out
                backend_api_chunk_free(chunk)
                cond.lock()
                let c = waiter
                waiter = nil
                cond.unlock()
                c?.resume(returning: value)
                continue
            }
            switch status {
            case BACKEND_API_STATUS_END.rawValue:
                outcome = .success(nil)
            case BACKEND_API_STATUS_CANCELLED.rawValue:
                outcome = .failure(CancellationError())
            case BACKEND_API_STATUS_TIMEOUT.rawValue: // not with timeout -1; harmless
                continue
            default:
                outcome = .failure(BackendAPIError.consume(err, status: status))
            }
            break
        }
        // Take the handle away under the lock, so no cancel(), stats() or answer() can
        // reach it any more; keep the last statistics and answer for after the close.
        cond.lock()
        handle = nil
        finalStats = StreamStats(native: stream)
        finalAnswer = try? Answer.json(native: stream)
        cond.unlock()
        backend_api_close(stream)
        finish(outcome)
    }

    /// The statistics: live while the native stream is open (read under `cond`, so the
    /// pump cannot close it meanwhile; the C call is allowed while the pump is in
    /// `backend_api_next`), then the final snapshot.
    func stats() -> StreamStats? {
        cond.lock()
        defer { cond.unlock() }
        if let handle { return StreamStats(native: handle) }
        return finalStats
    }

    /// The assembled answer, like `stats()`; the JSON is decoded outside the lock.
    func answer() -> Answer? {
        cond.lock()
        let json: Data?
        if let handle {
            json = try? Answer.json(native: handle)
        } else {
            json = finalAnswer
        }
        cond.unlock()
        return json.flatMap { try? Answer.decode($0) }
    }

    /// Records the final outcome and hands it to a waiting consumer, if any.
    private func finish(_ outcome: Result<Chunk?, any Error>) {
        cond.lock()
        done = true
        closed = true
        let c = waiter
        waiter = nil
        if c == nil {
            pending = outcome
        }
        cond.broadcast()
        cond.unlock()
        c?.resume(with: outcome)
    }

    /// For tests: waits until the native stream is closed and freed.
    func waitUntilClosed(timeout: TimeInterval) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        cond.lock()
        defer { cond.unlock() }
        while !closed {
            if !cond.wait(until: deadline) { return closed }
        }
        return true
    }
}
