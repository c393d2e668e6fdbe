import CBackendAPI
import Foundation

/// Safe retries of a request that failed before any answer began: a connection that
/// could not be made, or HTTP 429/502/503/504 (never 500, never once the answer has
/// begun, so nothing is ever received twice). See ``BackendAPIClient/init(baseURL:headers:apiKey:apiKeyPlacement:tls:proxy:timeouts:maxLineBytes:skipMalformedLines:assembleAnswer:retries:logger:logLevel:)``.
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

/// A log sink as the C callback's `user_data`.
///
/// Lifetime: the client retains the box (`Unmanaged.passRetained`) when it installs
/// the callback and releases it in `deinit`, after `backend_api_client_free`. Native
/// streams copy the client's logger and call it from their own threads until
/// `backend_api_close` (which joins those threads) returns, so the box must also
/// outlive every stream of the client. It does without a retain of its own per
/// stream: every native stream is owned by a Swift object (the `StreamCore` of a
/// ``ChunkStream`` iteration, or a ``NativeStream``) that holds a strong reference to
/// the ``BackendAPIClient`` and closes the native stream before it lets go of the
/// client. So the client (and with it the box) cannot be deinitialised while a
/// native stream of it is open.
final class LogBox: Sendable {
    let sink: @Sendable (LogLevel, String) -> Void

    init(_ sink: @escaping @Sendable (LogLevel, String) -> Void) {
        self.sink = sink
    }

    /// Installs `sink` on the native client; returns the retained box to release
    /// after the client is freed.
    static func install(
        on client: OpaquePointer, sink: @escaping @Sendable (LogLevel, String) -> Void, level: LogLevel
    ) throws(BackendAPIError) -> Unmanaged<LogBox> {
        let box = Unmanaged.passRetained(LogBox(sink))
        do {
            try check { err in
                // A closure literal without captures: Swift makes it a C function pointer.
                backend_api_client_set_log(client, { userData, level, message in
                    guard let userData, let message else { return }
                    let box = Unmanaged<LogBox>.fromOpaque(userData).takeUnretainedValue()
                    box.sink(LogLevel(rawValue: level.rawValue) ?? .trace, String(cString: message))
                }, box.toOpaque(), level.rawValue, err)
            }
        } catch {
            box.release()
            throw error
        }
        return box
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

    public init(
        bytes: Int = 0, chunks: Int = 0, delivered: Int = 0, skipped: Int = 0, retries: Int = 0,
        headersAt: Duration? = nil, firstChunkAt: Duration? = nil, elapsed: Duration = .zero
    ) {
        self.bytes = bytes
        self.chunks = chunks
        self.delivered = delivered
        self.skipped = skipped
        self.retries = retries
        self.headersAt = headersAt
        self.firstChunkAt = firstChunkAt
        self.elapsed = elapsed
    }

    /// Reads the statistics of a live native stream (any thread).
    init(native stream: OpaquePointer) {
        var s = backend_api_stats()
        if backend_api_stream_stats(stream, &s).rawValue != BACKEND_API_STATUS_OK.rawValue {
            self.init()
            return
        }
        func time(_ us: Int64) -> Duration? { us < 0 ? nil : .microseconds(us) }
        self.init(
            bytes: Int(clamping: s.bytes), chunks: Int(clamping: s.chunks), delivered: Int(clamping: s.delivered),
            skipped: Int(clamping: s.skipped), retries: Int(s.retries), headersAt: time(s.headers_us),
            firstChunkAt: time(s.first_chunk_us), elapsed: time(s.elapsed_us) ?? .zero)
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
