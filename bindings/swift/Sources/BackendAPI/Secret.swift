/// A secret string, such as an api key: it is sent where it belongs but never shown.
///
/// `print`, `dump`, string interpolation, `debugPrint` and `Mirror` all see
/// `<redacted>`, so a ``ChatRequest`` or a ``BackendAPIClient/Configuration`` holding
/// one can be logged safely. The library itself keeps it out of its log records and
/// error messages. There is no public way to read it back.
///
/// ```swift
/// configuration.apiKey = ProcessInfo.processInfo.environment["G4F_API_KEY"].map(Secret.init)
/// ```
public struct Secret: Sendable, Hashable {
    let value: String

    public init(_ value: String) {
        self.value = value
    }
}

extension Secret: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    /// No children: reflection (`dump`, `Mirror`) does not reach the value.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
