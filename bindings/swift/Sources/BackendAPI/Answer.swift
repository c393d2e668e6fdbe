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
    /// The request that continues the conversation after `answer`, made by the library
    /// (`backend_api_request_follow_up_answer`, so its rules are the C library's): the
    /// same model, api key, headers and extra fields; the messages plus `answer.content`
    /// (with its tool calls) as the assistant's message and `userMessage` as the user's;
    /// the provider's conversation state as g4f expects it back (the answering
    /// provider's own state, unwrapped) as the `conversation` field, the request's own
    /// kept when the answer brought none. Media are not sent again. When the library
    /// refuses (an extra field it does not take, say), streaming the new request throws
    /// that error.
    public func followUp(answer: Answer, userMessage: String) -> ChatRequest {
        followUp(answer: answer, userMessage: userMessage, toolResults: [])
    }

    /// The request that continues the conversation after `answer` asked for tools: as
    /// ``followUp(answer:userMessage:)``, with a `{"role": "tool", "tool_call_id": ...,
    /// "content": ...}` message per result instead of a user message
    /// (`backend_api_request_add_tool_result`).
    public func followUp(answer: Answer, toolResults: [ToolResult]) -> ChatRequest {
        followUp(answer: answer, userMessage: nil, toolResults: toolResults)
    }

    private func followUp(answer: Answer, userMessage: String?, toolResults: [ToolResult]) -> ChatRequest {
        var next = self
        next.media = []
        do {
            let (added, state) = try followUpAdds(answer: answer, userMessage: userMessage, toolResults: toolResults)
            next.messages += added
            if let state { next.extraFields["conversation"] = state }
        } catch {
            next.followUpError = error
        }
        return next
    }

    /// What the library's follow-up after `answer` adds: the messages (the assistant's,
    /// then the user's or the tool results) and the `conversation` field, nil when the
    /// answer brought no state. The library gets this request's extra fields but no
    /// messages, media or earlier state: the messages it adds are then all its body
    /// holds, and a conversation there is the answer's.
    private func followUpAdds(
        answer: Answer, userMessage: String?, toolResults: [ToolResult]
    ) throws(BackendAPIError) -> ([Message], JSONValue?) {
        guard let r = backend_api_request_new() else { throw .internalError("backend_api_request_new failed") }
        defer { backend_api_request_free(r) }
        try setExtraFields(on: r, except: "conversation")
        var fields: [String: JSONValue]
        do {
            fields = try JSONValue(parsing: JSONEncoder().encode(answer)).objectValue ?? [:]
        } catch {
            throw .invalidArgument("the answer: \(error)")
        }
        fields["type"] = .string("answer")
        let json = JSONValue.object(fields).jsonText
        var chunk: OpaquePointer?
        try check { backend_api_chunk_parse(json, json.utf8.count, &chunk, $0) }
        defer { backend_api_chunk_free(chunk) }
        let user = try userMessage.map { m throws(BackendAPIError) in try cString(m, "user message") }
        var out: OpaquePointer?
        try check { backend_api_request_follow_up_answer(r, chunk, user, &out, $0) }
        defer { backend_api_request_free(out) }
        for result in toolResults {
            let id = try cString(result.id, "tool call id")
            let content = try cString(result.content, "tool result")
            try check { backend_api_request_add_tool_result(out, id, content, $0) }
        }
        var text: UnsafePointer<CChar>?
        var len = 0
        try check { backend_api_request_json(out, &text, &len, $0) }
        defer { backend_api_string_free(text) }
        guard let text, let body = try? JSONValue(parsing: Data(bytes: text, count: len)).objectValue else {
            throw .internalError("backend_api_request_json returned no JSON object")
        }
        let messages: [Message]
        do {
            messages = try JSONDecoder().decode([Message].self, from: Data((body["messages"] ?? .array([])).jsonText.utf8))
        } catch {
            throw .internalError("the follow-up's messages: \(error)")
        }
        return (messages, body["conversation"])
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
