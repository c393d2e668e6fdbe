// A tour of the C++ wrapper: client settings, the request builder, the range-for
// with a watchdog that cancels it from another thread, and the error model.
// bindings/cpp/README.md quotes the parts between "// [name]" and "// [/name]";
// `make check` compiles and runs this file and checks the README still matches it.
//
// Build: c++ -std=c++17 tour.cpp $(pkg-config --cflags --libs backend_api) -o tour
// Run:   BACKEND_API_KEY=... ./tour http://127.0.0.1:8080 [image-file]
#include <backend_api.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;

// [watchdog]
// Cancels a stream from its own thread unless destroyed within `limit` first
// (a UI's stop button would call CancelHandle::cancel() the same way).
class Watchdog {
public:
    Watchdog(backend_api::CancelHandle cancel, std::chrono::milliseconds limit)
        : thread_([this, cancel, limit] {
              std::unique_lock<std::mutex> lock(m_);
              if (!cv_.wait_for(lock, limit, [this] { return done_; })) cancel();  // any thread
          }) {}
    ~Watchdog() {
        {
            std::lock_guard<std::mutex> lock(m_);
            done_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;  // last: starts once the members above exist
};
// [/watchdog]

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: tour URL [image-file]\n";
        return 2;
    }
    try {
        // [client]
        backend_api::Client client(argv[1]);
        client.header("X-Tenant", "docs")                       // sent with every request
            .timeout(backend_api::Timeout::Connect, 10s)
            .timeout(backend_api::Timeout::Idle, 120s);        // longest gap between two chunks
        // [/client]

        // [request]
        backend_api::Request request;
        request.model("")                                      // "": the server's default model
            .system("Answer in one sentence.")
            .user("What is in this picture?")
            .field_json("web_search", "false")                 // any extra body field, as JSON text
            .header("X-Request-Id", "tour-1");                 // this request only
        if (const char* key = std::getenv("BACKEND_API_KEY")) request.api_key(key);
        if (argc > 2) request.media_file(argv[2]);             // or .media_bytes(data, size, "name.png")
        // [/request]

        // [stream]
        backend_api::Stream stream = client.open(request);
        Watchdog watchdog(stream.canceller(), 60s);            // cancel() wakes the loop at once
        for (auto& chunk : stream) {                           // throws backend_api::Error (below)
            switch (chunk.kind()) {
                case backend_api::Kind::Content:
                    std::cout << chunk.text() << std::flush;   // a string_view into the chunk
                    break;
                case backend_api::Kind::Reasoning:
                    std::cerr << chunk.text();
                    break;
                default:                                       // provider, usage, finish, ...
                    break;
            }
        }
        std::cout << "\n";
        if (stream.status() == backend_api::Status::Cancelled) std::cerr << "gave up after 60 s\n";
        const backend_api::Answer answer = stream.answer();   // also after stream.close()
        const backend_api::Stats stats = stream.stats();
        const std::int64_t tokens = answer.usage ? answer.usage->total_tokens.value_or(0) : 0;
        std::cerr << "finish: " << answer.finish_reason.value_or("-") << ", " << tokens << " tokens, " << stats.chunks
                  << " chunks in " << stats.elapsed.count() << " us\n";
        // [/stream]
    }
    // [errors]
    catch (const backend_api::StreamError& e) {                // an error chunk from the server
        std::cerr << "server error: " << e.what() << " (raw: " << e.chunk()->json() << ")\n";
        return 3;
    } catch (const backend_api::Error& e) {                    // a std::system_error
        std::cerr << "error " << e.status_name() << ": " << e.what() << "\n";
        if (e.status() == backend_api::Status::Http)  // what() quotes the server's text escaped; server_message() is raw
            std::cerr << "HTTP " << e.http_status() << "\n";
        return 1;
    }
    // [/errors]
    return 0;
}
