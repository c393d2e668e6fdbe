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
///     print(error.httpStatus ?? 0, error.serverMessage ?? error.message)
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
            case inStream(Chunk.Kind)
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
        /// A line or event of the response exceeded the client's size limit.
        public static let lineTooLong = Code(BACKEND_API_STATUS_LIMIT)
        /// A bug inside the native library (a caught panic).
        public static let internalError = Code(BACKEND_API_STATUS_INTERNAL)
        /// The provider failed mid-answer: the server sent an `error` chunk (see
        /// ``BackendAPIError/chunk``). The answer so far stays readable.
        public static let streamError = Code(.inStream(.error))
        /// The provider refused the credentials mid-answer: the server sent an `auth`
        /// chunk (see ``BackendAPIError/chunk``).
        public static let authError = Code(.inStream(.auth))

        /// A status of the C library, also one this binding has no name for.
        init(status: UInt32) { value = .status(status) }

        /// The C status number (`BACKEND_API_STATUS_*`); nil for in-stream errors.
        public var status: UInt32? {
            if case .status(let s) = value { return s }
            return nil
        }
    }

    public let code: Code
    /// The library's message, or the server's for an in-stream error. Never holds the api key.
    public let message: String
    /// The HTTP status of an ``Code/http`` error.
    public let httpStatus: Int?
    /// g4f's own message of an ``Code/http`` error (`{"error":{"message":...}}`), when the body had one.
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
            return BackendAPIError(code: Code(status: code), message: message)
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
        case .inStream(.auth): "AUTH_ERROR"
        case .inStream: "STREAM_ERROR"
        }
    }
}

extension BackendAPIError: CustomStringConvertible, LocalizedError {
    public var description: String {
        var text = "backend-api \(code)"
        if let httpStatus { text += " \(httpStatus)" }
        text += ": \(message)"
        if let serverMessage { text += " (server: \(serverMessage))" }
        return text
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
