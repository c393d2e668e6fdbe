/// What a program asks of a client, as a protocol: write your code against
/// `some ChatClient` and hand it a ``BackendAPIClient`` in production and a test
/// double in tests, ``ScriptedChatClient`` or one of your own (as MacPaw's OpenAI
/// package offers `OpenAIProtocol`, and the Go binding `backendapitest`).
///
/// ```swift
/// func summary(of text: String, with client: some ChatClient) async throws -> String {
///     try await client.complete(ChatRequest(messages: [.user("Summarise: \(text)")])).content
/// }
/// ```
public protocol ChatClient: Sendable {
    /// The chunks of one answer.
    associatedtype Chunks: AsyncSequence, Sendable where Chunks.Element == Chunk
    /// The streamed answer to `request` (see ``BackendAPIClient/stream(_:)``).
    func stream(_ request: ChatRequest) -> Chunks
    /// The whole answer to `request` (see ``BackendAPIClient/complete(_:)``).
    func complete(_ request: ChatRequest) async throws -> Answer
    /// The models, typed (see ``BackendAPIClient/listModels(provider:)``).
    func listModels(provider: String?) async throws -> [Model]
}

extension BackendAPIClient: ChatClient {
    /// The whole answer to `request`: streams it and returns the assembled ``Answer``.
    /// Only a whole one: an in-stream `error`/`auth` chunk throws ``BackendAPIError``,
    /// a cancelled task or ``shutdown(timeout:)`` `CancellationError`, never a cut-short
    /// answer.
    public func complete(_ request: ChatRequest) async throws -> Answer {
        try await stream(request).answer()
    }
}

/// A test double of ``ChatClient``: every request is answered with the same scripted
/// chunks (and ``answer`` for ``complete(_:)``), or fails with ``error``; the requests
/// it was given are kept in ``requests``. Chunks can be written in Swift
/// (``Chunk/init(type:kind:json:text:)``) or decoded from recorded JSON (`Codable`).
public final class ScriptedChatClient: ChatClient {
    /// The chunks of every answer, in order.
    public let chunks: [Chunk]
    /// What ``complete(_:)`` returns.
    public let answer: Answer
    /// What ``listModels(provider:)`` returns (those of `provider`, when one is given).
    public let models: [Model]
    /// When set, every call fails with it (a stream after its chunks).
    public let error: BackendAPIError?

    private let lock = Lock()
    nonisolated(unsafe) private var received: [ChatRequest] = []  // under `lock`

    public init(chunks: [Chunk] = [], answer: Answer = Answer(), models: [Model] = [], error: BackendAPIError? = nil) {
        self.chunks = chunks
        self.answer = answer
        self.models = models
        self.error = error
    }

    /// The requests given to ``stream(_:)`` and ``complete(_:)``, in order.
    public var requests: [ChatRequest] { lock.withLock { received } }

    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<Chunk, any Error> {
        lock.withLock { received.append(request) }
        let (chunks, error) = (chunks, error)
        return AsyncThrowingStream { continuation in
            for chunk in chunks { continuation.yield(chunk) }
            continuation.finish(throwing: error)
        }
    }

    public func complete(_ request: ChatRequest) async throws -> Answer {
        lock.withLock { received.append(request) }
        if let error { throw error }
        return answer
    }

    public func listModels(provider: String? = nil) async throws -> [Model] {
        if let error { throw error }
        return models.filter { provider == nil || $0.provider == provider }
    }
}
