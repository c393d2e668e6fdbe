import Foundation
import Testing

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
    }
}

/// A client of the test backend (no proxy, whatever the environment says).
func testClient(
    headers: [String: String] = [:], apiKey: String? = nil, apiKeyPlacement: APIKeyPlacement = .body,
    timeouts: Timeouts = Timeouts(), skipMalformedLines: Bool = false, assembleAnswer: Bool = true,
    retries: RetryPolicy = .disabled,
    logger: (@Sendable (LogLevel, String) -> Void)? = nil, logLevel: LogLevel = .info
) throws -> BackendAPIClient {
    try BackendAPIClient(
        baseURL: TestBackend.get().url, headers: headers, apiKey: apiKey, apiKeyPlacement: apiKeyPlacement,
        proxy: .none, timeouts: timeouts, skipMalformedLines: skipMalformedLines,
        assembleAnswer: assembleAnswer, retries: retries,
        logger: logger, logLevel: logLevel)
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
