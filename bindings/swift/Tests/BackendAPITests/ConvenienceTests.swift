import Foundation
import Testing

@testable import BackendAPI

/// The convenience layer's promises: in-stream errors end for-await and answer(), a stream
/// iterated again or by several tasks, error texts and codes, configurations, secrets kept
/// out of printed values, headers, decoding, stats, a cancelled listing.
@Suite("Convenience paths", .timeLimit(.minutes(1)))
struct ConvenienceTests {
    // MARK: In-stream errors end the convenience paths

    @Test("An in-stream error chunk ends for-await with a typed error: the server's message and the raw chunk")
    func inStreamErrorThrows() async throws {
        let client = try testClient()
        let stream = client.stream(testRequest(["test_chunks": 2, "test_fault": "error_chunk"]))
        var seen: [String] = []
        do {
            for try await chunk in stream { seen.append(chunk.type) }
            Issue.record("the partial answer ended without an error")
        } catch let error as BackendAPIError {
            #expect(error.code == .streamError)
            #expect(error.message == "ValueError: test failure")
            #expect(error.description == "backend-api STREAM_ERROR: ValueError: test failure")
            let chunk = try #require(error.chunk)
            #expect(chunk.kind == .error && chunk.type == "error")
            #expect(chunk.errorName == "ValueError")
            #expect(error.code.status == nil)
        }
        #expect(seen == ["provider", "content", "content"])
        #expect(stream.currentAnswer?.content == "part0 part1 ")
        #expect(stream.currentAnswer?.error == "ValueError: test failure")
    }

    @Test("An in-stream auth chunk ends for-await and answer() with authError")
    func inStreamAuthThrows() async throws {
        let server = try CannedServer(events: [
            #"{"type": "provider", "provider": {"name": "P"}}"#,
            #"{"type": "content", "content": "partial "}"#,
            #"{"type": "auth", "message": "MissingAuthError: add an api key", "auth": "MissingAuthError"}"#,
        ])
        var configuration = BackendAPIClient.Configuration(baseURL: server.url)
        configuration.proxy = .none
        let client = try BackendAPIClient(configuration: configuration)
        let stream = client.stream(testRequest())
        await #expect {
            _ = try await stream.answer()
        } throws: { error in
            guard let error = error as? BackendAPIError else { return false }
            return error.code == .authError && error.message == "MissingAuthError: add an api key"
                && error.chunk?.kind == .auth && error.chunk?.errorName == "MissingAuthError"
        }
        #expect(stream.currentAnswer?.content == "partial ")
    }

    @Test("NativeStream, the raw path, hands the error chunk out as a chunk, then log, then the end")
    func rawChunksOnNativeStream() throws {
        let client = try testClient()
        let stream = try NativeStream(client: client, request: testRequest(["test_chunks": 2, "test_fault": "error_chunk"]))
        var chunks: [Chunk] = []
        while case .chunk(let chunk) = try stream.next(timeout: .seconds(10)) { chunks.append(chunk) }
        #expect(chunks.map(\.type) == ["provider", "content", "content", "error", "log"])
        #expect(chunks[3].isFatal && chunks[3].errorMessage == "ValueError: test failure")
        #expect(chunks[4].kind == .log && !chunks[4].isFatal)
    }

    // MARK: One request per stream(_:)

    @Test("Iterating a ChunkStream twice sends one request; the second loop ends at once")
    func oneRequestPerStream() async throws {
        let server = try CannedServer(events: [#"{"type": "content", "content": "only once"}"#])
        var configuration = BackendAPIClient.Configuration(baseURL: server.url)
        configuration.proxy = .none
        let client = try BackendAPIClient(configuration: configuration)
        let stream = client.stream(testRequest())
        #expect(joinedContent(try await collect(stream)) == "only once")
        #expect(try await collect(stream).isEmpty)
        #expect(try await stream.answer().content == "only once")
        #expect(server.requests == 1)
        _ = try await collect(client.stream(testRequest())) // another stream(_:) call, another request
        #expect(server.requests == 2)
    }

    @Test("A failed stream iterated again throws the same failure without a second request")
    func failureIsFinal() async throws {
        let client = try testClient()
        // The backend fails the first request with this key and would answer a second one.
        let request = testRequest(["test_fail_key": failKey("final"), "test_fail_times": 1, "test_chunks": 1])
        let stream = client.stream(request)
        for _ in 0..<2 {
            await #expect {
                _ = try await collect(stream)
            } throws: { error in
                (error as? BackendAPIError)?.httpStatus == 503
            }
        }
        #expect(joinedContent(try await collect(client.stream(request))) == "part0 ")
    }

    @Test("Several tasks iterating one stream share its chunks: each exactly once, in order")
    func concurrentIterators() async throws {
        let client = try testClient()
        let stream = client.stream(testRequest(["test_chunks": 300]))
        let parts = try await withThrowingTaskGroup(of: [Chunk].self) { group in
            for _ in 0..<3 {
                group.addTask { try await collect(stream) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let numbers = parts.map { $0.compactMap(\.content).map { Int($0.dropFirst(4).dropLast())! } }
        for list in numbers { #expect(list == list.sorted()) }
        #expect(numbers.flatMap { $0 }.sorted() == Array(0..<300))
        #expect(parts.map(\.count).reduce(0, +) == 303)
        #expect(stream.stats?.delivered == 303)
    }

    // MARK: Errors

    @Test("BackendAPIError is a LocalizedError: localizedDescription says what failed")
    func localizedError() async throws {
        let client = try testClient()
        do {
            _ = try await collect(client.stream(testRequest(["test_status": 503])))
            Issue.record("no error")
        } catch {
            let error = try #require(error as? BackendAPIError)
            #expect(error.localizedDescription == error.description)
            // Each text once: the library's message names the status and holds the server's.
            #expect(error.localizedDescription == "backend-api: HTTP 503: test status 503")
        }
    }

    @Test("Error codes compare by value; an unknown status keeps its number")
    func codes() {
        #expect(BackendAPIError.Code.http == BackendAPIError.Code(status: 23))
        #expect(BackendAPIError.Code.http != .streamError)
        #expect(BackendAPIError.Code(status: 777).status == 777)
        #expect(BackendAPIError.Code(status: 777).description == "UNKNOWN")
        #expect(BackendAPIError.Code.authError.description == "AUTH_ERROR")
    }

    // MARK: Configuration

    @Test("A Configuration made from a URL keeps every setting")
    func configurationFromURL() async throws {
        func client(_ configure: (inout BackendAPIClient.Configuration) -> Void) throws -> BackendAPIClient {
            var configuration = BackendAPIClient.Configuration(baseURL: URL(string: try TestBackend.get().url)!)
            configuration.proxy = .none
            configure(&configuration)
            return try BackendAPIClient(configuration: configuration)
        }
        // The settings the URL initialiser used to drop.
        let short = try client { $0.maxLineBytes = 64 }
        await #expect {
            _ = try await collect(short.stream(testRequest()))
        } throws: { ($0 as? BackendAPIError)?.code == .lineTooLong }

        let skipping = try client { $0.skipMalformedLines = true }
        let skipped = skipping.stream(testRequest(["test_fault": "malformed"]))
        _ = try await collect(skipped)
        #expect(skipped.stats?.skipped == 1)

        let unassembled = try client { $0.assembleAnswer = false }
        #expect(try await unassembled.stream(testRequest(["test_chunks": 3])).answer().content == "")
        let url = try TestBackend.get().url
        #expect(unassembled.configuration.baseURL == url)
    }

    // MARK: Secrets

    @Test("The api key is printable in no public value: print, dump, debugPrint, interpolation, Mirror")
    func secretsStayHidden() async throws {
        let marker = "sk-MARKER-\(UUID().uuidString)"
        var configuration = BackendAPIClient.Configuration(baseURL: try TestBackend.get().url)
        configuration.proxy = .none
        configuration.apiKey = Secret(marker)
        let client = try BackendAPIClient(configuration: configuration)
        var request = testRequest()
        request.apiKey = Secret(marker)
        var echo = request
        echo.extraFields["test_echo"] = true
        #expect(try echoed(try await collect(client.stream(echo)))["body"]?["api_key"] == .string(marker)) // sent
        let stream = client.stream(request)
        _ = try await collect(stream)
        let native = try NativeStream(client: client, request: request)
        let answer = try #require(stream.currentAnswer)
        let values: [(String, Any)] = [
            ("Secret", Secret(marker)), ("Configuration", configuration), ("client", client),
            ("client.configuration", client.configuration), ("ChatRequest", request), ("ChunkStream", stream),
            ("NativeStream", native), ("followUp", request.followUp(answer: answer, userMessage: "more")),
            ("Optional<Secret>", request.apiKey as Any),
        ]
        for (name, value) in values {
            var text = "\(value) " + String(describing: value) + String(reflecting: value)
            print(value, to: &text)
            debugPrint(value, to: &text)
            dump(value, to: &text)
            Self.reflect(value, into: &text, depth: 8)
            #expect(!text.contains(marker), "\(name) shows the key")
            #expect(text.contains("<redacted>"), "\(name)")
        }
    }

    /// Every value reachable through Mirror, as text.
    static func reflect(_ value: Any, into text: inout String, depth: Int) {
        guard depth > 0 else { return }
        for child in Mirror(reflecting: value).children {
            text += "\(child.label ?? "_")=\(child.value) " + String(reflecting: child.value)
            reflect(child.value, into: &text, depth: depth - 1)
        }
    }

    // MARK: Per-request headers

    @Test("Per-request headers reach the server after the client's; secret ones stay out of logs")
    func requestHeaders() async throws {
        let marker = "tok-MARKER-\(UUID().uuidString)"
        let records = LogRecords()
        let client = try testClient {
            $0.headers = ["X-Client": "client"]
            $0.logger = records.sink
            $0.logLevel = .trace
        }
        var request = testRequest(["test_echo": true])
        request.headers = ["X-Request-Id": "req-1", "X-Api-Token": marker]
        let headers = try #require(try echoed(try await collect(client.stream(request)))["headers"])
        #expect(headers["x-client"] == "client")
        #expect(headers["x-request-id"] == "req-1")
        #expect(headers["x-api-token"] == .string(marker))
        #expect(!records.all.isEmpty)
        #expect(records.all.allSatisfy { !$0.message.contains(marker) })
        // Another request of the same client does not carry them.
        let plain = try #require(try echoed(try await collect(client.stream(testRequest(["test_echo": true]))))["headers"])
        #expect(plain["x-request-id"] == nil)
        #expect(plain["x-client"] == "client")
    }

    // MARK: Values

    @Test("chunk.decode(T.self) decodes a chunk into a type of your own")
    func decodeChunk() async throws {
        struct Content: Decodable, Equatable {
            let type: String
            let content: String
        }
        struct Provider: Decodable {
            struct Info: Decodable { let name: String }
            let provider: Info
        }
        let chunks = try await collect(try testClient().stream(testRequest(["test_chunks": 1])))
        #expect(try chunks[1].decode(Content.self) == Content(type: "content", content: "part0 "))
        let content: Content = try chunks[1].decode()
        #expect(content.content == "part0 ")
        #expect(try chunks[0].decode(Provider.self).provider.name == "TestBackend")
        #expect(throws: DecodingError.self) { try chunks[0].decode(Content.self) }
    }

    @Test("Answer is Encodable with the answer chunk's keys, and round-trips")
    func encodeAnswer() async throws {
        let answer = try await testClient().stream(testRequest(user: "hello there")).answer()
        let data = try JSONEncoder().encode(answer)
        #expect(try JSONDecoder().decode(Answer.self, from: data) == answer)
        let object = try JSONValue(parsing: data)
        #expect(object["content"] == .string(answer.content))
        #expect(object["finish_reason"] == "stop")
        #expect(object["usage"]?["total_tokens"] != nil)
        #expect(object["provider"] == "TestBackend")
        #expect(object["error"] == nil) // nil fields are left out
    }

    // MARK: Statistics of the 0.2 core

    @Test("Stats show the bytes queued for the reader while it does not read")
    func queuedBytes() async throws {
        let client = try testClient()
        let stream = client.stream(testRequest(["test_chunks": 3, "test_fault": "stall"]))
        var iterator = stream.makeAsyncIterator()
        _ = try await iterator.next()
        #expect(try await eventually { stream.stats?.chunks == 4 }) // provider + 3 contents decoded
        #expect(try #require(stream.stats).queuedBytes > 0)
        for _ in 0..<3 { _ = try await iterator.next() }
        #expect(stream.stats?.queuedBytes == 0)
        #expect(stream.stats?.ended == false)
    }

    // MARK: Model listings are cancellable

    @Test("Cancelling models() ends a listing that stalls with CancellationError, at once")
    func cancelModels() async throws {
        let client = try testClient { $0.timeouts.idle = .seconds(50) }
        let task = Task { try await client.models(provider: "Stalling") } // headers, then silence
        try await Task.sleep(for: .milliseconds(200))
        let clock = ContinuousClock()
        let start = clock.now
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        #expect(clock.now - start < .seconds(10))
    }
}

/// The README's quick start, built by test.sh (QUICKSTART_BIN), run as a program.
@Suite(
    "README quick start", .timeLimit(.minutes(1)),
    .enabled(if: ProcessInfo.processInfo.environment["QUICKSTART_BIN"] != nil, "test.sh builds it"))
struct QuickStartTests {
    /// Runs the quick start against `url`; its exit status, standard output and error.
    static func run(url: String) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["QUICKSTART_BIN"]!)
        var environment = ProcessInfo.processInfo.environment
        environment["G4F_URL"] = url
        environment["NO_PROXY"] = "*"
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }

    @Test("It prints the answer and exits 0")
    func answer() throws {
        let (status, out, err) = try Self.run(url: try TestBackend.get().url)
        #expect(status == 0, "\(err)")
        #expect(out.contains("Hello from the bundled offline backend! You said: Hello!"))
        #expect(out.contains("finish: stop"))
    }

    @Test("A provider failing mid-answer makes it exit 1 with the server's message")
    func failure() throws {
        let server = try CannedServer(events: [
            #"{"type": "content", "content": "partial "}"#,
            #"{"type": "error", "error": "ValueError", "message": "ValueError: provider down"}"#,
        ])
        let (status, out, err) = try Self.run(url: server.url)
        #expect(status == 1)
        #expect(out.contains("partial "))
        #expect(err.contains("ValueError: provider down"))
    }

    @Test("A server that cannot be reached makes it exit 1")
    func unreachable() throws {
        let (status, _, err) = try Self.run(url: "http://127.0.0.1:9")
        #expect(status == 1)
        #expect(err.contains("CONNECT"))
    }
}
