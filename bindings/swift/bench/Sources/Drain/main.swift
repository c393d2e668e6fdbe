// backend-api-drain BASE_URL N: asks the test backend for N content chunks
// (`test_chunks`), drains them with `for try await`, and exits 0 only when exactly N
// content chunks arrived and the stream ended cleanly. Foundation is not imported, so
// the figures are the binding's own (on Linux it needs only FoundationEssentials).
import BackendAPI

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

func fail(_ message: String) -> Never {
    fputs("backend-api-drain: \(message)\n", stderr)
    exit(1)
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let n = Int(arguments[2]), n >= 0 else {
    fputs("usage: backend-api-drain BASE_URL N\n", stderr)
    exit(2)
}
var configuration = BackendAPIClient.Configuration(baseURL: arguments[1])
configuration.proxy = .none
do {
    let client = try BackendAPIClient(configuration: configuration)
    let request = ChatRequest(model: "bench", messages: [.user("drain")], extraFields: ["test_chunks": .integer(n)])
    var received = 0
    for try await chunk in client.stream(request) where chunk.kind == .content {
        received += 1
    }
    guard received == n else { fail("got \(received) content chunks of \(n)") }
} catch {
    fail("\(error)")
}
