import Foundation
import Testing

@testable import BackendAPI

/// Requests and messages as Codable values, a chunk's fields read through the library's
/// parsed chunk, and model listings under both protocols.
@Suite("Codable requests, chunk fields, model listings", .timeLimit(.minutes(2)))
struct CodableAndModelTests {
    @Test("ChatRequest and Message are Codable, shaped as the request body, without the credentials")
    func requestCodable() throws {
        var request = ChatRequest(
            model: "gpt-4o", messages: [.system("Be brief."), Message(role: "user", content: .json([["type": "text", "text": "Hi"]]))],
            media: [.uri("https://example.invalid/cat.png", filename: "cat.png")],
            apiKey: Secret("sk-NEVER-ENCODED"), headers: ["x-secret": "NEVER-ENCODED"],
            extraFields: ["provider": "Copilot", "web_search": true])
        let data = try JSONEncoder().encode(request)
        let text = String(decoding: data, as: UTF8.self)
        #expect(!text.contains("NEVER-ENCODED"))
        let body = try JSONValue(parsing: data)
        #expect(body["model"] == "gpt-4o" && body["provider"] == "Copilot" && body["web_search"] == true)
        #expect(body["messages"]?.arrayValue?.first == ["role": "system", "content": "Be brief."])
        let decoded = try JSONDecoder().decode(ChatRequest.self, from: data)
        request.apiKey = nil
        request.headers = [:]
        #expect(decoded == request)
        print("ChatRequest encoded: \(text)")
    }

    @Test("chunk[key] and fields read the library's parsed chunk, and JSON Pointers reach inside")
    func chunkLookups() async throws {
        let client = try testClient()
        let chunks = try await collect(client.stream(testRequest()))
        let usage = try #require(chunks.first { $0.kind == .usage })
        #expect(usage["type"] == "usage")
        let parsed = try JSONValue(parsing: usage.jsonString)
        #expect(usage.fields["usage"] == parsed["usage"] && usage.fields.count == parsed.objectValue?.count)
        #expect(usage.value(at: "/usage/total_tokens")?.intValue == usage.usage?.totalTokens)
        #expect(usage.value(at: "/no/such") == nil)
        let made = Chunk(type: "x", kind: .other, json: Data(#"{"a/b": {"~": [1, 2.5]}}"#.utf8), text: nil)
        #expect(made["a/b"]?["~"] == [1, 2.5])
        #expect(made.value(at: "/a~1b/~0/1") == 2.5)
        #expect(BackendAPIError.Code.wrongType.status == 13)
    }

    @Test("listModels and modelNames under both protocols, against the real g4f api")
    func modelsRealG4F() async throws {
        guard let url = ProcessInfo.processInfo.environment["BACKEND_API_G4F_URL"], !url.isEmpty else {
            let why = "BACKEND_API_G4F_URL is not set (bindings/swift/test.sh starts the real g4f api when its venv exists)"
            print("!!! SKIPPED: \(why)")
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record(Comment(rawValue: why)) }
            return
        }
        var backend = BackendAPIClient.Configuration(baseURL: url)
        backend.proxy = .none
        let client = try BackendAPIClient(configuration: backend)
        let all = try await client.listModels()
        #expect(all.contains { $0.id == "interop-model" && $0.provider == "InteropTest" })
        let one = try await client.listModels(provider: "InteropTest")
        #expect(one.map(\.id) == ["interop-model", "interop-vision"])
        #expect(one[0].isDefault && !one[1].isDefault && one[1].vision && one.allSatisfy { $0.provider == "InteropTest" })
        #expect(try await client.modelNames()["InteropTest"] == ["interop-model", "interop-vision"])

        var openAI = BackendAPIClient.Configuration(baseURL: url + "/v1")
        openAI.proxy = .none
        openAI.apiProtocol = .openAI
        let v1 = try BackendAPIClient(configuration: openAI)
        let models = try await v1.listModels()
        #expect(models.contains { $0.id == "gpt-4o" && $0.provider == nil && $0.created != nil })
        let names = try await v1.modelNames()
        #expect(names.values.map(\.count).reduce(0, +) == models.count)
        await #expect(throws: BackendAPIError.self) { _ = try await v1.listModels(provider: "InteropTest") }
        print("real g4f api: \(all.count) models by provider, InteropTest \(one.map(\.id)); /v1: \(models.count) models")
    }
}

/// Tests about the whole process (threads, shutdown): run alone, in a pass of their own
/// (bindings/swift/test.sh sets BACKEND_API_PROCESS_TESTS=1 and filters on this suite),
/// since other tests' streams would count or be cancelled.
@Suite(
    "Process-wide", .serialized, .timeLimit(.minutes(2)),
    .enabled(if: ProcessInfo.processInfo.environment["BACKEND_API_PROCESS_TESTS"] == "1"))
struct ProcessWideTests {
    /// The threads of this process, from /proc.
    static func threads() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count
    }

    @Test("100 live streams cost the library's 100 threads, not 200")
    func threadsAt100Streams() async throws {
        let client = try testClient()
        let before = try Self.threads()
        let streams = (0..<100).map { _ in client.stream(testRequest(["test_chunks": 2, "test_delay_ms": 1500])) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for stream in streams {
                group.addTask {
                    for try await chunk in stream where chunk.kind == .content { break }
                }
            }
            // Every stream has sent its request and waits for its paced content.
            while streams.contains(where: { $0.stats?.headersAt == nil }) { try await Task.sleep(for: .milliseconds(20)) }
            let during = try Self.threads()
            print("threads: \(before) before, \(during) with 100 live streams (+\(during - before))")
            #expect(during - before <= 100 + 16, "a stream costs more than the library's thread")
            for stream in streams { stream.cancel() }
            try? await group.waitForAll()
        }
    }

    @Test("shutdown(timeout:) cancels open streams and no logger runs after it")
    func shutdownQuiets() async throws {
        let records = LogRecords()
        let client = try testClient {
            $0.logger = records.sink
            $0.logLevel = .trace
        }
        let stream = client.stream(testRequest(["test_fault": "endless"]))
        var iterator = stream.makeAsyncIterator()
        _ = try await iterator.next()
        try BackendAPI.shutdown(timeout: .seconds(20))
        let after = records.all.count
        try await Task.sleep(for: .milliseconds(300))
        #expect(after > 0 && records.all.count == after, "records: \(after) at return, \(records.all.count) later")
        await #expect(throws: CancellationError.self) {
            while try await iterator.next() != nil {}
        }
        // Streams start again afterwards.
        #expect(try await client.stream(testRequest()).answer().content.isEmpty == false)
        print("shutdown: \(after) log records before it, none after; the open stream threw CancellationError")
    }
}
