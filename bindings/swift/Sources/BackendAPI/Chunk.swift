import CBackendAPI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One chunk of the answer (g4f's `RawResponse`): its type, its whole JSON object
/// as the server sent it, and typed helpers. A plain value: copied out of the native
/// chunk, which is freed at once.
public struct Chunk: Sendable, Hashable {
    /// What a chunk is, without comparing strings (`backend_api_kind`).
    public enum Kind: UInt32, Sendable, Hashable {
        /// A type without a name here (a provider's own raw chunk); see ``Chunk/type``.
        case other = 0
        case content = 1
        case reasoning = 2
        /// A fatal in-stream error: the answer ends; only `log` chunks follow.
        case error = 3
        /// A fatal authentication error: the answer ends.
        case auth = 4
        case usage = 5
        case finish = 6
        case provider = 7
        case conversation = 8
        /// A non-fatal error message: the stream goes on.
        case message = 9
        case title = 10
        case toolCalls = 11
        case log = 12
        case preview = 13
        case parameters = 14
        case suggestions = 15
        case synthesize = 16
        case `continue` = 17
        case variant = 18
        case request = 19
        case response = 20
        case headers = 21
        /// Made by the library, not sent by servers: the assembled answer (see ``Answer``).
        case answer = 22
    }

    /// Token counts of a `usage` chunk.
    public struct Usage: Sendable, Hashable {
        public var promptTokens: Int?
        public var completionTokens: Int?
        public var totalTokens: Int?
        /// The whole `usage` object, with any further counts the provider sent.
        public var fields: [String: JSONValue]
    }

    /// The chunk's `type` (`"content"`, `"reasoning"`, `"error"`, ...); `""` when it has none.
    public let type: String
    public let kind: Kind
    /// The chunk's JSON object as the server sent it (UTF-8).
    public let json: Data
    /// The main text: `content` of a content chunk, `token` of reasoning, `message` of
    /// error/auth/message, `title`, `log`, `preview`; nil when the chunk has none.
    public let text: String?

    public init(type: String, kind: Kind, json: Data, text: String?) {
        self.type = type
        self.kind = kind
        self.json = json
        self.text = text
    }

    /// Copies a native chunk into Swift; the caller frees the native chunk.
    init(native c: OpaquePointer) {
        type = String(cString: backend_api_chunk_type(c))
        kind = Kind(rawValue: backend_api_chunk_kind(c).rawValue) ?? .other
        var len = 0
        let j = backend_api_chunk_json(c, &len)
        json = j.map { Data(bytes: $0, count: len) } ?? Data()
        var tlen = 0
        if let t = backend_api_chunk_text(c, &tlen) {
            text = t.withMemoryRebound(to: UInt8.self, capacity: tlen) {
                String(decoding: UnsafeBufferPointer(start: $0, count: tlen), as: UTF8.self)
            }
        } else {
            text = nil
        }
    }

    /// The JSON object as text.
    public var jsonString: String { String(decoding: json, as: UTF8.self) }

    /// The chunk's top-level fields (parsed on each call); empty if the JSON is not an object.
    public var fields: [String: JSONValue] {
        ((try? JSONValue(parsing: json))?.objectValue) ?? [:]
    }

    /// A top-level field (parses the JSON on each call).
    public subscript(field: String) -> JSONValue? { fields[field] }

    /// Decodes the chunk's JSON object into a type of your own:
    /// `let part = try chunk.decode(ContentChunk.self)`. Throws the decoder's error.
    public func decode<T: Decodable>(_ type: T.Type = T.self, using decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(type, from: json)
    }

    /// The text of a `content` chunk.
    public var content: String? { kind == .content ? text : nil }

    /// The `token` of a `reasoning` chunk.
    public var reasoning: String? { kind == .reasoning ? text : nil }

    /// True for `error` and `auth` chunks: the answer ends (only `log` chunks may follow).
    /// A ``ChunkStream`` throws them as ``BackendAPIError`` (``BackendAPIError/chunk``);
    /// a ``NativeStream`` hands them out as chunks.
    public var isFatal: Bool { kind == .error || kind == .auth }

    /// The message of an `error`, `auth` or (non-fatal) `message` chunk.
    public var errorMessage: String? {
        kind == .error || kind == .auth || kind == .message ? text : nil
    }

    /// The error's class name of an `error`/`message` chunk (`"ValueError"`), or the
    /// `auth` value (`"MissingAuthError"`).
    public var errorName: String? {
        switch kind {
        case .error, .message: self["error"]?.stringValue
        case .auth: self["auth"]?.stringValue
        default: nil
        }
    }

    /// The counts of a `usage` chunk.
    public var usage: Usage? {
        guard kind == .usage, let u = self["usage"]?.objectValue else { return nil }
        return Usage(
            promptTokens: u["prompt_tokens"]?.intValue, completionTokens: u["completion_tokens"]?.intValue,
            totalTokens: u["total_tokens"]?.intValue, fields: u)
    }

    /// The `reason` of a `finish` chunk (`"stop"`, `"length"`, ...).
    public var finishReason: String? {
        guard kind == .finish else { return nil }
        return self["finish"]?["reason"]?.stringValue
    }

    /// The provider's `name` of a `provider` chunk.
    public var providerName: String? {
        guard kind == .provider else { return nil }
        return self["provider"]?["name"]?.stringValue
    }
}

extension Chunk: CustomStringConvertible {
    public var description: String { "Chunk(\(type): \(jsonString))" }
}
