// backend_api.hpp: a header-only C++17 wrapper over the C API in backend_api.h.
//
// Link with the C library as usual (`pkg-config --cflags --libs backend_api`);
// this header adds nothing to link. Needs C++17. Namespace `backend_api`.
//
//     backend_api::Client client("http://127.0.0.1:8080");
//     backend_api::Stream stream = client.open(backend_api::Request().user("Hello!"));
//     for (auto& chunk : stream)   // throws StreamError if the server sends an error chunk
//         if (chunk.kind() == backend_api::Kind::Content) std::cout << chunk.text();
//
// ERRORS. Every failure is a `backend_api::Error`, a `std::system_error` whose
// `code()` is in `backend_api::category()` (the C status numbers, `Status`) and
// which also carries the HTTP status and the server's own message. An `error` or
// `auth` chunk that the server sends inside an answer ends the range-for,
// `next()` and `Client::complete` with a `StreamError` (an `Error` whose code is
// in `stream_category()`), which carries the server's message and the raw chunk.
// `next(timeout, chunk)` is the C-level read: it hands out every chunk, those too.
// Not failures: the normal ends of a stream (End: the answer is complete;
// Cancelled: someone cancelled), `Again` from a polling `next`, and a field a chunk
// lacks (an empty optional). Destructors, `close` and `cancel` never throw.
//
// Two ways to receive a failure, in every build:
//   * exceptions: `open`, the range-for, `next`, `complete`, `models`, `answer`,
//     `fd` and the setters throw `Error`;
//   * `std::error_code&` overloads (`open(request, ec)`, `stream.chunks(ec)`,
//     `next(timeout, chunk, ec)`, `complete(request, ec)`, `models(provider,
//     cancel, ec)`, `answer(ec)`, `fd(ec)`): they set `ec` instead and never throw
//     `Error`; `error()` on the stream, client or request holds the details.
// Built without exceptions (`-fno-exceptions`), a failing setter or constructor of
// `Client`/`Request` keeps its failure in the object (`error()`), skips the setters
// after it, and `open(request, ec)`/`models(..., ec)`/`complete(request, ec)`
// report it; the throwing forms print the error and abort, as the standard library
// does there. Memory exhaustion is `std::bad_alloc` as anywhere else.
//
// OWNERSHIP: every class owns its C handle and frees it in its destructor (RAII);
// `Request` copies through the library (its api key too, which stays there); all
// but `Error`, `Answer`, `Stats`, `CancelHandle` and `Request` are move-only. `get()` lends
// the raw handle; `Chunk` and `Request` also have `release()`, which gives it up.
// Strings passed in are copied, so temporaries are fine; a `std::string_view`
// argument may hold any bytes but NUL (C would cut the string there, so it is
// refused with `Status::InvalidArgument`).
// `std::string_view`s handed out by a `Chunk` point into that chunk: valid while it
// lives (also after it moved); asking a temporary `Chunk` for one does not compile.
// In a range-for, `chunk` is the stream's current chunk, replaced by the next
// iteration: move it out (`backend_api::Chunk kept = std::move(chunk);`) to keep it.
// A stream copies its client and request when opened: both may change or go.
//
// THREADS: "const members may run concurrently, non-const ones need exclusive
// access" holds for every class here:
//   * `Client`: `open`, `complete` and `models` (const) may run on many threads at
//     once; the setters must not overlap with any other use.
//   * `Request`: one thread at a time; `Client::open` reads it (const).
//   * `Stream`: read (`next`, the range-for) by one thread at a time, any thread;
//     `stats`, `answer` and `canceller` also while another thread reads. A
//     `CancelHandle` (from `canceller()`) cancels it from ANY thread at ANY time,
//     also after the stream was closed (then it does nothing). `Stream::cancel()`
//     does the same while the `Stream` object is alive and not being moved.
//   * `Chunk`: its const members may run on several threads at once.
//   * `Error`, `Answer`, `Stats`: ordinary values.
#ifndef BACKEND_API_HPP
#define BACKEND_API_HPP

#include <backend_api.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

// 1 when the wrapper may throw; 0 under -fno-exceptions (then see ERRORS above).
#ifndef BACKEND_API_EXCEPTIONS
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define BACKEND_API_EXCEPTIONS 1
#else
#define BACKEND_API_EXCEPTIONS 0
#endif
#endif

namespace backend_api {

// ---------------------------------------------------------------- enums

/// Every status the C library reports (`backend_api_status`); same numbers.
/// An `std::error_code` enum of `category()`: `ec == Status::Http` works.
enum class Status : std::uint32_t {
    Ok = BACKEND_API_STATUS_OK,
    End = BACKEND_API_STATUS_END,
    Again = BACKEND_API_STATUS_AGAIN,  ///< not an error: nothing yet within `next`'s timeout
    Cancelled = BACKEND_API_STATUS_CANCELLED,
    InvalidArgument = BACKEND_API_STATUS_INVALID_ARGUMENT,
    Media = BACKEND_API_STATUS_MEDIA,
    NotFound = BACKEND_API_STATUS_NOT_FOUND,
    WrongType = BACKEND_API_STATUS_WRONG_TYPE,  ///< a value at a JSON Pointer has another type
    Connect = BACKEND_API_STATUS_CONNECT,
    Tls = BACKEND_API_STATUS_TLS,
    TimedOut = BACKEND_API_STATUS_TIMED_OUT,  ///< a client timeout elapsed
    Http = BACKEND_API_STATUS_HTTP,
    Io = BACKEND_API_STATUS_IO,
    Protocol = BACKEND_API_STATUS_PROTOCOL,
    Limit = BACKEND_API_STATUS_LIMIT,
    Internal = BACKEND_API_STATUS_INTERNAL,
};

/// The type of a JSON value (`backend_api_json_type`); same numbers.
enum class JsonType : std::uint32_t {
    Null = BACKEND_API_JSON_TYPE_NULL,
    Bool = BACKEND_API_JSON_TYPE_BOOL,
    Number = BACKEND_API_JSON_TYPE_NUMBER,
    String = BACKEND_API_JSON_TYPE_STRING,
    Array = BACKEND_API_JSON_TYPE_ARRAY,
    Object = BACKEND_API_JSON_TYPE_OBJECT,
};

/// What a chunk is (`backend_api_kind`); same numbers.
enum class Kind : std::uint32_t {
    Other = BACKEND_API_KIND_OTHER,
    Content = BACKEND_API_KIND_CONTENT,
    Reasoning = BACKEND_API_KIND_REASONING,
    Error = BACKEND_API_KIND_ERROR,  ///< fatal in-stream error: the answer ends
    Auth = BACKEND_API_KIND_AUTH,    ///< fatal authentication error: the answer ends
    Usage = BACKEND_API_KIND_USAGE,
    Finish = BACKEND_API_KIND_FINISH,
    Provider = BACKEND_API_KIND_PROVIDER,
    Conversation = BACKEND_API_KIND_CONVERSATION,
    Message = BACKEND_API_KIND_MESSAGE,  ///< non-fatal error message: the stream goes on
    Title = BACKEND_API_KIND_TITLE,
    ToolCalls = BACKEND_API_KIND_TOOL_CALLS,
    Log = BACKEND_API_KIND_LOG,
    Preview = BACKEND_API_KIND_PREVIEW,
    Parameters = BACKEND_API_KIND_PARAMETERS,
    Suggestions = BACKEND_API_KIND_SUGGESTIONS,
    Synthesize = BACKEND_API_KIND_SYNTHESIZE,
    Continue = BACKEND_API_KIND_CONTINUE,
    Variant = BACKEND_API_KIND_VARIANT,
    Request = BACKEND_API_KIND_REQUEST,
    Response = BACKEND_API_KIND_RESPONSE,
    Headers = BACKEND_API_KIND_HEADERS,
    Answer = BACKEND_API_KIND_ANSWER,  ///< made by this library (the assembled answer)
    Refusal = BACKEND_API_KIND_REFUSAL,  ///< the model refused (OpenAI's `delta.refusal`): `text()` says why
};

/// What a generated medium of an answer is (`backend_api_media_kind`); same numbers.
enum class MediaKind : std::uint32_t {
    Image = BACKEND_API_MEDIA_KIND_IMAGE,
    Audio = BACKEND_API_MEDIA_KIND_AUDIO,
    Video = BACKEND_API_MEDIA_KIND_VIDEO,
};

/// A model capability (`BACKEND_API_CAPABILITY_*`), a bit of `ModelInfo`'s sets.
enum class Capability : std::uint32_t {
    Vision = BACKEND_API_CAPABILITY_VISION,  ///< image input
    Image = BACKEND_API_CAPABILITY_IMAGE,    ///< image generation
    Audio = BACKEND_API_CAPABILITY_AUDIO,    ///< audio input or output
    Video = BACKEND_API_CAPABILITY_VIDEO,    ///< video input or generation
    Tools = BACKEND_API_CAPABILITY_TOOLS,    ///< tool (function) calls
};

/// Log levels for `Client::log` (`backend_api_log_level`); same numbers.
enum class LogLevel : std::uint32_t {
    Error = BACKEND_API_LOG_LEVEL_ERROR,
    Warn = BACKEND_API_LOG_LEVEL_WARN,
    Info = BACKEND_API_LOG_LEVEL_INFO,
    Debug = BACKEND_API_LOG_LEVEL_DEBUG,
    Trace = BACKEND_API_LOG_LEVEL_TRACE,
};

/// Which client timeout `Client::timeout` sets (`backend_api_timeout`).
enum class Timeout : std::uint32_t {
    Connect = BACKEND_API_TIMEOUT_CONNECT,  ///< resolve, connect, proxy, TLS; default 30 s
    Headers = BACKEND_API_TIMEOUT_HEADERS,  ///< request sent to response headers; default 120 s
    Idle = BACKEND_API_TIMEOUT_IDLE,        ///< longest gap between two chunks; default 300 s
    Total = BACKEND_API_TIMEOUT_TOTAL,      ///< the whole exchange; off by default
};

/// The wire protocol `Client::protocol` chooses (`backend_api_protocol`); same numbers.
enum class Protocol : std::uint32_t {
    Backend = BACKEND_API_PROTOCOL_BACKEND,  ///< g4f's backend API (default); base URL such as `http://host:8080`
    OpenAI = BACKEND_API_PROTOCOL_OPENAI,    ///< OpenAI-compatible (`g4f api` and peers); base URL such as `http://host:1337/v1`
};

/// Where the roots of trust for TLS come from (`Client::trust_store`,
/// `backend_api_trust_store`); same numbers.
enum class TrustStore : std::uint32_t {
    Platform = BACKEND_API_TRUST_STORE_PLATFORM,  ///< the system's verifier and store (the default)
    Bundled = BACKEND_API_TRUST_STORE_BUNDLED,    ///< the Mozilla roots compiled into the library
};

/// Where `Request::api_key` puts the key. `Body` is what the Python client does.
enum class KeyPlacement : std::uint32_t {
    Body = BACKEND_API_KEY_BODY,      ///< the body's `"api_key"` field
    Bearer = BACKEND_API_KEY_BEARER,  ///< an `Authorization: Bearer <key>` header
    Both = BACKEND_API_KEY_BODY | BACKEND_API_KEY_BEARER,
};

/// The loaded library's version, such as "0.2.0" (static storage). Any thread.
inline std::string_view version() noexcept { return backend_api_version(); }
/// The loaded library's version as `0xMMmmpp`; compare with `BACKEND_API_VERSION_NUM`.
inline std::uint32_t version_num() noexcept { return backend_api_version_num(); }

/// Waits for the library to go quiet (`backend_api_shutdown`, the role of
/// `curl_global_cleanup`): cancels every stream and model listing still in flight
/// in the process (their `next` then gives `Status::Cancelled`; the objects stay
/// valid and are destroyed as usual), then waits until every thread of the library
/// has ended, up to `timeout` (negative, the default: for as long as it takes).
/// True once none is left: from then on no log callback runs and no `LogSink` is
/// destroyed on a thread of the library. False when some still run (call again).
///
/// Call it before returning from `main` when a log callback uses objects of static
/// lifetime (a logger destroyed at exit), and before unloading the library
/// (`dlclose`). Streams may be opened again afterwards. Any thread but a log
/// callback's.
inline bool shutdown(std::chrono::milliseconds timeout = std::chrono::milliseconds(-1)) noexcept {
    const auto ms = timeout.count() < 0 ? std::int64_t{-1} : static_cast<std::int64_t>(timeout.count());
    return backend_api_shutdown(ms) == BACKEND_API_STATUS_OK;
}

/// The name of a status, such as "HTTP" (static storage). Any thread.
inline std::string_view status_name(Status status) noexcept {
    return backend_api_status_name(static_cast<std::uint32_t>(status));
}

// ---------------------------------------------------------------- error categories

namespace detail {

class StatusCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "backend_api"; }
    std::string message(int value) const override { return backend_api_status_name(static_cast<std::uint32_t>(value)); }
    std::error_condition default_error_condition(int value) const noexcept override {
        switch (value) {
            case BACKEND_API_STATUS_INVALID_ARGUMENT:
                return std::errc::invalid_argument;
            case BACKEND_API_STATUS_CANCELLED:
                return std::errc::operation_canceled;
            case BACKEND_API_STATUS_TIMED_OUT:
                return std::errc::timed_out;
            default:
                return std::error_condition(value, *this);
        }
    }
};

class StreamCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "backend_api.stream"; }
    std::string message(int value) const override {
        return value == BACKEND_API_KIND_AUTH ? "the server sent an authentication error in the answer"
                                              : "the server sent an error in the answer";
    }
};

}  // namespace detail

/// The category of the library's statuses: `code().value()` is a `Status`.
inline const std::error_category& category() noexcept {
    static const detail::StatusCategory instance;
    return instance;
}

/// The category of the errors a server sends inside an answer (`StreamError`):
/// `code().value()` is the chunk's `Kind`, `Kind::Error` or `Kind::Auth`.
inline const std::error_category& stream_category() noexcept {
    static const detail::StreamCategory instance;
    return instance;
}

inline std::error_code make_error_code(Status status) noexcept {
    return std::error_code(static_cast<int>(status), category());
}

}  // namespace backend_api

namespace std {
template <>
struct is_error_code_enum<backend_api::Status> : true_type {};
}  // namespace std

namespace backend_api {

// ---------------------------------------------------------------- Chunk

/// One chunk of an answer (g4f's `RawResponse`). Owns a `backend_api_chunk`.
/// A default-constructed or moved-from `Chunk` is empty: its accessors return
/// empty views, `Kind::Other` and `false`. Const members may run on several
/// threads at once. The views it lends live as long as it: asking a temporary
/// `Chunk` for one does not compile.
class Chunk {
public:
    Chunk() noexcept = default;
    /// Adopts a chunk from `backend_api_next` (takes ownership).
    explicit Chunk(backend_api_chunk* owned) noexcept : p_(owned) {}

    explicit operator bool() const noexcept { return p_ != nullptr; }

    /// What the chunk is, to branch on without comparing strings.
    Kind kind() const noexcept { return static_cast<Kind>(backend_api_chunk_kind(p_.get())); }
    /// True for `error` and `auth` chunks: the answer ends (only `log` chunks follow).
    bool is_fatal() const noexcept { return kind() == Kind::Error || kind() == Kind::Auth; }
    /// The choice the chunk belongs to, from 0 (OpenAI-compatible protocol with
    /// `n` > 1; the assembled answer follows choice 0 only); 0 for every other chunk.
    std::uint32_t choice() const noexcept { return backend_api_chunk_choice(p_.get()); }

    /// The chunk's `type` ("content", "reasoning", ...); empty when it has none.
    std::string_view type() const& noexcept { return backend_api_chunk_type(p_.get()); }
    std::string_view type() const&& = delete;

    /// The whole JSON object as the server sent it.
    std::string_view json() const& noexcept {
        std::size_t len = 0;
        const char* s = backend_api_chunk_json(p_.get(), &len);
        return std::string_view(s, len);
    }
    std::string_view json() const&& = delete;

    /// Whether the chunk has a main text (see `text`).
    bool has_text() const noexcept { return backend_api_chunk_text(p_.get(), nullptr) != nullptr; }
    /// The main text: `content` of a content chunk, `token` of reasoning, `message`
    /// of error/auth/message, `title`, `log`, `preview`; empty when there is none
    /// (`has_text` tells an empty text from none). May contain NUL bytes.
    std::string_view text() const& noexcept {
        std::size_t len = 0;
        const char* s = backend_api_chunk_text(p_.get(), &len);
        return s != nullptr ? std::string_view(s, len) : std::string_view();
    }
    std::string_view text() const&& = delete;

    /// A top-level field: a string's value, any other value (number, object, list,
    /// true, null) as its JSON text; an empty optional when the field is absent
    /// (or the key holds a NUL byte). Asking again lends the same string.
    std::optional<std::string_view> field(std::string_view key) const& {
        const std::string k(key);
        const char* value = nullptr;
        std::size_t len = 0;
        if (k.find('\0') != std::string::npos ||
            backend_api_chunk_field(p_.get(), k.c_str(), &value, &len) != BACKEND_API_STATUS_OK)
            return std::nullopt;
        return std::string_view(value, len);
    }
    std::optional<std::string_view> field(std::string_view key) const&& = delete;

    /// Typed look-ups by JSON Pointer (RFC 6901): `"/usage/prompt_tokens"`,
    /// `"/provider/name"`, `"/list/0"`; `""` is the whole chunk. An empty optional
    /// when nothing is there, the value has another type (`type_at` tells which),
    /// or the pointer is malformed. `string_at` lends a string owned by the chunk
    /// (asking again lends the same one); `int_at` takes only integers that fit
    /// in 64 bits (`number_at` reads any number).
    std::optional<JsonType> type_at(std::string_view pointer) const {
        backend_api_json_type t{};
        return at(pointer, [&](const char* p) { return backend_api_chunk_get_type(p_.get(), p, &t); })
                   ? std::optional<JsonType>(static_cast<JsonType>(t))
                   : std::nullopt;
    }
    std::optional<std::string_view> string_at(std::string_view pointer) const& {
        const char* value = nullptr;
        std::size_t len = 0;
        return at(pointer, [&](const char* p) { return backend_api_chunk_get_string(p_.get(), p, &value, &len); })
                   ? std::optional<std::string_view>(std::string_view(value, len))
                   : std::nullopt;
    }
    std::optional<std::string_view> string_at(std::string_view pointer) const&& = delete;
    std::optional<std::int64_t> int_at(std::string_view pointer) const {
        std::int64_t v = 0;
        return at(pointer, [&](const char* p) { return backend_api_chunk_get_int64(p_.get(), p, &v); })
                   ? std::optional<std::int64_t>(v)
                   : std::nullopt;
    }
    std::optional<double> number_at(std::string_view pointer) const {
        double v = 0;
        return at(pointer, [&](const char* p) { return backend_api_chunk_get_number(p_.get(), p, &v); })
                   ? std::optional<double>(v)
                   : std::nullopt;
    }
    std::optional<bool> bool_at(std::string_view pointer) const {
        bool v = false;
        return at(pointer, [&](const char* p) { return backend_api_chunk_get_bool(p_.get(), p, &v); })
                   ? std::optional<bool>(v)
                   : std::nullopt;
    }
    /// How many elements the array, or members the object, at `pointer` holds.
    std::optional<std::size_t> count_at(std::string_view pointer) const {
        std::size_t n = 0;
        return at(pointer, [&](const char* p) { return backend_api_chunk_get_count(p_.get(), p, &n); })
                   ? std::optional<std::size_t>(n)
                   : std::nullopt;
    }
    /// The key of member `index` (keys in sorted order) of the object at `pointer`,
    /// lent by the chunk; `pointer_token` escapes it for a pointer to its value.
    std::optional<std::string_view> key_at(std::string_view pointer, std::size_t index) const& {
        const char* key = nullptr;
        std::size_t len = 0;
        return at(pointer, [&](const char* p) { return backend_api_chunk_get_key(p_.get(), p, index, &key, &len); })
                   ? std::optional<std::string_view>(std::string_view(key, len))
                   : std::nullopt;
    }
    std::optional<std::string_view> key_at(std::string_view pointer, std::size_t index) const&& = delete;

    /// `key` as one reference token of a JSON Pointer: `~` as `~0`, `/` as `~1`.
    static std::string pointer_token(std::string_view key) {
        std::string out;
        for (const char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
        return out;
    }

    /// JSON text of your own (one object) as a chunk, read with the same look-ups
    /// (`backend_api_chunk_parse`). Throws `Error` (`InvalidArgument`) for text that
    /// is not one JSON object.
    static Chunk parse(std::string_view json);

    /// The C handle, still owned by this object.
    backend_api_chunk* get() const noexcept { return p_.get(); }
    /// Gives up ownership: free the result with `backend_api_chunk_free`.
    backend_api_chunk* release() noexcept { return p_.release(); }

private:
    /// Runs one C look-up with `pointer` as a C string; false for a pointer with a
    /// NUL byte (no C string can say it) or any status but OK.
    template <typename LookUp>
    static bool at(std::string_view pointer, LookUp look_up) {
        const std::string p(pointer);
        return p.find('\0') == std::string::npos && look_up(p.c_str()) == BACKEND_API_STATUS_OK;
    }

    struct Free {
        void operator()(backend_api_chunk* p) const noexcept { backend_api_chunk_free(p); }
    };
    std::unique_ptr<backend_api_chunk, Free> p_;
};

// ---------------------------------------------------------------- Error

namespace detail {

/// `text` fit for a terminal or a log line: control characters (C0, DEL and the
/// C1 range, where escape sequences start) written as `\xHH` or `\u00HH`, so that
/// a server's bytes in a message can neither move the cursor nor retitle the
/// window. Other text is kept as it is.
inline std::string printable(std::string_view text) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto b = static_cast<unsigned char>(text[i]);
        const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0u;
        if (b < 0x20 || b == 0x7F) {
            out.append("\\x").append(1, hex[b >> 4]).append(1, hex[b & 0xF]);
        } else if (b == 0xC2 && next >= 0x80 && next <= 0x9F) {  // U+0080..U+009F in UTF-8
            out.append("\\u00").append(1, hex[next >> 4]).append(1, hex[next & 0xF]);
            ++i;
        } else {
            out += text[i];
        }
    }
    return out;
}

}  // namespace detail


/// Every failure of the library, as a `std::system_error`: `code()` is in
/// `category()` (a `Status`) or, for a `StreamError`, in `stream_category()`.
/// `what()` is the library's message (never the api key), with control
/// characters escaped (`\x1b`: a server's escape sequences never reach a
/// terminal through it); `server_message()` is the server's text as it sent it. A value: copy it, keep
/// it, pass it between threads; copying never throws, and moving copies (a
/// moved-from error stays whole).
class Error : public std::system_error {
public:
    Error(const Error&) = default;
    Error& operator=(const Error&) = default;

    Error(Status status, std::string_view message, std::uint16_t http_status = 0,
          std::optional<std::string> server_message = std::nullopt)
        : Error(make_error_code(status),
                Detail{detail::printable(message), http_status, std::move(server_message), Chunk()}) {}

    /// Takes ownership of `err` (frees it, also when copying its strings throws)
    /// and builds the error from it; `fallback` is the status when `err` is NULL.
    static Error from_c(backend_api_error* err, backend_api_status fallback) {
        const std::unique_ptr<backend_api_error, void (*)(backend_api_error*)> guard(err, &backend_api_error_free);
        if (err == nullptr) {
            const auto s = static_cast<Status>(fallback);
            return Error(s, std::string(backend_api::status_name(s)));
        }
        const char* server = backend_api_error_server_message(err);
        return Error(static_cast<Status>(backend_api_error_status(err)), backend_api_error_message(err),
                     backend_api_error_http_status(err),
                     server != nullptr ? std::optional<std::string>(server) : std::nullopt);
    }

    const char* what() const noexcept override { return d_->message.c_str(); }

    /// The library's status: `Status::Http`, `Status::Connect`, ... (never `Ok`),
    /// but `Status::Ok` for a `StreamError`: the library did not fail, the server did.
    Status status() const noexcept {
        return code().category() == category() ? static_cast<Status>(code().value()) : Status::Ok;
    }
    /// The status's name, such as "HTTP"; for a `StreamError` the chunk's type
    /// ("error" or "auth").
    std::string_view status_name() const noexcept {
        return d_->chunk ? d_->chunk.type() : backend_api::status_name(status());
    }
    /// The HTTP status code for `Status::Http`, else 0.
    std::uint16_t http_status() const noexcept { return d_->http_status; }
    /// The server's own message: the `{"error":{"message":...}}` of an HTTP error
    /// when it sent one, or the message of an in-stream error chunk.
    const std::optional<std::string>& server_message() const noexcept { return d_->server_message; }
    /// The raw `error`/`auth` chunk of a `StreamError`; nullptr for other errors.
    /// Lives as long as this error or a copy of it.
    const Chunk* chunk() const& noexcept { return d_->chunk ? &d_->chunk : nullptr; }
    const Chunk* chunk() const&& = delete;

protected:
    struct Detail {
        std::string message;
        std::uint16_t http_status;
        std::optional<std::string> server_message;
        Chunk chunk;
    };
    Error(std::error_code code, Detail&& detail)
        : std::system_error(code), d_(std::make_shared<const Detail>(std::move(detail))) {}

private:
    std::shared_ptr<const Detail> d_;
};

/// An error or authentication failure the server sent inside the answer (an
/// `error` or `auth` chunk; g4f sends them after a 200 status). It ends the
/// range-for, `Stream::next()` and `Client::complete`. `what()` and
/// `server_message()` hold the server's message, `chunk()` the raw chunk.
class StreamError;
namespace detail {
/// Raises a kept error as what it is: a `StreamError` again when it was one.
[[noreturn]] void raise_error(const Error& e);
}  // namespace detail

class StreamError : public Error {
public:
    /// From a fatal chunk (`Chunk::is_fatal`).
    explicit StreamError(Chunk fatal) : StreamError(fatal.kind(), std::move(fatal)) {}
    /// `Kind::Error` or `Kind::Auth`.
    Kind kind() const noexcept { return static_cast<Kind>(code().value()); }

private:
    StreamError(Kind kind, Chunk&& fatal)
        : Error(std::error_code(static_cast<int>(kind), stream_category()), detail_of(std::move(fatal))) {}
    static Detail detail_of(Chunk&& c) {
        std::optional<std::string> text;
        if (c.has_text()) text.emplace(c.text());
        std::string message = detail::printable(text ? *text : stream_category().message(static_cast<int>(c.kind())));
        return Detail{std::move(message), 0, std::move(text), std::move(c)};
    }
    friend void detail::raise_error(const Error& e);
    explicit StreamError(const Error& e) : Error(e) {}
};

namespace detail {

/// Throws `e` or, built without exceptions, prints it and aborts.
template <class E>
[[noreturn]] void raise(const E& e) {
#if BACKEND_API_EXCEPTIONS
    throw e;
#else
    std::fprintf(stderr, "backend_api: %s (built without exceptions: use the std::error_code overloads)\n",
                 e.what());
    std::abort();
#endif
}

[[noreturn]] inline void raise_bad_alloc() {
#if BACKEND_API_EXCEPTIONS
    throw std::bad_alloc();
#else
    std::abort();
#endif
}

inline void raise_error(const Error& e) {
    if (e.chunk() != nullptr) raise(StreamError(e));
    raise(e);
}

/// How fallible calls report: thrown (or aborted without exceptions), or in `ec`.
inline void report(const std::optional<Error>& e) {
    if (e) raise_error(*e);
}
inline void report(const std::optional<Error>& e, std::error_code& ec) noexcept {
    ec = e ? e->code() : std::error_code();
}

/// A NUL-terminated copy of a string argument for one C call; `what` names it in
/// the error when it holds a NUL byte (C would cut it there). With
/// `empty_is_null`, an empty string goes to C as NULL (an optional argument).
struct CStr {
    CStr(std::string_view s, const char* name, bool empty_is_null = false)
        : str(s), what(name), null(empty_is_null && s.empty()) {}
    std::string str;
    const char* what;
    bool null;
};

inline const char* c_arg(const CStr& s) noexcept { return s.null ? nullptr : s.str.c_str(); }
template <class T>
T c_arg(const T& value) noexcept {
    return value;
}
inline const char* nul_in(const CStr& s) noexcept { return s.str.find('\0') != std::string::npos ? s.what : nullptr; }
template <class T>
const char* nul_in(const T&) noexcept {
    return nullptr;
}

/// Calls `f(args..., &err)`, a C function that reports failure through a
/// `backend_api_error**`, and returns its failure (taking ownership of `err`).
template <class F, class... A>
std::optional<Error> attempt(F f, const A&... args) {
    const char* bad = nullptr;
    ((bad = bad != nullptr ? bad : nul_in(args)), ...);
    if (bad != nullptr) return Error(Status::InvalidArgument, std::string(bad) + " contains a NUL byte");
    backend_api_error* err = nullptr;
    const backend_api_status status = f(c_arg(args)..., &err);
    if (status == BACKEND_API_STATUS_OK) return std::nullopt;
    return Error::from_c(err, status);
}

/// What `Client` and `Request` share: setters that throw or, built without
/// exceptions, keep the first failure and skip the setters after it.
template <class Self>
class Settings {
public:
    /// Built without exceptions: the first failure of a constructor or setter of
    /// this object (the setters after it did nothing); else nullptr.
    const Error* error() const noexcept { return error_ ? &*error_ : nullptr; }

protected:
    void fail(std::optional<Error> e) {
        if (!e) return;
#if BACKEND_API_EXCEPTIONS
        raise_error(*e);
#else
        if (!error_) error_ = std::move(e);
#endif
    }
    /// Runs the C setter `f(handle, args..., &err)` unless a failure came before.
    template <class F, class... A>
    Self& set(F f, const A&... args) {
        Self& self = static_cast<Self&>(*this);
        if (!error_) fail(attempt(f, self.get(), args...));
        return self;
    }
    Self& invalid(const char* message) {
        if (!error_) fail(Error(Status::InvalidArgument, message));
        return static_cast<Self&>(*this);
    }

    std::optional<Error> error_;
};

/// The `user_data` of a log callback: the C++ callable, freed by the library
/// through `destroy` once no callback can run any more.
struct LogSink {
    std::function<void(LogLevel, std::string_view)> fn;

    static void call(void* user_data, backend_api_log_level level, const char* message) noexcept {
#if BACKEND_API_EXCEPTIONS
        try {
#endif
            static_cast<LogSink*>(user_data)->fn(static_cast<LogLevel>(level),
                                                 message != nullptr ? std::string_view(message) : std::string_view());
#if BACKEND_API_EXCEPTIONS
        } catch (...) {
            // An exception must not unwind into the library's thread: dropped.
        }
#endif
    }
    static void destroy(void* user_data) noexcept { delete static_cast<LogSink*>(user_data); }
};

}  // namespace detail

// The rvalue twin of a chainable setter: on a temporary it returns the temporary
// itself, so `Client c = Client(url).timeout(...);` chains and moves.
#define BACKEND_API_RVALUE_SETTER(Self, name)                      \
    template <class... Args>                                       \
    Self&& name(Args&&... args)&& {                                \
        return std::move(this->name(std::forward<Args>(args)...)); \
    }

// ---------------------------------------------------------------- values

/// A stream's statistics (`Stream::stats`). Times count from `Client::open`.
struct Stats {
    std::uint64_t bytes = 0;         ///< response body bytes read
    std::uint64_t chunks = 0;        ///< chunks decoded
    std::uint64_t delivered = 0;     ///< chunks handed to the reader
    std::uint64_t skipped = 0;       ///< malformed lines skipped (`Client::skip_malformed`)
    std::uint64_t queued_bytes = 0;  ///< bytes of decoded chunks waiting for the reader
    std::uint32_t retries = 0;       ///< requests sent again before any answer
    bool ended = false;              ///< nothing more will arrive
    bool reused_connection = false;  ///< the answer came on a connection kept from an earlier request
    std::optional<std::chrono::microseconds> headers;      ///< when the headers arrived
    std::optional<std::chrono::microseconds> first_chunk;  ///< when the first chunk was decoded
    std::chrono::microseconds elapsed{0};                  ///< until the stream ended, or until now

    static Stats from_c(const backend_api_stats& s) noexcept {
        const auto at = [](std::int64_t us) {
            return us < 0 ? std::nullopt : std::optional<std::chrono::microseconds>(us);
        };
        Stats out;
        out.bytes = s.bytes;
        out.chunks = s.chunks;
        out.delivered = s.delivered;
        out.skipped = s.skipped;
        out.queued_bytes = s.queued_bytes;
        out.retries = s.retries;
        out.ended = s.ended;
        out.reused_connection = s.reused_connection;
        out.headers = at(s.headers_us);
        out.first_chunk = at(s.first_chunk_us);
        out.elapsed = std::chrono::microseconds(s.elapsed_us < 0 ? 0 : s.elapsed_us);
        return out;
    }
};

/// The token counts of an answer (`Answer::usage`): each empty when the server
/// did not send it as an integer.
struct Usage {
    std::optional<std::int64_t> prompt_tokens;
    std::optional<std::int64_t> completion_tokens;
    std::optional<std::int64_t> total_tokens;
    std::string json;  ///< the whole `usage` object, for the keys providers add
};

/// One tool call of an answer (`Answer::tool_calls`), OpenAI's shape.
struct ToolCall {
    std::string id;         ///< the call's id, to answer it with a `tool` message
    std::string type;       ///< "function"
    std::string name;       ///< the function's name
    std::string arguments;  ///< the arguments as the model wrote them: JSON text, not checked
};

/// A medium (image, audio, video) an answer generated (`Answer::media`); fetch it with
/// `Client::fetch_media` or `Client::save_media`.
struct GeneratedMedium {
    MediaKind kind = MediaKind::Image;
    std::string url;                 ///< absolute (a server-relative one resolved), or a `data:` URI
    std::optional<std::string> alt;  ///< the alternative text (g4f: the prompt)
};

/// What the chunks of a stream add up to (`Stream::answer`, `Client::complete`).
/// An optional is empty when the server sent no such value, or null (a text that
/// is exactly "null" reads as empty too: the C API hands out both alike).
struct Answer {
    std::string content;    ///< the content chunks' text, joined
    std::string reasoning;  ///< the reasoning chunks' text, joined
    std::optional<std::string> finish_reason;
    std::optional<std::string> title;
    std::optional<std::string> provider;
    std::optional<std::string> model;
    std::optional<std::string> error;         ///< the message of an in-stream error or auth chunk
    std::optional<Usage> usage;               ///< the last usage chunk's counts
    std::vector<ToolCall> tool_calls;         ///< the tool calls, assembled from their deltas
    std::optional<std::string> conversation;  ///< JSON text: the state `Request::follow_up` sends back
    std::optional<std::string> refusal;       ///< the model's refusal (`Kind::Refusal` chunks), when it refused
    std::vector<GeneratedMedium> media;       ///< media the answer generated
    std::string json;  ///< the library's whole answer object, which `Request::follow_up(answer)` reads

    /// Reads the library's `Kind::Answer` chunk.
    static Answer from_chunk(const Chunk& c) {
        const auto get = [&c](const char* key) {
            const std::optional<std::string_view> v = c.field(key);
            return v && *v != "null" ? std::optional<std::string>(*v) : std::nullopt;
        };
        Answer a;
        a.content = c.field("content").value_or(std::string_view());
        a.reasoning = c.field("reasoning").value_or(std::string_view());
        a.finish_reason = get("finish_reason");
        a.title = get("title");
        a.provider = get("provider");
        a.model = get("model");
        a.error = get("error");
        if (c.type_at("/usage") == JsonType::Object) {
            Usage u;
            u.prompt_tokens = c.int_at("/usage/prompt_tokens");
            u.completion_tokens = c.int_at("/usage/completion_tokens");
            u.total_tokens = c.int_at("/usage/total_tokens");
            u.json = std::string(c.field("usage").value_or(std::string_view()));
            a.usage = std::move(u);
        }
        for (std::size_t i = 0, n = c.count_at("/tool_calls").value_or(0); i < n; ++i) {
            const std::string at = "/tool_calls/" + std::to_string(i);
            const auto text = [&](const char* key) { return std::string(c.string_at(at + key).value_or(std::string_view())); };
            a.tool_calls.push_back(ToolCall{text("/id"), text("/type"), text("/function/name"), text("/function/arguments")});
        }
        a.conversation = get("conversation");
        a.refusal = get("refusal");
        for (std::size_t i = 0, n = backend_api_answer_media_count(c.get()); i < n; ++i) {
            backend_api_media_kind kind{};
            const char* url = nullptr;
            const char* alt = nullptr;
            if (backend_api_answer_medium(c.get(), i, &kind, &url, &alt, nullptr) != BACKEND_API_STATUS_OK) break;
            a.media.push_back(GeneratedMedium{static_cast<MediaKind>(kind), url,
                                              alt != nullptr ? std::optional<std::string>(alt) : std::nullopt});
        }
        a.json = std::string(c.json());
        return a;
    }
};

// ---------------------------------------------------------------- Request

class Stream;

/// One conversation request, built with chained setters:
///
///     Request r = Request().model("gpt-4o").system("Be brief.").user("Describe this.")
///                     .media_file("photo.jpg").field_json("web_search", "true").api_key(key);
///
/// Every setter copies its arguments and fails (see ERRORS) on a bad value
/// (malformed JSON, unreadable or unrecognised media, a reserved field name, a NUL
/// byte). The api key is handed to the library and kept nowhere in this object.
/// Owns a `backend_api_request`. One thread at a time.
///
/// A copy is a request of its own (`backend_api_request_clone`: the key is copied
/// inside the library); the two then change apart. Inspect one with `json()` (the
/// body it sends, never the api key), `body()` for typed look-ups, `model_name()`
/// and `message_count()`.
class Request : public detail::Settings<Request> {
public:
    /// An empty request (model "", no messages).
    Request() : p_(backend_api_request_new()) {
        if (!p_) detail::raise_bad_alloc();
    }
    /// Adopts a request from `backend_api_request_new` (takes ownership).
    explicit Request(backend_api_request* owned) : p_(owned) {
        if (!p_) invalid("NULL request");
    }
    /// A copy of `other` (also of a failure it keeps); copying an empty (moved-from)
    /// request makes an empty one. Throws `Error` when the library cannot copy.
    Request(const Request& other) : detail::Settings<Request>(other), timeout_(other.timeout_) {
        if (!other.p_) return;
        backend_api_request* out = nullptr;
        const std::optional<Error> e =
            detail::attempt(backend_api_request_clone, static_cast<const backend_api_request*>(other.get()), &out);
        p_.reset(out);
        fail(e);
    }
    Request& operator=(const Request& other) {
        if (this != &other) *this = Request(other);
        return *this;
    }
    Request(Request&&) = default;
    Request& operator=(Request&&) = default;
    ~Request() = default;

    /// The model name ("" lets the server choose).
    Request& model(std::string_view name) & { return set(backend_api_request_set_model, detail::CStr(name, "model")); }
    /// Appends a message with plain-text content.
    Request& message(std::string_view role, std::string_view content) & {
        return set(backend_api_request_add_message, detail::CStr(role, "role"), detail::CStr(content, "content"));
    }
    Request& system(std::string_view content) & { return message("system", content); }
    Request& user(std::string_view content) & { return message("user", content); }
    Request& assistant(std::string_view content) & { return message("assistant", content); }
    /// Appends a message whose content is JSON text (a string or a list of parts).
    Request& message_json(std::string_view role, std::string_view content_json) & {
        return set(backend_api_request_add_message_json, detail::CStr(role, "role"),
                   detail::CStr(content_json, "content JSON"));
    }
    /// Replaces all messages with a JSON array of `{"role": ..., "content": ...}`.
    Request& messages_json(std::string_view messages) & {
        return set(backend_api_request_set_messages_json, detail::CStr(messages, "messages JSON"));
    }
    /// Sets the api key (never logged, never in error messages).
    Request& api_key(std::string_view key, KeyPlacement where = KeyPlacement::Body) & {
        return set(backend_api_request_set_api_key, detail::CStr(key, "api key"), static_cast<std::uint32_t>(where));
    }
    /// Removes the api key: the body then has no `api_key` field at all.
    Request& clear_api_key() & {
        return set(backend_api_request_set_api_key, static_cast<const char*>(nullptr),
                   static_cast<std::uint32_t>(BACKEND_API_KEY_BODY));
    }
    /// An extra body field (the Python client's `**kwargs`) from JSON text:
    /// `field_json("web_search", "true")`, `field_json("conversation", "{...}")`.
    /// `model`, `messages`, `media` and `api_key` are refused (they have setters).
    Request& field_json(std::string_view key, std::string_view value_json) & {
        return set(backend_api_request_set_field_json, detail::CStr(key, "field name"),
                   detail::CStr(value_json, "field JSON"));
    }
    /// An extra body field with a string value: `field("provider", "OpenaiChat")`.
    Request& field(std::string_view key, std::string_view value) & {
        return set(backend_api_request_set_field_string, detail::CStr(key, "field name"),
                   detail::CStr(value, "field value"));
    }
    /// Media from bytes (copied and base64-encoded now). The type comes from the
    /// file name's extension for audio, else from the bytes (jpeg, png, gif, webp);
    /// anything else fails with `Status::Media`. An empty `filename` sends none.
    Request& media_bytes(const void* data, std::size_t len, std::string_view filename = {}) & {
        return set(backend_api_request_add_media_bytes, static_cast<const std::uint8_t*>(data), len,
                   detail::CStr(filename, "file name", true));
    }
    Request& media_bytes(const std::vector<std::uint8_t>& data, std::string_view filename = {}) & {
        return media_bytes(data.data(), data.size(), filename);
    }
    Request& media_bytes(std::string_view data, std::string_view filename = {}) & {
        return media_bytes(data.data(), data.size(), filename);
    }
    /// Media from a file, read now; its base name is sent as the file name.
    Request& media_file(std::string_view path) & {
        return set(backend_api_request_add_media_file, detail::CStr(path, "path"));
    }
    /// Media by reference: a `data:` URI or an `http(s)://` URL, sent as it is.
    Request& media_uri(std::string_view uri, std::string_view filename = {}) & {
        return set(backend_api_request_add_media_uri, detail::CStr(uri, "media URI"),
                   detail::CStr(filename, "file name", true));
    }
    /// A header sent with this request only, after the client's headers (secret
    /// values never reach logs). An invalid name or value fails.
    Request& header(std::string_view name, std::string_view value) & {
        return set(backend_api_request_add_header, detail::CStr(name, "header name"),
                   detail::CStr(value, "header value"));
    }
    /// Appends the result of a tool the model called: `{"role": "tool",
    /// "tool_call_id": id, "content": content}` (`id` from `Answer::tool_calls`).
    Request& tool_result(std::string_view tool_call_id, std::string_view content) & {
        return set(backend_api_request_add_tool_result, detail::CStr(tool_call_id, "tool call id"),
                   detail::CStr(content, "tool result"));
    }
    /// Bounds each media item added AFTER this call to `bytes` of raw data
    /// (default 20 MiB; at least 1): a larger item fails with `Status::Limit`, a
    /// larger file before it is read. Copies keep it.
    Request& max_media(std::size_t bytes) & { return set(backend_api_request_set_max_media, bytes); }
    /// This request's own timeout: the whole exchange, from `Client::open` to the
    /// last chunk, on top of the client's timeouts (`Client::timeout`). When it
    /// passes, the stream is cancelled and reading it fails with `Status::TimedOut`
    /// (`complete` too). Zero or negative: none (the default). Kept by the wrapper,
    /// not by the C request (`get()` does not carry it); copies keep it.
    Request& timeout(std::chrono::milliseconds total) & {
        timeout_ = total.count() > 0 ? std::optional<std::chrono::milliseconds>(total) : std::nullopt;
        return *this;
    }

    BACKEND_API_RVALUE_SETTER(Request, model)
    BACKEND_API_RVALUE_SETTER(Request, message)
    BACKEND_API_RVALUE_SETTER(Request, system)
    BACKEND_API_RVALUE_SETTER(Request, user)
    BACKEND_API_RVALUE_SETTER(Request, assistant)
    BACKEND_API_RVALUE_SETTER(Request, message_json)
    BACKEND_API_RVALUE_SETTER(Request, messages_json)
    BACKEND_API_RVALUE_SETTER(Request, api_key)
    BACKEND_API_RVALUE_SETTER(Request, clear_api_key)
    BACKEND_API_RVALUE_SETTER(Request, field_json)
    BACKEND_API_RVALUE_SETTER(Request, field)
    BACKEND_API_RVALUE_SETTER(Request, media_bytes)
    BACKEND_API_RVALUE_SETTER(Request, media_file)
    BACKEND_API_RVALUE_SETTER(Request, media_uri)
    BACKEND_API_RVALUE_SETTER(Request, header)
    BACKEND_API_RVALUE_SETTER(Request, max_media)
    BACKEND_API_RVALUE_SETTER(Request, tool_result)
    BACKEND_API_RVALUE_SETTER(Request, timeout)

    /// The request that continues the conversation after `stream` (still open):
    /// this request's model, key, extra fields and headers, its messages plus the
    /// stream's answer so far as the assistant's message (its text and its tool
    /// calls) and `user_message`, and the `conversation` state the server returned
    /// (as g4f expects it back). Media are not sent again. Without `user_message`
    /// (a tool round): add the tools' results with `tool_result`, then open it.
    Request follow_up(const Stream& stream, std::optional<std::string_view> user_message) const;
    /// The same after `answer` (`Stream::answer`, also after the stream was closed,
    /// or `Client::complete`): the library's answer it holds (`Answer::json`), or,
    /// for an `Answer` made by hand, its `content` and `conversation`. Fails with
    /// `InvalidArgument` when `conversation` is not JSON or `content` not UTF-8.
    Request follow_up(const Answer& answer, std::optional<std::string_view> user_message) const;

    /// The JSON body this request makes (the backend API's: model, messages, media
    /// with their data, extra fields), WITHOUT the api key; headers are not in it.
    /// Fails (see ERRORS) for an empty (moved-from) request.
    std::string json() const {
        std::string out;
        detail::report(read_json(out));
        return out;
    }
    std::string json(std::error_code& ec) const {
        std::string out;
        detail::report(read_json(out), ec);
        return out;
    }
    /// `json()` as a `Chunk`, for typed look-ups (`const Chunk b = r.body();` then
    /// `b.string_at("/messages/0/content")`, `b.count_at("/media")`). Fails as `json()`.
    Chunk body() const { return Chunk::parse(json()); }
    /// The model name ("" when none was set). Fails as `json()`.
    std::string model_name() const {
        const Chunk b = body();
        return std::string(b.string_at("/model").value_or(std::string_view()));
    }
    /// How many messages the request holds. Fails as `json()`.
    std::size_t message_count() const { return body().count_at("/messages").value_or(0); }

    /// The C handle, still owned by this object.
    backend_api_request* get() const noexcept { return p_.get(); }
    /// Gives up ownership: free the result with `backend_api_request_free`.
    backend_api_request* release() noexcept { return p_.release(); }

private:
    struct Free {
        void operator()(backend_api_request* p) const noexcept { backend_api_request_free(p); }
    };
    struct Empty {};
    explicit Request(Empty) noexcept {}

    std::optional<Error> read_json(std::string& out) const {
        const char* json = nullptr;
        std::size_t len = 0;
        std::optional<Error> e =
            detail::attempt(backend_api_request_json, static_cast<const backend_api_request*>(get()), &json, &len);
        if (e) return e;
        const std::unique_ptr<const char, void (*)(const char*)> owned(json, &backend_api_string_free);
        out.assign(json, len);
        return std::nullopt;
    }

    std::unique_ptr<backend_api_request, Free> p_;
    std::optional<std::chrono::milliseconds> timeout_;  ///< `timeout`: the wrapper's, not C's
    friend class Client;
};

// ---------------------------------------------------------------- CancelHandle

/// Cancels one stream (`Stream::canceller`), or the model listings and
/// `Client::complete` calls it is given to (`CancelHandle::create`): from any
/// thread, at any time, also after the stream was closed (then it does nothing).
/// Copies share one canceller; once cancelled it stays cancelled. A
/// default-constructed handle cancels nothing. Never throws.
class CancelHandle {
public:
    CancelHandle() noexcept = default;
    /// A handle for `Client::models` and `Client::complete`: cancelling it makes the
    /// calls given it end at once with `Status::Cancelled`, now and later.
    static CancelHandle create() { return CancelHandle(backend_api_canceller_new()); }

    void cancel() const noexcept {
        if (!s_) return;
        const std::lock_guard<std::mutex> lock(s_->mutex);
        s_->cancelled = true;
        backend_api_canceller_cancel(s_->own);
        for (const backend_api_canceller* c : s_->linked) backend_api_canceller_cancel(c);
    }
    void operator()() const noexcept { cancel(); }
    explicit operator bool() const noexcept { return s_ != nullptr; }
    /// The C canceller, still owned by this handle (NULL for an empty one).
    /// Cancelling it through C reaches the model listings given it, not the
    /// streams of `Client::complete` (only `cancel()` does).
    const backend_api_canceller* get() const noexcept { return s_ ? s_->own : nullptr; }

private:
    friend class Stream;
    friend class Client;
    explicit CancelHandle(backend_api_canceller* owned) {
        if (owned == nullptr) detail::raise_bad_alloc();
        s_ = std::make_shared<State>(owned);
    }

    /// The C canceller and the stream cancellers linked to it for a while
    /// (`Client::complete`'s stream), which `cancel()` reaches too.
    struct State {
        explicit State(backend_api_canceller* c) noexcept : own(c) {}
        State(const State&) = delete;
        State& operator=(const State&) = delete;
        ~State() { backend_api_canceller_free(own); }
        backend_api_canceller* own;
        std::mutex mutex;
        bool cancelled = false;
        std::vector<const backend_api_canceller*> linked;
    };

    /// While it lives, cancelling the handle cancels a stream too.
    class Link;

    std::shared_ptr<State> s_;
};

/// While it lives, cancelling the handle cancels `target` too (at once when
/// the handle was cancelled before). An empty handle links nothing.
class CancelHandle::Link {
public:
    Link(const CancelHandle& handle, CancelHandle target) : s_(handle.s_), target_(std::move(target)) {
        if (!s_ || !target_) return;
        const std::lock_guard<std::mutex> lock(s_->mutex);
        s_->linked.push_back(target_.get());
        if (s_->cancelled) target_.cancel();
    }
    Link(const Link&) = delete;
    Link& operator=(const Link&) = delete;
    ~Link() {
        if (!s_ || !target_) return;
        const std::lock_guard<std::mutex> lock(s_->mutex);
        s_->linked.erase(std::find(s_->linked.begin(), s_->linked.end(), target_.get()));
    }

private:
    std::shared_ptr<State> s_;
    CancelHandle target_;
};

// ---------------------------------------------------------------- Stream

/// One streaming answer in flight, from `Client::open`. Owns a
/// `backend_api_stream`; the destructor closes it at once, whatever state it is
/// in. Read it with a range-for (or `chunks(ec)`, or `next`):
///
///     for (auto& chunk : stream) { ... }   // throws Error, StreamError
///     if (stream.status() == Status::Cancelled) { ... }
///     Answer answer = stream.answer();     // also after close()
///
/// Reading is for one thread at a time; a `CancelHandle` cancels from any thread.
/// A default-constructed or moved-from stream is empty: closed, nothing to read,
/// `status()` is `Cancelled` (never `Ok`, which says chunks may still come).
class Stream {
public:
    class iterator;
    class Chunks;

    Stream() noexcept : status_(Status::Cancelled) {}
    /// Adopts a stream from `backend_api_open` (takes ownership).
    explicit Stream(backend_api_stream* owned) noexcept : p_(owned) {}
    /// Takes over `other`, which is left empty (as a default-constructed stream).
    Stream(Stream&& other) noexcept { *this = std::move(other); }
    /// Closes this stream, then takes over `other`, which is left empty.
    Stream& operator=(Stream&& other) noexcept {
        if (this == &other) return *this;
        p_ = std::move(other.p_);
        current_ = std::move(other.current_);
        status_ = std::exchange(other.status_, Status::Cancelled);
        error_ = std::exchange(other.error_, std::nullopt);
        closed_stats_ = std::exchange(other.closed_stats_, std::nullopt);
        closed_answer_ = std::move(other.closed_answer_);
        deadline_ = std::exchange(other.deadline_, std::nullopt);
        return *this;
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    ~Stream() = default;

    /// Cancels and frees the C stream at once (its thread finishes on its own);
    /// chunks already taken stay valid, and `stats()` and `answer()` keep what
    /// they last said. Safe to repeat. Not while another thread reads this stream.
    void close() noexcept {
        if (!p_) return;
        backend_api_stats raw = c_stats();
        closed_stats_ = Stats::from_c(raw);
        backend_api_chunk* a = nullptr;
        if (backend_api_stream_answer(p_.get(), &a, nullptr) == BACKEND_API_STATUS_OK) closed_answer_ = Chunk(a);
        p_.reset();
        if (status_ == Status::Ok) status_ = Status::Cancelled;
    }

    /// Waits for the next chunk (a convenience path): an empty optional at the end
    /// (`status()` is `End` or `Cancelled`); a failure, or an `error`/`auth` chunk
    /// (as a `StreamError`), is thrown, and again on later calls.
    std::optional<Chunk> next() {
        if (step(nullptr)) return std::optional<Chunk>(std::move(current_));
        return std::nullopt;
    }

    /// The C-level read: waits up to `timeout` (0: only look; negative: for ever)
    /// for a chunk, any chunk (also `error`/`auth`). Returns `Ok` (the chunk is in
    /// `out`), `End`, `Cancelled`, or `Again` (nothing yet: call again); a failure
    /// is thrown (and again on later calls).
    Status next(std::chrono::milliseconds timeout, Chunk& out) {
        const Status st = pull(timeout, out);
        if (is_failure(st)) detail::raise_error(*error_);
        return st;
    }
    /// The same, but a failure is returned (and set in `ec`, `error()` has it) instead.
    Status next(std::chrono::milliseconds timeout, Chunk& out, std::error_code& ec) {
        const Status st = pull(timeout, out);
        detail::report(is_failure(st) ? error_ : std::nullopt, ec);
        return st;
    }

    /// The range-for without exceptions: `for (auto& c : stream.chunks(ec))` ends
    /// at the end of the stream (`ec` clear) or at a failure or an `error`/`auth`
    /// chunk (`ec` set; `error()` has the details, `error()->chunk()` the chunk).
    Chunks chunks(std::error_code& ec) & noexcept;
    Chunks chunks(std::error_code& ec) && = delete;  // the stream would die before the loop

    /// Cancels the stream: a blocked reader wakes at once and the stream ends with
    /// `Status::Cancelled`. While this object is alive and not being moved (a
    /// `CancelHandle` has no such limit); safe to repeat.
    void cancel() const noexcept { backend_api_cancel(p_.get()); }
    /// A handle that cancels this stream from any thread, safely even after the
    /// stream is gone; an empty handle once the stream is closed.
    CancelHandle canceller() const {
        backend_api_canceller* c = nullptr;
        if (backend_api_stream_canceller(p_.get(), &c, nullptr) != BACKEND_API_STATUS_OK) return CancelHandle();
        return CancelHandle(c);
    }

    /// The statistics so far: bytes, chunks, retries, timings. Also while another
    /// thread reads the stream, and after `close()` (what they were then); zeros
    /// for an empty stream.
    Stats stats() const noexcept {
        if (!p_) return closed_stats_.value_or(Stats());
        return Stats::from_c(c_stats());
    }

    /// The assembled answer so far: during the stream, after it ended and after
    /// `close()` (then as it was at close). With `Client::assemble(false)` its text
    /// is empty. Also while another thread reads the stream.
    Answer answer() const {
        Answer a;
        detail::report(read_answer(a));
        return a;
    }
    Answer answer(std::error_code& ec) const {
        Answer a;
        detail::report(read_answer(a), ec);
        return a;
    }

    /// For event loops: a file descriptor (a `SOCKET` on Windows) that polls
    /// readable whenever `next(0ms, chunk)` would not return `Again` (spurious
    /// wake-ups happen). Only poll it; never read, write or close it.
    /// Use `poll_timeout()` as the poll timeout.
    std::intptr_t fd() const {
        std::ptrdiff_t fd = -1;
        detail::report(read_fd(fd));
        return static_cast<std::intptr_t>(fd);
    }
    std::intptr_t fd(std::error_code& ec) const {
        std::ptrdiff_t fd = -1;
        detail::report(read_fd(fd), ec);
        return static_cast<std::intptr_t>(fd);
    }

    /// When the stream's idle or total timeout, or the request's own timeout
    /// (`Request::timeout`), ends it (zero: now); empty while none runs (none set,
    /// the idle clock not started before the headers, or the stream over). The
    /// client's timeouts make `fd()` readable when they fire; the request's own is
    /// the wrapper's, noticed by the next `next`: an event loop polls `fd()` with
    /// this as its timeout, then calls `next`.
    std::optional<std::chrono::milliseconds> poll_timeout() const noexcept {
        const std::int64_t ms = backend_api_stream_timeout_ms(p_.get());
        std::optional<std::chrono::milliseconds> out;
        if (ms >= 0) out = std::chrono::milliseconds(ms);
        if (deadline_ && p_ && status_ == Status::Ok) {
            const auto left = std::max(std::chrono::milliseconds(0), std::chrono::ceil<std::chrono::milliseconds>(
                                                                         *deadline_ - std::chrono::steady_clock::now()));
            if (!out || left < *out) out = left;
        }
        return out;
    }

    /// The value of the response header `name` (any case, such as
    /// `"x-request-id"`); empty when the response has none, or before the headers
    /// arrived (after the first chunk or the end they are there). A copy.
    std::optional<std::string> header(std::string_view name) const {
        const std::string n(name);
        const char* value = nullptr;
        std::size_t len = 0;
        if (n.find('\0') != std::string::npos ||
            backend_api_stream_header(p_.get(), n.c_str(), &value, &len) != BACKEND_API_STATUS_OK)
            return std::nullopt;
        return std::string(value, len);
    }
    /// Every response header, names in lower case, in the order received; empty
    /// before the headers arrived. Copies.
    std::vector<std::pair<std::string, std::string>> headers() const {
        std::vector<std::pair<std::string, std::string>> out;
        const char* name = nullptr;
        const char* value = nullptr;
        for (std::size_t i = 0; backend_api_stream_header_at(p_.get(), i, &name, &value) == BACKEND_API_STATUS_OK; ++i)
            out.emplace_back(name, value);
        return out;
    }

    /// How the stream stands: `Ok` while chunks may still come, then `End`
    /// (complete), `Cancelled` (cancelled or closed), or the failure's status.
    /// An in-stream error leaves it as it is (see `error()`). The reading thread's.
    Status status() const noexcept { return status_; }
    /// What ended reading: the failure, or the `StreamError` of an `error`/`auth`
    /// chunk (`error()->chunk()`); nullptr otherwise. The reading thread's.
    const Error* error() const noexcept { return error_ ? &*error_ : nullptr; }

    /// Starts the range-for: reads the first chunk (may throw).
    iterator begin();
    iterator end() noexcept;

    /// The C handle, still owned by this object (NULL once closed).
    backend_api_stream* get() const noexcept { return p_.get(); }

private:
    friend class iterator;
    friend class Client;

    /// A stream that failed before it began (`Client::open`).
    explicit Stream(Error failure) : status_(failure.status()), error_(std::move(failure)) {}

    /// Ends the stream when the request's own timeout passed: cancelled, with the
    /// failure `TimedOut` (as the client's timeouts end it).
    Status expire() {
        backend_api_cancel(p_.get());
        error_ = Error(Status::TimedOut, "the request's timeout elapsed (Request::timeout)");
        return status_ = Status::TimedOut;
    }

    static bool is_failure(Status st) noexcept {
        return st != Status::Ok && st != Status::End && st != Status::Cancelled && st != Status::Again;
    }

    /// One `backend_api_next`: `Ok` with the chunk in `out`, `Again`, or a final
    /// status, kept in `status_` (a failure also in `error_`).
    Status pull(std::chrono::milliseconds timeout, Chunk& out) {
        if (!p_) return status_ == Status::Ok ? Status::Cancelled : status_;
        if (status_ != Status::Ok) return status_;  // final (also a request timeout, which C does not know)
        std::int64_t wait = static_cast<std::int64_t>(timeout.count());
        if (deadline_) {  // wait no longer than the request's own timeout leaves
            const std::int64_t left = std::max<std::int64_t>(
                0, std::chrono::ceil<std::chrono::milliseconds>(*deadline_ - std::chrono::steady_clock::now()).count());
            if (wait < 0 || wait > left) wait = left;
        }
        backend_api_chunk* c = nullptr;
        backend_api_error* err = nullptr;
        const backend_api_status st = backend_api_next(p_.get(), wait, &c, &err);
        if (st == BACKEND_API_STATUS_AGAIN && deadline_ && std::chrono::steady_clock::now() >= *deadline_)
            return expire();
        switch (st) {
            case BACKEND_API_STATUS_OK:
                out = Chunk(c);
                return Status::Ok;
            case BACKEND_API_STATUS_AGAIN:
                return Status::Again;
            case BACKEND_API_STATUS_END:
            case BACKEND_API_STATUS_CANCELLED:
                return status_ = static_cast<Status>(st);
            default:
                error_ = Error::from_c(err, st);
                return status_ = static_cast<Status>(st);
        }
    }

    /// One step of the convenience paths: true with the next chunk in `current_`;
    /// false at the end (`ec` cleared) or at a failure or a fatal chunk, which is
    /// set in `ec` or, when `ec` is null, raised. A fatal chunk is final here.
    bool step(std::error_code* ec) {
        current_ = Chunk();
        if (!(error_ && error_->chunk() != nullptr)) {
            const Status st = pull(std::chrono::milliseconds(-1), current_);
            if (st == Status::Ok && !current_.is_fatal()) return true;
            if (st == Status::Ok) {
                error_ = StreamError(std::move(current_));
            } else if (!is_failure(st)) {
                if (ec != nullptr) ec->clear();
                return false;
            }
        }
        if (ec == nullptr) detail::raise_error(*error_);
        *ec = error_->code();
        return false;
    }

    backend_api_stats c_stats() const noexcept {
        backend_api_stats raw{};
        raw.size = sizeof raw;
        if (backend_api_stream_stats(p_.get(), &raw) != BACKEND_API_STATUS_OK) return backend_api_stats{};
        return raw;
    }
    std::optional<Error> read_answer(Answer& out) const {
        if (!p_) {
            if (closed_answer_) out = Answer::from_chunk(closed_answer_);
            return std::nullopt;
        }
        backend_api_chunk* c = nullptr;
        std::optional<Error> e = detail::attempt(backend_api_stream_answer, p_.get(), &c);
        if (!e) out = Answer::from_chunk(Chunk(c));
        return e;
    }
    std::optional<Error> read_fd(std::ptrdiff_t& fd) const {
        return detail::attempt(backend_api_stream_fd, static_cast<const backend_api_stream*>(p_.get()), &fd);
    }

    struct Close {
        void operator()(backend_api_stream* p) const noexcept { backend_api_close(p); }
    };
    std::unique_ptr<backend_api_stream, Close> p_;
    Chunk current_;
    Status status_ = Status::Ok;
    std::optional<Error> error_;
    std::optional<Stats> closed_stats_;
    Chunk closed_answer_;
    std::optional<std::chrono::steady_clock::time_point> deadline_;  ///< the request's own timeout
};

/// Input iterator of a `Stream`: `*it` is the stream's current chunk, replaced
/// by `++it` (move it out to keep it). `++it` throws, or sets the `ec` of `chunks(ec)`.
class Stream::iterator {
public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Chunk;
    using difference_type = std::ptrdiff_t;
    using pointer = Chunk*;
    using reference = Chunk&;

    iterator() noexcept = default;
    reference operator*() const noexcept { return stream_->current_; }
    pointer operator->() const noexcept { return &stream_->current_; }
    iterator& operator++() {
        if (stream_ != nullptr && !stream_->step(ec_)) stream_ = nullptr;
        return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.stream_ == b.stream_; }
    friend bool operator!=(const iterator& a, const iterator& b) noexcept { return a.stream_ != b.stream_; }

private:
    friend class Stream;
    iterator(Stream* s, std::error_code* ec) : stream_(s), ec_(ec) { ++*this; }
    Stream* stream_ = nullptr;
    std::error_code* ec_ = nullptr;
};

/// The range of `Stream::chunks(ec)`.
class Stream::Chunks {
public:
    iterator begin() { return iterator(stream_, ec_); }
    iterator end() noexcept { return iterator(); }

private:
    friend class Stream;
    Chunks(Stream* s, std::error_code* ec) noexcept : stream_(s), ec_(ec) {}
    Stream* stream_;
    std::error_code* ec_;
};

inline Stream::Chunks Stream::chunks(std::error_code& ec) & noexcept { return Chunks(this, &ec); }
inline Stream::iterator Stream::begin() { return iterator(this, nullptr); }
inline Stream::iterator Stream::end() noexcept { return iterator(); }

inline Request Request::follow_up(const Stream& stream, std::optional<std::string_view> user_message) const {
    Request next{Empty{}};
    backend_api_request* out = nullptr;
    next.fail(error_ ? error_
                     : detail::attempt(backend_api_request_follow_up, static_cast<const backend_api_request*>(get()),
                                       static_cast<const backend_api_stream*>(stream.get()),
                                       detail::CStr(user_message.value_or(""), "message", !user_message), &out));
    next.p_.reset(out);
    next.timeout_ = timeout_;
    return next;
}

namespace detail {

/// `s` as a JSON string literal, quotes included: `"` and `\` escaped, control
/// characters as `\u00XX`; other bytes as they are (the library checks UTF-8).
inline std::string json_string(std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (const char c : s) {
        const auto b = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (b < 0x20) {
            out += "\\u00";
            out += hex[b >> 4];
            out += hex[b & 0xF];
        } else {
            out += c;
        }
    }
    return out + '"';
}

}  // namespace detail

inline Request Request::follow_up(const Answer& answer, std::optional<std::string_view> user_message) const {
    Request next{Empty{}};
    std::optional<Error> e = error_;
    // The answer as the library's answer chunk: what backend_api_request_follow_up_answer reads.
    const std::string json = !answer.json.empty()
                                 ? answer.json
                                 : "{\"type\":\"answer\",\"content\":" + detail::json_string(answer.content) +
                                       ",\"conversation\":" + answer.conversation.value_or("null") + "}";
    backend_api_chunk* chunk = nullptr;
    if (!e) e = detail::attempt(backend_api_chunk_parse, json.data(), json.size(), &chunk);
    const Chunk owned(chunk);
    backend_api_request* out = nullptr;
    if (!e)
        e = detail::attempt(backend_api_request_follow_up_answer, static_cast<const backend_api_request*>(get()),
                            static_cast<const backend_api_chunk*>(owned.get()),
                            detail::CStr(user_message.value_or(""), "message", !user_message), &out);
    next.fail(e);
    next.p_.reset(out);
    next.timeout_ = timeout_;
    return next;
}

inline Chunk Chunk::parse(std::string_view json) {
    backend_api_chunk* out = nullptr;
    detail::report(detail::attempt(backend_api_chunk_parse, json.data(), json.size(), &out));
    return Chunk(out);
}

/// `url` with its credentials hidden: the `user:password@` of the authority
/// becomes `***@` (`backend_api_redact_url`), the rule of the library's own
/// messages; for printing a base or proxy URL. Fails (see ERRORS) with
/// `InvalidArgument` for text that is not UTF-8 or holds a NUL byte.
inline std::string redact_url(std::string_view url) {
    const detail::CStr c(url, "URL");
    if (detail::nul_in(c) != nullptr) detail::raise(Error(Status::InvalidArgument, "URL contains a NUL byte"));
    std::string out(url.size() + 8, '\0');
    for (;;) {
        std::size_t needed = 0;
        const backend_api_status st = backend_api_redact_url(c.str.c_str(), &out[0], out.size(), &needed);
        if (st == BACKEND_API_STATUS_OK) {
            out.resize(needed - 1);
            return out;
        }
        if (st != BACKEND_API_STATUS_LIMIT || needed <= out.size())
            detail::raise(Error(static_cast<Status>(st), "backend_api_redact_url refused the URL"));
        out.resize(needed);
    }
}

// ---------------------------------------------------------------- Model

/// One model of a listing (`Client::list_models`): the backend API's (both g4f
/// generations) or an OpenAI-compatible one. What the server does not send is
/// empty or false.
struct Model {
    std::string id;        ///< `id` (newer g4f, OpenAI) or `model` (g4f 6.x)
    std::string provider;  ///< the provider that lists it (backend API); empty in an OpenAI listing
    std::string owned_by;  ///< `owned_by` of an OpenAI listing
    std::optional<std::int64_t> created;  ///< `created` of an OpenAI listing (Unix seconds)
    std::string label;     ///< the name to show
    bool is_default = false;
    bool vision = false;
    bool image = false;
    bool audio = false;
    bool video = false;
    std::string group;  ///< in a grouped listing (`{"group": ..., "models": [...]}`), its name

    /// Reads a listing of any of the three shapes: an OpenAI list (`{"object":
    /// "list", "data": [...]}`), the backend API's object of providers (each a list
    /// of names or model objects), or one provider's list (model objects, or groups
    /// of them), whose models get `provider`.
    static std::vector<Model> listing(std::string_view json, std::string_view provider = {}) {
        std::string wrapped = "{\"l\":";
        wrapped.append(json.data(), json.size()).append("}");
        const Chunk c = Chunk::parse(wrapped);
        std::vector<Model> out;
        if (c.type_at("/l") == JsonType::Array) {
            list(c, "/l", provider, out);
        } else if (c.string_at("/l/object") == std::string_view("list") && c.type_at("/l/data") == JsonType::Array) {
            list(c, "/l/data", {}, out);
        } else if (c.type_at("/l") == JsonType::Object) {
            for (std::size_t i = 0, n = c.count_at("/l").value_or(0); i < n; ++i) {
                const std::string name(c.key_at("/l", i).value_or(std::string_view()));
                list(c, "/l/" + Chunk::pointer_token(name), name, out);
            }
        } else {
            unexpected("a listing is an object or a list");
        }
        return out;
    }

private:
    /// The models of the list at `at`: names, model objects, or groups of them.
    static void list(const Chunk& c, const std::string& at, std::string_view provider, std::vector<Model>& out) {
        const std::optional<std::size_t> n = c.count_at(at);
        if (c.type_at(at) != JsonType::Array || !n) unexpected("a listing's models are a list");
        for (std::size_t i = 0; i < *n; ++i) {
            const std::string item = at + "/" + std::to_string(i);
            if (const auto name = c.string_at(item)) {
                Model m;
                m.id = std::string(*name);
                m.provider = std::string(provider);
                out.push_back(std::move(m));
            } else if (c.type_at(item) != JsonType::Object) {
                unexpected("a model is a name or an object");
            } else if (const auto group = c.string_at(item + "/group")) {
                const std::string models = item + "/models";
                for (std::size_t j = 0, k = c.count_at(models).value_or(0); j < k; ++j)
                    out.push_back(object(c, models + "/" + std::to_string(j), provider, *group));
            } else {
                out.push_back(object(c, item, provider, {}));
            }
        }
    }

    static Model object(const Chunk& c, const std::string& at, std::string_view provider, std::string_view group) {
        const auto text = [&](const char* key) {
            return std::string(c.string_at(at + key).value_or(std::string_view()));
        };
        const auto flag = [&](const char* key) { return c.bool_at(at + key).value_or(false); };
        Model m;
        m.id = c.string_at(at + "/id") ? text("/id") : text("/model");
        m.provider = std::string(provider);
        m.owned_by = text("/owned_by");
        m.created = c.int_at(at + "/created");
        m.label = text("/label");
        m.is_default = flag("/default");
        m.vision = flag("/vision");
        m.image = flag("/image");
        m.audio = flag("/audio");
        m.video = flag("/video");
        m.group = std::string(group);
        return m;
    }

    [[noreturn]] static void unexpected(const char* what) {
        detail::raise(Error(Status::Protocol, std::string("unexpected model listing: ") + what));
    }
};

/// A model with the capabilities its listing states (`Client::model_infos`).
struct ModelInfo {
    std::string id;
    std::optional<std::string> provider;  ///< empty when the listing names none
    std::uint32_t capabilities = 0;       ///< bits of `Capability` the listing says it has
    std::uint32_t known = 0;              ///< bits of `Capability` the listing says anything about

    /// True, false, or empty when the listing does not say.
    std::optional<bool> has(Capability c) const noexcept {
        const auto bit = static_cast<std::uint32_t>(c);
        if ((known & bit) == 0) return std::nullopt;
        return (capabilities & bit) != 0;
    }
};

/// A generated medium fetched into memory (`Client::fetch_media`).
struct FetchedMedium {
    std::vector<std::uint8_t> bytes;
    std::optional<std::string> content_type;  ///< the MIME type the server named
};

/// A generated medium saved to a file (`Client::save_media`).
struct SavedMedium {
    std::uint64_t bytes = 0;
    std::optional<std::string> content_type;
};

// ---------------------------------------------------------------- Client

/// Connection settings for one g4f server: base URL, headers, TLS, proxy,
/// timeouts, limits. Owns a `backend_api_client`. `open`, `complete` and
/// `models` (const) may run on many threads at once; the setters need exclusive
/// access. The setters chain, also on a temporary:
///
///     Client client = Client(url).timeout(Timeout::Idle, 60s).header("X-Tenant", "t1");
class Client : public detail::Settings<Client> {
public:
    /// A client for the server at `base_url` (`http://` or `https://`). TLS is
    /// verified against the platform's trust store (`TrustStore::Platform`: the
    /// system's verifier and store, `SSL_CERT_FILE` honoured); the proxy comes from
    /// the environment (`ALL_PROXY`, `HTTPS_PROXY`, ...) unless `proxy` is called.
    explicit Client(std::string_view base_url) {
        backend_api_client* c = nullptr;
        fail(detail::attempt(backend_api_client_new, detail::CStr(base_url, "base URL"), &c));
        p_.reset(c);
    }

    /// A header sent with every request (secret values never reach logs).
    Client& header(std::string_view name, std::string_view value) & {
        return set(backend_api_client_add_header, detail::CStr(name, "header name"), detail::CStr(value, "header value"));
    }
    /// TLS certificate verification on (default) or off (insecure).
    Client& verify_tls(bool verify) & { return set(backend_api_client_set_verify_tls, verify); }
    /// Trusts only the certificates of this PEM file (read now).
    Client& ca_file(std::string_view path) & {
        return set(backend_api_client_set_ca_file, detail::CStr(path, "CA file path"));
    }
    /// Trusts the certificates of this PEM file (read now) besides the roots
    /// already trusted: a private or corporate CA next to the public ones.
    Client& add_ca_file(std::string_view path) & {
        return set(backend_api_client_add_ca_file, detail::CStr(path, "CA file path"));
    }
    /// Where the roots of trust come from (default `TrustStore::Platform`). Ends a
    /// `ca_file`; CAs added with `add_ca_file` stay.
    Client& trust_store(TrustStore store) & {
        return set(backend_api_client_set_trust_store, static_cast<std::uint32_t>(store));
    }
    /// A proxy: `http://`, `socks4://`, `socks5://` or `socks5h://`, with optional `user:password@`.
    Client& proxy(std::string_view url) & { return set(backend_api_client_set_proxy, detail::CStr(url, "proxy URL")); }
    /// No proxy at all, whatever the environment says.
    Client& no_proxy() & { return set(backend_api_client_set_proxy, static_cast<const char*>(nullptr)); }
    /// Sets a timeout; zero turns it off. See `Timeout` for the defaults.
    Client& timeout(Timeout which, std::chrono::milliseconds ms) & {
        return set(backend_api_client_set_timeout, static_cast<std::uint32_t>(which), static_cast<std::int64_t>(ms.count()));
    }
    /// The wire protocol (default `Protocol::Backend`). With `Protocol::OpenAI`
    /// the base URL ends in `/v1`: chat at `{base}/chat/completions`, models at
    /// `{base}/models` (`models(provider)` with a provider is then `InvalidArgument`).
    /// Requests, streams, chunks and answers work the same for both.
    Client& protocol(Protocol protocol) & {
        return set(backend_api_client_set_protocol, static_cast<std::uint32_t>(protocol));
    }
    /// Bounds one line or event of the response (default 16 MiB).
    Client& max_line(std::size_t bytes) & { return set(backend_api_client_set_max_line, bytes); }
    /// Bounds the assembled answer of each stream (default 64 MiB): its text as
    /// sent and its tool-call JSON. The chunk that would pass it is not delivered:
    /// the stream fails there with `Status::Limit`. No effect with `assemble(false)`.
    Client& max_answer(std::size_t bytes) & { return set(backend_api_client_set_max_answer, bytes); }
    /// Drops lines that are not JSON objects instead of failing with `Protocol`.
    Client& skip_malformed(bool skip) & { return set(backend_api_client_set_skip_malformed, skip); }
    /// With `false`, streams keep no assembled answer (`Stream::answer` then
    /// reports an empty text): for very long streams whose text the caller keeps.
    Client& assemble(bool assemble) & { return set(backend_api_client_set_assemble, assemble); }
    /// Retries a request that failed before any answer began (a connection that
    /// could not be made, or HTTP 429/502/503/504), never once the answer has
    /// begun: up to `max_retries` times (0, the default, turns it off), waiting
    /// `base` doubled each time with jitter, or the server's `Retry-After`, at most `cap`.
    Client& retries(std::uint32_t max_retries, std::chrono::milliseconds base, std::chrono::milliseconds cap) & {
        const auto fits = [](std::chrono::milliseconds ms) {
            return ms.count() >= 0 && ms.count() <= static_cast<std::chrono::milliseconds::rep>(UINT32_MAX);
        };
        if (!fits(base) || !fits(cap)) return invalid("retry delay is out of range");
        return set(backend_api_client_set_retries, max_retries, static_cast<std::uint32_t>(base.count()),
                   static_cast<std::uint32_t>(cap.count()));
    }
    /// Keeps up to `max_idle` idle connections open for this client's later
    /// requests (streams, model listings, media fetches; its copies share them),
    /// each for at most `idle`: a later request then skips the connect (and the
    /// TLS handshake). Default 10 connections for 4 s (g4f's server closes an idle
    /// connection after 5 s); 0 in either turns reuse off. A connection is kept
    /// only after a 2xx answer read to its end; `Stats::reused_connection` says
    /// whether a stream reused one. Calling this (or `proxy`, the TLS setters)
    /// closes the connections kept so far. A negative `idle` is `InvalidArgument`.
    Client& keep_alive(std::size_t max_idle, std::chrono::milliseconds idle) & {
        return set(backend_api_client_set_keep_alive, max_idle, static_cast<std::int64_t>(idle.count()));
    }
    /// Receives the library's log records up to `max_level`. The callback runs on
    /// the streams' own threads, possibly several at once: it must be thread-safe
    /// and quick, and must not use this library; exceptions it throws are dropped.
    /// Messages never hold the api key or secret header values. The library frees
    /// the callback once no stream of this client can call it any more. An empty
    /// callback turns logging off. (Without this call, `BACKEND_API_LOG=debug`
    /// sends records to standard error.)
    Client& log(std::function<void(LogLevel, std::string_view)> callback, LogLevel max_level = LogLevel::Info) & {
        const auto level = static_cast<std::uint32_t>(max_level);
        if (!callback)
            return set(backend_api_client_set_log, backend_api_log_callback{}, static_cast<void*>(nullptr),
                       backend_api_destroy_callback{}, level);
        std::unique_ptr<detail::LogSink> sink(new detail::LogSink{std::move(callback)});
        set(backend_api_client_set_log, &detail::LogSink::call, static_cast<void*>(sink.get()),
            &detail::LogSink::destroy, level);
        if (!error_) sink.release();  // the library owns it now (see `destroy`)
        return *this;
    }

    BACKEND_API_RVALUE_SETTER(Client, header)
    BACKEND_API_RVALUE_SETTER(Client, verify_tls)
    BACKEND_API_RVALUE_SETTER(Client, ca_file)
    BACKEND_API_RVALUE_SETTER(Client, add_ca_file)
    BACKEND_API_RVALUE_SETTER(Client, trust_store)
    BACKEND_API_RVALUE_SETTER(Client, max_answer)
    BACKEND_API_RVALUE_SETTER(Client, proxy)
    BACKEND_API_RVALUE_SETTER(Client, no_proxy)
    BACKEND_API_RVALUE_SETTER(Client, timeout)
    BACKEND_API_RVALUE_SETTER(Client, protocol)
    BACKEND_API_RVALUE_SETTER(Client, max_line)
    BACKEND_API_RVALUE_SETTER(Client, skip_malformed)
    BACKEND_API_RVALUE_SETTER(Client, assemble)
    BACKEND_API_RVALUE_SETTER(Client, retries)
    BACKEND_API_RVALUE_SETTER(Client, keep_alive)
    BACKEND_API_RVALUE_SETTER(Client, log)

    /// Starts streaming the answer to `request` and returns at once; connection
    /// and HTTP errors come from the stream's first read. The client and the
    /// request are copied. Fails for invalid arguments (and for a failure kept by
    /// this client or the request).
    Stream open(const Request& request) const {
        Stream s = start(request);
        detail::report(s.error_);
        return s;
    }
    /// The same; a failure is set in `ec` and the stream returned holds it
    /// (`error()`; reading it reports the failure again).
    Stream open(const Request& request, std::error_code& ec) const {
        Stream s = start(request);
        detail::report(s.error_, ec);
        return s;
    }

    /// Streams the whole answer to `request` and returns it: only an answer the
    /// server completed. An `error` or `auth` chunk fails with a `StreamError`; an
    /// answer cut short (`cancel` from another thread, `shutdown()`) fails with
    /// `Status::Cancelled` ("stream cancelled"), never returns as complete.
    Answer complete(const Request& request, const CancelHandle& cancel = {}) const {
        std::optional<Error> failure;
        Answer a = run(request, cancel, failure);
        detail::report(failure);
        return a;
    }
    /// The same; a failure is set in `ec` and what arrived until then is returned.
    Answer complete(const Request& request, std::error_code& ec) const { return complete(request, {}, ec); }
    Answer complete(const Request& request, const CancelHandle& cancel, std::error_code& ec) const {
        std::optional<Error> failure;
        Answer a = run(request, cancel, failure);
        detail::report(failure, ec);
        return a;
    }

    /// The model listing as JSON text: all providers' models (an object mapping
    /// provider names to model names) or, with `provider`, that provider's list of
    /// model objects. Blocks, bounded by the client's timeouts; `cancel` (from
    /// `CancelHandle::create()`) ends the wait from another thread with `Cancelled`.
    std::string models(std::string_view provider = {}, const CancelHandle& cancel = {}) const {
        std::string out;
        detail::report(fetch_models(provider, cancel, out));
        return out;
    }
    std::string models(std::string_view provider, const CancelHandle& cancel, std::error_code& ec) const {
        std::string out;
        detail::report(fetch_models(provider, cancel, out), ec);
        return out;
    }

    /// The models, typed, under either protocol: with no `provider`, every model
    /// the server lists (the backend API: each with its `provider`, in the order of
    /// the provider names; `Protocol::OpenAI`: the `data` of `{base}/models`, each
    /// with `owned_by` and `created`); with a `provider` (backend API only), that
    /// provider's models with their flags, each with `provider` set. Throws as
    /// `models`, and `Error` (`Protocol`) for a listing of another shape.
    std::vector<Model> list_models(std::string_view provider = {}, const CancelHandle& cancel = {}) const {
        return Model::listing(models(provider, cancel), provider);
    }

    /// The provider listing as JSON text (`GET /backend-api/v2/providers`; under
    /// `Protocol::OpenAI` `{base}/providers`, which some servers lack: `Http` 404).
    /// Blocks and is cancelled as `models`.
    std::string providers(const CancelHandle& cancel = {}) const {
        std::string out;
        detail::report(error_ ? error_
                              : fetch_text(out, [&](const char** json, std::size_t* len, backend_api_error** err) {
                                    return backend_api_providers(p_.get(), cancel.get(), json, len, err);
                                }));
        return out;
    }

    /// The models with the capabilities their listing states (vision, image, audio,
    /// video, tools), under either protocol; arguments as `models`.
    std::vector<ModelInfo> model_infos(std::string_view provider = {}, const CancelHandle& cancel = {}) const {
        detail::report(error_);
        backend_api_model_list* list = nullptr;
        detail::report(detail::attempt(backend_api_model_list_fetch, static_cast<const backend_api_client*>(p_.get()),
                                       detail::CStr(provider, "provider", true), cancel.get(), &list));
        const std::unique_ptr<backend_api_model_list, void (*)(backend_api_model_list*)> owned(
            list, &backend_api_model_list_free);
        std::vector<ModelInfo> out(backend_api_model_list_count(list));
        for (std::size_t i = 0; i < out.size(); ++i) {
            const char* id = nullptr;
            const char* prov = nullptr;
            backend_api_model_list_get(list, i, &id, &prov, &out[i].capabilities, &out[i].known);
            out[i].id = id != nullptr ? id : "";
            if (prov != nullptr) out[i].provider = prov;
        }
        return out;
    }

    /// Downloads a medium an answer generated (`Answer::media`'s `url`; a `data:` URI
    /// is decoded without a request) with this client's TLS, proxy and timeouts; the
    /// client's headers, and `request`'s headers and bearer key, go to the base URL's
    /// origin only. At most `max_bytes` (0: 20 MiB), else `Limit`; `cancel` ends it
    /// from another thread. Blocks.
    FetchedMedium fetch_media(std::string_view url, const Request* request = nullptr, const CancelHandle& cancel = {},
                              std::size_t max_bytes = 0) const {
        detail::report(error_);
        std::uint8_t* data = nullptr;
        std::size_t len = 0;
        const char* type = nullptr;
        detail::report(detail::attempt(backend_api_media_fetch, static_cast<const backend_api_client*>(p_.get()),
                                       static_cast<const backend_api_request*>(request ? request->get() : nullptr),
                                       detail::CStr(url, "media URL"), cancel.get(), max_bytes, &data, &len, &type));
        struct BytesFree {
            std::size_t len;
            void operator()(std::uint8_t* d) const noexcept { backend_api_bytes_free(d, len); }
        };
        const std::unique_ptr<std::uint8_t, BytesFree> owned(data, BytesFree{len});
        const std::unique_ptr<const char, void (*)(const char*)> owned_type(type, &backend_api_string_free);
        FetchedMedium out;
        if (data != nullptr) out.bytes.assign(data, data + len);
        if (type != nullptr) out.content_type = type;
        return out;
    }
    /// The same into the file `path`, written whole or not at all (a failed or
    /// cancelled download leaves no partial file and replaces none).
    SavedMedium save_media(std::string_view url, std::string_view path, const Request* request = nullptr,
                           const CancelHandle& cancel = {}, std::size_t max_bytes = 0) const {
        detail::report(error_);
        SavedMedium out;
        const char* type = nullptr;
        detail::report(detail::attempt(backend_api_media_save, static_cast<const backend_api_client*>(p_.get()),
                                       static_cast<const backend_api_request*>(request ? request->get() : nullptr),
                                       detail::CStr(url, "media URL"), detail::CStr(path, "path"), cancel.get(),
                                       max_bytes, &out.bytes, &type));
        const std::unique_ptr<const char, void (*)(const char*)> owned_type(type, &backend_api_string_free);
        if (type != nullptr) out.content_type = type;
        return out;
    }

    /// The C handle, still owned by this object.
    backend_api_client* get() const noexcept { return p_.get(); }

private:
    /// A C call that hands out JSON text (`backend_api_string_free`) into `out`.
    template <class F>
    static std::optional<Error> fetch_text(std::string& out, F f) {
        const char* json = nullptr;
        std::size_t len = 0;
        backend_api_error* err = nullptr;
        const backend_api_status st = f(&json, &len, &err);
        if (st != BACKEND_API_STATUS_OK) return Error::from_c(err, st);
        const std::unique_ptr<const char, void (*)(const char*)> owned(json, &backend_api_string_free);
        out.assign(json, len);
        return std::nullopt;
    }

    Stream start(const Request& request) const {
        if (error_) return Stream(*error_);
        if (request.error() != nullptr) return Stream(*request.error());
        backend_api_stream* s = nullptr;
        if (auto e = detail::attempt(backend_api_open, static_cast<const backend_api_client*>(p_.get()),
                                     static_cast<const backend_api_request*>(request.get()), &s))
            return Stream(std::move(*e));
        Stream out(s);
        if (request.timeout_) out.deadline_ = std::chrono::steady_clock::now() + *request.timeout_;
        return out;
    }

    /// `complete`: what arrived, and the failure that ended it, if any; an answer
    /// cut short (the stream was cancelled) is the failure `Cancelled`.
    Answer run(const Request& request, const CancelHandle& cancel, std::optional<Error>& failure) const {
        Stream s = start(request);
        const CancelHandle::Link link(cancel, cancel ? s.canceller() : CancelHandle());
        std::error_code ec;
        while (s.step(&ec)) {
        }
        if (ec) {
            failure = s.error_;
        } else if (s.status() == Status::Cancelled) {
            failure = Error(Status::Cancelled, "stream cancelled: the answer was cut short (cancel or shutdown)");
        }
        Answer a;
        std::optional<Error> unread = s.read_answer(a);
        if (!failure) failure = std::move(unread);
        return a;
    }

    std::optional<Error> fetch_models(std::string_view provider, const CancelHandle& cancel, std::string& out) const {
        if (error_) return error_;
        const char* json = nullptr;
        std::size_t len = 0;
        std::optional<Error> e =
            detail::attempt(backend_api_models, static_cast<const backend_api_client*>(p_.get()),
                            detail::CStr(provider, "provider", true), cancel.get(), &json, &len);
        if (e) return e;
        const std::unique_ptr<const char, void (*)(const char*)> owned(json, &backend_api_string_free);
        out.assign(json, len);
        return std::nullopt;
    }

    struct Free {
        void operator()(backend_api_client* p) const noexcept { backend_api_client_free(p); }
    };
    std::unique_ptr<backend_api_client, Free> p_;
};

#undef BACKEND_API_RVALUE_SETTER

}  // namespace backend_api

#endif  // BACKEND_API_HPP
