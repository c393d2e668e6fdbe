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
        case content, reasoning, usage, title, conversation, provider, model, error
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
        var next = self
        next.media = []
        next.messages.append(.assistant(answer.content))
        next.messages.append(.user(userMessage))
        if let conversation = answer.conversation, conversation != .null {
            next.extraFields["conversation"] = conversation
        }
        return next
    }
}
