import CBackendAPI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Where the api key goes: in the body as `"api_key"` (as g4f's Python client),
/// as `Authorization: Bearer <key>`, or both.
public struct APIKeyPlacement: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let body = APIKeyPlacement(rawValue: UInt32(BACKEND_API_KEY_BODY))
    public static let bearer = APIKeyPlacement(rawValue: UInt32(BACKEND_API_KEY_BEARER))
}

/// The wire protocol a client speaks (`backend_api_protocol`).
public enum APIProtocol: Sendable, Hashable {
    /// g4f's backend API (`POST {base}/backend-api/v2/conversation`), the default;
    /// base URL such as `http://host:8080`.
    case backend
    /// The OpenAI-compatible API of `g4f api` and its peers (`POST {base}/chat/completions`,
    /// models at `{base}/models`); base URL such as `http://host:1337/v1`. Requests,
    /// chunks and answers work as with ``backend``; ``BackendAPIClient/models(provider:)``
    /// with a provider throws ``BackendAPIError/Code/invalidArgument``.
    case openAI
}

/// TLS certificate checking.
public enum TLSOptions: Sendable, Hashable {
    /// Verify against the trust store (``BackendAPIClient/Configuration/trustStore``:
    /// the platform's by default), plus ``BackendAPIClient/Configuration/additionalCAFiles``.
    case verify
    /// Do not verify certificates at all (g4f's `ssl=False`): insecure, for testing only.
    case insecure
    /// Trust only the certificates of this PEM file (read when the client is made).
    case customCA(path: String)
}

/// Where the roots of trust for TLS come from (`backend_api_trust_store`).
public enum TrustStore: Sendable, Hashable {
    /// The platform's verifier and store (the default): the system bundle on Linux
    /// (`SSL_CERT_FILE` and `SSL_CERT_DIR` honoured), the OS verifier on Apple platforms
    /// and Windows, so CAs installed there work without code.
    case platform
    /// The Mozilla roots compiled into the library: the same on every machine.
    case bundled
}

/// The proxy requests go through.
public enum ProxyOptions: Sendable, Hashable {
    /// From the environment as curl reads it (the default): `http_proxy` (never
    /// `HTTP_PROXY`), `HTTPS_PROXY`/`https_proxy`, `ALL_PROXY`, `NO_PROXY`.
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

/// A client of one g4f backend server, made from a ``Configuration``.
///
/// Immutable, and `Sendable`: share one client between tasks and open any number of
/// concurrent streams from it.
///
/// ```swift
/// var configuration = BackendAPIClient.Configuration(baseURL: "http://127.0.0.1:8080")
/// configuration.timeouts.idle = .seconds(120)
/// let client = try BackendAPIClient(configuration: configuration)
/// ```
public final class BackendAPIClient: Sendable {
    /// Everything a client is made of. Start from ``init(baseURL:)-(String)`` and set
    /// what you need; every setting is applied, whichever way the URL was given.
    public struct Configuration: Sendable {
        /// The server, `http://` or `https://` (g4f's `g4f api` / `g4f gui`).
        public var baseURL: String
        /// Sent with every request (secret ones never reach logs or errors).
        public var headers: [String: String] = [:]
        /// Sent with every request unless the ``ChatRequest`` has its own.
        public var apiKey: Secret?
        /// Where ``apiKey`` goes.
        public var apiKeyPlacement: APIKeyPlacement = .body
        /// The wire protocol; ``APIProtocol/openAI`` wants a base URL ending in `/v1`.
        public var apiProtocol: APIProtocol = .backend
        public var tls: TLSOptions = .verify
        /// Where the roots of trust come from (``TrustStore/platform`` by default).
        public var trustStore: TrustStore = .platform
        /// PEM files whose certificates are trusted besides the trust store's (read when
        /// the client is made): a private or corporate CA next to the public ones.
        public var additionalCAFiles: [String] = []
        public var proxy: ProxyOptions = .environment
        public var timeouts = Timeouts()
        /// Bound on one line or event of the response (nil: the library's 16 MiB);
        /// passing it fails the stream with ``BackendAPIError/Code/lineTooLong``.
        public var maxLineBytes: Int?
        /// Bound on each stream's assembled answer, its text as sent and its tool-call
        /// JSON (nil: the library's 64 MiB); passing it fails the stream with
        /// ``BackendAPIError/Code/answerTooLong``. No effect without ``assembleAnswer``.
        public var maxAnswerBytes: Int?
        /// Drop lines that are not JSON objects instead of failing the stream.
        public var skipMalformedLines = false
        /// Keep each stream's assembled ``Answer`` (the default); `false` keeps none
        /// (the answer is then empty), for very long streams whose text the caller keeps.
        public var assembleAnswer = true
        /// Send a request again when it failed before any answer began (a connection
        /// not made, HTTP 429/502/503/504); ``RetryPolicy/disabled`` by default.
        public var retries: RetryPolicy = .disabled
        /// Idle connections kept for later requests: 10 for 4 s by default;
        /// ``KeepAlive/disabled`` turns reuse off.
        public var keepAlive = KeepAlive()
        /// Receives the library's log records up to ``logLevel``, on the streams' own
        /// threads, possibly several at once: it must be thread-safe, return quickly and
        /// not use the stream it reports on. Records never hold the api key or secret
        /// header values. nil: records go to standard error when the environment
        /// variable `BACKEND_API_LOG` names a level, else nowhere. Released once the
        /// client and all its streams are gone.
        public var logger: (@Sendable (LogLevel, String) -> Void)?
        /// The most verbose level ``logger`` gets.
        public var logLevel: LogLevel = .info

        public init(baseURL: String) {
            self.baseURL = baseURL
        }

        public init(baseURL: URL) {
            self.init(baseURL: baseURL.absoluteString)
        }
    }

    // The native client is only configured inside `init` (the setters are the only C
    // calls that must not run concurrently); afterwards only `backend_api_open` and
    // `backend_api_models` read it, which the header allows on any thread, also
    // concurrently. `deinit` frees it; streams opened from it stay valid.
    nonisolated(unsafe) let raw: OpaquePointer
    /// The settings the client was made with (the api key stays redacted in print).
    public let configuration: Configuration

    /// Creates a client.
    /// - Throws: ``BackendAPIError`` for a bad URL, header, proxy URL, CA file, retry policy or keep-alive.
    public init(configuration: Configuration) throws(BackendAPIError) {
        var client: OpaquePointer?
        let url = try cString(configuration.baseURL, "base URL")
        try check { backend_api_client_new(url, &client, $0) }
        guard let client else { throw .internalError("backend_api_client_new returned no client") }
        do {
            try Self.configure(client, configuration)
        } catch {
            backend_api_client_free(client)
            throw error
        }
        self.raw = client
        self.configuration = configuration
    }

    private static func configure(_ c: OpaquePointer, _ config: Configuration) throws(BackendAPIError) {
        for name in config.headers.keys.sorted() {
            let n = try cString(name, "header name")
            let v = try cString(config.headers[name]!, "header value")
            try check { backend_api_client_add_header(c, n, v, $0) }
        }
        if config.trustStore == .bundled {
            try check { backend_api_client_set_trust_store(c, BACKEND_API_TRUST_STORE_BUNDLED.rawValue, $0) }
        }
        for path in config.additionalCAFiles {
            let p = try cString(path, "CA file path")
            try check { backend_api_client_add_ca_file(c, p, $0) }
        }
        switch config.tls {
        case .verify: break
        case .insecure: try check { backend_api_client_set_verify_tls(c, false, $0) }
        case .customCA(let path):
            let p = try cString(path, "CA file path")
            try check { backend_api_client_set_ca_file(c, p, $0) }
        }
        switch config.proxy {
        case .environment: break
        case .none: try check { backend_api_client_set_proxy(c, nil, $0) }
        case .url(let url):
            let u = try cString(url, "proxy URL")
            try check { backend_api_client_set_proxy(c, u, $0) }
        }
        // (The C enum's name is also a typedef; Swift sees two types and cannot name either.)
        let wire = switch config.apiProtocol {
        case .backend: BACKEND_API_PROTOCOL_BACKEND.rawValue
        case .openAI: BACKEND_API_PROTOCOL_OPENAI.rawValue
        }
        try check { backend_api_client_set_protocol(c, wire, $0) }
        let timeouts = config.timeouts
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
        let retries = config.retries
        guard retries.maxRetries >= 0 else { throw .invalidArgument("maxRetries is negative") }
        let base = UInt32(clamping: try wholeMilliseconds(retries.base, "the retry base"))
        let cap = UInt32(clamping: try wholeMilliseconds(retries.cap, "the retry cap"))
        let n = UInt32(clamping: retries.maxRetries)
        try check { backend_api_client_set_retries(c, n, base, cap, $0) }
        // Always set (also the default), so its values are checked.
        let keepAlive = config.keepAlive
        guard keepAlive.maxIdle >= 0 else { throw .invalidArgument("keepAlive.maxIdle is negative") }
        let idle = try wholeMilliseconds(keepAlive.idle, "keepAlive.idle")
        try check { backend_api_client_set_keep_alive(c, keepAlive.maxIdle, idle, $0) }
        if let maxLineBytes = config.maxLineBytes {
            guard maxLineBytes >= 1 else { throw .invalidArgument("maxLineBytes must be at least 1") }
            try check { backend_api_client_set_max_line(c, maxLineBytes, $0) }
        }
        if let maxAnswerBytes = config.maxAnswerBytes {
            guard maxAnswerBytes >= 1 else { throw .invalidArgument("maxAnswerBytes must be at least 1") }
            try check { backend_api_client_set_max_answer(c, maxAnswerBytes, $0) }
        }
        if config.skipMalformedLines {
            try check { backend_api_client_set_skip_malformed(c, true, $0) }
        }
        if !config.assembleAnswer {
            try check { backend_api_client_set_assemble(c, false, $0) }
        }
        if let logger = config.logger {
            try LogBox.install(on: c, sink: logger, level: config.logLevel)
        }
    }

    deinit {
        // Streams opened from the client keep what they need (the logger too, until
        // the library calls its destroy callback).
        backend_api_client_free(raw)
    }

    /// The streamed answer to `request`, as an `AsyncSequence` of ``Chunk``s:
    /// `for try await chunk in client.stream(request) { ... }`.
    ///
    /// One call, one request: it goes out when the stream is first iterated, and every
    /// iteration of the returned value (also a second `for` loop, a re-run SwiftUI
    /// `.task`, or several tasks at once) shares that one answer. See ``ChunkStream``.
    public func stream(_ request: ChatRequest) -> ChunkStream {
        ChunkStream(client: self, request: request)
    }

    /// Opens a native stream for `request` (reading media files now); the caller closes it.
    func open(_ request: ChatRequest) throws(BackendAPIError) -> OpaquePointer {
        try request.withNative(client: self) { r throws(BackendAPIError) -> OpaquePointer in
            var stream: OpaquePointer?
            try withExtendedLifetime(self) { () throws(BackendAPIError) in
                try check { backend_api_open(raw, r, &stream, $0) }
            }
            guard let stream else { throw .internalError("backend_api_open returned no stream") }
            return stream
        }
    }

    /// The model listing as JSON text: `GET /backend-api/v2/models` (an object mapping
    /// provider names to model names) or, with `provider`, `/backend-api/v2/models/<provider>`
    /// (a list of model objects). Under ``APIProtocol/openAI``: `GET {base}/models` (an
    /// OpenAI model list), and a provider is ``BackendAPIError/Code/invalidArgument``.
    ///
    /// The blocking C call runs on a thread of its own, not on Swift's cooperative pool.
    /// Cancelling the task cancels the call (through the library's canceller): it
    /// returns at once, its connection closed, and this throws `CancellationError`.
    public func models(provider: String? = nil) async throws -> Data {
        let provider = try provider.map { p throws(BackendAPIError) in try cString(p, "provider") }
        return try await blocking { client, canceller in
            var json: UnsafePointer<CChar>?
            var len = 0
            var err: OpaquePointer?
            let status = backend_api_models(client, provider, canceller, &json, &len, &err).rawValue
            try Self.settle(status, err)
            guard let json else { throw BackendAPIError.internalError("backend_api_models returned no text") }
            defer { backend_api_string_free(json) }
            return Data(bytes: json, count: len)
        }
    }

    /// Runs a blocking C call of this client (a listing, a media fetch) on a thread of
    /// its own, not on Swift's cooperative pool, given the native client and a canceller
    /// that the task's cancellation cancels: the call then returns at once, its
    /// connection closed, and this throws `CancellationError`.
    func blocking<T: Sendable>(
        _ call: @escaping @Sendable (_ client: OpaquePointer, _ canceller: OpaquePointer) throws -> T
    ) async throws -> T {
        let canceller = Canceller()
        return try await withTaskCancellationHandler {
            try await runOnOwnThread { [self] () throws -> T in
                try withExtendedLifetime((self, canceller)) { try call(raw, canceller.raw) }
            }
        } onCancel: {
            canceller.cancel()
        }
    }

    /// Throws for the status of a blocking call: nothing for OK, `CancellationError`
    /// for CANCELLED, the error otherwise (taking `err` over in every case).
    static func settle(_ status: UInt32, _ err: OpaquePointer?) throws {
        switch status {
        case BACKEND_API_STATUS_OK.rawValue:
            backend_api_error_free(err)
        case BACKEND_API_STATUS_CANCELLED.rawValue:
            backend_api_error_free(err)
            throw CancellationError()
        default:
            throw BackendAPIError.consume(err, status: status)
        }
    }

    /// The models, typed, under either protocol: with no `provider`, every model the
    /// server lists (the backend API's `/backend-api/v2/models`, each with its
    /// ``Model/provider``; under ``APIProtocol/openAI`` the `data` of `{base}/models`,
    /// each with ``Model/ownedBy`` and ``Model/created``); with a `provider` (backend API
    /// only), that provider's models with their flags, each with `provider` set. The
    /// backend API's listing comes in the order of its provider names. Cancelling the
    /// task cancels the call, as ``models(provider:)``.
    public func listModels(provider: String? = nil) async throws -> [Model] {
        let data = try await models(provider: provider)
        do {
            return try Model.listing(JSONValue(parsing: data), provider: provider)
        } catch let error as BackendAPIError {
            throw BackendAPIError(code: .protocolViolation, message: "unexpected model listing: \(error.message)")
        }
    }

    /// The model listing as provider name to model names (a model listed as an object
    /// counts by its `id`, or `model`). Under ``APIProtocol/openAI``, whose listing has
    /// no providers, the models are grouped by their `owned_by` (often `""`).
    public func modelNames() async throws -> [String: [String]] {
        let data = try await models()
        let listing: JSONValue
        do {
            listing = try JSONValue(parsing: data)
        } catch let error as BackendAPIError {
            throw BackendAPIError(code: .protocolViolation, message: "unexpected model listing: \(error.message)")
        }
        if let byProvider = listing.objectValue, listing["object"] != .string("list") {
            // Every provider, also one with no models.
            return try byProvider.mapValues { try Model.list($0, provider: nil).map(\.id) }
        }
        return Dictionary(grouping: try Model.listing(listing, provider: nil), by: { $0.ownedBy ?? "" })
            .mapValues { $0.map(\.id) }
    }
}

/// A standalone native canceller (`backend_api_canceller_new`), for model listings.
final class Canceller: Sendable {
    // Any thread may cancel, at any time before the free in deinit.
    nonisolated(unsafe) let raw: OpaquePointer

    init() {
        guard let raw = backend_api_canceller_new() else { fatalError("backend-api: out of memory") }
        self.raw = raw
    }

    func cancel() { backend_api_canceller_cancel(raw) }

    deinit { backend_api_canceller_free(raw) }
}

/// The version of the native library, such as `"0.3.0"`.
public var backendAPIVersion: String {
    String(cString: backend_api_version())
}

/// The version of the native library loaded at run time as `0xMMmmpp` (major, minor,
/// patch), for comparisons: `backendAPIVersionNumber >= 0x000300`.
public var backendAPIVersionNumber: UInt32 {
    backend_api_version_num()
}

/// `url` with its credentials hidden: the `user:password@` of the authority becomes
/// `***@` (cut at the last `@` before the host), the rule of the library's own
/// messages; for printing a base or proxy URL.
/// - Throws: ``BackendAPIError/Code/invalidArgument`` for a string with a NUL inside.
public func redactURL(_ url: String) throws(BackendAPIError) -> String {
    let u = try cString(url, "URL")
    var buffer = [CChar](repeating: 0, count: url.utf8.count + 8)
    while true {
        var needed = 0
        let status = backend_api_redact_url(u, &buffer, buffer.count, &needed).rawValue
        if status == BACKEND_API_STATUS_OK.rawValue {
            return String(decoding: buffer.prefix(needed - 1).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        guard status == BACKEND_API_STATUS_LIMIT.rawValue, needed > buffer.count else {
            throw BackendAPIError(code: .init(status: status), message: "backend_api_redact_url refused the URL")
        }
        buffer = [CChar](repeating: 0, count: needed)
    }
}
