package backendapi

/*
#include <stdint.h>
#include <backend_api.h>

// Defined in logexport.go. They take the id as an integer, so that Go never holds
// a void* that is no pointer; cgo writes char* where the callback type has const char*.
extern void backendapiGoLog(uintptr_t id, backend_api_log_level level, char *message);
extern void backendapiGoLogDestroy(uintptr_t id);

static void backendapi_log_trampoline(void *user_data, backend_api_log_level level, const char *message) {
	backendapiGoLog((uintptr_t)user_data, level, (char *)message);
}

static void backendapi_log_destroy(void *user_data) {
	backendapiGoLogDestroy((uintptr_t)user_data);
}

// The sink id travels as the callback's user_data: an integer, not a Go pointer.
static backend_api_status backendapi_set_log(backend_api_client *client, uintptr_t id, uint32_t max_level, backend_api_error **err) {
	return backend_api_client_set_log(client, backendapi_log_trampoline, (void *)id, backendapi_log_destroy, max_level, err);
}

static backend_api_status backendapi_log_off(backend_api_client *client, backend_api_error **err) {
	return backend_api_client_set_log(client, NULL, NULL, NULL, BACKEND_API_LOG_LEVEL_ERROR, err);
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
// several at once: it must be safe for concurrent use and return quickly. A
// stream sends no records once its Close (or its context's cancellation) began,
// and Close never waits for fn. A panic in fn is recovered and the record
// dropped: it could not unwind through the library's C frames.
//
// fn lives as long as the client or any stream opened from it: streams opened
// before [Client.Close] keep logging until they end. The library lets go of fn
// once no record can come any more; the binding then forgets it.
//
// A nil fn turns logging off, also the standard-error logging that the
// environment variable BACKEND_API_LOG (error ... trace) turns on without this option.
func WithLogger(fn func(level LogLevel, msg string), maxLevel LogLevel) Option {
	return Option{apply: func(p *C.backend_api_client) error {
		var cerr *C.backend_api_error
		if fn == nil {
			return check(C.backendapi_log_off(p, &cerr), cerr)
		}
		id := registerSink(fn)
		if err := check(C.backendapi_set_log(p, C.uintptr_t(id), C.uint32_t(maxLevel), &cerr), cerr); err != nil {
			dropSink(id) // on failure the library keeps nothing and calls no destroy
			return err
		}
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

// The loggers handed to the library. The C client copies its logger into every
// stream it opens, and those streams may outlive the client, so the library may
// call a logger after Client.Close. The library gets a sink's id (a number, not a
// Go pointer) as user_data, and calls the destroy callback with it exactly once,
// when no record can come any more: the sink then leaves the registry. The log
// callback ignores ids it does not know, as a guard only.
var sinks struct {
	mu   sync.RWMutex
	m    map[uintptr]func(LogLevel, string)
	next uintptr
}

func registerSink(fn func(LogLevel, string)) uintptr {
	sinks.mu.Lock()
	defer sinks.mu.Unlock()
	if sinks.m == nil {
		sinks.m = map[uintptr]func(LogLevel, string){}
	}
	sinks.next++ // ids are never reused: a stale id can never reach another sink
	sinks.m[sinks.next] = fn
	return sinks.next
}

// dropSink forgets a sink: the library's destroy callback, or a failed set_log.
func dropSink(id uintptr) {
	sinks.mu.Lock()
	defer sinks.mu.Unlock()
	delete(sinks.m, id)
}

// liveSinks returns the ids of the registered sinks (for tests).
func liveSinks() map[uintptr]bool {
	sinks.mu.RLock()
	defer sinks.mu.RUnlock()
	ids := make(map[uintptr]bool, len(sinks.m))
	for id := range sinks.m {
		ids[id] = true
	}
	return ids
}

// deliverLog runs on a thread of the library (see logexport.go).
func deliverLog(id uintptr, level LogLevel, msg string) {
	sinks.mu.RLock()
	fn := sinks.m[id]
	sinks.mu.RUnlock()
	if fn == nil {
		return
	}
	defer func() { _ = recover() }()
	fn(level, msg)
}
