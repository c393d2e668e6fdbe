// A Swift program built by tests/clean-machine/run.sh against an installed backend-api:
// streams one answer and prints its text. Usage: chat BASE_URL PROMPT
import BackendAPI
import Foundation

let args = CommandLine.arguments
guard args.count == 3 else {
    print("usage: chat BASE_URL PROMPT")
    exit(2)
}
do {
    let client = try BackendAPIClient(configuration: .init(baseURL: args[1]))
    for try await chunk in client.stream(ChatRequest(messages: [.user(args[2])])) {
        if chunk.kind == .content { print(chunk.text ?? "", terminator: "") }
    }
    print("")
} catch {
    print("error: \(error)")
    exit(1)
}
