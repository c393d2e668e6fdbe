/// One model of a listing (see ``BackendAPIClient/listModels(provider:)``): the backend
/// API's (both g4f generations) or an OpenAI-compatible one. Fields the server does
/// not send are nil or false.
public struct Model: Sendable, Hashable, Codable {
    /// The model's name: `id` (newer g4f, OpenAI) or `model` (g4f 6.x).
    public var id: String
    /// The provider that lists it (backend API); nil in an OpenAI listing.
    public var provider: String?
    /// `owned_by` of an OpenAI listing.
    public var ownedBy: String?
    /// `created` of an OpenAI listing (Unix seconds).
    public var created: Int?
    /// The name to show.
    public var label: String?
    /// The provider's default model.
    public var isDefault: Bool
    public var vision: Bool
    public var image: Bool
    public var audio: Bool
    public var video: Bool
    /// In a grouped listing (`{"group": ..., "models": [...]}`), the group's name.
    public var group: String?
    /// The model's whole object (empty when the listing gave a name only).
    public var fields: [String: JSONValue]

    /// A model listed by name only.
    init(id: String, provider: String?) {
        self.init(fields: [:], provider: provider, group: nil)
        self.id = id
    }

    /// A model object of a listing.
    init(fields: [String: JSONValue], provider: String?, group: String?) {
        id = fields["id"]?.stringValue ?? fields["model"]?.stringValue ?? ""
        self.provider = provider
        ownedBy = fields["owned_by"]?.stringValue
        created = fields["created"]?.intValue
        label = fields["label"]?.stringValue
        isDefault = fields["default"]?.boolValue ?? false
        vision = fields["vision"]?.boolValue ?? false
        image = fields["image"]?.boolValue ?? false
        audio = fields["audio"]?.boolValue ?? false
        video = fields["video"]?.boolValue ?? false
        self.group = group
        self.fields = fields
    }

    /// Reads a listing of any of the three shapes: an OpenAI list (`{"object": "list",
    /// "data": [...]}`), the backend API's object of providers (each a list of names or
    /// model objects), or one provider's list (model objects, or groups of them), whose
    /// models get `provider`.
    static func listing(_ json: JSONValue, provider: String?) throws(BackendAPIError) -> [Model] {
        if let items = json.arrayValue {
            return try list(items, provider: provider)
        }
        guard let object = json.objectValue else { throw .invalidArgument("a listing is an object or a list") }
        if object["object"] == .string("list"), let data = object["data"]?.arrayValue {
            return try list(data, provider: nil)
        }
        var out: [Model] = []
        for name in object.keys.sorted() {
            guard let items = object[name]?.arrayValue else { throw .invalidArgument("provider \(name) has no list") }
            out += try list(items, provider: name)
        }
        return out
    }

    /// Reads a list of models: names, model objects, or groups of model objects.
    static func list(_ items: JSONValue, provider: String?) throws(BackendAPIError) -> [Model] {
        guard let items = items.arrayValue else { throw .invalidArgument("a listing's models are a list") }
        return try list(items, provider: provider)
    }

    private static func list(_ items: [JSONValue], provider: String?) throws(BackendAPIError) -> [Model] {
        var out: [Model] = []
        for item in items {
            if let name = item.stringValue {
                out.append(Model(id: name, provider: provider))
            } else if let object = item.objectValue, let group = object["group"]?.stringValue {
                for model in object["models"]?.arrayValue ?? [] {
                    guard let fields = model.objectValue else { throw .invalidArgument("a model is an object") }
                    out.append(Model(fields: fields, provider: provider, group: group))
                }
            } else if let object = item.objectValue {
                out.append(Model(fields: object, provider: provider, group: nil))
            } else {
                throw .invalidArgument("a model is a name or an object")
            }
        }
        return out
    }
}
