// Several answers streamed at once from ONE thread: each stream's descriptor
// (`fd()`, readable whenever `next(0ms, ...)` has something) in one poll() set, with
// the streams' `poll_timeout()` as its timeout. No thread of yours per stream: the
// same loop fits epoll, kqueue, or an event library's "watch this fd" call.
// Build: c++ -std=c++17 many_streams.cpp $(pkg-config --cflags --libs backend_api) -o many_streams
// Run:   ./many_streams http://127.0.0.1:8080 "Hello!" "How are you?" "Bye!"
#include <backend_api.hpp>

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: many_streams BASE_URL QUESTION...\n";
        return 2;
    }
    using namespace std::chrono_literals;
    backend_api::Client client(argv[1]);
    client.timeout(backend_api::Timeout::Idle, 30s);
    struct Answer {
        std::string question;
        backend_api::Stream stream;
        std::string text;
        bool done = false;
    };
    std::vector<Answer> answers;
    for (int i = 2; i < argc; ++i) {  // each request goes out at once, on its own library thread
        backend_api::Request request;
        request.user(argv[i]);
        answers.push_back({argv[i], client.open(request), "", false});
    }
    int failed = 0;
    for (std::size_t open = answers.size(); open > 0;) {
        std::vector<pollfd> fds;
        std::vector<Answer*> who;
        int timeout_ms = -1;  // the nearest deadline of any stream, or none
        for (auto& a : answers) {
            if (a.done) continue;
            fds.push_back({static_cast<int>(a.stream.fd()), POLLIN, 0});
            who.push_back(&a);
            if (auto t = a.stream.poll_timeout())
                timeout_ms = timeout_ms < 0 ? static_cast<int>(t->count())
                                            : std::min(timeout_ms, static_cast<int>(t->count()));
        }
        if (::poll(fds.data(), fds.size(), timeout_ms) < 0) return 1;
        for (std::size_t i = 0; i < fds.size(); ++i) {
            Answer& a = *who[i];
            backend_api::Chunk chunk;
            backend_api::Status status;
            while ((status = a.stream.next(0ms, chunk)) == backend_api::Status::Ok)  // take what is there
                if (chunk.kind() == backend_api::Kind::Content) a.text += chunk.text();
            if (status == backend_api::Status::Again) continue;  // nothing more yet
            a.done = true;  // End, or a failure (an idle timeout that ran out too)
            --open;
            if (status != backend_api::Status::End) {
                ++failed;
                std::cerr << a.question << ": error (" << backend_api::status_name(status)
                          << "): " << (a.stream.error() ? a.stream.error()->what() : "") << "\n";
            }
        }
    }
    for (const auto& a : answers) std::cout << a.question << " -> " << a.text << "\n";
    return failed ? 1 : 0;
}
