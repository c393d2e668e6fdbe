package backendapi

/*
#include <stdint.h>
#include <backend_api.h>

// Defined in logexport.go. It takes the id as an integer, so that Go never holds
// a void* that is no pointer; cgo writes char* where the callback type has const char*.
extern void backendapiGoLog(uintptr_t id, backend_api_log_level level, char *message);

static void backendapi_log_trampoline(void *user_data, backend_api_log_level level, const char *message) {
	backendapiGoLog((uintptr_t)user_data, level, (char *)message);
}

// The sink id travels as the callback's user_data: an integer, not a Go pointer.
static backend_api_status backendapi_set_log(backend_api_client *client, uintptr_t id, uint32_t max_level, backend_api_error **err) {
	return backend_api_client_set_log(client, backendapi_log_trampoline, (void *)id, max_level, err);
}

static backend_api_status backendapi_log_off(backend_api_client *client, backend_api_error **err) {
	return backend_api_client_set_log(client, NULL, NULL, BACKEND_API_LOG_LEVEL_ERROR, err);
}
*/
import "C"

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
)

// LogLevel is the level of a log record of the library (enum backend_api_log_level).
// Lower is more severe: LogError < LogWarn < LogInfo < LogDebug < LogTrace.
type LogLevel uint32

// The log levels.
const (
	LogError LogLevel = C.BACKEND_API_LOG_LEVEL_ERROR
	LogWarn  LogLevel = C.BACKEND_API_LOG_LEVEL_WARN
	LogInfo  LogLevel = C.BACKEND_API_LOG_LEVEL_INFO  // one "POST <url> model=... attempt N" per attempt, "stream ended; ..." per stream
	LogDebug LogLevel = C.BACKEND_API_LOG_LEVEL_DEBUG // header names, response timings
	LogTrace LogLevel = C.BACKEND_API_LOG_LEVEL_TRACE // every read
)

// String returns "error", "warn", "info", "debug" or "trace" (else "LogLevel(n)").
func (l LogLevel) String() string {
	switch l {
	case LogError:
		return "error"
	case LogWarn:
		return "warn"
	case LogInfo:
		return "info"
	case LogDebug:
		return "debug"
	case LogTrace:
		return "trace"
	}
	return "LogLevel(" + strconv.FormatUint(uint64(l), 10) + ")"
}

// SlogLevel maps the level to log/slog's: error, warn, info and debug to theirs,
// trace to slog.LevelDebug-4.
func (l LogLevel) SlogLevel() slog.Level {
	switch l {
	case LogError:
		return slog.LevelError
	case LogWarn:
		return slog.LevelWarn
	case LogInfo:
		return slog.LevelInfo
	case LogDebug:
		return slog.LevelDebug
	}
	return slog.LevelDebug - 4
}

// WithLogger sends the library's log records up to maxLevel (LogError ... LogTrace)
// to fn. Records are about the HTTP exchange: one "POST <url> model=... attempt N"
// (info) per attempt, "attempt N failed: ...; retrying in M ms" (warn) before a
// retry, "stream ended; ..." (info) at the end of each stream, timings (debug)
// and reads (trace). They never hold the api key or the values of secret headers.
//
// fn runs on the library's own threads, one per open stream, so possibly on
// several at once: it must be safe for concurrent use and return quickly, and it
// must not call methods of a [Stream] (freeing a stream waits for its thread,
// which may be the one calling fn, while holding the lock those methods take).
// Hand records to a channel or a logger instead. A panic in fn is recovered and
// the record dropped: it could not unwind through the library's C frames.
//
// fn lives as long as the client or any stream opened from it: streams opened
// before [Client.Close] keep logging until they end and are closed.
//
// A nil fn turns logging off, also the standard-error logging that the
// environment variable BACKEND_API_LOG (error ... trace) turns on without this option.
func WithLogger(fn func(level LogLevel, msg string), maxLevel LogLevel) Option {
	return Option{setup: func(c *Client) error {
		var cerr *C.backend_api_error
		if fn == nil {
			if err := check(C.backendapi_log_off(c.ptr, &cerr), cerr); err != nil {
				return err
			}
			c.log.release()
			c.log = nil
			return nil
		}
		sink := registerSink(fn)
		if err := check(C.backendapi_set_log(c.ptr, C.uintptr_t(sink.id), C.uint32_t(maxLevel), &cerr), cerr); err != nil {
			sink.release()
			return err
		}
		// No stream is open yet (options run inside NewClient): an earlier
		// logger has no other user and goes now.
		c.log.release()
		c.log = sink
		return nil
	}}
}

// WithSlog sends the library's log records to l (see [WithLogger]), at the
// levels of [LogLevel.SlogLevel], with the attribute lib=backend-api. Records
// down to the most verbose level l is enabled for when NewClient runs are asked
// of the library (trace when l takes slog.LevelDebug-4); the handler may filter
// further. A nil l means slog.Default().
func WithSlog(l *slog.Logger) Option {
	if l == nil {
		l = slog.Default()
	}
	ctx := context.Background()
	maxLevel := LogError
	for _, lv := range []LogLevel{LogTrace, LogDebug, LogInfo, LogWarn} {
		if l.Enabled(ctx, lv.SlogLevel()) {
			maxLevel = lv
			break
		}
	}
	lib := slog.String("lib", "backend-api")
	return WithLogger(func(level LogLevel, msg string) {
		l.LogAttrs(ctx, level.SlogLevel(), msg, lib)
	}, maxLevel)
}

// A logSink is a logger handed to the library. The C client copies its logger
// into every stream it opens, and those streams may outlive the client, so the
// library may call the logger after Client.Close. The library gets the sink's id
// (a number, not a Go pointer) as user_data; the callback looks it up in the
// registry. A sink is counted: one reference for the client (dropped by
// Client.Close) and one per stream opened from it (dropped once backend_api_close
// has joined the stream's thread, after which that stream logs no more). The sink
// leaves the registry with its last reference, when no thread of the library can
// call it any longer. The callback ignores ids it does not know, as a guard only.
type logSink struct {
	id   uintptr
	fn   func(LogLevel, string)
	refs int // guarded by sinks.mu
}

var sinks struct {
	mu   sync.RWMutex
	m    map[uintptr]*logSink
	next uintptr
}

func registerSink(fn func(LogLevel, string)) *logSink {
	sinks.mu.Lock()
	defer sinks.mu.Unlock()
	if sinks.m == nil {
		sinks.m = map[uintptr]*logSink{}
	}
	sinks.next++ // ids are never reused: a stale id can never reach another sink
	s := &logSink{id: sinks.next, fn: fn, refs: 1}
	sinks.m[s.id] = s
	return s
}

// acquire adds a reference (a stream opened from the client). Nil-safe.
func (s *logSink) acquire() *logSink {
	if s == nil {
		return nil
	}
	sinks.mu.Lock()
	s.refs++
	sinks.mu.Unlock()
	return s
}

// release drops a reference; the last one removes the sink. Nil-safe.
func (s *logSink) release() {
	if s == nil {
		return
	}
	sinks.mu.Lock()
	defer sinks.mu.Unlock()
	if s.refs--; s.refs == 0 {
		delete(sinks.m, s.id)
	}
}

func lookupSink(id uintptr) *logSink {
	sinks.mu.RLock()
	defer sinks.mu.RUnlock()
	return sinks.m[id]
}

// liveSinks counts the registered sinks (for tests).
func liveSinks() int {
	sinks.mu.RLock()
	defer sinks.mu.RUnlock()
	return len(sinks.m)
}

// deliverLog runs on a thread of the library (see logexport.go).
func deliverLog(id uintptr, level LogLevel, msg string) {
	s := lookupSink(id)
	if s == nil {
		return
	}
	defer func() { _ = recover() }()
	s.fn(level, msg)
}
