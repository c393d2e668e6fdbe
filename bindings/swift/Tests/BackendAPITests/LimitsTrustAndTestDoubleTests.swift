import Foundation
import Testing

@testable import BackendAPI

/// Size limits told apart, trust settings, escapes, Codable values, the test double and
/// per-request timeouts, with the programs a user writes first.
@Suite("Limits, trust, escapes, Codable, the test double, per-request timeouts", .timeLimit(.minutes(2)))
struct LimitsTrustAndTestDoubleTests {
    /// The basic uses a program makes of a client, one per case: stream, cancel from another
    /// task, continue the conversation, list models, an HTTP error (complete under shutdown is
    /// in ``ProcessWideTests``).
    @Test("basic uses: stream, cancel from another task, follow-up, models, HTTP error")
    func basicUses() async throws {
        let client = try testClient()
        // Stream.
        let text = joinedContent(try await collect(client.stream(testRequest(user: "stream me"))))
        #expect(text.hasSuffix("You said: stream me"))
        // Cancel from another task.
        let stalled = client.stream(testRequest(["test_chunks": 1, "test_fault": "stall"]))
        let reader = Task { try await collect(stalled) }
        try await Task.sleep(for: .milliseconds(200))
        let cancelledAt = ContinuousClock.now
        reader.cancel()
        await #expect(throws: CancellationError.self) { _ = try await reader.value }
        #expect(ContinuousClock.now - cancelledAt < .seconds(2))
        // Continue the conversation.
        let first = testRequest(["test_conversation": ["id": 9]], user: "first")
        let answer = try await client.complete(first)
        var next = first.followUp(answer: answer, userMessage: "second")
        next.extraFields["test_echo"] = true
        let echo = try echoed(try await collect(client.stream(next)))
        #expect(echo["body"]?["conversation"] == ["id": 9])
        #expect(echo["body"]?["messages"]?.arrayValue?.count == 3)
        // List models.
        #expect(try await client.listModels().contains { $0.provider == "TestBackend" })
        // An HTTP error, its text said once.
        let error = try #require(await thrown {
            _ = try await client.complete(testRequest(["test_status": 404]))
        })
        #expect(error.code == .http && error.httpStatus == 404 && error.serverMessage == "test status 404")
        #expect(error.description == "backend-api: HTTP 404: test status 404", "\(error.description)")
    }

    @Test("size limits told apart: line, answer, media, each a LIMIT")
    func limitsToldApart() async throws {
        let line = try testClient { $0.maxLineBytes = 64 }
        let lineError = try #require(await thrown {
            _ = try await line.complete(testRequest(user: String(repeating: "x", count: 200)))
        })
        let answer = try testClient { $0.maxAnswerBytes = 16 }
        let answerError = try #require(await thrown {
            _ = try await answer.complete(testRequest(user: "a long enough message"))
        })
        var media = testRequest()
        media.media = [.data(Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0, count: 20)), filename: "a.png")]
        media.maxMediaBytes = 16
        let mediaError = try #require(await thrown {
            _ = try await testClient().complete(media)
        })
        #expect(lineError.code == .lineTooLong, "\(lineError)")
        #expect(answerError.code == .answerTooLong, "\(answerError)")
        #expect(mediaError.code == .mediaTooLarge, "\(mediaError)")
        let limit: UInt32 = 31 // BACKEND_API_STATUS_LIMIT
        for e in [lineError, answerError, mediaError] {
            #expect(e.code.isSizeLimit && e.code.status == limit)
        }
        media.maxMediaBytes = 28
        #expect(try await testClient().complete(media).content.isEmpty == false)
    }

    @Test("a server's escape sequences never reach description")
    func escapeSequences() async throws {
        let esc = #"\u001b]0;pwned\u0007\u001b[31mred\u009b2J"#  // JSON escapes: OSC, BEL, CSI, C1 CSI
        let body = #"{"error":{"message":"\#(esc)"}}"#
        let http = try CannedServer(reply: "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body)
        let chunk = try CannedServer(events: [#"{"type":"error","message":"\#(esc)"}"#])
        for server in [http, chunk] {
            var configuration = BackendAPIClient.Configuration(baseURL: server.url)
            configuration.proxy = .none
            let client = try BackendAPIClient(configuration: configuration)
            let error = try #require(await thrown {
                _ = try await client.complete(testRequest())
            })
            let text = error.description
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }, "\(text)")
            #expect(text.contains(#"\x1b]0;pwned"#) && text.contains(#"\u009b2J"#), "\(text)")
            // The data itself, as it came: the HTTP error's serverMessage (the library's message
            // holds it escaped), the in-stream error's message.
            #expect((error.serverMessage ?? error.message).contains("\u{1b}"))
            if error.code == .http {
                #expect(!error.message.unicodeScalars.contains { $0.value < 0x20 }, "\(error.message)")
                #expect(!text.contains("(server:"), "said once: \(text)")
            }
            print("escaped: \(text)")
        }
    }

    @Test("trust store, added CA files, URL redaction, version number reach Swift")
    func trustAndRedaction() async throws {
        let bundled = try testClient { $0.trustStore = .bundled }
        #expect(try await bundled.complete(testRequest()).content.isEmpty == false)
        #expect(throws: BackendAPIError.self) { _ = try testClient { $0.additionalCAFiles = ["/no/such/ca.pem"] } }
        #expect(throws: BackendAPIError.self) { _ = try testClient { $0.maxAnswerBytes = 0 } }
        #expect(try redactURL("http://user:secret@h:8/p") == "http://***@h:8/p")
        #expect(try redactURL("http://u:p@ss@h/") == "http://***@h/")
        let long = "https://h/" + String(repeating: "x", count: 300)
        #expect(try redactURL(long) == long)
        let parts = backendAPIVersion.split(separator: ".").compactMap { UInt32($0) }
        #expect(parts.count == 3 && backendAPIVersionNumber == parts[0] << 16 | parts[1] << 8 | parts[2])
    }

    @Test("Chunk and Model are Codable: recorded and replayed")
    func codable() async throws {
        let client = try testClient()
        let chunks = try await collect(client.stream(testRequest(["test_extras": true])))
        let replayed = try JSONDecoder().decode([Chunk].self, from: JSONEncoder().encode(chunks))
        #expect(replayed.map(\.kind) == chunks.map(\.kind) && replayed.map(\.text) == chunks.map(\.text))
        // The same JSON (re-encoded: key order and spaces may differ).
        #expect(try replayed.map { try JSONValue(parsing: $0.jsonString) } == chunks.map { try JSONValue(parsing: $0.jsonString) })
        let made = try JSONDecoder().decode(Chunk.self, from: Data(#"{"type":"content","content":"hi"}"#.utf8))
        #expect(made.kind == .content && made.content == "hi")
        #expect(throws: (any Error).self) { _ = try JSONDecoder().decode(Chunk.self, from: Data("[1]".utf8)) }
        let models = try await client.listModels(provider: "TestBackend")
        #expect(try JSONDecoder().decode([Model].self, from: JSONEncoder().encode(models)) == models)
    }

    /// Code written against `some ChatClient`, as a program would.
    static func summary(of text: String, with client: some ChatClient) async throws -> (String, Int) {
        var streamed = ""
        for try await chunk in client.stream(ChatRequest(messages: [.user(text)])) {
            streamed += chunk.content ?? ""
        }
        let whole = try await client.complete(ChatRequest(messages: [.user(text)])).content
        #expect(streamed == whole)
        return (whole, try await client.listModels(provider: nil).count)
    }

    @Test("a test double: ScriptedChatClient and BackendAPIClient behind one protocol")
    func testDouble() async throws {
        let real = try await Self.summary(of: "doubled", with: try testClient())
        #expect(real.0.hasSuffix("You said: doubled") && real.1 > 0)
        let chunks = try JSONDecoder().decode([Chunk].self, from: Data(#"[{"type":"content","content":"scripted "},{"type":"content","content":"answer"}]"#.utf8))
        let double = ScriptedChatClient(chunks: chunks, answer: Answer(content: "scripted answer"), models: [])
        let scripted = try await Self.summary(of: "anything", with: double)
        #expect(scripted == ("scripted answer", 0))
        #expect(double.requests.map(\.messages) == [[.user("anything")], [.user("anything")]])
        let failing = ScriptedChatClient(chunks: chunks, error: BackendAPIError(code: .http, message: "HTTP 503: busy"))
        await #expect(throws: BackendAPIError.self) { _ = try await Self.summary(of: "x", with: failing) }
    }

    @Test("a per-request timeout: ChatRequest.timeout, on top of the client's")
    func requestTimeout() async throws {
        let client = try testClient()
        var stalled = testRequest(["test_chunks": 1, "test_fault": "stall"])
        stalled.timeout = .milliseconds(400)
        let start = ContinuousClock.now
        let error = try #require(await thrown { _ = try await client.complete(stalled) })
        let took = ContinuousClock.now - start
        #expect(error.code == .timedOut && error.message.contains("ChatRequest.timeout"), "\(error)")
        #expect(took >= .milliseconds(400) && took < .seconds(5))
        var quick = testRequest()
        quick.timeout = .seconds(30)
        #expect(try await client.complete(quick).content.isEmpty == false)
    }
}

/// The ``BackendAPIError`` `body` throws; nil when it throws none (or another error).
func thrown(_ body: () async throws -> Void) async -> BackendAPIError? {
    do {
        try await body()
    } catch let error as BackendAPIError {
        return error
    } catch {}
    return nil
}

extension ProcessWideTests {
    @Test("complete under shutdown throws CancellationError, never a cut-short answer")
    func completeUnderShutdown() async throws {
        let client = try testClient()
        let stopper = Task {
            try await Task.sleep(for: .milliseconds(300))
            try BackendAPI.shutdown(timeout: .seconds(20))
        }
        await #expect(throws: CancellationError.self) {
            _ = try await client.complete(testRequest(["test_fault": "endless"]))
        }
        try await stopper.value
    }
}
