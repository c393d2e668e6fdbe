// A tool loop with the C++ wrapper: the model asks for a tool, the program runs
// it and sends the result back, until the model answers in text.
//
//     tool_loop BASE_URL [MODEL] [FIELD=JSON ...]    (the OpenAI-compatible protocol)
//
// e.g. against `g4f api`: tool_loop http://127.0.0.1:1337/v1 gpt-4o
// Each round streams the answer (its text as it comes); the answer's tool calls
// (`Answer::tool_calls`, typed) are run, their results added to the follow-up
// request (`follow_up(answer, std::nullopt)`: no user message, then `tool_result`),
// and the next round streams. Exit 0 once the model answered in text, 1 on an
// error or after 4 rounds.
#include <backend_api.hpp>

#include <iostream>
#include <stdexcept>
#include <string>

namespace {

const char* const kTools =
    R"([{"type": "function", "function": {"name": "get_weather", "description": "The weather forecast of a city",)"
    R"( "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])";

/// The tool: the weather of the city its JSON arguments name, as JSON text.
std::string get_weather(std::string_view arguments) {
    const backend_api::Chunk args = backend_api::Chunk::parse(arguments);
    const std::string city(args.string_at("/city").value_or("somewhere"));
    return R"({"city": ")" + city + R"(", "forecast": "sunny, 21 C"})";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: tool_loop BASE_URL [MODEL] [FIELD=JSON ...]\n";
        return 2;
    }
    try {
        const backend_api::Client client = backend_api::Client(argv[1]).protocol(backend_api::Protocol::OpenAI);
        const std::string question = "What is the weather in Paris?";
        backend_api::Request request =
            backend_api::Request().model(argc > 2 ? argv[2] : "gpt-4o").user(question).field_json("tools", kTools);
        for (int i = 3; i < argc; ++i) {
            const std::string field = argv[i];
            const auto eq = field.find('=');
            if (eq == std::string::npos) throw std::invalid_argument("a field is not FIELD=JSON: " + field);
            request.field_json(field.substr(0, eq), field.substr(eq + 1));
        }
        std::cout << "user: " << question << "\n";
        for (int round = 1; round <= 4; ++round) {
            backend_api::Stream stream = client.open(request);
            bool printed = false;
            for (auto& chunk : stream) {
                if (chunk.kind() == backend_api::Kind::Content && chunk.choice() == 0 && !chunk.text().empty()) {
                    std::cout << (printed ? "" : "assistant: ") << chunk.text();
                    printed = true;
                }
            }
            if (printed) std::cout << "\n";
            const backend_api::Answer answer = stream.answer();
            if (answer.tool_calls.empty()) {
                std::cout << "done after " << round << (round > 1 ? " rounds\n" : " round\n");
                return 0;
            }
            backend_api::Request next = request.follow_up(answer, std::nullopt);  // no user message
            for (const backend_api::ToolCall& call : answer.tool_calls) {
                std::cout << "assistant calls: " << call.name << "(" << call.arguments << ") [" << call.id << "]\n";
                const std::string result =
                    call.name == "get_weather" ? get_weather(call.arguments) : R"({"error": "no such tool"})";
                std::cout << "tool " << call.name << ": " << result << "\n";
                next.tool_result(call.id, result);
            }
            request = std::move(next);
        }
        std::cerr << "tool_loop: no text answer after 4 rounds\n";
    } catch (const std::exception& e) {
        std::cerr << "tool_loop: " << e.what() << "\n";
    }
    return 1;
}
