import CBackendAPI

/// Waits for the native library to go quiet (`backend_api_shutdown`, the role of
/// `curl_global_cleanup`): cancels every stream and model listing still in flight in
/// the process (their iterations throw `CancellationError`), then waits until every
/// thread of the library has ended, up to `timeout` (nil: for as long as it takes).
/// Once it returns, no ``BackendAPIClient/Configuration/logger`` runs any more. Call it as
/// `try BackendAPI.shutdown(timeout: .seconds(5))`.
///
/// Call it before the program exits when a logger must not run past a point (it
/// writes to a file closed at exit, say), and before unloading the library. Streams may
/// be started again afterwards. It blocks the calling thread: call it from `main` or a
/// thread of your own (an `atexit` handler), not from Swift's cooperative pool, and
/// never from a logger.
///
/// - Throws: ``BackendAPIError`` ``BackendAPIError/Code/timedOut`` when threads still
///   run after `timeout` (they finish on their own; call again to wait for them).
public func shutdown(timeout: Duration? = nil) throws(BackendAPIError) {
    let ms = try timeout.map { t throws(BackendAPIError) in try wholeMilliseconds(max(t, .zero), "timeout") } ?? -1
    let status = backend_api_shutdown(ms)
    guard status == BACKEND_API_STATUS_OK else {
        throw BackendAPIError(
            code: BackendAPIError.Code(status: status.rawValue),
            message: "the library's threads still run after \(ms) ms")
    }
}
