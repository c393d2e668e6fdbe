import CBackendAPI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The assembled answer of a stream: what the chunks handed out so far add up to, as
/// the g4f browser client keeps it. Content and reasoning text are appended; the rest
/// is the latest value seen. Read it from ``ChunkStream/currentAnswer`` or
/// ``NativeStream/answer()``, during and after the stream; continue the conversation
/// with ``ChatRequest/followUp(answer:userMessage:)``. `Codable` with the keys of the
/// library's `answer` chunk (`finish_reason`, `tool_calls`, ...); nil fields are left out.
public struct Answer: Sendable, Hashable, Codable {
    /// The `content` text of every content chunk, joined.
    public var content: String
    /// The `token` text of every reasoning chunk, joined.
    public var reasoning: String
    /// The `reason` of the `finish` chunk (`"stop"`, `"length"`, ...).
    public var finishReason: String?
    /// The `usage` object (token counts); see ``tokenUsage``.
    public var usage: JSONValue?
    public var title: String?
    public var toolCalls: JSONValue?
    /// The provider's conversation state: sent back by ``ChatRequest/followUp(answer:userMessage:)``.
    public var conversation: JSONValue?
    /// The provider's name (from the `provider` chunk).
    public var provider: String?
    /// The model (from the `provider` chunk, or the `usage` chunk's `model`).
    public var model: String?
    /// The message of an in-stream `error` or `auth` chunk.
    public var error: String?
    /// The model's refusal (the text of its ``Chunk/Kind/refusal`` chunks), when it refused.
    public var refusal: String?
    /// The media (images, audio, video) the answer generated; fetch them with
    /// ``BackendAPIClient/fetchMedia(_:request:maxBytes:)``.
    public var media: [GeneratedMedium] = []

    public init(
        content: String = "", reasoning: String = "", finishReason: String? = nil, usage: JSONValue? = nil,
        title: String? = nil, toolCalls: JSONValue? = nil, conversation: JSONValue? = nil,
        provider: String? = nil, model: String? = nil, error: String? = nil
    ) {
        self.content = content
        self.reasoning = reasoning
        self.finishReason = finishReason
        self.usage = usage
        self.title = title
        self.toolCalls = toolCalls
        self.conversation = conversation
        self.provider = provider
        self.model = model
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case content, reasoning, usage, title, conversation, provider, model, error, refusal, media
        case finishReason = "finish_reason"
        case toolCalls = "tool_calls"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        content = try c.decodeIfPresent(String.self, forKey: .content) ?? ""
        reasoning = try c.decodeIfPresent(String.self, forKey: .reasoning) ?? ""
        finishReason = try c.decodeIfPresent(String.self, forKey: .finishReason)
        // decodeIfPresent gives nil for JSON null too: absent and null are the same here.
        usage = try c.decodeIfPresent(JSONValue.self, forKey: .usage)
        title = try c.decodeIfPresent(String.self, forKey: .title)
        toolCalls = try c.decodeIfPresent(JSONValue.self, forKey: .toolCalls)
        conversation = try c.decodeIfPresent(JSONValue.self, forKey: .conversation)
        provider = try c.decodeIfPresent(String.self, forKey: .provider)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        error = try c.decodeIfPresent(String.self, forKey: .error)
        refusal = try c.decodeIfPresent(String.self, forKey: .refusal)
        media = try c.decodeIfPresent([GeneratedMedium].self, forKey: .media) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(content, forKey: .content)
        try c.encode(reasoning, forKey: .reasoning)
        try c.encodeIfPresent(finishReason, forKey: .finishReason)
        try c.encodeIfPresent(usage, forKey: .usage)
        try c.encodeIfPresent(title, forKey: .title)
        try c.encodeIfPresent(toolCalls, forKey: .toolCalls)
        try c.encodeIfPresent(conversation, forKey: .conversation)
        try c.encodeIfPresent(provider, forKey: .provider)
        try c.encodeIfPresent(model, forKey: .model)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encodeIfPresent(refusal, forKey: .refusal)
        if !media.isEmpty { try c.encode(media, forKey: .media) }
    }

    /// The tool calls, typed (``toolCalls`` is their JSON).
    public var calls: [ToolCall] {
        (toolCalls?.arrayValue ?? []).map { call in
            let arguments = call["function"]?["arguments"]
            return ToolCall(
                id: call["id"]?.stringValue ?? "", type: call["type"]?.stringValue ?? "function",
                name: call["function"]?["name"]?.stringValue ?? "",
                arguments: arguments?.stringValue ?? arguments.map { $0 == .null ? "" : $0.jsonText } ?? "")
        }
    }

    /// The `conversation` field of the next request, as g4f expects it (the C
    /// library's rule): the state of the provider that answered, else of `asked` (the
    /// request's `provider`), when the state is keyed by it; else the whole state.
    public func state(asked: String?) -> JSONValue? {
        guard let conversation, conversation != .null else { return nil }
        for p in [provider, asked].compactMap({ $0 }) {
            if let keyed = conversation[p], keyed.objectValue != nil { return keyed }
        }
        return conversation
    }

    /// The token counts of ``usage``.
    public var tokenUsage: Chunk.Usage? {
        guard let u = usage?.objectValue else { return nil }
        return Chunk.Usage(
            promptTokens: u["prompt_tokens"]?.intValue, completionTokens: u["completion_tokens"]?.intValue,
            totalTokens: u["total_tokens"]?.intValue, fields: u)
    }

    /// The answer so far of a live native stream (any thread), as the `"answer"` chunk's JSON.
    static func json(native stream: OpaquePointer) throws(BackendAPIError) -> Data {
        var chunk: OpaquePointer?
        try check { backend_api_stream_answer(stream, &chunk, $0) }
        guard let chunk else { throw .internalError("backend_api_stream_answer returned no chunk") }
        defer { backend_api_chunk_free(chunk) }
        var len = 0
        guard let text = backend_api_chunk_json(chunk, &len) else { return Data() }
        return Data(bytes: text, count: len)
    }

    /// Decodes the `"answer"` chunk's JSON.
    static func decode(_ json: Data) throws(BackendAPIError) -> Answer {
        do {
            return try JSONDecoder().decode(Answer.self, from: json)
        } catch {
            throw BackendAPIError(code: .protocolViolation, message: "unexpected answer JSON: \(error)")
        }
    }

    /// The answer so far of a live native stream.
    init(native stream: OpaquePointer) throws(BackendAPIError) {
        self = try Answer.decode(Answer.json(native: stream))
    }
}

extension ChatRequest {
    /// The request that continues the conversation after `answer` (the Swift side of
    /// `backend_api_request_follow_up`): the same model, api key and extra fields; the
    /// messages plus `answer.content` as the assistant's message and `userMessage` as the
    /// user's; the provider's `conversation` state from the answer (when it has one)
    /// as the `conversation` field. Media are not sent again.
    public func followUp(answer: Answer, userMessage: String) -> ChatRequest {
        followUp(answer: answer, then: [.user(userMessage)])
    }

    /// The request that continues the conversation after `answer` asked for tools: as
    /// ``followUp(answer:userMessage:)``, with a `{"role": "tool", "tool_call_id": ...,
    /// "content": ...}` message per result instead of a user message.
    public func followUp(answer: Answer, toolResults: [ToolResult]) -> ChatRequest {
        followUp(answer: answer, then: toolResults.map { Message.tool(callID: $0.id, content: $0.content) })
    }

    private func followUp(answer: Answer, then: [Message]) -> ChatRequest {
        var next = self
        next.media = []
        var assistant = Message.assistant(answer.content)
        if let calls = answer.toolCalls?.arrayValue, !calls.isEmpty {
            // As an assistant message carries them: without the deltas' `index`.
            assistant.toolCalls = .array(calls.map { call in
                guard var fields = call.objectValue else { return call }
                fields.removeValue(forKey: "index")
                return .object(fields)
            })
        }
        next.messages.append(assistant)
        next.messages += then
        if let state = answer.state(asked: extraFields["provider"]?.stringValue) {
            next.extraFields["conversation"] = state
        }
        return next
    }
}

/// One tool call of an answer (``Answer/calls``), in OpenAI's shape.
public struct ToolCall: Sendable, Hashable, Codable {
    /// The call's id: answer it with a ``ToolResult`` of this id.
    public var id: String
    /// `"function"`.
    public var type: String
    /// The function's name.
    public var name: String
    /// The arguments as the model wrote them: JSON text, not checked.
    public var arguments: String
}

/// The result of one tool call, for ``ChatRequest/followUp(answer:toolResults:)``.
public struct ToolResult: Sendable, Hashable {
    /// The ``ToolCall/id`` it answers.
    public var id: String
    /// The tool's output: text, JSON or not.
    public var content: String

    public init(id: String, content: String) {
        self.id = id
        self.content = content
    }
}

/// What a generated medium is.
public enum MediaKind: String, Sendable, Hashable, Codable {
    case image, audio, video
}

/// A medium (image, audio, video) an answer generated (``Answer/media``).
public struct GeneratedMedium: Sendable, Hashable, Codable {
    public var kind: MediaKind
    /// Absolute (a server-relative one resolved against the base URL), or a `data:` URI.
    public var url: String
    /// The alternative text (g4f: the prompt).
    public var alt: String?
}
