// C++ quick start: stream one answer from a g4f server and print it.
// Build: c++ -std=c++17 quickstart.cpp $(pkg-config --cflags --libs backend_api) -o quickstart
// Run:   ./quickstart http://127.0.0.1:8080 "Hello!"
#include <backend_api.hpp>

#include <iostream>

int main(int argc, char** argv) {
    const char* url = argc > 1 ? argv[1] : "http://127.0.0.1:8080";
    const char* question = argc > 2 ? argv[2] : "Hello!";
    try {
        backend_api::Client client(url);
        backend_api::Request request;
        request.model("").user(question);  // also: .api_key(), .media_file(), .field_json(), .header()
        backend_api::Stream stream = client.open(request);
        for (auto& chunk : stream)  // stream.cancel() from another thread ends this loop
            if (chunk.kind() == backend_api::Kind::Content) std::cout << chunk.text() << std::flush;
        std::cout << "\n";
        return 0;
    } catch (const backend_api::StreamError& e) {  // the server sent an error (or auth) chunk
        std::cerr << "\nserver error: " << e.what() << "\n";
        return 3;
    } catch (const backend_api::Error& e) {  // connect, HTTP, timeout, bad argument, ...
        std::cerr << "error (" << e.status_name() << "): " << e.what() << "\n";
        return 1;
    }
}
