import CBackendAPI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// An error of the library: a ``Code`` saying what failed, the library's message, and
/// for some codes more detail.
///
/// A struct rather than an enum (as AsyncHTTPClient's `HTTPClientError`), so that a
/// new code in a later version does not break an exhaustive `switch`: compare codes.
///
/// ```swift
/// } catch let error as BackendAPIError where error.code == .http {
///     print(error.httpStatus ?? 0, error.message)  // the server's text escaped; serverMessage is raw
/// }
/// ```
///
/// Cancellation is not a ``BackendAPIError``: a cancelled stream or call throws
/// Swift's own `CancellationError`.
public struct BackendAPIError: Error, Sendable, Hashable {
    /// What failed: a status of the C library (`backend_api_status`), or an in-stream
    /// error or auth chunk of the server. Compare with the static members.
    public struct Code: Sendable, Hashable {
        private enum Value: Hashable {
            case status(UInt32)
            /// `BACKEND_API_STATUS_LIMIT`, told apart by which limit it was.
            case limit(Limit)
            case inStream(Chunk.Kind)
        }

        private enum Limit: Hashable {
            case line, answer, media, other
        }

        private let value: Value

        private init(_ status: backend_api_status) { value = .status(status.rawValue) }
        private init(_ value: Value) { self.value = value }

        /// A bad argument: malformed JSON, a bad URL, a string with a NUL inside, ...
        public static let invalidArgument = Code(BACKEND_API_STATUS_INVALID_ARGUMENT)
        /// Media could not be read or its type was not recognised.
        public static let media = Code(BACKEND_API_STATUS_MEDIA)
        /// A JSON value looked up (such as a model listing's provider) is not there.
        public static let notFound = Code(BACKEND_API_STATUS_NOT_FOUND)
        /// A JSON value looked up has another type than the one asked for.
        public static let wrongType = Code(BACKEND_API_STATUS_WRONG_TYPE)
        /// Connection refused, unreachable, name not resolved, proxy failure.
        public static let connect = Code(BACKEND_API_STATUS_CONNECT)
        /// The TLS handshake failed.
        public static let tls = Code(BACKEND_API_STATUS_TLS)
        /// A connect, response-header, idle or total timeout of the client elapsed.
        public static let timedOut = Code(BACKEND_API_STATUS_TIMED_OUT)
        /// The server answered with a non-2xx status: see ``BackendAPIError/httpStatus``
        /// and ``BackendAPIError/serverMessage``.
        public static let http = Code(BACKEND_API_STATUS_HTTP)
        /// The connection broke while the request or the response was in flight.
        public static let io = Code(BACKEND_API_STATUS_IO)
        /// The response broke the wire protocol (malformed JSON, invalid UTF-8, ...).
        public static let protocolViolation = Code(BACKEND_API_STATUS_PROTOCOL)
        /// A line or event of the response exceeded the client's bound
        /// (``BackendAPIClient/Configuration/maxLineBytes``).
        public static let lineTooLong = Code(.limit(.line))
        /// The assembled answer grew past the client's bound
        /// (``BackendAPIClient/Configuration/maxAnswerBytes``); the chunks before were delivered.
        public static let answerTooLong = Code(.limit(.answer))
        /// A media item is larger than the request's bound (``ChatRequest/maxMediaBytes``).
        public static let mediaTooLarge = Code(.limit(.media))
        /// Another bound of the library: a model listing over 16 MiB, a stream thread
        /// the system refused.
        public static let otherLimit = Code(.limit(.other))
        /// A bug inside the native library (a caught panic).
        public static let internalError = Code(BACKEND_API_STATUS_INTERNAL)
        /// The provider failed mid-answer: the server sent an `error` chunk (see
        /// ``BackendAPIError/chunk``). The answer so far stays readable.
        public static let streamError = Code(.inStream(.error))
        /// The provider refused the credentials mid-answer: the server sent an `auth`
        /// chunk (see ``BackendAPIError/chunk``).
        public static let authError = Code(.inStream(.auth))

        /// A status of the C library, also one this binding has no name for; a
        /// `LIMIT` is told apart by the library's `message`, which names the limit.
        init(status: UInt32, message: String = "") {
            guard status == BACKEND_API_STATUS_LIMIT.rawValue else {
                value = .status(status)
                return
            }
            value = if message.contains("media limit") {
                .limit(.media)
            } else if message.hasPrefix("the answer") {
                .limit(.answer)
            } else if message.contains("line of the response") {
                .limit(.line)
            } else {
                .limit(.other)
            }
        }

        /// The C status number (`BACKEND_API_STATUS_*`, the same `LIMIT` for every
        /// size limit); nil for in-stream errors.
        public var status: UInt32? {
            switch value {
            case .status(let s): s
            case .limit: BACKEND_API_STATUS_LIMIT.rawValue
            case .inStream: nil
            }
        }

        /// Whether a size limit was passed (``lineTooLong``, ``answerTooLong``,
        /// ``mediaTooLarge``, ``otherLimit``).
        public var isSizeLimit: Bool {
            if case .limit = value { return true }
            return false
        }
    }

    public let code: Code
    /// The library's message, or the server's for an in-stream error. Never holds the api key.
    public let message: String
    /// The HTTP status of an ``Code/http`` error.
    public let httpStatus: Int?
    /// g4f's own message of an ``Code/http`` error (`{"error":{"message":...}}`), when the body had one:
    /// raw and untrusted, as the server sent it (``message`` holds it escaped and bounded).
    public let serverMessage: String?
    /// The raw chunk of an ``Code/streamError`` or ``Code/authError``, as the server sent it.
    public let chunk: Chunk?

    public init(
        code: Code, message: String, httpStatus: Int? = nil, serverMessage: String? = nil, chunk: Chunk? = nil
    ) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.serverMessage = serverMessage
        self.chunk = chunk
    }

    /// The error that ends a stream at an in-stream `error` or `auth` chunk.
    init(fatal chunk: Chunk) {
        self.init(
            code: chunk.kind == .auth ? .authError : .streamError,
            message: chunk.errorMessage ?? chunk.jsonString, chunk: chunk)
    }

    static func invalidArgument(_ message: String) -> BackendAPIError {
        BackendAPIError(code: .invalidArgument, message: message)
    }

    static func internalError(_ message: String) -> BackendAPIError {
        BackendAPIError(code: .internalError, message: message)
    }

    /// Takes over a native error: copies its strings and frees it.
    static func consume(_ err: OpaquePointer?, status: UInt32) -> BackendAPIError {
        defer { backend_api_error_free(err) }
        // The error's own status wins; `status` covers a library that wrote no error.
        let code = err.map { backend_api_error_status($0).rawValue } ?? status
        let message = err.map { String(cString: backend_api_error_message($0)) }
            ?? String(cString: backend_api_status_name(code))
        guard code == BACKEND_API_STATUS_HTTP.rawValue else {
            return BackendAPIError(code: Code(status: code, message: message), message: message)
        }
        return BackendAPIError(
            code: .http, message: message, httpStatus: err.map { Int(backend_api_error_http_status($0)) },
            serverMessage: err.flatMap { backend_api_error_server_message($0) }.map { String(cString: $0) })
    }
}

extension BackendAPIError.Code: CustomStringConvertible {
    /// The library's name of the status (`"HTTP"`, `"TIMED_OUT"`, ...), or
    /// `"STREAM_ERROR"` / `"AUTH_ERROR"`.
    public var description: String {
        switch value {
        case .status(let s): String(cString: backend_api_status_name(s))
        case .limit: String(cString: backend_api_status_name(BACKEND_API_STATUS_LIMIT.rawValue))
        case .inStream(.auth): "AUTH_ERROR"
        case .inStream: "STREAM_ERROR"
        }
    }
}

extension BackendAPIError: CustomStringConvertible, LocalizedError {
    /// One line: the code (unless the message starts with it, as the library's
    /// `HTTP 404: ...` does), the message, and the server's message unless the message
    /// holds it already. Control characters are escaped (`\x1b`): a server's escape
    /// sequences never reach a terminal or a log through it; the properties keep the
    /// text as it came.
    public var description: String {
        let name = code.description
        var text = "backend-api"
        if !message.hasPrefix(name) {
            text += " \(name)"
            if let httpStatus { text += " \(httpStatus)" }
        }
        text += ": \(message)"
        // The library's message quotes the server's escaped (and cut when long): its start tells.
        if let serverMessage, !message.contains(printable(String(serverMessage.prefix(64)))) {
            text += " (server: \(serverMessage))"
        }
        return printable(text)
    }

    /// What an alert shows (Foundation's `localizedDescription`): ``description``.
    public var errorDescription: String? { description }
}

/// Calls a C function that reports through a status and an owned error; throws
/// that error unless the status is OK.
@inline(__always)
func check(_ body: (UnsafeMutablePointer<OpaquePointer?>) -> backend_api_status) throws(BackendAPIError) {
    var err: OpaquePointer?
    let status = body(&err).rawValue
    if status != BACKEND_API_STATUS_OK.rawValue {
        throw BackendAPIError.consume(err, status: status)
    }
    backend_api_error_free(err) // Out-parameters are written only on failure; belt and braces.
}

/// A string for C: refuses one with a NUL inside, which C would silently cut.
func cString(_ s: String, _ what: String) throws(BackendAPIError) -> String {
    if s.utf8.contains(0) {
        throw .invalidArgument("\(what) contains a NUL character")
    }
    return s
}

/// `text` fit for a terminal or a log line: control characters (C0, DEL and the C1
/// range, where escape sequences start) written as `\xHH` or `\u00HH`; other
/// text is kept.
func printable(_ text: String) -> String {
    func isControl(_ u: Unicode.Scalar) -> Bool { u.value < 0x20 || (0x7F...0x9F).contains(u.value) }
    guard text.unicodeScalars.contains(where: isControl) else { return text }
    var out = String.UnicodeScalarView()
    for u in text.unicodeScalars {
        guard isControl(u) else {
            out.append(u)
            continue
        }
        let hex = String(u.value, radix: 16)
        let escape = (u.value < 0x80 ? "\\x" : "\\u00") + (hex.count < 2 ? "0" : "") + hex
        out.append(contentsOf: escape.unicodeScalars)
    }
    return String(out)
}
