/// How many idle connections a client keeps for its later requests, and for how long
/// (``BackendAPIClient/Configuration/keepAlive``): a later stream, model listing or
/// media fetch then skips the connect and the TLS handshake. A connection is kept
/// only after a 2xx answer read to its end, never after an error status, a cancel or
/// a timeout; ``StreamStats/reusedConnection`` says whether a stream reused one. The
/// timeouts and the cancel of each stream apply to a reused connection as to a new one.
public struct KeepAlive: Sendable, Hashable {
    /// The most idle connections kept; 0 turns reuse off. Not negative.
    public var maxIdle: Int
    /// How long an idle connection is kept; zero turns reuse off. Whole milliseconds
    /// (rounded up); not negative.
    public var idle: Duration

    /// By default 10 connections for 4 s (g4f's server closes an idle connection after
    /// 5 s); raise `idle` for servers that keep connections longer.
    public init(maxIdle: Int = 10, idle: Duration = .seconds(4)) {
        self.maxIdle = maxIdle
        self.idle = idle
    }

    /// No reuse: every request on a connection of its own, closed at its end.
    public static let disabled = KeepAlive(maxIdle: 0, idle: .zero)
}
