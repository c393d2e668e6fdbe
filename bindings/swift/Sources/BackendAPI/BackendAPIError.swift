import CBackendAPI

/// An error of the library, one case per C status code (`backend_api_status`).
///
/// Cancellation is not a case here: a cancelled stream or call throws Swift's own
/// `CancellationError`. An in-stream `error`/`auth` chunk is not thrown either: it
/// arrives as a ``Chunk`` (``Chunk/isFatal``), and the stream ends after it.
public enum BackendAPIError: Error, Sendable, Hashable {
    /// A bad argument: malformed JSON, a bad URL, a string with a NUL inside, ...
    case invalidArgument(String)
    /// Media could not be read or its type was not recognised.
    case media(String)
    /// Connection refused, unreachable, name not resolved, proxy failure.
    case connect(String)
    /// The TLS handshake failed.
    case tls(String)
    /// A connect, response-header, idle or total timeout of the client elapsed.
    case timedOut(String)
    /// The server answered with a non-2xx status. `serverMessage` is g4f's own
    /// `{"error":{"message":...}}` when the body had one.
    case http(status: Int, message: String, serverMessage: String?)
    /// The connection broke while the request or the response was in flight.
    case io(String)
    /// The response broke the wire protocol (malformed JSON, invalid UTF-8, ...).
    case protocolViolation(String)
    /// A line or event of the response exceeded the client's size limit.
    case lineTooLong(String)
    /// A bug inside the native library (a caught panic).
    case internalError(String)
    /// A status this binding does not know (a newer library); `code` is its number.
    case other(code: UInt32, message: String)

    /// The C status code (`BACKEND_API_STATUS_*`).
    public var code: UInt32 {
        switch self {
        case .invalidArgument: BACKEND_API_STATUS_INVALID_ARGUMENT.rawValue
        case .media: BACKEND_API_STATUS_MEDIA.rawValue
        case .connect: BACKEND_API_STATUS_CONNECT.rawValue
        case .tls: BACKEND_API_STATUS_TLS.rawValue
        case .timedOut: BACKEND_API_STATUS_TIMED_OUT.rawValue
        case .http: BACKEND_API_STATUS_HTTP.rawValue
        case .io: BACKEND_API_STATUS_IO.rawValue
        case .protocolViolation: BACKEND_API_STATUS_PROTOCOL.rawValue
        case .lineTooLong: BACKEND_API_STATUS_LIMIT.rawValue
        case .internalError: BACKEND_API_STATUS_INTERNAL.rawValue
        case .other(let code, _): code
        }
    }

    /// The library's name of the status, such as `"HTTP"`.
    public var statusName: String {
        String(cString: backend_api_status_name(code))
    }

    /// The library's message (never contains the api key).
    public var message: String {
        switch self {
        case .invalidArgument(let m), .media(let m), .connect(let m), .tls(let m), .timedOut(let m),
            .io(let m), .protocolViolation(let m), .lineTooLong(let m), .internalError(let m):
            m
        case .http(_, let m, _), .other(_, let m):
            m
        }
    }

    /// Takes over a native error: copies its strings and frees it.
    static func consume(_ err: OpaquePointer?, status: UInt32) -> BackendAPIError {
        defer { backend_api_error_free(err) }
        // The error's own status wins; `status` covers a library that wrote no error.
        let code = err.map { backend_api_error_status($0).rawValue } ?? status
        let message = err.map { String(cString: backend_api_error_message($0)) }
            ?? String(cString: backend_api_status_name(code))
        switch code {
        case BACKEND_API_STATUS_INVALID_ARGUMENT.rawValue: return .invalidArgument(message)
        case BACKEND_API_STATUS_MEDIA.rawValue: return .media(message)
        case BACKEND_API_STATUS_CONNECT.rawValue: return .connect(message)
        case BACKEND_API_STATUS_TLS.rawValue: return .tls(message)
        case BACKEND_API_STATUS_TIMED_OUT.rawValue: return .timedOut(message)
        case BACKEND_API_STATUS_HTTP.rawValue:
            let http = err.map { Int(backend_api_error_http_status($0)) } ?? 0
            let server = err.flatMap { backend_api_error_server_message($0) }.map { String(cString: $0) }
            return .http(status: http, message: message, serverMessage: server)
        case BACKEND_API_STATUS_IO.rawValue: return .io(message)
        case BACKEND_API_STATUS_PROTOCOL.rawValue: return .protocolViolation(message)
        case BACKEND_API_STATUS_LIMIT.rawValue: return .lineTooLong(message)
        case BACKEND_API_STATUS_INTERNAL.rawValue: return .internalError(message)
        default: return .other(code: code, message: message)
        }
    }
}

extension BackendAPIError: CustomStringConvertible {
    public var description: String {
        if case .http(let status, let message, let server?) = self {
            return "backend-api HTTP \(status): \(message) (server: \(server))"
        }
        return "backend-api \(statusName): \(message)"
    }
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
