// backend_api.hpp: a header-only C++17 wrapper over the C API in backend_api.h.
//
// Link with the C library as usual (`pkg-config --cflags --libs backend_api`);
// this header adds nothing to link. Needs C++17. Namespace `backend_api`.
//
//     backend_api::Client client("http://127.0.0.1:8080");
//     backend_api::Request request;
//     request.model("gpt-4o-mini").user("Hello!");
//     backend_api::Stream stream = client.open(request);
//     for (auto& chunk : stream)
//         if (chunk.kind() == backend_api::Kind::Content) std::cout << chunk.text();
//
// ERROR MODEL: exceptions. Every failure of the C library is thrown as
// `backend_api::Error` (a `std::runtime_error` carrying the status code, the HTTP
// status and the server's own message). Why exceptions and not an
// `std::expected`-style result:
//   * the range-for (`for (auto& chunk : stream)`) has no place to hand back an
//     error from `operator++`: a result type would force every user to hand-write
//     the loop; an exception leaves the loop and reaches the caller's handler;
//   * constructors (`Client`, `Request`) cannot return results, and RAII types
//     that may exist half-built are what this wrapper is here to prevent;
//   * `std::expected` is C++23; this header targets C++17 and would have to ship
//     its own imitation.
// What is NOT an exception: the normal ends of a stream (END: the answer is
// complete; CANCELLED: you called cancel), a TIMEOUT of a polling `next`, a field
// a chunk does not have (an empty optional), and in-stream `error`/`auth` chunks,
// which are chunks like in the C API and the Python client (`Chunk::is_fatal`).
// After the loop, `Stream::status()` tells END from CANCELLED. Destructors and
// `cancel` never throw. Memory exhaustion is `std::bad_alloc` as anywhere else.
//
// OWNERSHIP: every class owns its C handle and frees it in its destructor
// (RAII); all are move-only (the C API has no way to copy a handle). `get()`
// lends the raw handle (still owned by the object); `release()` gives it up.
// Strings passed in are copied by the library, so temporaries are fine; a
// `std::string_view` argument may hold any bytes except NUL (a NUL would cut the
// string short in C, so it is refused with `Status::InvalidArgument`).
// `std::string_view`s handed out by a `Chunk` point into that chunk: valid while
// the chunk lives (also after it is moved to another `Chunk` object); copy them
// into a `std::string` to keep them longer. In a range-for, `chunk` is the
// stream's current chunk and is replaced by the next iteration: move it out
// (`backend_api::Chunk kept = std::move(chunk);`) to keep it.
// A `Stream` copies its `Client` and `Request` when opened: both may be changed
// or destroyed afterwards.
//
// THREADS: the C++ rule "const members may run concurrently, non-const ones need
// exclusive access" holds for every class here:
//   * `Client`: `open` and `models` (const) may run on many threads at once;
//     the setters (non-const) must not overlap with any other use.
//   * `Request`: use from one thread at a time; `Client::open` reads it (const).
//   * `Stream`: read (`next`, the range-for) from one thread at a time, any
//     thread. A `CancelHandle` (from `canceller()`) may cancel it from ANY thread
//     at ANY time: while another thread is blocked in `next`/the range-for, and
//     also after the stream was closed or destroyed (then it does nothing): the
//     handle shares a small lock with the stream, so cancel and close never race.
//     `Stream::cancel()` does the same while the `Stream` object itself is alive
//     and not being moved (as for any C++ object); hand other threads a handle.
//     A cancel wakes a blocked reader at once; the loop then ends normally with
//     `status() == Status::Cancelled`.
//   * `Chunk`: one thread at a time (its accessors fill a cache; the C
//     accessors are one-at-a-time per chunk too); chunks may move between threads.
//   * `Error`: an ordinary value; copy it anywhere.
#ifndef BACKEND_API_HPP
#define BACKEND_API_HPP

#include <backend_api.h>

#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace backend_api {

// ---------------------------------------------------------------- enums

/// Every status the C library reports (`backend_api_status`); same numbers.
enum class Status : std::uint32_t {
    Ok = BACKEND_API_STATUS_OK,
    End = BACKEND_API_STATUS_END,
    Timeout = BACKEND_API_STATUS_TIMEOUT,
    Cancelled = BACKEND_API_STATUS_CANCELLED,
    InvalidArgument = BACKEND_API_STATUS_INVALID_ARGUMENT,
    Media = BACKEND_API_STATUS_MEDIA,
    NotFound = BACKEND_API_STATUS_NOT_FOUND,
    Connect = BACKEND_API_STATUS_CONNECT,
    Tls = BACKEND_API_STATUS_TLS,
    TimedOut = BACKEND_API_STATUS_TIMED_OUT,
    Http = BACKEND_API_STATUS_HTTP,
    Io = BACKEND_API_STATUS_IO,
    Protocol = BACKEND_API_STATUS_PROTOCOL,
    Limit = BACKEND_API_STATUS_LIMIT,
    Internal = BACKEND_API_STATUS_INTERNAL,
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
    Answer = BACKEND_API_KIND_ANSWER,  ///< made by this library: `Stream::answer()`
};

/// Log levels for `Client::log` (`backend_api_log_level`); same numbers.
enum class LogLevel : std::uint32_t {
    Error = BACKEND_API_LOG_LEVEL_ERROR,
    Warn = BACKEND_API_LOG_LEVEL_WARN,
    Info = BACKEND_API_LOG_LEVEL_INFO,
    Debug = BACKEND_API_LOG_LEVEL_DEBUG,
    Trace = BACKEND_API_LOG_LEVEL_TRACE,
};

/// A stream's statistics (`Stream::stats`): `bytes`, `chunks`, `delivered`,
/// `skipped`, `retries`, and `headers_us`, `first_chunk_us`, `elapsed_us`
/// (microseconds since open; -1 until known).
using Stats = backend_api_stats;

/// Which client timeout `Client::timeout` sets (`backend_api_timeout`).
enum class Timeout : std::uint32_t {
    Connect = BACKEND_API_TIMEOUT_CONNECT,  ///< resolve, connect, proxy, TLS; default 30 s
    Headers = BACKEND_API_TIMEOUT_HEADERS,  ///< request sent to response headers; default 120 s
    Idle = BACKEND_API_TIMEOUT_IDLE,        ///< longest gap between two chunks; default 300 s
    Total = BACKEND_API_TIMEOUT_TOTAL,      ///< the whole exchange; off by default
};

/// Where `Request::api_key` puts the key. `Body` is what the Python client does.
enum class KeyPlacement : std::uint32_t {
    Body = BACKEND_API_KEY_BODY,      ///< the body's `"api_key"` field
    Bearer = BACKEND_API_KEY_BEARER,  ///< an `Authorization: Bearer <key>` header
    Both = BACKEND_API_KEY_BODY | BACKEND_API_KEY_BEARER,
};

/// The library's version, such as "0.1.0" (static storage). Any thread.
inline std::string_view version() noexcept { return backend_api_version(); }

/// The name of a status, such as "HTTP" (static storage). Any thread.
inline std::string_view status_name(Status status) noexcept {
    return backend_api_status_name(static_cast<std::uint32_t>(status));
}

// ---------------------------------------------------------------- Error

/// Every failure of the library. `what()` is the library's message (it never
/// contains the api key). A value type: copy it, keep it, pass it between threads.
class Error : public std::runtime_error {
public:
    Error(Status status, const std::string& message, std::uint16_t http_status = 0,
          std::optional<std::string> server_message = std::nullopt)
        : std::runtime_error(message),
          status_(status),
          http_status_(http_status),
          server_message_(std::move(server_message)) {}

    /// Takes ownership of `err` (frees it, also when copying its strings throws)
    /// and builds the exception from it; `fallback` is used when `err` is NULL.
    static Error from_c(backend_api_error* err, backend_api_status fallback) {
        std::unique_ptr<backend_api_error, void (*)(backend_api_error*)> guard(err, &backend_api_error_free);
        if (err == nullptr) {
            Status s = static_cast<Status>(fallback);
            return Error(s, std::string(backend_api::status_name(s)));
        }
        const char* server = backend_api_error_server_message(err);
        return Error(static_cast<Status>(backend_api_error_status(err)), backend_api_error_message(err),
                     backend_api_error_http_status(err),
                     server != nullptr ? std::optional<std::string>(server) : std::nullopt);
    }

    /// The status code: `Status::Http`, `Status::Connect`, ... (never `Ok`).
    Status status() const noexcept { return status_; }
    /// The status's name, such as "HTTP".
    std::string_view status_name() const noexcept { return backend_api::status_name(status_); }
    /// The HTTP status code for `Status::Http`, else 0.
    std::uint16_t http_status() const noexcept { return http_status_; }
    /// The server's own `{"error":{"message":...}}` of an HTTP error, when it sent one.
    const std::optional<std::string>& server_message() const noexcept { return server_message_; }

private:
    Status status_;
    std::uint16_t http_status_;
    std::optional<std::string> server_message_;
};

namespace detail {

/// Runs `f(&err)`, a C call that reports failure in a `backend_api_error**`, and
/// throws its error (taking ownership) unless it returned OK. The status is read
/// before `err` (a plain `check(f(&err), err)` could read `err` first).
template <class F>
void call(F&& f) {
    backend_api_error* err = nullptr;
    const backend_api_status status = f(&err);
    if (status != BACKEND_API_STATUS_OK) throw Error::from_c(err, status);
}

/// A NUL-terminated copy of `s`; refuses an embedded NUL, which C would cut at.
inline std::string c_str(std::string_view s, const char* what) {
    if (s.find('\0') != std::string_view::npos)
        throw Error(Status::InvalidArgument, std::string(what) + " contains a NUL byte");
    return std::string(s);
}

struct ClientFree {
    void operator()(backend_api_client* p) const noexcept { backend_api_client_free(p); }
};
struct RequestFree {
    void operator()(backend_api_request* p) const noexcept { backend_api_request_free(p); }
};
struct ChunkFree {
    void operator()(backend_api_chunk* p) const noexcept { backend_api_chunk_free(p); }
};
struct StringFree {
    void operator()(char* p) const noexcept { backend_api_string_free(p); }
};

/// The `user_data` of a log callback: the C++ callable. Shared by the client and
/// every stream opened from it, so it lives as long as anything may call it.
struct LogSink {
    std::function<void(LogLevel, std::string_view)> fn;

    static void trampoline(void* user_data, backend_api_log_level level, const char* message) noexcept {
        try {
            static_cast<LogSink*>(user_data)->fn(static_cast<LogLevel>(level),
                                                 message != nullptr ? std::string_view(message) : std::string_view());
        } catch (...) {
            // An exception must not cross into the library's thread: dropped.
        }
    }
};

/// Milliseconds as the `uint32_t` the C API takes; refuses what does not fit.
inline std::uint32_t ms_u32(std::chrono::milliseconds ms, const char* what) {
    if (ms.count() < 0 || ms.count() > static_cast<std::chrono::milliseconds::rep>(UINT32_MAX))
        throw Error(Status::InvalidArgument, std::string(what) + " is out of range");
    return static_cast<std::uint32_t>(ms.count());
}

/// What a `Stream` shares with its `CancelHandle`s: the C stream behind a lock.
/// Only `Stream::close` writes `stream` (under the lock); cancel reads it under
/// the lock, so a cancel never runs during or after `backend_api_close`.
struct StreamShared {
    std::mutex lock;
    backend_api_stream* stream = nullptr;

    void cancel() noexcept {
        std::lock_guard<std::mutex> g(lock);
        backend_api_cancel(stream);  // NULL (closed) is a no-op
    }
};

}  // namespace detail

// ---------------------------------------------------------------- Chunk

/// One chunk of an answer (g4f's `RawResponse`). Owns a `backend_api_chunk`.
/// A default-constructed or moved-from `Chunk` is empty: its accessors return
/// empty views, `Kind::Other` and `false`. One thread at a time.
class Chunk {
public:
    Chunk() noexcept = default;
    /// Adopts a chunk from `backend_api_next` (takes ownership).
    explicit Chunk(backend_api_chunk* owned) noexcept : p_(owned) {}

    Chunk(Chunk&& other) noexcept { *this = std::move(other); }
    Chunk& operator=(Chunk&& other) noexcept {
        if (this != &other) {
            p_ = std::move(other.p_);
            text_state_ = std::exchange(other.text_state_, TextState::Unknown);
            text_ = std::exchange(other.text_, std::string_view());
        }
        return *this;
    }
    Chunk(const Chunk&) = delete;
    Chunk& operator=(const Chunk&) = delete;
    ~Chunk() = default;

    explicit operator bool() const noexcept { return p_ != nullptr; }

    /// What the chunk is, to branch on without comparing strings.
    Kind kind() const noexcept { return static_cast<Kind>(backend_api_chunk_kind(p_.get())); }
    /// The chunk's `type` ("content", "reasoning", ...); empty when it has none.
    std::string_view type() const noexcept { return backend_api_chunk_type(p_.get()); }
    /// True for `error` and `auth` chunks: the answer ends (only `log` chunks follow).
    bool is_fatal() const noexcept { return kind() == Kind::Error || kind() == Kind::Auth; }

    /// The whole JSON object as the server sent it.
    std::string_view json() const noexcept {
        std::size_t len = 0;
        const char* s = backend_api_chunk_json(p_.get(), &len);
        return std::string_view(s, len);
    }

    /// Whether the chunk has a main text (see `text`).
    bool has_text() const { return fetch_text(); }
    /// The main text: `content` of a content chunk, `token` of reasoning, `message`
    /// of error/auth/message, `title`, `log`, `preview`; empty when there is none
    /// (`has_text` tells an empty text from none). May contain NUL bytes.
    std::string_view text() const {
        fetch_text();
        return text_;
    }

    /// A top-level field: a string's value, any other value (number, object, list,
    /// true, null) as its JSON text; empty optional when the field is absent.
    /// Throws `Error` for a key with a NUL byte. Each call lends a new copy that
    /// lives as long as the chunk: call it once per field, not in a loop.
    std::optional<std::string_view> field(std::string_view key) const {
        const std::string k = detail::c_str(key, "field name");
        const char* value = nullptr;
        std::size_t len = 0;
        const backend_api_status st = backend_api_chunk_field(p_.get(), k.c_str(), &value, &len);
        if (st == BACKEND_API_STATUS_NOT_FOUND) return std::nullopt;
        if (st != BACKEND_API_STATUS_OK) throw Error(static_cast<Status>(st), "backend_api_chunk_field failed");
        return std::string_view(value, len);
    }

    /// The C handle, still owned by this object.
    backend_api_chunk* get() const noexcept { return p_.get(); }
    /// Gives up ownership: free the result with `backend_api_chunk_free`.
    backend_api_chunk* release() noexcept {
        text_state_ = TextState::Unknown;
        text_ = std::string_view();
        return p_.release();
    }

private:
    enum class TextState : unsigned char { Unknown, None, Some };

    // `backend_api_chunk_text` lends a fresh copy per call: ask once, keep the view.
    bool fetch_text() const {
        if (text_state_ == TextState::Unknown && p_) {
            std::size_t len = 0;
            const char* s = backend_api_chunk_text(p_.get(), &len);
            text_state_ = s != nullptr ? TextState::Some : TextState::None;
            if (s != nullptr) text_ = std::string_view(s, len);
        }
        return text_state_ == TextState::Some;
    }

    std::unique_ptr<backend_api_chunk, detail::ChunkFree> p_;
    mutable TextState text_state_ = TextState::Unknown;
    mutable std::string_view text_;
};

// ---------------------------------------------------------------- Request

class Stream;

/// One conversation request, built with chained setters:
///
///     Request r;
///     r.model("gpt-4o").system("Be brief.").user("Describe this.")
///      .media_file("photo.jpg").field_json("web_search", "true").api_key(key);
///
/// Every setter copies its arguments and throws `Error` on a bad value (malformed
/// JSON, unreadable or unrecognised media, a reserved field name, ...). Owns a
/// `backend_api_request`. One thread at a time.
class Request {
public:
    /// An empty request (model "", no messages).
    Request() : p_(backend_api_request_new()) {
        if (!p_) throw std::bad_alloc();
    }
    /// Adopts a request from `backend_api_request_new` (takes ownership).
    explicit Request(backend_api_request* owned) : p_(owned) {
        if (!p_) throw Error(Status::InvalidArgument, "NULL request");
    }
    Request(Request&&) noexcept = default;
    Request& operator=(Request&&) noexcept = default;

    /// The model name ("" lets the server choose).
    Request& model(std::string_view name) {
        const std::string m = detail::c_str(name, "model");
        call([&](backend_api_error** e) { return backend_api_request_set_model(p_.get(), m.c_str(), e); });
        return *this;
    }
    /// Appends a message with plain-text content.
    Request& message(std::string_view role, std::string_view content) {
        const std::string r = detail::c_str(role, "role"), c = detail::c_str(content, "content");
        call([&](backend_api_error** e) { return backend_api_request_add_message(p_.get(), r.c_str(), c.c_str(), e); });
        return *this;
    }
    Request& system(std::string_view content) { return message("system", content); }
    Request& user(std::string_view content) { return message("user", content); }
    Request& assistant(std::string_view content) { return message("assistant", content); }
    /// Appends a message whose content is JSON text (a string or a list of parts).
    Request& message_json(std::string_view role, std::string_view content_json) {
        const std::string r = detail::c_str(role, "role"), c = detail::c_str(content_json, "content JSON");
        call([&](backend_api_error** e) {
            return backend_api_request_add_message_json(p_.get(), r.c_str(), c.c_str(), e);
        });
        return *this;
    }
    /// Replaces all messages with a JSON array of `{"role": ..., "content": ...}`.
    Request& messages_json(std::string_view messages) {
        const std::string m = detail::c_str(messages, "messages JSON");
        call([&](backend_api_error** e) { return backend_api_request_set_messages_json(p_.get(), m.c_str(), e); });
        return *this;
    }
    /// Sets the api key (never logged, never in error messages).
    Request& api_key(std::string_view key, KeyPlacement where = KeyPlacement::Body) {
        const std::string k = detail::c_str(key, "api key");
        call([&](backend_api_error** e) {
            return backend_api_request_set_api_key(p_.get(), k.c_str(), static_cast<std::uint32_t>(where), e);
        });
        return *this;
    }
    /// Removes the api key: the body then has no `api_key` field at all.
    Request& clear_api_key() {
        call([&](backend_api_error** e) {
            return backend_api_request_set_api_key(p_.get(), nullptr, BACKEND_API_KEY_BODY, e);
        });
        return *this;
    }
    /// An extra body field (the Python client's `**kwargs`) from JSON text:
    /// `field_json("web_search", "true")`, `field_json("conversation", "{...}")`.
    /// `model`, `messages`, `media` and `api_key` are refused (they have setters).
    Request& field_json(std::string_view key, std::string_view value_json) {
        const std::string k = detail::c_str(key, "field name"), v = detail::c_str(value_json, "field JSON");
        call([&](backend_api_error** e) { return backend_api_request_set_field_json(p_.get(), k.c_str(), v.c_str(), e); });
        return *this;
    }
    /// An extra body field with a string value (no JSON quoting needed):
    /// `field("provider", "OpenaiChat")`.
    Request& field(std::string_view key, std::string_view value) {
        const std::string k = detail::c_str(key, "field name"), v = detail::c_str(value, "field value");
        call([&](backend_api_error** e) {
            return backend_api_request_set_field_string(p_.get(), k.c_str(), v.c_str(), e);
        });
        return *this;
    }
    /// Media from bytes (copied and base64-encoded now). The type comes from the
    /// file name's extension for audio, else from the bytes (jpeg, png, gif, webp);
    /// anything else throws `Status::Media`. An empty `filename` sends none.
    Request& media_bytes(const void* data, std::size_t len, std::string_view filename = {}) {
        const std::string f = detail::c_str(filename, "file name");
        call([&](backend_api_error** e) {
            return backend_api_request_add_media_bytes(p_.get(), static_cast<const std::uint8_t*>(data), len,
                                                       f.empty() ? nullptr : f.c_str(), e);
        });
        return *this;
    }
    Request& media_bytes(const std::vector<std::uint8_t>& data, std::string_view filename = {}) {
        return media_bytes(data.data(), data.size(), filename);
    }
    Request& media_bytes(std::string_view data, std::string_view filename = {}) {
        return media_bytes(data.data(), data.size(), filename);
    }
    /// Media from a file, read now; its base name is sent as the file name.
    Request& media_file(std::string_view path) {
        const std::string p = detail::c_str(path, "path");
        call([&](backend_api_error** e) { return backend_api_request_add_media_file(p_.get(), p.c_str(), e); });
        return *this;
    }
    /// Media by reference: a `data:` URI or an `http(s)://` URL, sent as it is.
    Request& media_uri(std::string_view uri, std::string_view filename = {}) {
        const std::string u = detail::c_str(uri, "media URI"), f = detail::c_str(filename, "file name");
        call([&](backend_api_error** e) {
            return backend_api_request_add_media_uri(p_.get(), u.c_str(), f.empty() ? nullptr : f.c_str(), e);
        });
        return *this;
    }
    /// A header sent with this request only, after the client's headers (secret
    /// values never reach logs). Throws `Error` for an invalid name or value.
    Request& header(std::string_view name, std::string_view value) {
        const std::string n = detail::c_str(name, "header name"), v = detail::c_str(value, "header value");
        call([&](backend_api_error** e) { return backend_api_request_add_header(p_.get(), n.c_str(), v.c_str(), e); });
        return *this;
    }
    /// The request that continues the conversation after `stream`: this request's
    /// model, key, extra fields and headers, its messages plus the stream's answer so
    /// far (as the assistant) and `user_message`, and the `conversation` state the
    /// server returned. Media are not sent again. Throws `Error`.
    Request follow_up(const Stream& stream, std::string_view user_message) const;

    /// The C handle, still owned by this object.
    backend_api_request* get() const noexcept { return p_.get(); }
    /// Gives up ownership: free the result with `backend_api_request_free`.
    backend_api_request* release() noexcept { return p_.release(); }

private:
    template <class F>
    void call(F&& f) {
        detail::call(std::forward<F>(f));
    }

    std::unique_ptr<backend_api_request, detail::RequestFree> p_;
};

// ---------------------------------------------------------------- Stream

/// Cancels one stream from any thread, at any time; copyable; outliving the
/// stream is fine (cancelling a closed stream does nothing). Never throws.
class CancelHandle {
public:
    CancelHandle() noexcept = default;
    void cancel() const noexcept {
        if (shared_) shared_->cancel();
    }
    void operator()() const noexcept { cancel(); }

private:
    friend class Stream;
    explicit CancelHandle(std::shared_ptr<detail::StreamShared> s) noexcept : shared_(std::move(s)) {}
    std::shared_ptr<detail::StreamShared> shared_;
};

/// One streaming answer in flight, from `Client::open`. Owns a
/// `backend_api_stream`; the destructor closes it (promptly, even when the
/// server stalls). Read it with a range-for or `next`:
///
///     for (auto& chunk : stream) { ... }   // throws Error when the stream fails
///     if (stream.status() == Status::Cancelled) { ... }
///
/// Reading is for one thread at a time; a `CancelHandle` cancels from any thread.
class Stream {
public:
    class iterator;

    /// Adopts a stream from `backend_api_open` (takes ownership).
    explicit Stream(backend_api_stream* owned) : shared_(std::make_shared<detail::StreamShared>()) {
        if (owned == nullptr) throw Error(Status::InvalidArgument, "NULL stream");
        shared_->stream = owned;
    }
    Stream(Stream&& other) noexcept
        : shared_(std::move(other.shared_)),
          current_(std::move(other.current_)),
          status_(std::exchange(other.status_, Status::Cancelled)),
          keep_(std::move(other.keep_)) {}
    Stream& operator=(Stream&& other) noexcept {
        if (this != &other) {
            close();
            shared_ = std::move(other.shared_);
            current_ = std::move(other.current_);
            status_ = std::exchange(other.status_, Status::Cancelled);
            keep_ = std::move(other.keep_);
        }
        return *this;
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    ~Stream() { close(); }

    /// Cancels, joins the stream's thread and frees it; chunks already taken stay
    /// valid. Safe to repeat. Not while another thread reads this stream.
    void close() noexcept {
        if (!shared_) return;
        backend_api_stream* s = nullptr;
        {
            std::lock_guard<std::mutex> g(shared_->lock);  // waits for a running cancel
            s = std::exchange(shared_->stream, nullptr);
        }
        backend_api_close(s);
        if (status_ == Status::Ok) status_ = Status::Cancelled;
    }

    /// Waits for the next chunk. Empty optional when the answer is complete
    /// (`status()` is `End`) or was cancelled (`Cancelled`); throws `Error` when
    /// the stream failed (and again on later calls).
    std::optional<Chunk> next() {
        Chunk c;
        if (next(std::chrono::milliseconds(-1), c) == Status::Ok) return std::optional<Chunk>(std::move(c));
        return std::nullopt;
    }

    /// Waits up to `timeout` (0: only look; negative: for ever) for a chunk.
    /// Returns `Ok` (the chunk is in `out`), `End`, `Cancelled`, or `Timeout`
    /// (nothing yet: call again); throws `Error` when the stream failed.
    Status next(std::chrono::milliseconds timeout, Chunk& out) {
        backend_api_stream* s = shared_ ? shared_->stream : nullptr;
        if (s == nullptr) return status_ == Status::End ? Status::End : Status::Cancelled;
        backend_api_chunk* c = nullptr;
        backend_api_error* err = nullptr;
        const backend_api_status st = backend_api_next(s, static_cast<std::int64_t>(timeout.count()), &c, &err);
        switch (st) {
            case BACKEND_API_STATUS_OK:
                out = Chunk(c);
                return Status::Ok;
            case BACKEND_API_STATUS_TIMEOUT:
                return Status::Timeout;
            case BACKEND_API_STATUS_END:
            case BACKEND_API_STATUS_CANCELLED:
                status_ = static_cast<Status>(st);
                return status_;
            default:
                status_ = static_cast<Status>(st);
                throw Error::from_c(err, st);
        }
    }

    /// Cancels the stream: a blocked reader wakes at once and the stream ends
    /// with `Status::Cancelled`. Any thread, while this object is alive and not
    /// being moved (a `CancelHandle` has no such limit); safe to repeat.
    void cancel() const noexcept {
        if (shared_) shared_->cancel();
    }
    /// A handle that cancels this stream from another thread, safely even after
    /// the stream is gone.
    CancelHandle canceller() const noexcept { return CancelHandle(shared_); }

    /// The statistics so far: bytes, chunks, retries, timings. Also while another
    /// thread reads the stream. Throws `Error` once the stream is closed.
    Stats stats() const {
        Stats out{};
        const backend_api_status st = backend_api_stream_stats(get(), &out);
        if (st != BACKEND_API_STATUS_OK) throw Error(static_cast<Status>(st), "the stream is closed");
        return out;
    }

    /// The assembled answer so far, as a chunk of kind `Kind::Answer`: read its
    /// fields `content`, `reasoning`, `finish_reason`, `title`, `provider`, `model`,
    /// `error` (text), `usage`, `tool_calls`, `conversation` (JSON) with
    /// `Chunk::field`. During and after the stream (not after close). Throws `Error`.
    Chunk answer() const {
        backend_api_chunk* c = nullptr;
        detail::call([&](backend_api_error** e) { return backend_api_stream_answer(get(), &c, e); });
        return Chunk(c);
    }

    /// For event loops: a file descriptor that polls readable whenever
    /// `next(0ms, chunk)` would not return `Timeout` (spurious wake-ups happen).
    /// Only poll it; never read, write or close it: the stream owns it. Use
    /// `poll_timeout()` as the poll timeout. Throws `Error`.
    int fd() const {
        std::int32_t fd = -1;
        detail::call([&](backend_api_error** e) { return backend_api_stream_fd(get(), &fd, e); });
        return fd;
    }

    /// How long an event loop may wait before calling `next` so that the idle or
    /// total timeout is noticed (zero: now); empty when neither is set.
    std::optional<std::chrono::milliseconds> poll_timeout() const noexcept {
        const std::int64_t ms = backend_api_stream_timeout_ms(get());
        if (ms < 0) return std::nullopt;
        return std::chrono::milliseconds(ms);
    }

    /// How the stream stands: `Ok` while chunks may still come, then `End`
    /// (complete), `Cancelled` (cancelled or closed), or the error status thrown.
    Status status() const noexcept { return status_; }

    /// Starts the range-for: reads the first chunk (may throw `Error`).
    iterator begin();
    iterator end() noexcept;

    /// The C handle, still owned by this object (NULL once closed).
    backend_api_stream* get() const noexcept { return shared_ ? shared_->stream : nullptr; }

private:
    friend class iterator;
    friend class Client;

    /// Reads the next chunk into `current_`; false at the end.
    bool advance() {
        current_ = Chunk();
        return next(std::chrono::milliseconds(-1), current_) == Status::Ok;
    }

    std::shared_ptr<detail::StreamShared> shared_;
    Chunk current_;
    Status status_ = Status::Ok;
    std::shared_ptr<void> keep_;  // the client's log callback, alive until the stream is closed
};

/// Input iterator of a `Stream`: `*it` is the stream's current chunk, replaced
/// by `++it` (move it out to keep it). `++it` may throw `Error`.
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
        if (stream_ != nullptr && !stream_->advance()) stream_ = nullptr;
        return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.stream_ == b.stream_; }
    friend bool operator!=(const iterator& a, const iterator& b) noexcept { return a.stream_ != b.stream_; }

private:
    friend class Stream;
    explicit iterator(Stream* s) noexcept : stream_(s) {}
    Stream* stream_ = nullptr;
};

inline Stream::iterator Stream::begin() { return iterator(advance() ? this : nullptr); }
inline Stream::iterator Stream::end() noexcept { return iterator(); }

inline Request Request::follow_up(const Stream& stream, std::string_view user_message) const {
    const std::string m = detail::c_str(user_message, "message");
    backend_api_request* out = nullptr;
    detail::call([&](backend_api_error** e) {
        return backend_api_request_follow_up(p_.get(), stream.get(), m.c_str(), &out, e);
    });
    return Request(out);
}

// ---------------------------------------------------------------- Client

/// Connection settings for one g4f server: base URL, headers, TLS, proxy,
/// timeouts, limits. Owns a `backend_api_client`. `open` and `models` (const)
/// may run on many threads at once; the setters need exclusive access.
class Client {
public:
    /// A client for the server at `base_url` (`http://` or `https://`). TLS is
    /// verified against the bundled Mozilla roots; the proxy comes from the
    /// environment (`ALL_PROXY`, `HTTPS_PROXY`, ...) unless `proxy` is called.
    explicit Client(std::string_view base_url) {
        const std::string url = detail::c_str(base_url, "base URL");
        backend_api_client* c = nullptr;
        detail::call([&](backend_api_error** e) { return backend_api_client_new(url.c_str(), &c, e); });
        p_.reset(c);
    }
    Client(Client&&) noexcept = default;
    Client& operator=(Client&&) noexcept = default;

    /// A header sent with every request (secret values never reach logs).
    Client& header(std::string_view name, std::string_view value) {
        apply([n = detail::c_str(name, "header name"), v = detail::c_str(value, "header value")](
                  backend_api_client* c, backend_api_error** e) {
            return backend_api_client_add_header(c, n.c_str(), v.c_str(), e);
        });
        return *this;
    }
    /// TLS certificate verification on (default) or off (insecure).
    Client& verify_tls(bool verify) {
        apply([verify](backend_api_client* c, backend_api_error** e) {
            return backend_api_client_set_verify_tls(c, verify, e);
        });
        return *this;
    }
    /// Trusts only the certificates of this PEM file (read now).
    Client& ca_file(std::string_view path) {
        apply([p = detail::c_str(path, "CA file path")](backend_api_client* c, backend_api_error** e) {
            return backend_api_client_set_ca_file(c, p.c_str(), e);
        });
        return *this;
    }
    /// A proxy: `http://`, `socks4://`, `socks5://` or `socks5h://`, with optional `user:password@`.
    Client& proxy(std::string_view url) {
        apply([u = detail::c_str(url, "proxy URL")](backend_api_client* c, backend_api_error** e) {
            return backend_api_client_set_proxy(c, u.c_str(), e);
        });
        return *this;
    }
    /// No proxy at all, whatever the environment says.
    Client& no_proxy() {
        apply([](backend_api_client* c, backend_api_error** e) { return backend_api_client_set_proxy(c, nullptr, e); });
        return *this;
    }
    /// Sets a timeout; zero turns it off. See `Timeout` for the defaults.
    Client& timeout(Timeout which, std::chrono::milliseconds ms) {
        apply([which, ms](backend_api_client* c, backend_api_error** e) {
            return backend_api_client_set_timeout(c, static_cast<std::uint32_t>(which),
                                                  static_cast<std::int64_t>(ms.count()), e);
        });
        return *this;
    }
    /// Bounds one line or event of the response (default 16 MiB).
    Client& max_line(std::size_t bytes) {
        apply([bytes](backend_api_client* c, backend_api_error** e) {
            return backend_api_client_set_max_line(c, bytes, e);
        });
        return *this;
    }
    /// Drops lines that are not JSON objects instead of failing with `Protocol`.
    Client& skip_malformed(bool skip) {
        apply([skip](backend_api_client* c, backend_api_error** e) {
            return backend_api_client_set_skip_malformed(c, skip, e);
        });
        return *this;
    }
    /// With `false`, streams keep no assembled answer (`Stream::answer` then
    /// reports an empty one): for very long streams whose text the caller keeps
    /// itself. On by default.
    Client& assemble(bool assemble) {
        apply([assemble](backend_api_client* c, backend_api_error** e) {
            return backend_api_client_set_assemble(c, assemble, e);
        });
        return *this;
    }

    /// Retries a request that failed before any answer began (a connection that
    /// could not be made, or HTTP 429/502/503/504), never once the answer has
    /// begun: up to `max_retries` times (0, the default, turns it off), waiting
    /// `base` doubled each time with jitter, or the server's `Retry-After`, at most `cap`.
    Client& retries(std::uint32_t max_retries, std::chrono::milliseconds base, std::chrono::milliseconds cap) {
        const std::uint32_t b = detail::ms_u32(base, "retry base"), c = detail::ms_u32(cap, "retry cap");
        apply([max_retries, b, c](backend_api_client* cl, backend_api_error** e) {
            return backend_api_client_set_retries(cl, max_retries, b, c, e);
        });
        return *this;
    }

    /// Receives the library's log records up to `max_level`. The callback runs on
    /// the streams' own threads, possibly several at once: it must be thread-safe
    /// and quick, and must not use the stream it reports on; exceptions it throws
    /// are dropped. Messages never hold the api key or secret header values. It is
    /// kept alive by this client and by every stream opened from it. An empty
    /// callback turns logging off. (Without this call, `BACKEND_API_LOG=debug`
    /// sends records to standard error.)
    Client& log(std::function<void(LogLevel, std::string_view)> callback, LogLevel max_level = LogLevel::Info) {
        std::shared_ptr<detail::LogSink> sink;
        if (callback) sink = std::make_shared<detail::LogSink>(detail::LogSink{std::move(callback)});
        const auto level = static_cast<std::uint32_t>(max_level);
        apply([sink, level](backend_api_client* c, backend_api_error** e) {
            return sink ? backend_api_client_set_log(c, &detail::LogSink::trampoline, sink.get(), level, e)
                        : backend_api_client_set_log(c, nullptr, nullptr, level, e);
        });
        log_ = std::move(sink);
        return *this;
    }

    /// The model listing as JSON text: all providers' models (an object mapping
    /// provider names to model names) or, with `provider`, that provider's list of
    /// model objects. Blocks. Throws `Error`.
    std::string models(std::string_view provider = {}) const {
        const std::string p = detail::c_str(provider, "provider");
        char* json = nullptr;
        std::size_t len = 0;
        detail::call([&](backend_api_error** e) {
            return backend_api_models(p_.get(), p.empty() ? nullptr : p.c_str(), &json, &len, e);
        });
        std::unique_ptr<char, detail::StringFree> owned(json);
        return std::string(json, len);
    }

    /// Starts streaming the answer to `request` and returns at once; connection
    /// and HTTP errors are thrown by the stream's first read. The client and the
    /// request are copied. Throws `Error` for invalid arguments.
    Stream open(const Request& request) const {
        backend_api_stream* s = nullptr;
        detail::call([&](backend_api_error** e) { return backend_api_open(p_.get(), request.get(), &s, e); });
        Stream stream(s);
        stream.keep_ = log_;
        return stream;
    }

    /// The C handle, still owned by this object.
    backend_api_client* get() const noexcept { return p_.get(); }

private:
    template <class F>
    void apply(F&& setting) {
        detail::call([&](backend_api_error** e) { return setting(p_.get(), e); });
    }

    std::unique_ptr<backend_api_client, detail::ClientFree> p_;
    std::shared_ptr<detail::LogSink> log_;  // shared with the streams (see `log`)
};

}  // namespace backend_api

#endif  // BACKEND_API_HPP
