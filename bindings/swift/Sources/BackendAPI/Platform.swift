// The few system services the binding needs beyond the C library and Dispatch: a lock
// and a thread of its own (for model listings). They are made from pthreads rather than
// Foundation's NSLock and Thread so that on Linux the binding needs only
// FoundationEssentials (Data, URL, JSONDecoder), not the whole of Foundation and ICU,
// which would add about 6 MiB to every program's resident memory.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A mutex.
final class Lock: @unchecked Sendable {
    // @unchecked: the pthread mutex is made for use from several threads.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// The body of a thread, passed through pthread_create's argument.
private final class ThreadBody {
    let run: @Sendable () -> Void

    init(_ run: @escaping @Sendable () -> Void) {
        self.run = run
    }

    static func enter(_ arg: UnsafeMutableRawPointer) {
        Unmanaged<ThreadBody>.fromOpaque(arg).takeRetainedValue().run()
    }
}

/// Runs `body` on a new detached thread (never on Swift's cooperative pool). Traps
/// when the system cannot make a thread, as Foundation's `Thread.start()` does.
func startThread(_ body: @escaping @Sendable () -> Void) {
    let arg = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    #if canImport(Darwin)
        var thread: pthread_t?
        let rc = pthread_create(&thread, &attributes, { ThreadBody.enter($0); return nil }, arg)
    #else
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attributes, { ThreadBody.enter($0!); return nil }, arg)
    #endif
    if rc != 0 {
        Unmanaged<ThreadBody>.fromOpaque(arg).release()
        fatalError("backend-api: cannot start a thread (pthread_create: \(rc))")
    }
}

/// Runs the blocking `body` on a thread of its own and awaits its result; the
/// caller makes `body` return early on cancellation (the C library's canceller).
func runOnOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        startThread { c.resume(with: Result { try body() }) }
    }
}
