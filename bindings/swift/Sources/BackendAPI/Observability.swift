import CBackendAPI

/// Safe retries of a request that failed before any answer began: a connection that
/// could not be made, or HTTP 429/502/503/504 (never 500, never once the answer has
/// begun, so nothing is ever received twice). See ``BackendAPIClient/Configuration/retries``.
public struct RetryPolicy: Sendable, Hashable {
    /// How many times a request is sent again at most; 0 turns retries off (the default).
    public var maxRetries: Int
    /// The first wait; it doubles at each retry, with jitter. Must be positive when
    /// `maxRetries` > 0. Whole milliseconds (rounded up).
    public var base: Duration
    /// The longest wait, also when the server's `Retry-After` asks for more. At least `base`.
    public var cap: Duration

    public init(maxRetries: Int, base: Duration = .milliseconds(500), cap: Duration = .seconds(30)) {
        self.maxRetries = maxRetries
        self.base = base
        self.cap = cap
    }

    /// No retries (the default).
    public static let disabled = RetryPolicy(maxRetries: 0, base: .zero, cap: .zero)
}

/// The level of a log record of the library (`backend_api_log_level`). Lower is more
/// severe: `.error < .warn < .info < .debug < .trace`.
public enum LogLevel: UInt32, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    case error = 1
    case warn = 2
    /// One `"POST <url> model=... attempt N"` per attempt, one `"stream ended; ..."` per stream.
    case info = 3
    /// Header names (never secret values), response timings.
    case debug = 4
    /// Every read of the response.
    case trace = 5

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .error: "error"
        case .warn: "warn"
        case .info: "info"
        case .debug: "debug"
        case .trace: "trace"
        }
    }
}

/// A log sink as the C callback's `user_data`: retained when installed, released by
/// the library's destroy callback, which runs once no callback can run any more (after
/// the client is freed and every stream of it has finished).
final class LogBox: Sendable {
    let sink: @Sendable (LogLevel, String) -> Void

    init(_ sink: @escaping @Sendable (LogLevel, String) -> Void) {
        self.sink = sink
    }

    /// Installs `sink` on the native client, which then owns the box.
    static func install(
        on client: OpaquePointer, sink: @escaping @Sendable (LogLevel, String) -> Void, level: LogLevel
    ) throws(BackendAPIError) {
        let box = Unmanaged.passRetained(LogBox(sink))
        do {
            try check { err in
                // Closure literals without captures: Swift makes them C function pointers.
                backend_api_client_set_log(
                    client,
                    { userData, level, message in
                        guard let userData, let message else { return }
                        let box = Unmanaged<LogBox>.fromOpaque(userData).takeUnretainedValue()
                        box.sink(LogLevel(rawValue: level.rawValue) ?? .trace, String(cString: message))
                    }, box.toOpaque(),
                    { userData in
                        guard let userData else { return }
                        Unmanaged<LogBox>.fromOpaque(userData).release()
                    }, level.rawValue, err)
            }
        } catch {
            box.release() // a failed call keeps nothing and calls no destroy
            throw error
        }
    }
}

/// A stream's statistics (`backend_api_stats`). Times are measured from the moment
/// the stream was opened.
public struct StreamStats: Sendable, Hashable {
    /// Response body bytes read (after HTTP framing).
    public var bytes: Int
    /// Chunks decoded by the stream's thread.
    public var chunks: Int
    /// Chunks handed out by the native `next` (to the iterator or ``NativeStream``).
    public var delivered: Int
    /// Malformed lines skipped (with `skipMalformedLines`).
    public var skipped: Int
    /// Requests sent again after a failure before any answer (see ``RetryPolicy``).
    public var retries: Int
    /// When the response headers arrived; nil until then.
    public var headersAt: Duration?
    /// When the first chunk was decoded; nil until then.
    public var firstChunkAt: Duration?
    /// How long the stream ran: until it ended, or until now.
    public var elapsed: Duration
    /// Bytes of decoded chunks waiting for the reader (bounded by the library's queue
    /// budget of 128 KiB, or one larger chunk alone).
    public var queuedBytes: Int
    /// The stream's own thread has finished: nothing more will arrive.
    public var ended: Bool
    /// The answer came on a connection the client kept from an earlier request.
    public var reusedConnection: Bool

    public init(
        bytes: Int = 0, chunks: Int = 0, delivered: Int = 0, skipped: Int = 0, retries: Int = 0,
        headersAt: Duration? = nil, firstChunkAt: Duration? = nil, elapsed: Duration = .zero,
        queuedBytes: Int = 0, ended: Bool = false, reusedConnection: Bool = false
    ) {
        self.bytes = bytes
        self.chunks = chunks
        self.delivered = delivered
        self.skipped = skipped
        self.retries = retries
        self.headersAt = headersAt
        self.firstChunkAt = firstChunkAt
        self.elapsed = elapsed
        self.queuedBytes = queuedBytes
        self.ended = ended
        self.reusedConnection = reusedConnection
    }

    /// Reads the statistics of a live native stream (any thread).
    init(native stream: OpaquePointer) {
        var s = backend_api_stats()
        s.size = MemoryLayout<backend_api_stats>.size
        if backend_api_stream_stats(stream, &s).rawValue != BACKEND_API_STATUS_OK.rawValue {
            self.init()
            return
        }
        func time(_ us: Int64) -> Duration? { us < 0 ? nil : .microseconds(us) }
        self.init(
            bytes: Int(clamping: s.bytes), chunks: Int(clamping: s.chunks), delivered: Int(clamping: s.delivered),
            skipped: Int(clamping: s.skipped), retries: Int(s.retries), headersAt: time(s.headers_us),
            firstChunkAt: time(s.first_chunk_us), elapsed: time(s.elapsed_us) ?? .zero,
            queuedBytes: Int(clamping: s.queued_bytes), ended: s.ended,
            reusedConnection: s.reused_connection)
    }
}

/// Whole milliseconds of a non-negative duration, rounded up (so a tiny positive
/// duration does not become 0, which often means "off"), saturating at `Int64.max`.
func wholeMilliseconds(_ duration: Duration, _ what: String) throws(BackendAPIError) -> Int64 {
    let (s, atto) = duration.components
    guard s >= 0, atto >= 0 else { throw .invalidArgument("\(what) is negative") }
    let ms = (Double(s) * 1000 + Double(atto) / 1e15).rounded(.up)
    return ms >= 9.2e18 ? Int64.max : Int64(ms)
}
