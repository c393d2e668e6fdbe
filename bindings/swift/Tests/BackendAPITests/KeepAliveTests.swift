import Testing

@testable import BackendAPI

/// Kept connections (``BackendAPIClient/Configuration/keepAlive``) against the test backend.
@Suite("Kept connections", .timeLimit(.minutes(2)))
struct KeepAliveTests {
    /// Whether each of two streams, one after the other on one client, reused a kept
    /// connection (the test backend keeps it open when asked, as g4f's server does).
    func reuseOfTwoStreams(_ keepAlive: KeepAlive? = nil) async throws -> [Bool] {
        let client = try testClient { if let keepAlive { $0.keepAlive = keepAlive } }
        var reused: [Bool] = []
        for _ in 0..<2 {
            let stream = client.stream(testRequest(["test_keep_connection": true]))
            _ = try await collect(stream)
            reused.append(try #require(stream.stats).reusedConnection)
        }
        return reused
    }

    @Test("the second stream of a client reuses the first's connection, by default and as set")
    func reused() async throws {
        #expect(try await reuseOfTwoStreams() == [false, true])
        #expect(try await reuseOfTwoStreams(KeepAlive(maxIdle: 2, idle: .seconds(10))) == [false, true])
    }

    @Test("with keep-alive off no stream reuses a connection")
    func off() async throws {
        #expect(try await reuseOfTwoStreams(.disabled) == [false, false])
        #expect(try await reuseOfTwoStreams(KeepAlive(maxIdle: 0, idle: .seconds(10))) == [false, false])
        #expect(try await reuseOfTwoStreams(KeepAlive(maxIdle: 2, idle: .zero)) == [false, false])
    }

    @Test("a negative keep-alive is an invalid argument")
    func negative() async throws {
        for bad in [KeepAlive(maxIdle: -1), KeepAlive(idle: .milliseconds(-1))] {
            let error = try #require(await thrown { _ = try testClient { $0.keepAlive = bad } })
            #expect(error.code == .invalidArgument, "\(error)")
        }
    }
}
