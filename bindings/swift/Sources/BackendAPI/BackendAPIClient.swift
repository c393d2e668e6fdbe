import CBackendAPI
import Foundation

/// Where the api key goes: in the body as `"api_key"` (as g4f's Python client),
/// as `Authorization: Bearer <key>`, or both.
public struct APIKeyPlacement: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let body = APIKeyPlacement(rawValue: UInt32(BACKEND_API_KEY_BODY))
    public static let bearer = APIKeyPlacement(rawValue: UInt32(BACKEND_API_KEY_BEARER))
}

/// TLS certificate checking.
public enum TLSOptions: Sendable, Hashable {
    /// Verify against the bundled Mozilla roots (the default).
    case verify
    /// Do not verify certificates at all (g4f's `ssl=False`): insecure, for testing only.
    case insecure
    /// Trust only the certificates of this PEM file (read when the client is made).
    case customCA(path: String)
}

/// The proxy requests go through.
public enum ProxyOptions: Sendable, Hashable {
    /// From `ALL_PROXY`/`HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` (the default).
    case environment
    /// No proxy at all; the environment is ignored.
    case none
    /// `http://`, `socks4://`, `socks5://` or `socks5h://` URL, with optional `user:password@`.
    case url(String)
}

/// The client's timeouts. `nil` keeps the library's default; `.zero` turns one off.
public struct Timeouts: Sendable, Hashable {
    /// Name resolution, TCP connect, proxy and TLS handshakes (library default 30 s).
    public var connect: Duration?
    /// From the request being sent to the response headers (default 120 s).
    public var headers: Duration?
    /// Longest wait between two chunks; keep-alive comments do not count (default 300 s).
    public var idle: Duration?
    /// The whole exchange (default: off; long answers are healthy).
    public var total: Duration?

    public init(connect: Duration? = nil, headers: Duration? = nil, idle: Duration? = nil, total: Duration? = nil) {
        self.connect = connect
        self.headers = headers
        self.idle = idle
        self.total = total
    }
}

/// A client of one g4f backend server: base URL, headers, api key, TLS, proxy, timeouts.
///
/// Immutable after `init`, and `Sendable`: share one client between tasks and open
/// any number of concurrent streams from it.
public final class BackendAPIClient: @unchecked Sendable {
    // @unchecked: `raw` is a C pointer, so the compiler cannot check this class. It is
    // safe because the native client is only configured inside `init` (the setters are
    // the only C calls that must not run concurrently), and afterwards only
    // `backend_api_open` and `backend_api_models` read it, which the header allows on
    // any thread, also concurrently; `deinit` frees it when no reference is left.
    let raw: OpaquePointer
    /// The api key and its placement, applied to every request without one of its own.
    public let apiKey: String?
    public let apiKeyPlacement: APIKeyPlacement
    public let baseURL: String
    /// The retry policy (``RetryPolicy/disabled`` unless one was given).
    public let retries: RetryPolicy
    /// The logger's box, retained while the client lives; see ``LogBox`` for why this
    /// also covers every stream of the client.
    private let logBox: Unmanaged<LogBox>?

    /// Creates a client for the g4f server at `baseURL` (`http://` or `https://`).
    ///
    /// - Parameters:
    ///   - headers: sent with every request (secret ones never reach logs or errors).
    ///   - apiKey: sent with every request unless the ``ChatRequest`` has its own.
    ///   - maxLineBytes: bound on one line or event of the response (default 16 MiB).
    ///   - skipMalformedLines: drop lines that are not JSON objects instead of failing.
    ///   - assembleAnswer: keep each stream's assembled ``Answer`` (the default); `false`
    ///     keeps none (the answer is then empty), for very long streams whose text the
    ///     caller keeps itself.
    ///   - retries: send a request again when it failed before any answer began (a
    ///     connection not made, HTTP 429/502/503/504); ``RetryPolicy/disabled`` by default.
    ///   - logger: receives the library's log records up to `logLevel`, on the streams'
    ///     own threads, possibly several at once: it must be thread-safe, return quickly
    ///     and not use the stream it reports on. Records never hold the api key or secret
    ///     header values. nil: records go to standard error when the environment variable
    ///     `BACKEND_API_LOG` names a level, else nowhere. Kept alive as long as the client
    ///     or any of its streams (streams hold the client); do not capture the client in it
    ///     strongly (a reference cycle).
    ///   - logLevel: the most verbose level `logger` gets (default `.info`).
    /// - Throws: ``BackendAPIError`` for a bad URL, header, proxy URL, CA file or retry policy.
    public init(
        baseURL: String,
        headers: [String: String] = [:],
        apiKey: String? = nil,
        apiKeyPlacement: APIKeyPlacement = .body,
        tls: TLSOptions = .verify,
        proxy: ProxyOptions = .environment,
        timeouts: Timeouts = Timeouts(),
        maxLineBytes: Int? = nil,
        skipMalformedLines: Bool = false,
        assembleAnswer: Bool = true,
        retries: RetryPolicy = .disabled,
        logger: (@Sendable (LogLevel, String) -> Void)? = nil,
        logLevel: LogLevel = .info
    ) throws(BackendAPIError) {
        var client: OpaquePointer?
        let url = try cString(baseURL, "base URL")
        try check { backend_api_client_new(url, &client, $0) }
        guard let client else { throw .internalError("backend_api_client_new returned no client") }
        var box: Unmanaged<LogBox>?
        do {
            try Self.configure(
                client, headers: headers, tls: tls, proxy: proxy, timeouts: timeouts,
                maxLineBytes: maxLineBytes, skipMalformedLines: skipMalformedLines,
                assembleAnswer: assembleAnswer, retries: retries)
            if let logger {
                box = try LogBox.install(on: client, sink: logger, level: logLevel)
            }
        } catch {
            backend_api_client_free(client)
            box?.release()
            throw error
        }
        self.raw = client
        self.logBox = box
        self.retries = retries
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.apiKeyPlacement = apiKeyPlacement
    }

    /// Creates a client for the server at `baseURL`; see the other initialiser.
    public convenience init(
        baseURL: URL,
        headers: [String: String] = [:],
        apiKey: String? = nil,
        apiKeyPlacement: APIKeyPlacement = .body,
        tls: TLSOptions = .verify,
        proxy: ProxyOptions = .environment,
        timeouts: Timeouts = Timeouts(),
        retries: RetryPolicy = .disabled,
        logger: (@Sendable (LogLevel, String) -> Void)? = nil,
        logLevel: LogLevel = .info
    ) throws(BackendAPIError) {
        try self.init(
            baseURL: baseURL.absoluteString, headers: headers, apiKey: apiKey,
            apiKeyPlacement: apiKeyPlacement, tls: tls, proxy: proxy, timeouts: timeouts,
            retries: retries, logger: logger, logLevel: logLevel)
    }

    private static func configure(
        _ c: OpaquePointer, headers: [String: String], tls: TLSOptions, proxy: ProxyOptions,
        timeouts: Timeouts, maxLineBytes: Int?, skipMalformedLines: Bool, assembleAnswer: Bool,
        retries: RetryPolicy
    ) throws(BackendAPIError) {
        for name in headers.keys.sorted() {
            let n = try cString(name, "header name")
            let v = try cString(headers[name]!, "header value")
            try check { backend_api_client_add_header(c, n, v, $0) }
        }
        switch tls {
        case .verify: break
        case .insecure: try check { backend_api_client_set_verify_tls(c, false, $0) }
        case .customCA(let path):
            let p = try cString(path, "CA file path")
            try check { backend_api_client_set_ca_file(c, p, $0) }
        }
        switch proxy {
        case .environment: break
        case .none: try check { backend_api_client_set_proxy(c, nil, $0) }
        case .url(let url):
            let u = try cString(url, "proxy URL")
            try check { backend_api_client_set_proxy(c, u, $0) }
        }
        // (The C enum's name is also a typedef; Swift sees two types and cannot name either.)
        let pairs: [(UInt32, Duration?)] = [
            (BACKEND_API_TIMEOUT_CONNECT.rawValue, timeouts.connect),
            (BACKEND_API_TIMEOUT_HEADERS.rawValue, timeouts.headers),
            (BACKEND_API_TIMEOUT_IDLE.rawValue, timeouts.idle),
            (BACKEND_API_TIMEOUT_TOTAL.rawValue, timeouts.total),
        ]
        for (kind, duration) in pairs {
            guard let duration else { continue }
            // Rounded up so a tiny positive timeout does not become 0 ("off").
            let millis = try wholeMilliseconds(duration, "a timeout")
            try check { backend_api_client_set_timeout(c, kind, millis, $0) }
        }
        // Always set (also `.disabled`, which the library accepts): it checks the policy.
        guard retries.maxRetries >= 0 else { throw .invalidArgument("maxRetries is negative") }
        let base = UInt32(clamping: try wholeMilliseconds(retries.base, "the retry base"))
        let cap = UInt32(clamping: try wholeMilliseconds(retries.cap, "the retry cap"))
        let n = UInt32(clamping: retries.maxRetries)
        try check { backend_api_client_set_retries(c, n, base, cap, $0) }
        if let maxLineBytes {
            guard maxLineBytes >= 1 else { throw .invalidArgument("maxLineBytes must be at least 1") }
            try check { backend_api_client_set_max_line(c, maxLineBytes, $0) }
        }
        if skipMalformedLines {
            try check { backend_api_client_set_skip_malformed(c, true, $0) }
        }
        if !assembleAnswer {
            try check { backend_api_client_set_assemble(c, false, $0) }
        }
    }

    deinit {
        // No native stream of this client is open any more: each is owned by an object
        // holding a strong reference to this client, which closes it first (see LogBox).
        backend_api_client_free(raw)
        logBox?.release()
    }

    /// The streamed answer to `request`, as an `AsyncSequence` of ``Chunk``s:
    /// `for try await chunk in client.stream(request) { ... }`.
    ///
    /// Nothing is sent until iteration starts; each iteration sends the request anew.
    /// Failures are thrown as ``BackendAPIError``; cancelling the iterating task ends
    /// the iteration with `CancellationError`. See ``ChunkStream``.
    public func stream(_ request: ChatRequest) -> ChunkStream {
        ChunkStream(client: self, request: request)
    }

    /// The model listing as JSON text: `GET /backend-api/v2/models` (an object mapping
    /// provider names to model names) or, with `provider`, `/backend-api/v2/models/<provider>`
    /// (a list of model objects).
    ///
    /// The blocking C call runs on a thread of its own, not on Swift's cooperative pool.
    /// The native call cannot be interrupted: cancelling the task throws
    /// `CancellationError` at once and the call finishes (bounded by the client's
    /// timeouts) in the background, its result discarded.
    public func models(provider: String? = nil) async throws -> Data {
        let provider = try provider.map { p throws(BackendAPIError) in try cString(p, "provider") }
        return try await runOnOwnThread(name: "backend-api models") { [self] () throws(BackendAPIError) -> Data in
            var json: UnsafeMutablePointer<CChar>?
            var len = 0
            try withExtendedLifetime(self) { () throws(BackendAPIError) in
                try check { err in
                    if let provider {
                        return backend_api_models(raw, provider, &json, &len, err)
                    }
                    return backend_api_models(raw, nil, &json, &len, err)
                }
            }
            guard let json else { throw .internalError("backend_api_models returned no text") }
            defer { backend_api_string_free(json) }
            return Data(bytes: json, count: len)
        }
    }

    /// The model listing decoded: provider name to model names.
    public func modelNames() async throws -> [String: [String]] {
        let data = try await models()
        do {
            return try JSONDecoder().decode([String: [String]].self, from: data)
        } catch {
            throw BackendAPIError.protocolViolation("unexpected model listing: \(error)")
        }
    }
}

/// The version of the native library, such as `"0.1.0"`.
public var backendAPIVersion: String {
    String(cString: backend_api_version())
}
