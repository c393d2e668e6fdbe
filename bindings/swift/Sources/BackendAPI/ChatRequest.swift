import CBackendAPI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One message of the conversation.
public struct Message: Sendable, Hashable {
    /// Plain text, or JSON content (a string or a list of parts, such as
    /// `[{"type": "text", "text": "..."}]`).
    public enum Content: Sendable, Hashable {
        case text(String)
        case json(JSONValue)
    }

    public var role: String
    public var content: Content
    /// The tool calls of an assistant message (``ChatRequest/followUp(answer:toolResults:)``
    /// sets them), as the answer's ``Answer/toolCalls`` JSON.
    public var toolCalls: JSONValue?
    /// The call a `tool` message answers (see ``tool(callID:content:)``).
    public var toolCallID: String?

    public init(role: String, content: String) {
        self.role = role
        self.content = .text(content)
    }

    public init(role: String, content: Content) {
        self.role = role
        self.content = content
    }

    public static func system(_ text: String) -> Message { Message(role: "system", content: text) }
    public static func user(_ text: String) -> Message { Message(role: "user", content: text) }
    public static func assistant(_ text: String) -> Message { Message(role: "assistant", content: text) }
    /// The result of the tool call `callID`: `{"role": "tool", "tool_call_id": callID, "content": content}`.
    public static func tool(callID: String, content: String) -> Message {
        var m = Message(role: "tool", content: content)
        m.toolCallID = callID
        return m
    }
}

/// An image or audio file sent with the request (g4f's `media`).
public enum Media: Sendable, Hashable {
    /// Bytes, base64-encoded into a data URI. The MIME type comes from `filename`'s
    /// extension for audio, else from the bytes (jpeg, png, gif, webp); anything else
    /// fails with ``BackendAPIError/media(_:)``.
    case data(Data, filename: String? = nil)
    /// A local file, read when the stream opens; its base name is sent as the file name.
    case file(URL)
    /// A `data:` URI or an `http(s)://` URL, sent as it is.
    case uri(String, filename: String? = nil)
}

/// One conversation request: model, messages, media, api key, headers and extra body fields.
public struct ChatRequest: Sendable, Hashable {
    public var model: String
    public var messages: [Message]
    public var media: [Media]
    /// Overrides the client's api key for this request (redacted in print and dump).
    public var apiKey: Secret?
    /// Where ``apiKey`` goes (when this request sets one).
    public var apiKeyPlacement: APIKeyPlacement
    /// Headers sent with this request only, after the client's (a tracing id, the
    /// `x-secret` of a demo deployment, ...). Secret ones never reach logs or errors.
    public var headers: [String: String]
    /// Extra body fields, the Python client's `**kwargs`: `provider`, `conversation`,
    /// `web_search`, ... (`model`, `messages`, `media` and `api_key` are refused here).
    public var extraFields: [String: JSONValue]
    /// Bound on each item of ``media`` (nil: the library's 20 MiB); a larger one fails
    /// with ``BackendAPIError/Code/mediaTooLarge``, a larger file before it is read.
    public var maxMediaBytes: Int?
    /// This request's own timeout: the whole exchange, from the first iteration to the
    /// last chunk, on top of the client's ``Timeouts`` (nil: none). When it passes the
    /// request is cancelled and the iteration throws ``BackendAPIError/Code/timedOut``.
    /// Not part of the body (not encoded).
    public var timeout: Duration?
    /// Why the follow-up that made this request failed (see
    /// ``followUp(answer:userMessage:)``): streaming it throws this.
    var followUpError: BackendAPIError?

    public init(
        model: String = "",
        messages: [Message] = [],
        media: [Media] = [],
        apiKey: Secret? = nil,
        apiKeyPlacement: APIKeyPlacement = .body,
        headers: [String: String] = [:],
        extraFields: [String: JSONValue] = [:]
    ) {
        self.model = model
        self.messages = messages
        self.media = media
        self.apiKey = apiKey
        self.apiKeyPlacement = apiKeyPlacement
        self.headers = headers
        self.extraFields = extraFields
    }

    /// Builds the native request (reading media files now) and hands it to `body`;
    /// frees it afterwards. Blocking (media files are read): runs off Swift's cooperative pool.
    func withNative<T>(
        client: BackendAPIClient, _ body: (OpaquePointer) throws(BackendAPIError) -> T
    ) throws(BackendAPIError) -> T {
        if let followUpError { throw followUpError }
        guard let r = backend_api_request_new() else { throw .internalError("backend_api_request_new failed") }
        defer { backend_api_request_free(r) }
        let model = try cString(self.model, "model")
        try check { backend_api_request_set_model(r, model, $0) }
        // An assistant's tool calls have no setter of their own: then all messages go as JSON.
        let asJSON = messages.contains { $0.toolCalls != nil }
        if asJSON {
            let json: String
            do {
                json = String(decoding: try JSONEncoder().encode(messages), as: UTF8.self)
            } catch {
                throw .invalidArgument("messages: \(error)")
            }
            try check { backend_api_request_set_messages_json(r, json, $0) }
        }
        for m in messages where !asJSON {
            let role = try cString(m.role, "message role")
            if let id = m.toolCallID, case .text(let text) = m.content, !text.utf8.contains(0) {
                let i = try cString(id, "tool call id")
                try check { backend_api_request_add_tool_result(r, i, text, $0) }
                continue
            }
            switch m.content {
            case .text(let text) where !text.utf8.contains(0):
                try check { backend_api_request_add_message(r, role, text, $0) }
            case .text(let text): // A NUL would cut a C string: send it as JSON ("\u0000").
                let json = JSONValue.string(text).jsonText
                try check { backend_api_request_add_message_json(r, role, json, $0) }
            case .json(let value):
                let json = value.jsonText
                try check { backend_api_request_add_message_json(r, role, json, $0) }
            }
        }
        if let maxMediaBytes {
            guard maxMediaBytes >= 1 else { throw .invalidArgument("maxMediaBytes must be at least 1") }
            try check { backend_api_request_set_max_media(r, maxMediaBytes, $0) }
        }
        for item in media {
            switch item {
            case .data(let data, let filename):
                let name = try filename.map { f throws(BackendAPIError) in try cString(f, "media file name") }
                try check { err in
                    data.withUnsafeBytes { buf in
                        let p = buf.bindMemory(to: UInt8.self).baseAddress
                        if let name {
                            return backend_api_request_add_media_bytes(r, p, buf.count, name, err)
                        }
                        return backend_api_request_add_media_bytes(r, p, buf.count, nil, err)
                    }
                }
            case .file(let url):
                guard url.isFileURL else { throw .invalidArgument("media file URL is not a file: URL: \(url)") }
                let path = try cString(url.path, "media file path")
                try check { backend_api_request_add_media_file(r, path, $0) }
            case .uri(let uri, let filename):
                let u = try cString(uri, "media URI")
                let name = try filename.map { f throws(BackendAPIError) in try cString(f, "media file name") }
                try check { err in
                    if let name { return backend_api_request_add_media_uri(r, u, name, err) }
                    return backend_api_request_add_media_uri(r, u, nil, err)
                }
            }
        }
        let config = client.configuration
        if let key = apiKey ?? config.apiKey {
            let placement = apiKey != nil ? apiKeyPlacement : config.apiKeyPlacement
            let k = try cString(key.value, "api key")
            try check { backend_api_request_set_api_key(r, k, placement.rawValue, $0) }
        }
        for name in headers.keys.sorted() {
            let n = try cString(name, "header name")
            let v = try cString(headers[name]!, "header value")
            try check { backend_api_request_add_header(r, n, v, $0) }
        }
        try setExtraFields(on: r)
        return try body(r)
    }

    /// Sets ``extraFields`` (but `except`) on the native request `r`, in the order of their names.
    func setExtraFields(on r: OpaquePointer, except: String? = nil) throws(BackendAPIError) {
        for name in extraFields.keys.sorted() where name != except {
            let k = try cString(name, "field name")
            let json = extraFields[name]!.jsonText
            try check { backend_api_request_set_field_json(r, k, json, $0) }
        }
    }
}

extension Message: Codable {
    private enum Keys: String, CodingKey {
        case role, content
        case toolCalls = "tool_calls"
        case toolCallID = "tool_call_id"
    }

    /// Reads `{"role": ..., "content": ...}`: a string content as ``Content/text(_:)``,
    /// any other JSON (a list of parts) as ``Content/json(_:)``.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        role = try c.decode(String.self, forKey: .role)
        let value = try c.decodeIfPresent(JSONValue.self, forKey: .content) ?? .null
        content = value.stringValue.map(Content.text) ?? .json(value)
        toolCalls = try c.decodeIfPresent(JSONValue.self, forKey: .toolCalls)
        toolCallID = try c.decodeIfPresent(String.self, forKey: .toolCallID)
    }

    /// Writes `{"role": ..., "content": ...}`, as the request body carries it.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(role, forKey: .role)
        switch content {
        case .text(let text): try c.encode(text, forKey: .content)
        case .json(let value): try c.encode(value, forKey: .content)
        }
        try c.encodeIfPresent(toolCalls, forKey: .toolCalls)
        try c.encodeIfPresent(toolCallID, forKey: .toolCallID)
    }
}

extension Media: Codable {
    private enum Keys: String, CodingKey { case data, file, uri, filename }

    /// Reads `{"data": <base64>, "filename": ...}`, `{"file": <path>}` or
    /// `{"uri": ..., "filename": ...}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let filename = try c.decodeIfPresent(String.self, forKey: .filename)
        if let data = try c.decodeIfPresent(Data.self, forKey: .data) {
            self = .data(data, filename: filename)
        } else if let path = try c.decodeIfPresent(String.self, forKey: .file) {
            self = .file(URL(fileURLWithPath: path))
        } else {
            self = .uri(try c.decode(String.self, forKey: .uri), filename: filename)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .data(let data, let filename):
            try c.encode(data, forKey: .data)
            try c.encodeIfPresent(filename, forKey: .filename)
        case .file(let url):
            try c.encode(url.path, forKey: .file)
        case .uri(let uri, let filename):
            try c.encode(uri, forKey: .uri)
            try c.encodeIfPresent(filename, forKey: .filename)
        }
    }
}

/// `Codable` as the request body is shaped: `{"model": ..., "messages": [...],
/// "media": [...], ...extraFields}` (each extra field at the top level, as g4f takes
/// them). The credentials are left out on purpose: ``ChatRequest/apiKey`` and
/// ``ChatRequest/headers`` (which may hold secrets) are neither encoded nor decoded;
/// a decoded request has none, and ``ChatRequest/apiKeyPlacement`` is `.body`.
extension ChatRequest: Codable {
    private struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
        static let model = Key(stringValue: "model")
        static let messages = Key(stringValue: "messages")
        static let media = Key(stringValue: "media")
        static let reserved: Set<String> = ["model", "messages", "media", "api_key"]
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        var extra: [String: JSONValue] = [:]
        for key in c.allKeys where !Key.reserved.contains(key.stringValue) {
            extra[key.stringValue] = try c.decode(JSONValue.self, forKey: key)
        }
        self.init(
            model: try c.decodeIfPresent(String.self, forKey: .model) ?? "",
            messages: try c.decodeIfPresent([Message].self, forKey: .messages) ?? [],
            media: try c.decodeIfPresent([Media].self, forKey: .media) ?? [],
            extraFields: extra)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(model, forKey: .model)
        try c.encode(messages, forKey: .messages)
        if !media.isEmpty { try c.encode(media, forKey: .media) }
        for (key, value) in extraFields where !Key.reserved.contains(key) {
            try c.encode(value, forKey: Key(stringValue: key))
        }
    }
}
