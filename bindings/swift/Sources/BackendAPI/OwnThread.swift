import Foundation

/// Runs the blocking `body` on a new thread of its own (never on Swift's cooperative
/// pool) and awaits its result. Cancelling the awaiting task throws `CancellationError`
/// at once; `body` still runs to its end on its thread and its result is dropped.
func runOnOwnThread<T: Sendable>(
    name: String, _ body: @escaping @Sendable () throws(BackendAPIError) -> T
) async throws -> T {
    let slot = ResultSlot<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            if slot.install(c) {
                let thread = Thread {
                    slot.deliver(Result { () throws(BackendAPIError) -> T in try body() }.mapError { $0 as any Error })
                }
                thread.name = name
                thread.start()
            }
        }
    } onCancel: {
        slot.deliver(.failure(CancellationError()))
    }
}

/// A continuation resumed exactly once, by whichever comes first: the result or a
/// cancellation (which may even come before the continuation is installed).
private final class ResultSlot<T: Sendable>: @unchecked Sendable {
    // @unchecked: every stored property is read and written only under `lock`.
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var early: Result<T, any Error>?
    private var done = false

    /// Installs the continuation; false when it was resumed at once (cancelled early).
    func install(_ c: CheckedContinuation<T, any Error>) -> Bool {
        lock.lock()
        if let early {
            done = true
            lock.unlock()
            c.resume(with: early)
            return false
        }
        continuation = c
        lock.unlock()
        return true
    }

    func deliver(_ result: Result<T, any Error>) {
        lock.lock()
        if done {
            lock.unlock()
            return
        }
        guard let c = continuation else {
            if early == nil { early = result }
            lock.unlock()
            return
        }
        done = true
        continuation = nil
        lock.unlock()
        c.resume(with: result)
    }
}
