// The C++ wrapper in a program built with -fno-exceptions: every failure arrives
// through the std::error_code overloads and error(), none aborts. Usage:
//
//     noexcept_test http://127.0.0.1:PORT   (a running test_backend)
//
// Prints one line per failed check and "noexcept: N checks, M failed" last; exit 1
// when any failed. bindings/cpp/tests/run.sh builds it with -fno-exceptions.
#include <backend_api.hpp>

#include <cstdio>
#include <string>
#include <system_error>

#if BACKEND_API_EXCEPTIONS
#error "build this test with -fno-exceptions"
#endif

namespace ba = backend_api;

static int g_checks = 0, g_failed = 0;
#define CHECK(cond) \
    (++g_checks, (cond) ? void() : (void)(++g_failed, std::printf("  FAIL line %d: %s\n", __LINE__, #cond)))

static bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != hay.npos; }

/// The text of one answer, read without exceptions (bindings/cpp/README.md quotes it).
static std::string answer_text(const backend_api::Client& client, const backend_api::Request& request,
                               std::error_code& ec) {
    // [error_code]
    backend_api::Stream stream = client.open(request, ec);
    std::string text;
    for (auto& chunk : stream.chunks(ec))
        if (chunk.kind() == backend_api::Kind::Content) text += chunk.text();
    if (ec) std::fprintf(stderr, "%s: %s\n", ec.message().c_str(), stream.error()->what());
    // [/error_code]
    return text;
}

/// The content of a stream read with chunks(ec).
static std::string drain(ba::Stream& stream, std::error_code& ec) {
    std::string content;
    for (auto& chunk : stream.chunks(ec))
        if (chunk.kind() == ba::Kind::Content) content += chunk.text();
    return content;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: noexcept_test http://127.0.0.1:PORT\n");
        return 2;
    }
    const std::string url = argv[1];
    std::error_code ec;
    ba::Client client(url);
    CHECK(client.error() == nullptr);

    // A whole answer, and the same through complete().
    {
        CHECK(answer_text(client, ba::Request().user("no exceptions"), ec) ==
              "Hello from the bundled offline backend! You said: no exceptions");
        CHECK(!ec);
        CHECK(client.complete(ba::Request().user("again"), ec).finish_reason == std::optional<std::string>("stop"));
        CHECK(!ec);
    }

    // A bad URL: the client keeps the failure, skips its setters, and open reports it.
    {
        ba::Client bad = ba::Client("not a url").timeout(ba::Timeout::Idle, std::chrono::seconds(1));
        CHECK(bad.error() != nullptr && bad.error()->status() == ba::Status::InvalidArgument);
        ba::Stream stream = bad.open(ba::Request().user("x"), ec);
        CHECK(ec == ba::Status::InvalidArgument);
        CHECK(stream.error() != nullptr && std::string(stream.error()->what()) == bad.error()->what());
        CHECK(drain(stream, ec).empty() && ec == ba::Status::InvalidArgument);
        CHECK(bad.models("", {}, ec).empty() && ec == ba::Status::InvalidArgument);
    }

    // A request keeps its first failure; the setters after it do nothing.
    {
        ba::Request request;
        request.field_json("x", "{oops").user(std::string_view("a\0b", 3)).media_file("/no/such/file.png");
        CHECK(request.error() != nullptr && contains(request.error()->what(), "not valid JSON"));
        ba::Request nul;
        nul.user(std::string_view("a\0b", 3));
        CHECK(nul.error() != nullptr && contains(nul.error()->what(), "NUL"));
        const ba::Answer none = client.complete(request, ec);
        CHECK(ec == ba::Status::InvalidArgument && ec == std::errc::invalid_argument);
        CHECK(none.content.empty());
        // A follow-up of a failed request carries the failure on.
        ba::Stream ok = client.open(ba::Request().user("y"), ec);
        CHECK(request.follow_up(ok, "z").error() != nullptr);
    }

    // HTTP error: the details are in error().
    {
        ba::Stream stream = client.open(ba::Request().user("x").field_json("test_status", "503"), ec);
        CHECK(!ec);
        drain(stream, ec);
        CHECK(ec == ba::Status::Http);
        CHECK(stream.error() != nullptr && stream.error()->http_status() == 503);
        CHECK(stream.error() != nullptr && stream.error()->server_message() == std::optional<std::string>("test status 503"));
        CHECK(client.models("NoSuchProvider", {}, ec).empty() && ec == ba::Status::Http);
        CHECK(contains(client.models("", {}, ec), "TestBackend") && !ec);
    }

    // An in-stream error chunk ends chunks(ec); next(timeout, chunk, ec) hands it out as data.
    {
        ba::Request request;
        request.user("x").field_json("test_chunks", "2").field("test_fault", "error_chunk");
        ba::Stream stream = client.open(request, ec);
        CHECK(drain(stream, ec) == "part0 part1 ");
        CHECK(ec.category() == ba::stream_category() && ec.value() == static_cast<int>(ba::Kind::Error));
        const ba::Error* e = stream.error();
        CHECK(e != nullptr && e->chunk() != nullptr && std::string(e->what()) == "ValueError: test failure");
        CHECK(stream.answer(ec).error == std::optional<std::string>("ValueError: test failure") && !ec);

        ba::Stream raw = client.open(request, ec);
        ba::Chunk c;
        int fatal = 0;
        while (raw.next(std::chrono::milliseconds(-1), c, ec) == ba::Status::Ok) fatal += c.is_fatal() ? 1 : 0;
        CHECK(fatal == 1 && !ec && raw.status() == ba::Status::End);
    }

    // A connection refused.
    {
        CHECK(answer_text(ba::Client("http://127.0.0.1:1"), ba::Request().user("x"), ec).empty());
        CHECK(ec == ba::Status::Connect);
    }

    std::printf("noexcept: %d checks, %d failed\n", g_checks, g_failed);
    return g_failed == 0 ? 0 : 1;
}
