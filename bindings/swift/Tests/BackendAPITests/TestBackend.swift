import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@testable import BackendAPI

/// The project's own test backend (the `test_backend` example of the Rust crate),
/// started once per test process from `BACKEND_API_TEST_BACKEND`. It exits when its
/// standard input closes, which happens when this process ends.
final class TestBackend: @unchecked Sendable {
    // @unchecked: set once in init, never mutated; `process`/`stdin` are only held
    // to keep the server and its stdin pipe alive.
    let url: String
    private let process: Process
    private let stdin: Pipe

    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    static let shared: Result<TestBackend, Missing> = Result { () throws(Missing) in try TestBackend() }

    /// The running backend; every test fails loudly when it cannot be started.
    static func get() throws -> TestBackend { try shared.get() }

    private init() throws(Missing) {
        guard let path = ProcessInfo.processInfo.environment["BACKEND_API_TEST_BACKEND"], !path.isEmpty else {
            throw Missing(description: "BACKEND_API_TEST_BACKEND is not set: it must name the test_backend binary "
                + "(cargo build --example test_backend). bindings/swift/test.sh sets it.")
        }
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Missing(description: "BACKEND_API_TEST_BACKEND=\(path) is not an executable file")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        do {
            try process.run()
        } catch {
            throw Missing(description: "cannot start \(path): \(error)")
        }
        var seen = Data()
        while !seen.contains(UInt8(ascii: "\n")) {
            let more = stdout.fileHandleForReading.availableData
            if more.isEmpty { break }
            seen.append(more)
        }
        let line = String(decoding: seen, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        guard line.hasPrefix("READY "), let port = Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) else {
            process.terminate()
            throw Missing(description: "\(path) did not print READY <port>; got \(line.debugDescription)")
        }
        self.url = "http://127.0.0.1:\(port)"
        self.process = process
        self.stdin = stdin
        // The test process owns its lifetime: at exit, let the library's threads end
        // (and with them the loggers' calls) before the process goes.
        atexit {
            do {
                try BackendAPI.shutdown(timeout: .seconds(30))
            } catch {
                FileHandle.standardError.write(Data("shutdown at exit: \(error)\n".utf8))
                _exit(1)
            }
        }
    }
}

/// A client of the test backend (no proxy, whatever the environment says), with
/// whatever else `configure` sets.
func testClient(
    _ configure: (inout BackendAPIClient.Configuration) -> Void = { _ in }
) throws -> BackendAPIClient {
    var configuration = BackendAPIClient.Configuration(baseURL: try TestBackend.get().url)
    configuration.proxy = .none
    configure(&configuration)
    return try BackendAPIClient(configuration: configuration)
}

/// A request to the test backend with scenario fields.
func testRequest(_ fields: [String: JSONValue] = [:], user: String = "hi") -> ChatRequest {
    ChatRequest(model: "test-model", messages: [.user(user)], extraFields: fields)
}

/// Every chunk of a stream.
func collect(_ stream: ChunkStream) async throws -> [Chunk] {
    var out: [Chunk] = []
    for try await chunk in stream {
        out.append(chunk)
    }
    return out
}

/// The content text of the chunks, joined.
func joinedContent(_ chunks: [Chunk]) -> String {
    chunks.compactMap(\.content).joined()
}

/// A real HTTP server on loopback with one canned reply, for what the test backend
/// cannot be asked to send (an `auth` chunk, an error chunk without its trailing log).
/// It counts the requests it read.
final class CannedServer: @unchecked Sendable {
    // @unchecked: the counter is only touched under `lock`; the rest is set once.
    let url: String
    private let listener: Int32
    private let reply: [UInt8]
    private let lock = NSLock()
    private var requestCount = 0

    /// `reply`: the whole HTTP response to send to every request.
    init(reply: String) throws {
        self.reply = Array(reply.utf8)
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard fd >= 0, bound else { throw BackendAPIError(code: .io, message: "cannot listen on loopback") }
        listener = fd
        url = "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// The server with a `200 text/event-stream` reply made of these SSE events.
    convenience init(events: [String]) throws {
        let body = events.map { "data: \($0)\n\n" }.joined()
        try self.init(reply: "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body)
    }

    var requests: Int { lock.withLock { requestCount } }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            Thread.detachNewThread { [self] in serve(connection) }
        }
    }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        var seen: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        // The request: headers, then Content-Length bytes of body.
        while true {
            if let end = seen.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: seen[..<end.lowerBound], as: UTF8.self).lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                if seen.count - end.upperBound >= length { break }
            }
            let n = read(connection, &buffer, buffer.count)
            if n <= 0 { return }
            seen += buffer[..<n]
        }
        lock.withLock { requestCount += 1 }
        _ = reply.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
    }
}

/// Log records collected from the library's threads.
final class LogRecords: @unchecked Sendable {
    // @unchecked: `items` is only touched under `lock`.
    private let lock = NSLock()
    private var items: [(LogLevel, String)] = []

    func add(_ level: LogLevel, _ message: String) {
        lock.lock()
        items.append((level, message))
        lock.unlock()
    }

    var all: [(level: LogLevel, message: String)] {
        lock.lock()
        defer { lock.unlock() }
        return items.map { (level: $0.0, message: $0.1) }
    }

    var sink: @Sendable (LogLevel, String) -> Void {
        { [self] level, message in add(level, message) }
    }
}

/// A unique key for the test backend's fail-first-N scenario.
func failKey(_ name: String) -> JSONValue {
    .string("swift-\(name)-\(UUID().uuidString)")
}

/// A retry policy with short waits.
let quickRetries = RetryPolicy(maxRetries: 2, base: .milliseconds(20), cap: .milliseconds(200))

/// The `{"body":..., "headers":...}` the test backend echoes as its first content chunk.
func echoed(_ chunks: [Chunk]) throws -> JSONValue {
    let text = try #require(chunks.compactMap(\.content).first { $0.hasPrefix("ECHO:") })
    return try JSONValue(parsing: String(text.dropFirst(5)))
}

/// Waits (polling, up to 10 s) until `condition` holds; false if it never did.
func eventually(_ condition: () -> Bool) async throws -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(10)
    while !condition() {
        guard clock.now < deadline else { return false }
        try await Task.sleep(for: .milliseconds(10))
    }
    return true
}
