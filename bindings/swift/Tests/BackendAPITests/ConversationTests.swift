import Foundation
import Testing

@testable import BackendAPI

/// A client of the test backend's OpenAI-compatible side (`{base}/v1`).
func openAIClient() throws -> BackendAPIClient {
    var configuration = BackendAPIClient.Configuration(baseURL: try TestBackend.get().url + "/v1")
    configuration.proxy = .none
    configuration.apiProtocol = .openAI
    return try BackendAPIClient(configuration: configuration)
}

/// Tool calls and results, choices, refusals, generated media,
/// providers, capabilities, response headers.
@Suite("Conversation", .timeLimit(.minutes(2)))
struct ConversationTests {
    /// The tool loop, as a program writes it: the model asks for a tool, the program
    /// runs it and sends the result back, until the model answers in text (here the
    /// test backend's scripted agent; a real model needs only `tools`).
    static func toolLoop(_ client: some ChatClient, question: String) async throws -> [String] {
        var transcript = ["user: \(question)"]
        var request = ChatRequest(
            model: "test-model", messages: [.user(question)],
            extraFields: [
                "tools": [["type": "function", "function": ["name": "get_weather", "parameters": ["type": "object"]]]],
                "test_openai": "agent",
            ])
        for _ in 1...4 {
            let answer = try await client.complete(request)
            if answer.calls.isEmpty {
                transcript.append("assistant: \(answer.content)")
                return transcript
            }
            var results: [ToolResult] = []
            for call in answer.calls {
                transcript.append("calls \(call.name)(\(call.arguments))")
                results.append(ToolResult(id: call.id, content: #"{"forecast": "sunny"}"#))
            }
            request = request.followUp(answer: answer, toolResults: results)
        }
        throw BackendAPIError(code: .protocolViolation, message: "no text answer after 4 rounds")
    }

    @Test("the tool loop: typed calls, the assistant's calls and the tool results sent back")
    func toolRound() async throws {
        let transcript = try await Self.toolLoop(try openAIClient(), question: "What is the weather in Paris?")
        #expect(transcript == [
            "user: What is the weather in Paris?",
            #"calls get_weather({"city": "Paris"})"#,
            #"assistant: The weather in Paris: {"forecast": "sunny"}"#,
        ])
        // The follow-up's body: the assistant's message with its call, then the tool's.
        let answer = Answer(toolCalls: [["index": 0, "id": "call_w1", "type": "function", "function": ["name": "f", "arguments": "{}"]]])
        let next = ChatRequest(messages: [.user("q")]).followUp(answer: answer, toolResults: [ToolResult(id: "call_w1", content: "42")])
        let messages = try JSONValue(parsing: JSONEncoder().encode(next))["messages"]?.arrayValue ?? []
        try #require(messages.count == 3)
        let call = messages[1]["tool_calls"]?.arrayValue?.first
        #expect(call?["id"] == "call_w1" && call?["index"] == nil)
        #expect(messages[2] == ["role": "tool", "tool_call_id": "call_w1", "content": "42"])
    }

    @Test("choices, refusals and response headers")
    func choicesRefusalHeaders() async throws {
        let client = try openAIClient()
        let stream = client.stream(ChatRequest(messages: [.user("x")], extraFields: ["test_openai": "choices"]))
        #expect(stream.header("x-request-id") == nil)
        var byChoice = ["", ""]
        for try await chunk in stream where chunk.kind == .content && chunk.choice < 2 {
            byChoice[chunk.choice] += chunk.text ?? ""
        }
        #expect(byChoice == ["Red", "Blue"])
        #expect(stream.currentAnswer?.content == "Red")
        #expect(stream.header("X-Request-Id") == "req-test")
        #expect(stream.responseHeaders.contains { $0.name == "x-ratelimit-remaining-requests" && $0.value == "99" })
        let refused = client.stream(ChatRequest(messages: [.user("x")], extraFields: ["test_openai": "refusal"]))
        let kinds = try await collect(refused).filter { $0.kind == .refusal }.compactMap(\.text).joined()
        #expect(!kinds.isEmpty && refused.currentAnswer?.refusal == kinds)
    }

    @Test("generated media fetched and saved; providers; capabilities")
    func mediaProvidersCapabilities() async throws {
        let client = try testClient()
        let answer = try await client.complete(testRequest(["test_media": true]))
        let medium = try #require(answer.media.first)
        let base = try TestBackend.get().url
        #expect(medium.kind == .image && medium.url == base + "/media/test-dot.png")
        let fetched = try await client.fetchMedia(medium.url)
        #expect(fetched.data.starts(with: [0x89, 0x50, 0x4E, 0x47]) && fetched.contentType == "image/png")
        let limit = await thrown { _ = try await client.fetchMedia(medium.url, maxBytes: 4) }
        #expect(limit?.code.isSizeLimit == true, "\(String(describing: limit))")
        #expect(try await client.fetchMedia("data:text/plain;base64,aGk=").data == Data("hi".utf8))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("swift-\(UUID()).png").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let written = try await client.saveMedia(medium.url, to: path, request: testRequest())
        #expect(written == fetched.data.count && FileManager.default.contents(atPath: path) == fetched.data)
        let providers = try await client.providers()
        #expect(providers.map(\.name) == ["TestBackend"] && providers.first?.label == "Test Backend")
        let infos = try await client.modelInfos(provider: "TestBackend")
        #expect(infos.map(\.id) == ["test-model"] && infos.first?.provider == "TestBackend")
        #expect(infos.first?.has(.vision) == false && infos.first?.has(.tools) == nil)
    }
}
