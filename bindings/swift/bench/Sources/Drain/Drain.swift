// backend-api-drain BASE_URL N: asks the test backend for N content chunks
// (`test_chunks`), drains them with `for try await` (on the main actor, as an app
// would), reading each one's text, and exits 0 only when exactly N content chunks with
// text arrived and the stream ended cleanly. Foundation is not imported, so the figures are the binding's own (on Linux
// it needs only FoundationEssentials).
import BackendAPI

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

func fail(_ message: String, status: Int32 = 1) -> Never {
    let line = Array("backend-api-drain: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(status)
}

@main
struct Drain {
    static func main() async {
        let arguments = CommandLine.arguments
        guard arguments.count == 3, let n = Int(arguments[2]), n >= 0 else {
            fail("usage: backend-api-drain BASE_URL N", status: 2)
        }
        var configuration = BackendAPIClient.Configuration(baseURL: arguments[1])
        configuration.proxy = .none
        do {
            let client = try BackendAPIClient(configuration: configuration)
            let request = ChatRequest(model: "bench", messages: [.user("drain")], extraFields: ["test_chunks": .integer(n)])
            var received = 0
            for try await chunk in client.stream(request) {
                if let text = chunk.content, !text.isEmpty { received += 1 }
            }
            guard received == n else { fail("got \(received) content chunks of \(n)") }
        } catch {
            fail("\(error)")
        }
    }
}
