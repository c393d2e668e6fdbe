import CBackendAPI
import Dispatch

/// The streamed answer to one request: an `AsyncSequence` of ``Chunk``s.
///
/// ```swift
/// let stream = client.stream(request)
/// for try await chunk in stream {
///     if let text = chunk.content { print(text, terminator: "") }
/// }
/// print(stream.currentAnswer?.finishReason ?? "", stream.stats?.delivered ?? 0)
/// ```
///
/// - One value, one request. The request goes out when the stream is first iterated
///   (or ``answer()`` is called), never again: a second `for` loop, a re-run SwiftUI
///   `.task` or several tasks iterating at once all share the one answer, each chunk
///   going to exactly one of them. Once the answer has ended, a new iteration ends at
///   once: with nil after a clean end, or by throwing the error (also
///   `CancellationError`) the stream ended with. For a new answer, call
///   ``BackendAPIClient/stream(_:)`` again.
/// - A provider failing mid-answer ends the iteration: an in-stream `error` or `auth`
///   chunk is thrown as a ``BackendAPIError`` (``BackendAPIError/Code/streamError`` or
///   ``BackendAPIError/Code/authError``) with the server's message, the raw chunk in
///   ``BackendAPIError/chunk``; the answer so far stays in ``currentAnswer``.
///   Other failures throw ``BackendAPIError`` too.
/// - Cancelling a task waiting in the iteration, ``cancel()``, or dropping the last
///   copy of the stream and its iterators cancels the request at once (through the
///   library's canceller): the iteration throws `CancellationError`. A task cancelled
///   while it reads chunks that were already there gets at most 16 more first (its
///   cancellation is looked at every 16 chunks, and whenever it waits).
/// - Chunks already received are handed out directly by the iterating task (the
///   library's non-blocking `next`); when none is there, the task parks and a
///   `DispatchSource` on the stream's descriptor hands it the next chunk: no thread
///   waits, and none of Swift's cooperative pool is blocked. The library reads
///   ahead at most its queue budget (128 KiB) while nobody asks.
/// - ``stats`` and ``currentAnswer`` may be read from any task at any time: live while
///   the answer streams, final after it ended, for as long as the value lives.
public struct ChunkStream: AsyncSequence, Sendable {
    public typealias Element = Chunk

    public let client: BackendAPIClient
    public let request: ChatRequest
    let owner: StreamOwner

    init(client: BackendAPIClient, request: ChatRequest) {
        self.client = client
        self.request = request
        self.owner = StreamOwner(StreamCore(client: client, request: request))
    }

    public func makeAsyncIterator() -> Iterator {
        owner.core.start()
        return Iterator(owner: owner)
    }

    /// Hands out the stream's chunks. Not `Sendable` (like the iterators of the standard
    /// library's streams): iterate in one task; to consume from several tasks, give each
    /// its own iterator of the same ``ChunkStream``.
    public struct Iterator: AsyncIteratorProtocol {
        /// Keeps the request alive (dropping the last owner cancels it).
        let owner: StreamOwner
        let core: StreamCore
        /// The native stream, once known: chunks already there are taken without a lock.
        private var native: OpaquePointer?
        /// This iterator returned nil or threw: it returns nil from now on.
        private var done = false
        /// Chunks taken without suspending since the task's cancellation was last looked
        /// at (`Task.isCancelled` costs a thread-local lookup: it is looked at every
        /// `cancellationCheckInterval` chunks, and at each wait).
        private var untilCancellationCheck = 0

        init(owner: StreamOwner) {
            self.owner = owner
            self.core = owner.core
        }

        // `next` is inlinable so that taking a chunk that is already there, a plain
        // function call, costs the iterating task no call of an `async` function.

        @inlinable
        public mutating func next() async throws -> Chunk? {
            if let chunk = try takeReady() { return chunk }
            return try await wait(isolation: nil)
        }

        /// Runs on the caller's actor (such as the main actor): no executor switch per chunk.
        @inlinable
        @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
        public mutating func next(isolation actor: isolated (any Actor)?) async throws -> Chunk? {
            if let chunk = try takeReady() { return chunk }
            return try await wait(isolation: actor)
        }

        /// A chunk that is already there, without blocking or suspending; nil when there
        /// is none yet, or at the end (then `wait` returns nil at once).
        @usableFromInline
        mutating func takeReady() throws -> Chunk? {
            guard !done, let native else { return nil }
            if untilCancellationCheck == 0 {
                if Task.isCancelled { return nil } // `wait` throws CancellationError
                untilCancellationCheck = cancellationCheckInterval
            }
            untilCancellationCheck -= 1
            do {
                switch try core.poll(native) {
                case .chunk(let chunk): return chunk
                case .end: done = true
                case .wait: break
                }
                return nil
            } catch {
                done = true
                throw error
            }
        }

        /// Waits for the next chunk (the stream's thread fetches it); nil at the end.
        @usableFromInline
        mutating func wait(isolation actor: isolated (any Actor)?) async throws -> Chunk? {
            guard !done else { return nil }
            untilCancellationCheck = 0
            do {
                let chunk = try await core.wait(isolation: actor)
                if native == nil { native = core.opened }
                done = chunk == nil
                return chunk
            } catch {
                done = true
                throw error
            }
        }
    }

    /// Reads the rest of the stream and returns the assembled answer. Throws like
    /// iteration does, also for an in-stream `error`/`auth` chunk (the answer so far is
    /// then in ``currentAnswer``).
    public func answer() async throws -> Answer {
        var iterator = makeAsyncIterator()
        while try await iterator.next() != nil {}
        guard let answer = currentAnswer else {
            throw BackendAPIError.internalError("the stream ended without an answer")
        }
        return answer
    }

    /// The assembled answer of the chunks handed out so far (see ``Answer``): live while
    /// the stream runs, final after it ended. nil before the request went out, and when
    /// it never did (a request the library refused).
    public var currentAnswer: Answer? { owner.core.answer() }

    /// The native stream's statistics, live and then final, like ``currentAnswer``.
    public var stats: StreamStats? { owner.core.stats() }

    /// Cancels the request: any task or thread, any time, repeatable. Iterations
    /// waiting or to come throw `CancellationError` (unless the answer had already ended).
    public func cancel() { owner.core.cancel() }
}

@available(*, unavailable)
extension ChunkStream.Iterator: Sendable {}

/// At most this many chunks that were already there are handed to a task after it was
/// cancelled, before its iteration throws `CancellationError`.
let cancellationCheckInterval = 16

/// Cancels the request when the last copy of a ``ChunkStream`` and of its iterators
/// goes away.
final class StreamOwner: Sendable {
    let core: StreamCore

    init(_ core: StreamCore) {
        self.core = core
    }

    deinit {
        core.cancel()
    }
}

/// The queue that runs the streams' readiness handlers and opens their requests: a
/// stream costs the library's thread only, none of the binding's own.
let streamQueue = DispatchQueue(label: "backend-api.streams", attributes: .concurrent)

/// The state of one request, shared by every iteration and by the stream's readiness
/// handler.
///
/// The native stream is opened on ``streamQueue`` (building the request reads media
/// files), and closed and freed once no iterator, stream value or handler can use it
/// any more; until then any thread may call `backend_api_next`, stats and answer on it
/// (the library serves concurrent `next` calls one at a time). An iterator first takes
/// what is there with `next(0)`, which never blocks; when nothing is, it parks a
/// continuation and the stream's descriptor (`backend_api_stream_fd`, readable whenever
/// `next(0)` would not say AGAIN) drives a `DispatchSource` read source that takes one
/// chunk per parked continuation with `next(0)`. The source runs only while iterations
/// are parked (the descriptor stays readable while chunks wait). A timeout that runs
/// out ends the native stream, which makes the descriptor readable too. Cancelling goes
/// through the library's canceller, which is safe from any thread at any time.
final class StreamCore: @unchecked Sendable {
    // @unchecked: every `var` below is read and written only under `lock`; the lock
    // guards only this state, never a C call.
    let client: BackendAPIClient
    let request: ChatRequest
    private let lock = Lock()
    private var started = false
    /// Set once after open; closed when the last user is gone (see `deinit`).
    private var native: OpaquePointer?
    private var canceller: OpaquePointer?
    private var source: (any DispatchSourceRead)?
    /// The source delivers events (resumed); it is suspended while nobody waits.
    private var sourceRunning = false
    private var cancelled = false
    /// Iterations waiting for a chunk, served in order.
    private var waiters: [CheckedContinuation<Chunk?, any Error>] = []
    /// How the answer ended (success: cleanly); set once, final.
    private var end: Result<Void, any Error>?

    init(client: BackendAPIClient, request: ChatRequest) {
        self.client = client
        self.request = request
    }

    deinit {
        guard let source else {
            backend_api_canceller_free(canceller)
            backend_api_close(native)
            return
        }
        // The source's cancel handler frees the native stream, after its last event
        // handler: a suspended source must run again to be cancelled.
        if !sourceRunning { source.resume() }
        source.cancel()
    }

    /// Sends the request (once), opening the native stream on ``streamQueue``.
    func start() {
        let first = lock.withLock {
            defer { started = true }
            return !started
        }
        if first {
            streamQueue.async { [self] in open() }
            if let timeout = request.timeout {
                // The request's own timeout: from here, the request going out.
                let (s, atto) = timeout.components
                let ns = max(0, Double(s) * 1e9 + Double(atto) / 1e9)
                streamQueue.asyncAfter(deadline: .now() + .nanoseconds(Int(min(ns, 9e18)))) { [weak self] in
                    self?.end(with: BackendAPIError(
                        code: .timedOut, message: "the request's timeout of \(timeout) elapsed (ChatRequest.timeout)"))
                }
            }
        }
    }

    /// What `poll` found.
    enum Poll {
        case chunk(Chunk)
        case end
        /// Nothing there yet: `wait`.
        case wait
    }

    /// Takes a chunk that is already there from the open native stream, never blocking
    /// (`backend_api_next` with timeout 0); throws how the answer ended, if it did.
    func poll(_ stream: OpaquePointer) throws -> Poll {
        var chunk: OpaquePointer?
        var err: OpaquePointer?
        let status = backend_api_next(stream, 0, &chunk, &err).rawValue
        if status == BACKEND_API_STATUS_OK.rawValue, let chunk {
            return .chunk(try take(chunk))
        }
        if status == BACKEND_API_STATUS_AGAIN.rawValue {
            return .wait
        }
        try finish(Self.ending(status, err)).get()
        return .end
    }

    /// Parks until the readiness handler has a chunk for this iteration; nil at the end.
    func wait(isolation: isolated (any Actor)?) async throws -> Chunk? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { park($0) }
        } onCancel: {
            cancel()
        }
    }

    /// The native stream once open, else nil.
    var opened: OpaquePointer? { lock.withLock { native } }

    /// Cancels the request: any thread, any time, repeatable. The outcome is settled
    /// before the native stream is cancelled, so that nothing the native stream reports
    /// after the cancel changes it.
    func cancel() {
        end(with: CancellationError())
    }

    /// Ends the request with `error` (unless it had ended) and cancels the native
    /// stream: ``cancel()``, and the request's own timeout.
    private func end(with error: any Error) {
        lock.lock()
        cancelled = true
        let canceller = self.canceller
        let (final, parked) = settle(.failure(error))
        lock.unlock()
        backend_api_canceller_cancel(canceller) // NULL (not open yet): open cancels after it
        resume(parked, with: final)
    }

    /// The statistics of the native stream; nil before it was opened.
    func stats() -> StreamStats? {
        opened.map { StreamStats(native: $0) }
    }

    /// The assembled answer of the native stream; nil before it was opened.
    func answer() -> Answer? {
        opened.flatMap { try? Answer(native: $0) }
    }

    /// Parks an iteration until the readiness handler has a chunk for it, or hands it
    /// the end.
    private func park(_ continuation: CheckedContinuation<Chunk?, any Error>) {
        lock.lock()
        if let end {
            lock.unlock()
            continuation.resume(with: end.map { nil })
            return
        }
        waiters.append(continuation)
        let suspended = runSourceLocked()
        lock.unlock()
        suspended?.resume()
    }

    /// With the lock held: when iterations wait and the source is suspended, marks it
    /// running and returns it, to resume once the lock is released.
    private func runSourceLocked() -> (any DispatchSourceRead)? {
        guard let source, !sourceRunning, !waiters.isEmpty, end == nil else { return nil }
        sourceRunning = true
        return source
    }

    /// Takes over a native chunk; an in-stream `error`/`auth` chunk ends the answer
    /// (thrown: the outcome in force, normally that chunk's error).
    private func take(_ native: OpaquePointer) throws -> Chunk {
        let chunk = Chunk(native: native)
        if chunk.isFatal {
            try finish(.failure(BackendAPIError(fatal: chunk))).get()
        }
        return chunk
    }

    /// Records how the answer ended (the first outcome wins) and hands it to every
    /// parked iteration. Returns the outcome in force.
    @discardableResult
    private func finish(_ outcome: Result<Void, any Error>) -> Result<Void, any Error> {
        lock.lock()
        let (final, parked) = settle(outcome)
        lock.unlock()
        resume(parked, with: final)
        return final
    }

    /// With the lock held: records the outcome unless one is there and takes the parked
    /// iterations (to resume once the lock is released).
    private func settle(
        _ outcome: Result<Void, any Error>
    ) -> (Result<Void, any Error>, [CheckedContinuation<Chunk?, any Error>]) {
        let final = end ?? outcome
        end = final
        let parked = waiters
        waiters = []
        return (final, parked)
    }

    private func resume(_ parked: [CheckedContinuation<Chunk?, any Error>], with final: Result<Void, any Error>) {
        for continuation in parked {
            continuation.resume(with: final.map { nil })
        }
    }

    /// The outcome of a final status of `backend_api_next`.
    private static func ending(_ status: UInt32, _ err: OpaquePointer?) -> Result<Void, any Error> {
        switch status {
        case BACKEND_API_STATUS_END.rawValue:
            backend_api_error_free(err)
            return .success(())
        case BACKEND_API_STATUS_CANCELLED.rawValue:
            backend_api_error_free(err)
            return .failure(CancellationError())
        default:
            return .failure(BackendAPIError.consume(err, status: status))
        }
    }

    /// Opens the native stream and its read source (on ``streamQueue``).
    private func open() {
        let stream: OpaquePointer
        var canceller: OpaquePointer?
        var fd = -1
        do throws(BackendAPIError) {
            stream = try client.open(request)
            do throws(BackendAPIError) {
                try check { backend_api_stream_canceller(stream, &canceller, $0) }
                try check { backend_api_stream_fd(stream, &fd, $0) }
            } catch {
                backend_api_canceller_free(canceller)
                backend_api_close(stream)
                throw error
            }
        } catch {
            finish(.failure(error))
            return
        }
        let source = DispatchSource.makeReadSource(fileDescriptor: Int32(truncatingIfNeeded: fd), queue: streamQueue)
        source.setEventHandler { [weak self] in self?.serve() }
        // The native stream (and with it the descriptor) goes after the source's last
        // event: nothing of `self` is left by then.
        nonisolated(unsafe) let (closing, freeing) = (stream, canceller)
        source.setCancelHandler {
            backend_api_canceller_free(freeing)
            backend_api_close(closing)
        }
        lock.lock()
        native = stream
        self.canceller = canceller
        self.source = source
        sourceRunning = true // activated below; `serve` suspends it when nobody waits
        let cancelledEarly = cancelled
        lock.unlock()
        if cancelledEarly {
            backend_api_canceller_cancel(canceller)
        }
        source.activate()
    }

    /// The readiness handler: hands one chunk to each parked
    /// iteration while chunks are there, ends the answer at its end, and suspends the
    /// source when nobody waits.
    private func serve() {
        while true {
            lock.lock()
            guard let native, let source else {
                lock.unlock()
                return
            }
            if waiters.isEmpty || end != nil {
                if sourceRunning {
                    sourceRunning = false
                    source.suspend()
                }
                lock.unlock()
                return
            }
            lock.unlock()

            var chunk: OpaquePointer?
            var err: OpaquePointer?
            let status = backend_api_next(native, 0, &chunk, &err).rawValue
            if status == BACKEND_API_STATUS_OK.rawValue, let chunk {
                if let chunk = try? take(chunk) { deliver(chunk) } // else finish() told everyone
            } else if status == BACKEND_API_STATUS_AGAIN.rawValue {
                return // nothing yet (or a spurious wakeup): the descriptor tells when
            } else {
                finish(Self.ending(status, err))
            }
        }
    }

    /// Hands a chunk the readiness handler fetched to the first parked iteration.
    private func deliver(_ chunk: Chunk) {
        lock.lock()
        guard end == nil, !waiters.isEmpty else {
            lock.unlock()
            return // the answer ended meanwhile (cancelled): the chunk is not handed out
        }
        let waiter = waiters.removeFirst()
        lock.unlock()
        waiter.resume(returning: chunk)
    }
}
