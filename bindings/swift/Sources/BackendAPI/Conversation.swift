import CBackendAPI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One provider of the server's listing (``BackendAPIClient/providers()``).
public struct Provider: Sendable, Hashable, Codable {
    /// The provider's name (the backend API's `name`, an OpenAI-compatible listing's
    /// `id`): the request's `provider` field.
    public var name: String
    public var label: String?
    /// The provider's whole object (`auth`, `login_url`, `vision`, `url`, ...).
    public var fields: [String: JSONValue]
}

/// A model capability (`BACKEND_API_CAPABILITY_*`).
public struct Capabilities: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Image input.
    public static let vision = Capabilities(rawValue: UInt32(BACKEND_API_CAPABILITY_VISION))
    /// Image generation.
    public static let image = Capabilities(rawValue: UInt32(BACKEND_API_CAPABILITY_IMAGE))
    /// Audio input or output.
    public static let audio = Capabilities(rawValue: UInt32(BACKEND_API_CAPABILITY_AUDIO))
    /// Video input or generation.
    public static let video = Capabilities(rawValue: UInt32(BACKEND_API_CAPABILITY_VIDEO))
    /// Tool (function) calls.
    public static let tools = Capabilities(rawValue: UInt32(BACKEND_API_CAPABILITY_TOOLS))
}

/// A model with the capabilities its listing states (``BackendAPIClient/modelInfos(provider:)``).
public struct ModelInfo: Sendable, Hashable, Codable {
    public var id: String
    /// nil when the listing names none.
    public var provider: String?
    /// What the listing says the model has.
    public var capabilities: Capabilities
    /// What the listing says anything about: a capability here but not in
    /// ``capabilities`` is one the model lacks; in neither, one the server did not state.
    public var known: Capabilities

    /// True, false, or nil when the listing does not say.
    public func has(_ capability: Capabilities) -> Bool? {
        known.isSuperset(of: capability) ? capabilities.isSuperset(of: capability) : nil
    }
}

/// A generated medium downloaded by ``BackendAPIClient/fetchMedia(_:request:maxBytes:)``.
public struct FetchedMedia: Sendable, Hashable {
    public var data: Data
    /// The MIME type the server named.
    public var contentType: String?
}

extension BackendAPIClient {
    /// The server's providers: `GET /backend-api/v2/providers`, or `{base}/providers`
    /// under ``APIProtocol/openAI`` (servers without it: ``BackendAPIError/Code/http``
    /// 404). Cancelling the task cancels the call, as ``models(provider:)``.
    public func providers() async throws -> [Provider] {
        let data = try await blocking { client, canceller in
            var json: UnsafePointer<CChar>?
            var len = 0
            var err: OpaquePointer?
            try Self.settle(backend_api_providers(client, canceller, &json, &len, &err).rawValue, err)
            guard let json else { throw BackendAPIError.internalError("backend_api_providers returned no text") }
            defer { backend_api_string_free(json) }
            return Data(bytes: json, count: len)
        }
        guard let list = try? JSONValue(parsing: data).arrayValue else {
            throw BackendAPIError(code: .protocolViolation, message: "unexpected provider listing: not a list")
        }
        return list.compactMap { item in
            guard let fields = item.objectValue else { return nil }
            let name = fields["name"]?.stringValue ?? fields["id"]?.stringValue ?? ""
            return Provider(name: name, label: fields["label"]?.stringValue, fields: fields)
        }
    }

    /// The models with the capabilities the server states (g4f's per-provider flags,
    /// `g4f api`'s `/v1/models`, the `capabilities`, `architecture` and
    /// `supported_parameters` other OpenAI-compatible servers send); `provider` as for
    /// ``models(provider:)``. Cancelling the task cancels the call.
    public func modelInfos(provider: String? = nil) async throws -> [ModelInfo] {
        let provider = try provider.map { p throws(BackendAPIError) in try cString(p, "provider") }
        return try await blocking { client, canceller in
            var list: OpaquePointer?
            var err: OpaquePointer?
            try Self.settle(backend_api_model_list_fetch(client, provider, canceller, &list, &err).rawValue, err)
            defer { backend_api_model_list_free(list) }
            return (0..<backend_api_model_list_count(list)).compactMap { i in
                var id: UnsafePointer<CChar>?
                var owner: UnsafePointer<CChar>?
                var has: UInt32 = 0
                var known: UInt32 = 0
                guard backend_api_model_list_get(list, i, &id, &owner, &has, &known) == BACKEND_API_STATUS_OK, let id
                else { return nil }
                return ModelInfo(
                    id: String(cString: id), provider: owner.map { String(cString: $0) },
                    capabilities: Capabilities(rawValue: has), known: Capabilities(rawValue: known))
            }
        }
    }

    /// Downloads a medium an answer generated (``GeneratedMedium/url``; a `data:` URI is
    /// decoded without a request) with this client's TLS, proxy and timeouts; the
    /// client's headers, and `request`'s headers and bearer key, go to the base URL's
    /// origin only. At most `maxBytes` (nil: 20 MiB), else
    /// ``BackendAPIError/Code/mediaTooLarge``. Cancelling the task cancels the call.
    public func fetchMedia(_ url: String, request: ChatRequest? = nil, maxBytes: Int? = nil) async throws -> FetchedMedia {
        let (data, type) = try await withMediaCall(url, request, maxBytes) { client, req, u, canceller, max, type, err in
            var data: UnsafeMutablePointer<UInt8>?
            var len = 0
            let status = backend_api_media_fetch(client, req, u, canceller, max, &data, &len, type, err)
            defer { backend_api_bytes_free(data, len) }
            return (status, data.map { Data(bytes: $0, count: len) } ?? Data())
        }
        return FetchedMedia(data: data, contentType: type)
    }

    /// ``fetchMedia(_:request:maxBytes:)`` into the file at `path`, written whole or not
    /// at all (a failed or cancelled download leaves no partial file and replaces
    /// none). Returns the bytes written.
    @discardableResult
    public func saveMedia(_ url: String, to path: String, request: ChatRequest? = nil, maxBytes: Int? = nil) async throws -> Int {
        let p = try cString(path, "path")
        return try await withMediaCall(url, request, maxBytes) { client, req, u, canceller, max, type, err in
            var written: UInt64 = 0
            let status = backend_api_media_save(client, req, u, p, canceller, max, &written, type, err)
            return (status, Int(clamping: written))
        }.0
    }

    /// Runs a media call: the URL and the request in C, the limit, the content type it names.
    private func withMediaCall<T: Sendable>(
        _ url: String, _ request: ChatRequest?, _ maxBytes: Int?,
        _ call: @escaping @Sendable (
            OpaquePointer, OpaquePointer?, String, OpaquePointer, Int, UnsafeMutablePointer<UnsafePointer<CChar>?>,
            UnsafeMutablePointer<OpaquePointer?>
        ) -> (backend_api_status, T)
    ) async throws -> (T, String?) {
        let u = try cString(url, "media URL")
        guard (maxBytes ?? 0) >= 0 else { throw BackendAPIError.invalidArgument("maxBytes is negative") }
        let max = maxBytes ?? 0
        return try await blocking { [self] client, canceller in
            var type: UnsafePointer<CChar>?
            var err: OpaquePointer?
            defer { backend_api_string_free(type) }
            let perform = { (req: OpaquePointer?) -> (backend_api_status, T) in
                call(client, req, u, canceller, max, &type, &err)
            }
            let (status, value) = try request.map { r throws(BackendAPIError) in
                try r.withNative(client: self) { native throws(BackendAPIError) in perform(native) }
            } ?? perform(nil)
            try Self.settle(status.rawValue, err)
            return (value, type.map { String(cString: $0) })
        }
    }
}

extension ChunkStream {
    /// The value of the response header `name` (any case, such as `"X-Request-Id"`);
    /// nil when the response has none, or before the headers arrived (they are there
    /// once a chunk or the end came).
    public func header(_ name: String) -> String? {
        guard let native = owner.core.opened, !name.utf8.contains(0) else { return nil }
        var value: UnsafePointer<CChar>?
        var len = 0
        guard backend_api_stream_header(native, name, &value, &len) == BACKEND_API_STATUS_OK, let value else {
            return nil
        }
        return String(decoding: UnsafeRawBufferPointer(start: value, count: len), as: UTF8.self)
    }

    /// Every response header, names in lower case, in the order received; empty before
    /// the headers arrived.
    public var responseHeaders: [(name: String, value: String)] {
        guard let native = owner.core.opened else { return [] }
        var out: [(name: String, value: String)] = []
        var name: UnsafePointer<CChar>?
        var value: UnsafePointer<CChar>?
        while backend_api_stream_header_at(native, out.count, &name, &value) == BACKEND_API_STATUS_OK, let name, let value {
            out.append((String(cString: name), String(cString: value)))
        }
        return out
    }
}
