// Drain benchmark, C++: streams one answer of N small content chunks from the
// bundled test backend (request field test_chunks = N) through the wrapper's
// range-for and exits 0 only when all N arrived. drain.c is its C baseline.
//   Build: c++ -std=c++17 -O2 drain.cpp $(pkg-config --cflags --libs backend_api) -o drain_cpp
//   Run:   ./drain_cpp http://127.0.0.1:PORT 1000000
// Exit: 0 all N content chunks, 1 fewer or a failure (printed), 2 bad usage.
#include <backend_api.hpp>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    char* end = nullptr;
    const std::uint64_t n = argc == 3 ? std::strtoull(argv[2], &end, 10) : 0;
    if (argc != 3 || *argv[2] == '\0' || *end != '\0') {
        std::cerr << "usage: drain_cpp URL N\n";
        return 2;
    }
    try {
        const backend_api::Client client(argv[1]);
        backend_api::Stream stream =
            client.open(backend_api::Request().user("drain").field_json("test_chunks", std::to_string(n)));
        std::uint64_t got = 0;
        for (auto& chunk : stream)
            if (chunk.kind() == backend_api::Kind::Content) ++got;
        if (got == n) return 0;
        std::cerr << "drain_cpp: " << got << " of " << n << " chunks\n";
    } catch (const backend_api::Error& e) {
        std::cerr << "drain_cpp: " << e.what() << "\n";
    }
    return 1;
}
