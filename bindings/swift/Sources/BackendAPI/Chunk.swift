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
        /// The model refused (the OpenAI protocol's `delta.refusal`): ``Chunk/text`` says
        /// why; the answer keeps it as ``Answer/refusal``.
        case refusal = 23
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
    /// The choice the chunk belongs to, from 0: with the OpenAI protocol and `n` > 1
    /// each choice's chunks come apart (the assembled answer follows choice 0); 0 for
    /// every other chunk.
    public var choice: Int { storage.choice }

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

    /// The chunk's top-level fields; empty if the JSON is not an object. The JSON is
    /// parsed once per chunk (by the library, which keeps the parsed value with the
    /// native chunk), not on each access.
    public var fields: [String: JSONValue] {
        storage.value(at: "")?.objectValue ?? [:]
    }

    /// A top-level field: only that value is read (see ``value(at:)``).
    public subscript(field: String) -> JSONValue? {
        storage.value(at: "/" + field.replacingJSONPointerEscapes())
    }

    /// The value at a JSON Pointer (RFC 6901) such as `"/usage/total_tokens"` or
    /// `"/choices/0/delta"` (`""` is the whole chunk); nil when there is none. Reads the
    /// library's parsed chunk (`backend_api_chunk_get_*`): no JSON is parsed here.
    public func value(at pointer: String) -> JSONValue? {
        storage.value(at: pointer)
    }

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
    /// A chunk made in Swift: its JSON, parsed once at init.
    private let parsed: JSONValue?

    init(_ native: OpaquePointer) {
        self.native = native
        strings = ("", "", nil)
        parsed = nil
    }

    init(type: String, json: String, text: String?) {
        native = nil
        strings = (type, json, text)
        parsed = try? JSONValue(parsing: json)
    }

    /// The chunk's choice (`backend_api_chunk_choice`), or its `"choice"` field.
    var choice: Int {
        guard let native else { return parsed?["choice"]?.intValue ?? 0 }
        return Int(backend_api_chunk_choice(native))
    }

    /// The value at a JSON Pointer: from the library's parsed chunk, or from `parsed`.
    func value(at pointer: String) -> JSONValue? {
        guard let native else { return parsed?.value(at: pointer) }
        return Self.value(native, pointer)
    }

    /// Builds the value at `pointer` of a native chunk through the library's look-ups.
    private static func value(_ native: OpaquePointer, _ pointer: String) -> JSONValue? {
        var type = backend_api_json_type(rawValue: 0)
        guard backend_api_chunk_get_type(native, pointer, &type) == BACKEND_API_STATUS_OK else { return nil }
        switch type {
        case BACKEND_API_JSON_TYPE_NULL:
            return .null
        case BACKEND_API_JSON_TYPE_BOOL:
            var b = false
            return backend_api_chunk_get_bool(native, pointer, &b) == BACKEND_API_STATUS_OK ? .bool(b) : nil
        case BACKEND_API_JSON_TYPE_NUMBER:
            var i: Int64 = 0
            if backend_api_chunk_get_int64(native, pointer, &i) == BACKEND_API_STATUS_OK, let int = Int(exactly: i) {
                return .integer(int)
            }
            var d = 0.0
            return backend_api_chunk_get_number(native, pointer, &d) == BACKEND_API_STATUS_OK ? .number(d) : nil
        case BACKEND_API_JSON_TYPE_STRING:
            var text: UnsafePointer<CChar>?
            var length = 0
            guard backend_api_chunk_get_string(native, pointer, &text, &length) == BACKEND_API_STATUS_OK else { return nil }
            return string(text, length).map { .string($0) }
        case BACKEND_API_JSON_TYPE_ARRAY:
            var count = 0
            guard backend_api_chunk_get_count(native, pointer, &count) == BACKEND_API_STATUS_OK else { return nil }
            return .array((0..<count).map { value(native, pointer + "/\($0)") ?? .null })
        case BACKEND_API_JSON_TYPE_OBJECT:
            var count = 0
            guard backend_api_chunk_get_count(native, pointer, &count) == BACKEND_API_STATUS_OK else { return nil }
            var object: [String: JSONValue] = [:]
            for index in 0..<count {
                var key: UnsafePointer<CChar>?
                var length = 0
                guard backend_api_chunk_get_key(native, pointer, index, &key, &length) == BACKEND_API_STATUS_OK,
                    let name = string(key, length)
                else { return nil }
                object[name] = value(native, pointer + "/" + name.replacingJSONPointerEscapes())
            }
            return .object(object)
        default:
            return nil
        }
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

/// `Codable` as the chunk's JSON object, as the server sent it: encoding writes that
/// object; decoding reads one and makes the chunk of it as the library would
/// (`backend_api_chunk_parse`: its kind and text too), so that chunks can be recorded
/// and replayed, by a test double of ``ChatClient`` say.
extension Chunk: Codable {
    public init(from decoder: any Decoder) throws {
        let json = try JSONValue(from: decoder).jsonText
        var native: OpaquePointer?
        try check { backend_api_chunk_parse(json, json.utf8.count, &native, $0) }
        guard let native else { throw BackendAPIError.internalError("backend_api_chunk_parse returned no chunk") }
        self.init(native: native)
    }

    public func encode(to encoder: any Encoder) throws {
        try JSONValue(parsing: jsonString).encode(to: encoder)
    }
}
