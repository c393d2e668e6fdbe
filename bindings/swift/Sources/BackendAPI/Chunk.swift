import CBackendAPI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One chunk of the answer (g4f's `RawResponse`): its type, its whole JSON object
/// as the server sent it, and typed helpers. A value: copies share the native chunk,
/// which is read on demand (any thread) and freed with the last copy.
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

    public let kind: Kind
    private let storage: ChunkStorage

    /// The chunk's `type` (`"content"`, `"reasoning"`, `"error"`, ...); `""` when it has none.
    public var type: String { storage.type }
    /// The chunk's JSON object as the server sent it.
    public var jsonString: String { storage.json }
    /// The main text: `content` of a content chunk, `token` of reasoning, `message` of
    /// error/auth/message, `title`, `log`, `preview`; nil when the chunk has none.
    public var text: String? { storage.text }

    public init(type: String, kind: Kind, json: Data, text: String?) {
        self.kind = kind
        storage = ChunkStorage(type: type, json: String(decoding: json, as: UTF8.self), text: text)
    }

    /// Takes over a native chunk (freed with the last copy of the value).
    init(native: OpaquePointer) {
        kind = Kind(rawValue: backend_api_chunk_kind(native).rawValue) ?? .other
        storage = ChunkStorage(native)
    }

    public static func == (a: Chunk, b: Chunk) -> Bool {
        a.kind == b.kind && a.type == b.type && a.jsonString == b.jsonString && a.text == b.text
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(jsonString)
    }

    /// The chunk's JSON object as the server sent it (UTF-8), made on each call.
    public var json: Data { Data(jsonString.utf8) }

    /// The chunk's top-level fields (parsed on each call); empty if the JSON is not an object.
    public var fields: [String: JSONValue] {
        ((try? JSONValue(parsing: jsonString))?.objectValue) ?? [:]
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

/// The strings of a chunk: a native chunk read on demand, or Swift strings for a chunk
/// made with ``Chunk/init(type:kind:json:text:)``.
final class ChunkStorage: @unchecked Sendable {
    // @unchecked: immutable; the C accessors of a live chunk may run on any thread,
    // also concurrently, and lend strings that live as long as the chunk.
    private let native: OpaquePointer?
    private let strings: (type: String, json: String, text: String?)

    init(_ native: OpaquePointer) {
        self.native = native
        strings = ("", "", nil)
    }

    init(type: String, json: String, text: String?) {
        native = nil
        strings = (type, json, text)
    }

    deinit {
        backend_api_chunk_free(native)
    }

    var type: String {
        guard let native else { return strings.type }
        return String(cString: backend_api_chunk_type(native))
    }

    var json: String {
        guard let native else { return strings.json }
        var length = 0
        return Self.string(backend_api_chunk_json(native, &length), length) ?? ""
    }

    var text: String? {
        guard let native else { return strings.text }
        var length = 0
        return Self.string(backend_api_chunk_text(native, &length), length)
    }

    private static func string(_ text: UnsafePointer<CChar>?, _ length: Int) -> String? {
        text.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: length), as: UTF8.self) }
    }
}

extension Chunk: CustomStringConvertible {
    public var description: String { "Chunk(\(type): \(jsonString))" }
}
