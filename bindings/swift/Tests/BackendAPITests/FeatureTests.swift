import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@testable import BackendAPI

@Suite("Retries", .timeLimit(.minutes(1)))
struct RetryTests {
    @Test("A 503 before the answer is retried: the stream succeeds and stats count 1 retry")
    func retriedOnce() async throws {
        let client = try testClient { $0.retries = quickRetries }
        #expect(client.configuration.retries == quickRetries)
        let stream = client.stream(testRequest(["test_fail_key": failKey("once"), "test_fail_times": 1, "test_chunks": 2]))
        let chunks = try await collect(stream)
        #expect(joinedContent(chunks) == "part0 part1 ")
        let stats = try #require(stream.stats)
        #expect(stats.retries == 1)
        #expect(stats.delivered == chunks.count)
    }

    @Test("Without a retry policy the same 503 fails the stream")
    func noPolicy() async throws {
        let client = try testClient()
        #expect(client.configuration.retries == .disabled)
        await #expect {
            _ = try await collect(client.stream(testRequest(["test_fail_key": failKey("nopolicy"), "test_fail_times": 1])))
        } throws: { error in
            (error as? BackendAPIError)?.httpStatus == 503
        }
    }

    @Test("HTTP 500 is not retried")
    func notRetryable() async throws {
        let client = try testClient { $0.retries = quickRetries }
        let stream = client.stream(
            testRequest(["test_fail_key": failKey("500"), "test_fail_times": 1, "test_fail_status": 500]))
        await #expect {
            _ = try await collect(stream)
        } throws: { error in
            let error = error as? BackendAPIError
            return error?.httpStatus == 500 && error?.serverMessage == "failure 1 of 1"
        }
        // The final statistics are there after the throw.
        #expect(stream.stats?.retries == 0)
        #expect(stream.stats?.delivered == 0)
    }

    @Test("Retries run out: the last failure is thrown")
    func exhausted() async throws {
        let client = try testClient { $0.retries = quickRetries }
        let stream = client.stream(
            testRequest(["test_fail_key": failKey("many"), "test_fail_times": 9, "test_fail_status": 429]))
        await #expect {
            _ = try await collect(stream)
        } throws: { error in
            (error as? BackendAPIError)?.httpStatus == 429
        }
        #expect(stream.stats?.retries == 2)
    }

    @Test("Retry-After is honoured but capped")
    func retryAfterCapped() async throws {
        let client = try testClient {
            $0.retries = RetryPolicy(maxRetries: 1, base: .milliseconds(1), cap: .milliseconds(400))
        }
        let clock = ContinuousClock()
        let start = clock.now
        let stream = client.stream(
            testRequest(["test_fail_key": failKey("after"), "test_fail_times": 1, "test_retry_after": "30"]))
        _ = try await collect(stream)
        let took = clock.now - start
        #expect(took >= .milliseconds(400), "Retry-After 30 s capped at 400 ms")
        #expect(took < .seconds(20))
        let stats = try #require(stream.stats)
        #expect(stats.retries == 1)
        #expect(try #require(stats.headersAt) >= .milliseconds(400))
    }

    @Test("Invalid retry policies throw at once")
    func invalidPolicy() throws {
        for policy in [
            RetryPolicy(maxRetries: 1, base: .zero, cap: .seconds(1)),
            RetryPolicy(maxRetries: 1, base: .seconds(2), cap: .seconds(1)),
            RetryPolicy(maxRetries: -1),
            RetryPolicy(maxRetries: 1, base: .milliseconds(-5)),
        ] {
            #expect(throws: BackendAPIError.self, "\(policy)") { try testClient { $0.retries = policy } }
        }
        _ = try testClient { $0.retries = .disabled }
        _ = try testClient { $0.retries = RetryPolicy(maxRetries: 3) }
    }
}

@Suite("Logging", .timeLimit(.minutes(1)))
struct LogTests {
    @Test("Records arrive: POST per attempt (info), retrying (warn); no secret ever appears")
    func records() async throws {
        let marker = "sk-MARKER-\(UUID().uuidString)"
        let tokenMarker = "tok-MARKER-\(UUID().uuidString)"
        let records = LogRecords()
        let client = try testClient {
            $0.headers = ["X-Api-Token": tokenMarker]
            $0.apiKey = Secret(marker)
            $0.apiKeyPlacement = [.body, .bearer]
            $0.retries = quickRetries
            $0.logger = records.sink
            $0.logLevel = .trace
        }
        let chunks = try await collect(
            client.stream(testRequest(["test_fail_key": failKey("log"), "test_fail_times": 1, "test_chunks": 3])))
        #expect(joinedContent(chunks) == "part0 part1 part2 ")
        let all = records.all
        let posts = all.filter { $0.level == .info && $0.message.hasPrefix("POST ") }
        #expect(posts.count == 2, "one per attempt: \(posts)")
        #expect(posts.allSatisfy { $0.message.contains("/backend-api/v2/conversation") })
        #expect(all.filter { $0.level == .warn && $0.message.contains("retrying in") }.count == 1)
        #expect(all.contains { $0.level == .info && $0.message.contains("ended") })
        #expect(all.contains { $0.level == .debug })
        #expect(all.contains { $0.level == .trace })
        for record in all {
            #expect(!record.message.contains(marker), "api key in \(record)")
            #expect(!record.message.contains(tokenMarker), "secret header in \(record)")
        }
    }

    @Test("The level filters records", arguments: [LogLevel.error, .warn, .info, .debug])
    func levels(max: LogLevel) async throws {
        let records = LogRecords()
        let client = try testClient {
            $0.retries = quickRetries
            $0.logger = records.sink
            $0.logLevel = max
        }
        _ = try await collect(
            client.stream(testRequest(["test_fail_key": failKey("level"), "test_fail_times": 1, "test_chunks": 1])))
        let all = records.all
        #expect(all.allSatisfy { $0.level <= max }, "\(all)")
        let retrying = all.filter { $0.message.contains("retrying in") }.count
        let posts = all.filter { $0.message.hasPrefix("POST ") }.count
        #expect(retrying == (max >= .warn ? 1 : 0))
        #expect(posts == (max >= .info ? 2 : 0))
        if max == .error { #expect(all.isEmpty) }
    }

    @Test("The logger outlives a dropped client while its stream runs; then the library releases it")
    func lifetime() async throws {
        final class Token: Sendable {}
        weak var weakToken: Token?
        do {
            let records = LogRecords()
            var iterator: ChunkStream.Iterator
            do {
                let token = Token()
                weakToken = token
                let client = try testClient {
                    $0.logger = { level, message in withExtendedLifetime(token) { records.add(level, message) } }
                }
                iterator = client.stream(testRequest(["test_chunks": 3, "test_delay_ms": 20])).makeAsyncIterator()
            } // the last reference to the client outside the stream is gone here
            #expect(weakToken != nil)
            var chunks: [Chunk] = []
            while let chunk = try await iterator.next() { chunks.append(chunk) }
            #expect(joinedContent(chunks) == "part0 part1 part2 ")
            #expect(records.all.contains { $0.message.hasPrefix("POST ") })
            #expect(records.all.contains { $0.message.contains("ended") })
        }
        // The library calls the destroy callback once the client and its stream are gone.
        #expect(try await eventually { weakToken == nil }, "the logger was not released")
    }

    @Test("Concurrent streams log from several threads at once")
    func concurrentLogging() async throws {
        let records = LogRecords()
        let client = try testClient {
            $0.logger = records.sink
            $0.logLevel = .trace
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<10 {
                group.addTask {
                    _ = try await collect(client.stream(testRequest(["test_chunks": .integer(i + 1), "test_delay_ms": 2])))
                }
            }
            try await group.waitForAll()
        }
        #expect(records.all.filter { $0.message.hasPrefix("POST ") }.count == 10)
    }
}

@Suite("Stats and answer", .timeLimit(.minutes(1)))
struct StatsAnswerTests {
    @Test("Stats count what happened, live and after the end")
    func stats() async throws {
        let client = try testClient()
        let stream = client.stream(testRequest(["test_chunks": 20]))
        var iterator = stream.makeAsyncIterator()
        var chunks: [Chunk] = []
        if let first = try await iterator.next() { chunks.append(first) }
        let live = try #require(stream.stats)
        #expect(live.delivered == 1, "one chunk fetched per next()")
        #expect(live.headersAt != nil)
        while let chunk = try await iterator.next() { chunks.append(chunk) }
        let end = try #require(stream.stats)
        #expect(end.ended)
        #expect(chunks.count == 23)
        #expect(end.chunks == chunks.count)
        #expect(end.delivered == chunks.count)
        #expect(end.retries == 0)
        #expect(end.skipped == 0)
        #expect(end.bytes > 20 * 30)
        let headers = try #require(end.headersAt)
        let first = try #require(end.firstChunkAt)
        #expect(.zero <= headers && headers <= first && first <= end.elapsed)
        // Final: the same figures later.
        try await Task.sleep(for: .milliseconds(20))
        #expect(stream.stats == end)
    }

    @Test("Skipped malformed lines are counted")
    func skipped() async throws {
        let client = try testClient { $0.skipMalformedLines = true }
        let stream = client.stream(testRequest(["test_fault": "malformed"]))
        _ = try await collect(stream)
        #expect(stream.stats?.skipped == 1)
    }

    @Test("No stats and no answer when the request never went out")
    func neverOpened() async throws {
        let client = try testClient()
        var bad = testRequest()
        bad.extraFields["messages"] = []
        let stream = client.stream(bad)
        await #expect(throws: BackendAPIError.self) { _ = try await collect(stream) }
        #expect(stream.stats == nil)
        #expect(stream.currentAnswer == nil)
    }

    @Test("The assembled answer after the end")
    func answer() async throws {
        let client = try testClient()
        let stream = client.stream(testRequest(user: "hello there"))
        var chunks: [Chunk] = []
        for try await chunk in stream { chunks.append(chunk) }
        let answer = try #require(stream.currentAnswer)
        #expect(answer.content == joinedContent(chunks))
        #expect(answer.content == "Hello from the bundled offline backend! You said: hello there")
        #expect(answer.reasoning == "")
        #expect(answer.finishReason == "stop")
        let usage = try #require(chunks.compactMap(\.usage).first)
        #expect(answer.usage == .object(usage.fields))
        #expect(answer.tokenUsage == usage)
        #expect(answer.provider == "TestBackend")
        #expect(answer.model == "test-model")
        #expect(answer.error == nil)
        #expect(answer.title == nil)
        #expect(answer.conversation == nil)
        #expect(answer.toolCalls == nil)
        // The one-call form.
        #expect(try await client.stream(testRequest(user: "hello there")).answer() == answer)
    }

    @Test("The answer is readable during the stream")
    func answerDuringStream() async throws {
        let client = try testClient()
        let stream = client.stream(testRequest(["test_chunks": 3, "test_fault": "stall"]))
        var iterator = stream.makeAsyncIterator()
        for _ in 0..<3 { _ = try await iterator.next() } // provider, part0, part1
        let answer = try #require(stream.currentAnswer)
        #expect(answer.content == "part0 part1 ")
        #expect(answer.provider == "TestBackend")
        #expect(answer.finishReason == nil)
        _ = try await iterator.next()
        #expect(stream.currentAnswer?.content == "part0 part1 part2 ")
    }

    @Test("assembleAnswer: the chunks arrive either way; false leaves the answer empty", arguments: [true, false])
    func assembleOff(assemble: Bool) async throws {
        let client = try testClient { $0.assembleAnswer = assemble }
        let stream = client.stream(testRequest(["test_chunks": 4], user: "long"))
        let chunks = try await collect(stream)
        #expect(joinedContent(chunks) == "part0 part1 part2 part3 ")
        let answer = try #require(stream.currentAnswer)
        #expect(answer.content == (assemble ? joinedContent(chunks) : ""))
    }

    @Test("An in-stream error: answer() throws it, and the answer so far holds it")
    func answerError() async throws {
        let client = try testClient()
        let stream = client.stream(testRequest(["test_chunks": 2, "test_fault": "error_chunk"]))
        await #expect {
            _ = try await stream.answer()
        } throws: { error in
            let error = error as? BackendAPIError
            return error?.code == .streamError && error?.message == "ValueError: test failure"
        }
        let answer = try #require(stream.currentAnswer)
        #expect(answer.content == "part0 part1 ")
        #expect(answer.error == "ValueError: test failure")
    }

    @Test("Answer decodes every field of the answer chunk")
    func decode() throws {
        let json = """
            {"type":"answer","content":"a","reasoning":"r","finish_reason":"stop","usage":{"total_tokens":5},\
            "title":"T","tool_calls":[{"id":"1"}],"conversation":{"P":{"id":9}},"provider":"P","model":"m","error":null}
            """
        let answer = try Answer.decode(Data(json.utf8))
        #expect(answer == Answer(
            content: "a", reasoning: "r", finishReason: "stop", usage: ["total_tokens": 5], title: "T",
            toolCalls: [["id": "1"]], conversation: ["P": ["id": 9]], provider: "P", model: "m", error: nil))
        #expect(answer.tokenUsage?.totalTokens == 5)
        #expect(try Answer.decode(Data("{\"type\":\"answer\"}".utf8)) == Answer())
        #expect(throws: BackendAPIError.self) { try Answer.decode(Data("[]".utf8)) }
    }

    @Test("followUp continues the conversation: messages, model, key, headers, fields, conversation; no media")
    func followUp() async throws {
        let client = try testClient()
        var first = testRequest(["provider": "TestBackend", "web_search": false], user: "hi")
        first.apiKey = Secret("request-key")
        first.headers = ["X-Trace": "t-1"]
        first.media = [.uri("https://example.com/a.png", filename: "a.png")]
        let answer = try await client.stream(first).answer()
        #expect(!answer.content.isEmpty)

        var next = first.followUp(answer: answer, userMessage: "and then?")
        #expect(next.media.isEmpty)
        #expect(next.extraFields["conversation"] == nil) // the test backend sends no conversation state
        next.extraFields["test_echo"] = true
        let nextChunks = try await collect(client.stream(next))
        #expect(try echoed(nextChunks)["headers"]?["x-trace"] == "t-1")
        let body = try #require(try echoed(nextChunks)["body"])
        #expect(body["messages"] == [
            ["role": "user", "content": "hi"],
            ["role": "assistant", "content": .string(answer.content)],
            ["role": "user", "content": "and then?"],
        ])
        #expect(body["model"] == "test-model")
        #expect(body["api_key"] == "request-key")
        #expect(body["provider"] == "TestBackend")
        #expect(body["web_search"] == false)
        #expect(body["media"] == .null)
        #expect(body["conversation"] == nil)

        // The provider's conversation state goes back as the `conversation` field: the
        // answering provider's own state, unwrapped, as g4f expects it.
        var withState = answer
        withState.conversation = ["TestBackend": ["id": 9, "parent": "abc"]]
        var third = next.followUp(answer: withState, userMessage: "third")
        #expect(third.messages.count == 5)
        let thirdChunks = try await collect(client.stream(third))
        let body3 = try #require(try echoed(thirdChunks)["body"])
        #expect(body3["conversation"] == ["id": 9, "parent": "abc"])
        #expect(body3["messages"]?.arrayValue?.last == ["role": "user", "content": "third"])
        // A null conversation does not replace the one the request has.
        withState.conversation = .null
        third = third.followUp(answer: withState, userMessage: "fourth")
        #expect(third.extraFields["conversation"] == ["id": 9, "parent": "abc"])
    }

    /// The state a follow-up sends back is the library's rule, applied by the library:
    /// a stateful provider's own state goes back unwrapped on turn two and stays on turn
    /// three; the answering provider's state first, else the asked one's; a keyed value
    /// that is not an object, or a state not keyed by provider, goes back whole. (The
    /// Swift copy of the rule this replaces agreed on these; Go's did not.)
    @Test("followUp's conversation state is the library's rule")
    func followUpStateIsTheLibrarys() async throws {
        let client = try testClient()
        let first = testRequest(["test_conversation": ["TestBackend": ["conversation_id": "c-1"]]], user: "first")
        let answer = try await client.stream(first).answer()
        #expect(answer.provider == "TestBackend")
        var second = first.followUp(answer: answer, userMessage: "second")
        second.extraFields["test_conversation"] = nil
        second.extraFields["test_echo"] = true
        #expect(try echoed(try await collect(client.stream(second)))["body"]?["conversation"] == ["conversation_id": "c-1"])
        var third = second.followUp(answer: Answer(content: "no state this time"), userMessage: "third")
        third.extraFields["test_echo"] = true
        #expect(try echoed(try await collect(client.stream(third)))["body"]?["conversation"] == ["conversation_id": "c-1"])

        let state: JSONValue = ["P": ["id": 3], "Q": "text"]
        let cases: [(String, [String: JSONValue], Answer, JSONValue)] = [
            ("the answering provider before the asked one", ["provider": "P"],
             Answer(conversation: ["P": ["id": 3], "R": ["id": 5]], provider: "R"), ["id": 5]),
            ("asked", ["provider": "P"], Answer(conversation: state), ["id": 3]),
            ("the answering provider", [:], Answer(conversation: state, provider: "P"), ["id": 3]),
            ("a keyed value not an object", [:], Answer(conversation: state, provider: "Q"), state),
            ("not keyed (AnyProvider)", ["provider": "P"], Answer(conversation: ["id": 4]), ["id": 4]),
        ]
        for (name, fields, answer, want) in cases {
            let next = ChatRequest(extraFields: fields).followUp(answer: answer, userMessage: "q")
            #expect(next.extraFields["conversation"] == want, "\(name)")
            #expect(next.messages == [.assistant(answer.content), .user("q")], "\(name)")
        }
        // What the library refuses is thrown when the request is streamed.
        let refused = ChatRequest(extraFields: ["api_key": "k"]).followUp(answer: Answer(), userMessage: "q")
        let error = try #require(await thrown { _ = try await client.stream(refused).answer() })
        #expect(error.code == .invalidArgument, "\(error)")
    }
}

@Suite("Event loop", .timeLimit(.minutes(1)))
struct EventLoopTests {
    /// Drives `streams` from this thread with poll() until every one ended or failed.
    /// Returns each stream's chunks and how it ended, and the number of poll() calls.
    static func drive(_ streams: [NativeStream], deadline: Duration = .seconds(30)) throws
        -> (chunks: [[Chunk]], errors: [(any Error)?], polls: Int)
    {
        var chunks = Array(repeating: [Chunk](), count: streams.count)
        var errors = Array(repeating: (any Error)?.none, count: streams.count)
        var done = Array(repeating: false, count: streams.count)
        var polls = 0
        let clock = ContinuousClock()
        let end = clock.now + deadline
        while done.contains(false) {
            guard clock.now < end else { throw BackendAPIError(code: .timedOut, message: "the poll loop did not finish") }
            let live = streams.indices.filter { !done[$0] }
            var fds = live.map { pollfd(fd: streams[$0].fileDescriptor, events: Int16(POLLIN), revents: 0) }
            let hints = live.map { streams[$0].pollTimeoutMilliseconds }.filter { $0 >= 0 }
            let timeout = min(hints.min() ?? 1000, 1000)
            let n = poll(&fds, nfds_t(fds.count), timeout)
            polls += 1
            guard n >= 0 || errno == EINTR else { throw BackendAPIError(code: .io, message: "poll failed: errno \(errno)") }
            for (k, i) in live.enumerated() where fds[k].revents != 0 || timeout == 0 {
                do {
                    drain: while true {
                        switch try streams[i].tryNext() {
                        case .chunk(let chunk): chunks[i].append(chunk)
                        case .pending: break drain
                        case .end:
                            done[i] = true
                            break drain
                        }
                    }
                } catch {
                    errors[i] = error
                    done[i] = true
                }
            }
        }
        return (chunks, errors, polls)
    }

    @Test("20 streams driven from one thread with poll()")
    func twentyStreams() throws {
        let client = try testClient()
        let streams = try (0..<20).map { i in
            try NativeStream(client: client, request: testRequest(["test_chunks": .integer(i + 1), "test_delay_ms": 5]))
        }
        let (chunks, errors, polls) = try Self.drive(streams)
        print("event loop: 20 streams in \(polls) poll() calls")
        for i in 0..<20 {
            #expect(errors[i] == nil, "stream \(i): \(String(describing: errors[i]))")
            let text = (0...i).map { "part\($0) " }.joined()
            #expect(joinedContent(chunks[i]) == text, "stream \(i)")
            #expect(chunks[i].last?.kind == .finish)
            #expect(streams[i].stats.delivered == chunks[i].count)
            #expect(try streams[i].answer().content == text)
            // END is final.
            #expect(try streams[i].tryNext() == .end)
        }
    }

    @Test("cancel() from another thread wakes the poll loop; tryNext throws CancellationError")
    func cancel() throws {
        let client = try testClient()
        let stream = try NativeStream(client: client, request: testRequest(["test_chunks": 2, "test_fault": "stall"]))
        var got: [Chunk] = []
        while got.count < 3 {
            if case .chunk(let c) = try stream.next(timeout: .seconds(10)) { got.append(c) }
        }
        #expect(joinedContent(got) == "part0 part1 ")
        #expect(try stream.tryNext() == .pending) // the server stalls
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.1)
            stream.cancel()
        }
        var fds = [pollfd(fd: stream.fileDescriptor, events: Int16(POLLIN), revents: 0)]
        let clock = ContinuousClock()
        let start = clock.now
        var cancelled = false
        while !cancelled && clock.now - start < .seconds(10) {
            fds[0].revents = 0
            _ = poll(&fds, 1, 5000)
            do {
                while try stream.tryNext() != .pending {}
            } catch is CancellationError {
                cancelled = true
            }
        }
        #expect(cancelled)
        #expect(clock.now - start < .seconds(5))
        #expect(throws: CancellationError.self) { try stream.tryNext() } // final
    }

    @Test("cancel() from another thread while next(timeout: nil) waits: CancellationError, never a clean end (400 times)")
    func cancelBlockedNext() async throws {
        let client = try testClient()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for round in 0..<100 {
                        let stream = try NativeStream(
                            client: client, request: testRequest(["test_chunks": 1, "test_fault": "stall"]))
                        // On a thread of its own: next(timeout: nil) blocks.
                        let outcome = await withCheckedContinuation { (done: CheckedContinuation<String, Never>) in
                            Thread.detachNewThread {
                                do {
                                    var events: [NativeStream.Event] = []
                                    while events.count < 2 { events.append(try stream.next(timeout: .seconds(10))) }
                                    Thread.detachNewThread { stream.cancel() }
                                    done.resume(returning: "\(try stream.next(timeout: nil))")
                                } catch is CancellationError {
                                    done.resume(returning: "cancelled")
                                } catch {
                                    done.resume(returning: "\(error)")
                                }
                            }
                        }
                        #expect(outcome == "cancelled", "round \(round)")
                        #expect(throws: CancellationError.self) { try stream.tryNext() } // final
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test("Failures are thrown by tryNext and stay final")
    func failure() throws {
        let client = try testClient()
        let stream = try NativeStream(client: client, request: testRequest(["test_status": 503]))
        let (_, errors, _) = try Self.drive([stream])
        let error = try #require(errors[0] as? BackendAPIError)
        #expect(error.code == .http && error.httpStatus == 503)
        #expect(error.serverMessage == "test status 503")
        #expect(throws: BackendAPIError.self) { try stream.tryNext() }
        // A bad request throws from init.
        var bad = testRequest()
        bad.media = [.data(Data("not an image".utf8))]
        #expect(throws: BackendAPIError.self) { try NativeStream(client: client, request: bad) }
    }

    @Test("The idle timeout is the poll timeout: deadlineHint, then timedOut")
    func idleDeadline() throws {
        let client = try testClient { $0.timeouts.idle = .milliseconds(300) }
        let stream = try NativeStream(client: client, request: testRequest(["test_chunks": 1, "test_fault": "stall"]))
        // The idle clock runs while the stream waits on the server: after the chunks, in the stall.
        var got: [Chunk] = []
        while got.count < 2, case .chunk(let chunk) = try stream.next(timeout: .seconds(10)) { got.append(chunk) }
        #expect(joinedContent(got) == "part0 ")
        let hint = try #require(stream.deadlineHint)
        #expect(hint <= .milliseconds(300))
        #expect(stream.pollTimeoutMilliseconds >= 0 && stream.pollTimeoutMilliseconds <= 300)
        let (chunks, errors, _) = try Self.drive([stream], deadline: .seconds(10))
        #expect(chunks[0].isEmpty)
        #expect((errors[0] as? BackendAPIError)?.code == .timedOut, "\(String(describing: errors[0]))")

        let untimed = try testClient { $0.timeouts.idle = .zero }
        let s2 = try NativeStream(client: untimed, request: testRequest(["test_chunks": 1]))
        #expect(s2.deadlineHint == nil)
        #expect(s2.pollTimeoutMilliseconds == -1)
        let (c2, e2, _) = try Self.drive([s2])
        #expect(e2[0] == nil)
        #expect(joinedContent(c2[0]) == "part0 ")
    }
}

@Suite("Protocols", .timeLimit(.minutes(1)))
struct ProtocolTests {
    // Without `apiProtocol = .openAI` the same base URL gets a 404 for {base}/backend-api/v2/conversation.
    @Test("apiProtocol .openAI: the answer streams from {base}/chat/completions, each chunk keeping its OpenAI event")
    func openAI() async throws {
        let client = try testClient {
            $0.baseURL += "/v1"
            $0.apiProtocol = .openAI
        }
        let stream = client.stream(testRequest(user: "over openai"))
        let chunks = try await collect(stream)
        #expect(joinedContent(chunks) == "Hello from the bundled offline backend! You said: over openai")
        #expect(!chunks.isEmpty)
        for chunk in chunks { #expect(chunk["event"]?["object"] == "chat.completion.chunk") }
        #expect(stream.currentAnswer?.finishReason == "stop")
        let list = try JSONValue(parsing: await client.models())
        #expect(list["data"]?.arrayValue?.first?["id"] == "test-model")
        await #expect {
            _ = try await client.models(provider: "TestBackend")
        } throws: { error in
            (error as? BackendAPIError)?.code == .invalidArgument
        }
    }
}
