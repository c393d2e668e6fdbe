import CBackendAPI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One native stream, driven by the caller: the lower-level API for integrating with
/// an event loop of your own (poll, epoll, kqueue, a `DispatchSource`, libuv, GLib).
///
/// Swift's own event loop is its concurrency runtime, and ``ChunkStream`` already fits
/// it (readiness from the stream's descriptor through a `DispatchSource`, `async`
/// iteration). `NativeStream` is for
/// programs that run a poll loop themselves and want many streams on one thread:
///
/// ```swift
/// let streams = try requests.map { try NativeStream(client: client, request: $0) }
/// var fds = streams.map { pollfd(fd: $0.fileDescriptor, events: Int16(POLLIN), revents: 0) }
/// let deadlines = streams.map(\.pollTimeoutMilliseconds).filter { $0 >= 0 }
/// let timeout: Int32 = deadlines.min() ?? -1
/// poll(&fds, nfds_t(fds.count), timeout)
/// for (i, s) in streams.enumerated() where fds[i].revents != 0 || timeout == 0 {
///     while case .chunk(let chunk) = try s.tryNext() { handle(chunk) }   // until .pending or .end
/// }
/// ```
/// (A whole loop, with `.end` and errors, is in the package's README.)
///
/// - The request goes out in `init` (on the library's own thread; `init` returns at
///   once, after reading media files).
/// - ``fileDescriptor`` is readable whenever ``tryNext()`` would not return
///   ``Event/pending``: a chunk, the end or an error is there, or the stream was
///   cancelled. It may be readable spuriously (``tryNext()`` then says `.pending`).
///   Only wait for readability on it: never read, write or close it.
/// - Idle and total timeouts end the stream by themselves and make the descriptor
///   readable: the poll needs no timeout for them (``pollTimeoutMilliseconds`` and
///   ``deadlineHint`` tell when one is due).
/// - The native stream is cancelled, closed and freed when the last reference goes
///   away (`deinit`, which never waits); the descriptor is closed with it.
/// - In-stream `error`/`auth` chunks are handed out as chunks (``Chunk/isFatal``),
///   as the C library does; the stream ends after them.
/// - `Sendable`: ``tryNext()`` and ``next(timeout:)`` may be called from any thread
///   (concurrent calls are serialised by the library), ``cancel()``, ``stats``,
///   ``answer()`` and ``deadlineHint`` from any thread at any time.
public final class NativeStream: @unchecked Sendable {
    // @unchecked: `raw` is a C pointer. Every C call made through it is allowed on any
    // thread, also concurrently (next is serialised by the library; cancel, stats,
    // answer, fd and timeout_ms are any-thread), as long as the stream is not closed;
    // it is closed only in deinit, when no other reference can be using it.

    /// What ``tryNext()`` or ``next(timeout:)`` found.
    public enum Event: Sendable, Hashable {
        /// The next chunk.
        case chunk(Chunk)
        /// Nothing yet: wait for ``NativeStream/fileDescriptor`` to become readable.
        case pending
        /// The answer is complete; later calls return `.end` again.
        case end
    }

    public let client: BackendAPIClient
    public let request: ChatRequest
    /// Readable whenever ``tryNext()`` would not return ``Event/pending``. Owned by the
    /// stream: wait for readability only; closed with the stream.
    public let fileDescriptor: Int32
    private let raw: OpaquePointer

    /// Opens the stream: builds the native request (reading media files now) and sends
    /// it on the library's thread; returns at once. Connection errors come from
    /// ``tryNext()``; a bad request throws here.
    public init(client: BackendAPIClient, request: ChatRequest) throws(BackendAPIError) {
        let stream = try client.open(request)
        // Asked once (the same descriptor each time).
        var fd = -1
        do {
            try check { backend_api_stream_fd(stream, &fd, $0) }
        } catch {
            backend_api_close(stream)
            throw error
        }
        self.client = client
        self.request = request
        self.raw = stream
        self.fileDescriptor = Int32(truncatingIfNeeded: fd)
    }

    deinit {
        // Cancels, shuts the connection and frees at once (the library's thread finishes
        // on its own); closes the descriptor.
        backend_api_close(raw)
    }

    /// The next chunk if one is there, without waiting (`backend_api_next` with timeout 0).
    ///
    /// - Returns: `.chunk`, `.pending` (nothing yet) or `.end` (the answer is complete).
    /// - Throws: ``BackendAPIError`` when the stream failed; `CancellationError` after
    ///   ``cancel()``. Both are final: later calls throw again.
    public func tryNext() throws -> Event {
        try next(timeoutMilliseconds: 0)
    }

    /// Waits up to `timeout` for the next chunk (nil: for ever); `.pending` when none
    /// came. Blocks the calling thread: do not call it with a long timeout from Swift's
    /// cooperative thread pool (an `async` function); use ``ChunkStream`` there.
    public func next(timeout: Duration?) throws -> Event {
        guard let timeout else { return try next(timeoutMilliseconds: -1) }
        return try next(timeoutMilliseconds: try wholeMilliseconds(max(timeout, .zero), "timeout"))
    }

    private func next(timeoutMilliseconds ms: Int64) throws -> Event {
        var chunk: OpaquePointer?
        var err: OpaquePointer?
        let status = backend_api_next(raw, ms, &chunk, &err).rawValue
        switch status {
        case BACKEND_API_STATUS_OK.rawValue:
            guard let chunk else { throw BackendAPIError.internalError("backend_api_next returned no chunk") }
            return .chunk(Chunk(native: chunk))
        case BACKEND_API_STATUS_AGAIN.rawValue:
            return .pending
        case BACKEND_API_STATUS_END.rawValue:
            return .end
        case BACKEND_API_STATUS_CANCELLED.rawValue:
            backend_api_error_free(err)
            throw CancellationError()
        default:
            throw BackendAPIError.consume(err, status: status)
        }
    }

    /// Cancels the stream: any thread, any time, repeatable. The descriptor becomes
    /// readable and ``tryNext()`` throws `CancellationError` (unless the stream had
    /// already handed out its end or thrown an error: those stay).
    public func cancel() {
        backend_api_cancel(raw)
    }

    /// Time until ``tryNext()`` would fail with the idle or total timeout (`.zero` when
    /// due: call it now); nil when neither timeout is set.
    public var deadlineHint: Duration? {
        let ms = backend_api_stream_timeout_ms(raw)
        return ms < 0 ? nil : .milliseconds(ms)
    }

    /// ``deadlineHint`` as `poll()` takes it: milliseconds, or -1 for no deadline.
    public var pollTimeoutMilliseconds: Int32 {
        Int32(clamping: backend_api_stream_timeout_ms(raw))
    }

    /// The statistics so far (final once the stream has ended).
    public var stats: StreamStats {
        StreamStats(native: raw)
    }

    /// The assembled answer of the chunks returned so far.
    public func answer() throws(BackendAPIError) -> Answer {
        try Answer(native: raw)
    }
}
