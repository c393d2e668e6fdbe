import Foundation
import Testing

@testable import BackendAPI
import CBackendAPI

@Suite("Streaming", .timeLimit(.minutes(1)))
struct StreamTests {
    @Test("A streamed answer: provider, content, usage, finish")
    func streamedAnswer() async throws {
        let client = try testClient()
        let chunks = try await collect(client.stream(testRequest(user: "hello there")))
        #expect(joinedContent(chunks) == "Hello from the bundled offline backend! You said: hello there")
        #expect(chunks.first?.kind == .provider)
        #expect(chunks.first?.providerName == "TestBackend")
        #expect(chunks.first?["provider"]?["model"]?.stringValue == "test-model")
        let usage = try #require(chunks.compactMap(\.usage).first)
        let parts = chunks.filter { $0.kind == .content }.count
        #expect(usage.promptTokens == 3)
        #expect(usage.completionTokens == parts)
        #expect(usage.totalTokens == parts + 3)
        #expect(chunks.last?.kind == .finish)
        #expect(chunks.last?.finishReason == "stop")
        #expect(chunks.last?.type == "finish")
        #expect(chunks.allSatisfy { !$0.isFatal })
        // The raw JSON is the server's object.
        let first = try #require(chunks.first)
        #expect(first.jsonString.hasPrefix("{\"type\": \"provider\""))
        #expect(try JSONValue(parsing: first.json)["type"] == "provider")
    }

    @Test("N content chunks arrive in order")
    func numberedChunks() async throws {
        let client = try testClient()
        let chunks = try await collect(client.stream(testRequest(["test_chunks": 50])))
        #expect(joinedContent(chunks) == (0..<50).map { "part\($0) " }.joined())
        #expect(chunks.map(\.type) == ["provider"] + Array(repeating: "content", count: 50) + ["usage", "finish"])
    }

    @Test("SSE, NDJSON and SSE with CRLF/comments/multi-line data give the same chunks")
    func framings() async throws {
        let client = try testClient()
        var results: [String: [Chunk]] = [:]
        for framing in ["sse", "ndjson", "sse-crlf"] {
            results[framing] = try await collect(
                client.stream(testRequest(["test_framing": .string(framing), "test_chunks": 4])))
        }
        let reference = try #require(results["sse"])
        #expect(reference.count == 7)
        #expect(joinedContent(reference) == "part0 part1 part2 part3 ")
        for framing in ["ndjson", "sse-crlf"] {
            let got = try #require(results[framing])
            #expect(got.map(\.type) == reference.map(\.type), "\(framing)")
            #expect(got.map(\.kind) == reference.map(\.kind), "\(framing)")
            #expect(got.map(\.text) == reference.map(\.text), "\(framing)")
            #expect(got.map(\.fields) == reference.map(\.fields), "\(framing)")
        }
    }

    @Test("The request reaches the server: model, messages, media, api key, headers, extra fields")
    func echo() async throws {
        let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3])
        let jpegURL = FileManager.default.temporaryDirectory.appendingPathComponent("photo-\(UUID()).jpg")
        let jpeg = Data([0xFF, 0xD8, 0xFF, 0xE0, 9, 8, 7])
        try jpeg.write(to: jpegURL)
        defer { try? FileManager.default.removeItem(at: jpegURL) }

        let client = try testClient {
            $0.headers = ["X-Custom": "yes"]
            $0.apiKey = Secret("client-key")
            $0.apiKeyPlacement = .bearer
        }
        let request = ChatRequest(
            model: "test-vision",
            messages: [
                .system("be brief"),
                .user("with\u{0}nul and \"quotes\" ü"),
                Message(role: "user", content: .json([["type": "text", "text": "part"]])),
            ],
            media: [.data(png, filename: "pixel.png"), .file(jpegURL), .uri("https://example.com/a.webp", filename: "a.webp")],
            extraFields: [
                "test_echo": true, "provider": "TestBackend", "web_search": false,
                "conversation": ["TestBackend": ["id": 7, "ratio": 0.5, "tags": ["a", nil]]],
            ])
        let chunks = try await collect(client.stream(request))
        let echoText = try #require(chunks.compactMap(\.content).first { $0.hasPrefix("ECHO:") })
        let echo = try JSONValue(parsing: String(echoText.dropFirst(5)))
        let body = try #require(echo["body"])
        #expect(body["model"] == "test-vision")
        #expect(body["messages"] == [
            ["role": "system", "content": "be brief"],
            ["role": "user", "content": "with\u{0}nul and \"quotes\" ü"],
            ["role": "user", "content": [["type": "text", "text": "part"]]],
        ])
        let media = try #require(body["media"]?.arrayValue)
        #expect(media.count == 3)
        #expect(media[0] == [.string("data:image/png;base64," + png.base64EncodedString()), "pixel.png"])
        #expect(media[1] == [.string("data:image/jpeg;base64," + jpeg.base64EncodedString()), .string(jpegURL.lastPathComponent)])
        #expect(media[2] == ["https://example.com/a.webp", "a.webp"])
        #expect(body["web_search"] == false)
        #expect(body["conversation"] == ["TestBackend": ["id": 7, "ratio": 0.5, "tags": ["a", nil]]])
        // Bearer placement: the key is a header, and the body has no api_key at all.
        #expect(body["api_key"] == nil)
        let headers = try #require(echo["headers"])
        #expect(headers["authorization"] == "Bearer client-key")
        #expect(headers["x-custom"] == "yes")

        // A request's own key overrides the client's, in the body.
        var own = testRequest(["test_echo": true])
        own.apiKey = Secret("request-key")
        let again = try await collect(client.stream(own))
        let echo2 = try JSONValue(parsing: String(try #require(again.compactMap(\.content).first).dropFirst(5)))
        #expect(echo2["body"]?["api_key"] == "request-key")
        #expect(echo2["headers"]?["authorization"] == nil)
    }

    @Test("20 concurrent streams from one client")
    func concurrentStreams() async throws {
        let client = try testClient()
        let results = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for i in 0..<20 {
                group.addTask {
                    let chunks = try await collect(
                        client.stream(testRequest(["test_chunks": .integer(i + 1), "test_delay_ms": 5])))
                    return (i, joinedContent(chunks))
                }
            }
            var out: [Int: String] = [:]
            for try await (i, text) in group { out[i] = text }
            return out
        }
        #expect(results.count == 20)
        for i in 0..<20 {
            #expect(results[i] == (0...i).map { "part\($0) " }.joined())
        }
    }
}

@Suite("Errors", .timeLimit(.minutes(1)))
struct ErrorTests {
    @Test("HTTP errors carry the status and the server's message", arguments: [404, 500, 503])
    func httpStatus(status: Int) async throws {
        let client = try testClient()
        await #expect {
            _ = try await collect(client.stream(testRequest(["test_status": .integer(status)])))
        } throws: { error in
            guard let error = error as? BackendAPIError else { return false }
            return error.code == .http && error.httpStatus == status && error.serverMessage == "test status \(status)"
                && !error.message.isEmpty && error.chunk == nil
        }
    }

    @Test("An unknown provider gets g4f's 404")
    func unknownProvider() async throws {
        let client = try testClient()
        do {
            _ = try await collect(client.stream(testRequest(["provider": "NoSuchProvider"])))
            Issue.record("no error")
        } catch let error as BackendAPIError where error.code == .http {
            #expect(error.httpStatus == 404)
            #expect(error.serverMessage == "Provider not found")
            #expect(error.code.description == "HTTP")
            #expect(error.code.status == 23)
        }
    }

    @Test("A malformed line is a protocol error")
    func malformed() async throws {
        let client = try testClient()
        var seen: [String] = []
        do {
            for try await chunk in client.stream(testRequest(["test_chunks": 1, "test_fault": "malformed"])) {
                seen.append(chunk.type)
            }
            Issue.record("no error")
        } catch let error as BackendAPIError {
            #expect(error.code == .protocolViolation, "\(error)")
        }
        #expect(seen == ["provider", "content"])
    }

    @Test("An idle timeout ends a stalled stream with timedOut")
    func idleTimeout() async throws {
        let client = try testClient { $0.timeouts.idle = .milliseconds(300) }
        await #expect {
            _ = try await collect(client.stream(testRequest(["test_chunks": 1, "test_fault": "stall"])))
        } throws: { error in
            (error as? BackendAPIError)?.code == .timedOut
        }
    }

    @Test("A refused connection is a connect error")
    func refused() async throws {
        // Port 9 (discard) is closed on loopback here.
        var configuration = BackendAPIClient.Configuration(baseURL: "http://127.0.0.1:9")
        configuration.proxy = .none
        let client = try BackendAPIClient(configuration: configuration)
        await #expect {
            _ = try await collect(client.stream(testRequest()))
        } throws: { error in
            (error as? BackendAPIError)?.code == .connect
        }
    }

    @Test("Bad configuration throws at once")
    func badConfig() throws {
        func client(_ url: String, _ configure: (inout BackendAPIClient.Configuration) -> Void = { _ in }) throws {
            var configuration = BackendAPIClient.Configuration(baseURL: url)
            configure(&configuration)
            _ = try BackendAPIClient(configuration: configuration)
        }
        for bad in ["not a url", "ftp://x"] {
            #expect { try client(bad) } throws: { ($0 as? BackendAPIError)?.code == .invalidArgument }
        }
        #expect(throws: BackendAPIError.self) { try client("http://x") { $0.headers = ["bad name": "v"] } }
        #expect(throws: BackendAPIError.self) { try client("http://x") { $0.proxy = .url("nope://") } }
        #expect(throws: BackendAPIError.self) { try client("http://x") { $0.tls = .customCA(path: "/nonexistent.pem") } }
        #expect(throws: BackendAPIError.self) { try client("http://x") { $0.maxLineBytes = 0 } }
        try client("https://example.com") {
            $0.tls = .insecure
            $0.timeouts = Timeouts(connect: .seconds(5), headers: .seconds(10), idle: .zero, total: .seconds(600))
        }
    }

    @Test("Unrecognised media bytes and refused fields fail the stream")
    func badRequest() async throws {
        let client = try testClient()
        var bad = testRequest()
        bad.media = [.data(Data("not an image".utf8))]
        await #expect {
            _ = try await collect(client.stream(bad))
        } throws: { error in
            (error as? BackendAPIError)?.code == .media
        }
        var refused = testRequest()
        refused.extraFields["model"] = "x"
        await #expect {
            _ = try await collect(client.stream(refused))
        } throws: { error in
            (error as? BackendAPIError)?.code == .invalidArgument
        }
    }
}

/// Counts chunks seen by a consumer, so the test knows when it is mid-stream.
actor Progress {
    private var count = 0
    private var waiters: [(Int, CheckedContinuation<Void, Never>)] = []

    func bump() {
        count += 1
        let ready = waiters.filter { $0.0 <= count }
        waiters.removeAll { $0.0 <= count }
        for (_, c) in ready { c.resume() }
    }

    func wait(for n: Int) async {
        if count >= n { return }
        await withCheckedContinuation { waiters.append((n, $0)) }
    }
}

@Suite("Cancellation", .timeLimit(.minutes(1)))
struct CancellationTests {
    @Test("Cancelling the Task mid-stream ends the iteration promptly with CancellationError")
    func cancelTask() async throws {
        let client = try testClient()
        let progress = Progress()
        let stream = client.stream(testRequest(["test_chunks": 3, "test_fault": "stall"]))
        let task = Task {
            for try await _ in stream {
                await progress.bump()
            }
        }
        await progress.wait(for: 4) // provider + 3 contents; then the server stalls
        try await Task.sleep(for: .milliseconds(100)) // the consumer is now parked in next()
        let clock = ContinuousClock()
        let start = clock.now
        task.cancel()
        let result = await task.result
        let elapsed = clock.now - start
        print("cancel mid-stream: iteration ended \(elapsed) after Task.cancel()")
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(elapsed < .seconds(5))
        // Final: a later iteration of the same stream throws it again, sending nothing.
        await #expect(throws: CancellationError.self) { _ = try await collect(stream) }
        #expect(stream.stats?.delivered == 4)
    }

    @Test("A Task cancelled before the answer starts ends with CancellationError")
    func cancelBeforeAnswer() async throws {
        let client = try testClient()
        let request = testRequest(["test_fault": "no_answer"])
        let task = Task {
            var n = 0
            for try await _ in client.stream(request) { n += 1 }
            return n
        }
        try await Task.sleep(for: .milliseconds(100))
        let clock = ContinuousClock()
        let start = clock.now
        task.cancel()
        let result = await task.result
        print("cancel before answer: iteration ended \(clock.now - start) after Task.cancel()")
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(clock.now - start < .seconds(5))
    }

    @Test("A task cancelled while chunks are already there gets at most 16 of them, then CancellationError")
    func cancelWhileReady() async throws {
        let client = try testClient()
        let stream = client.stream(testRequest(["test_chunks": 200]))
        let after = try await Task {
            var iterator = stream.makeAsyncIterator()
            _ = try await iterator.next()
            // All 203 chunks decoded and queued for the reader (within the queue's budget).
            #expect(try await eventually { stream.stats?.chunks == 203 })
            withUnsafeCurrentTask { $0?.cancel() }
            var after = 0
            do {
                while try await iterator.next() != nil { after += 1 }
                return -1
            } catch is CancellationError {
                return after
            }
        }.value
        #expect(after >= 0 && after <= 16, "\(after) chunks after the cancel")
    }

    @Test("A Task already cancelled does not read the stream")
    func alreadyCancelled() async throws {
        let client = try testClient()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            for try await _ in client.stream(testRequest()) {}
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test("cancel() from another task during a stall ends the iteration with CancellationError, never as a clean end (800 times)")
    func cancelRace() async throws {
        // The library's thread may report END when the cancel shuts its connection: the
        // binding settles the outcome before it cancels, so that END cannot win.
        let client = try testClient()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for round in 0..<100 {
                        let stream = client.stream(testRequest(["test_chunks": 1, "test_fault": "stall"]))
                        let progress = Progress()
                        let task = Task {
                            for try await _ in stream { await progress.bump() }
                        }
                        await progress.wait(for: 2)
                        stream.cancel()
                        let result = await task.result
                        #expect(throws: CancellationError.self, "round \(round)") { try result.get() }
                        stream.cancel() // repeatable
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test("Dropping the stream and its iterator mid-stream cancels, closes and frees the native stream")
    func dropIterator() async throws {
        let client = try testClient()
        weak var core: StreamCore?
        do {
            let stream = client.stream(testRequest(["test_chunks": 2, "test_fault": "stall"]))
            core = stream.owner.core
            var iterator = stream.makeAsyncIterator()
            for _ in 0..<3 { _ = try await iterator.next() }
            #expect(stream.stats?.ended == false) // the server stalls: still open
        } // the last references: the request is cancelled, its thread ends, the core goes
        #expect(try await eventually { core == nil }, "the native stream was not freed")
    }

    @Test("break out of for-await during an endless answer leaves the client usable")
    func breakOut() async throws {
        let client = try testClient()
        let clock = ContinuousClock()
        var n = 0
        for try await chunk in client.stream(testRequest(["test_chunks": 2, "test_fault": "endless"])) {
            n += 1
            if chunk.kind == .content && n > 20 { break }
        }
        let start = clock.now
        let again = try await collect(client.stream(testRequest(["test_chunks": 1])))
        #expect(joinedContent(again) == "part0 ")
        #expect(clock.now - start < .seconds(5))
    }
}

@Suite("Models and values", .timeLimit(.minutes(1)))
struct MiscTests {
    @Test("The model listing")
    func models() async throws {
        let client = try testClient()
        #expect(try await client.modelNames() == ["TestBackend": ["test-model", "test-vision"]])
        let list = try JSONValue(parsing: await client.models(provider: "TestBackend"))
        #expect(list.arrayValue?.first?["model"] == "test-model")
        await #expect {
            _ = try await client.models(provider: "Unknown")
        } throws: { error in
            (error as? BackendAPIError)?.httpStatus == 404
        }
    }

    @Test("Concurrent model listings")
    func concurrentModels() async throws {
        let client = try testClient()
        try await withThrowingTaskGroup(of: Data.self) { group in
            for _ in 0..<8 { group.addTask { try await client.models() } }
            for try await data in group { #expect(!data.isEmpty) }
        }
    }

    @Test("JSONValue text round-trips")
    func jsonValue() throws {
        let value: JSONValue = [
            "s": "a\"b\\c\n\u{1}ü", "i": -42, "d": 1.5, "b": true, "n": nil, "a": [1, "x", [:]], "o": ["k": []],
        ]
        #expect(try JSONValue(parsing: value.jsonText) == value)
        #expect(JSONValue.string("\u{0}").jsonText == "\"\\u0000\"")
        #expect(JSONValue.number(.nan).jsonText == "null")
        #expect(throws: BackendAPIError.self) { try JSONValue(parsing: "{oops") }
    }

    @Test("Iterating from the main actor compiles and works (Sendable, isolation)")
    @MainActor
    func mainActorIteration() async throws {
        let client = try testClient()
        var text = ""
        for try await chunk in client.stream(testRequest(["test_chunks": 3])) {
            text += chunk.content ?? ""
        }
        #expect(text == "part0 part1 part2 ")
    }

    @Test("The library version")
    func version() {
        #expect(backendAPIVersion.split(separator: ".").count == 3)
        // The header this was compiled against names the library it runs with.
        #expect(backendAPIVersion == "\(BACKEND_API_VERSION_MAJOR).\(BACKEND_API_VERSION_MINOR).\(BACKEND_API_VERSION_PATCH)")
    }
}
