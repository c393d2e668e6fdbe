// Package backendapi streams chat answers from a g4f (gpt4free) backend server
// through the backend-api native library (a Rust library with a C ABI).
//
// A [Client] holds the connection settings; [Client.Stream] sends a [Request]
// and returns a [Stream] whose [Stream.Recv] yields one [Chunk] at a time and
// [io.EOF] at the end ([Stream.All] is the range form); [Client.Complete] waits
// for the whole [Answer] instead. Cancelling the context wakes a blocked call at
// once. Close every Client and Stream when done with it (both are safe to close
// twice); a finalizer frees forgotten ones as a backstop only.
//
// The api key of a [Request] is a [Secret] and its [Headers] hide secret values:
// neither prints.
//
// Beyond that: [WithRetries] retries requests that failed before any answer
// began; [WithLogger] and [WithSlog] receive the library's log records;
// [Client.Models] and [Client.ProviderModels] list the server's models;
// [Stream.Stats] counts bytes, chunks, retries and times; [Stream.Answer] is what
// the chunks add up to, and [Request.FollowUp] the request that continues the
// conversation; [Stream.Fd], [Stream.TryRecv] and [Stream.DeadlineHint] let one
// goroutine (or a C event loop) drive many streams.
//
// Errors from the library are [*Error] values (use [errors.As]); the ErrXxx
// sentinels tell their kind with [errors.Is], for example
// errors.Is(err, backendapi.ErrTimedOut). A fatal error sent inside the answer
// ends [Stream.All] and [Client.Complete] with a [*StreamError].
//
// All types are safe for use by several goroutines at once.
package backendapi

/*
#include <stdlib.h>
#include <backend_api.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"
)

// Version returns the version of the native library, such as "0.3.0".
func Version() string {
	return C.GoString(C.backend_api_version())
}

// VersionNum returns the version of the native library loaded at run time as
// 0xMMmmpp (major, minor, patch), for comparisons: VersionNum() >= 0x000300.
func VersionNum() uint32 {
	return uint32(C.backend_api_version_num())
}

// RedactURL returns url with its credentials hidden: the user:password@ of the
// authority becomes ***@ (cut at the last @ before the host), the rule the
// library's own messages follow; for printing a base or proxy URL. It fails
// (StatusInvalidArgument) for a url with a NUL byte or that is not UTF-8.
func RedactURL(url string) (string, error) {
	cu, err := cString("URL", url)
	if err != nil {
		return "", err
	}
	defer free(cu)
	buf := make([]byte, len(url)+8)
	for {
		var needed C.size_t
		st := C.backend_api_redact_url(cu, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &needed)
		switch {
		case st == C.BACKEND_API_STATUS_OK:
			return string(buf[:needed-1]), nil
		case st == C.BACKEND_API_STATUS_LIMIT && int(needed) > len(buf):
			buf = make([]byte, int(needed))
		default:
			return "", &Error{Status: Status(st), Message: "backend_api_redact_url refused the URL"}
		}
	}
}

// Status is a result code of the native library (enum backend_api_status): the
// Status field of an [*Error]. A Status is not an error itself; to ask what kind
// of failure an error is, use the ErrXxx sentinels with [errors.Is].
type Status uint32

// The status codes of the C API. StatusOK, StatusEnd and StatusAgain are never
// the Status of an [*Error]: they are results of the C API that the binding turns
// into a chunk, [io.EOF] and waiting.
const (
	StatusOK              Status = C.BACKEND_API_STATUS_OK
	StatusEnd             Status = C.BACKEND_API_STATUS_END
	StatusAgain           Status = C.BACKEND_API_STATUS_AGAIN // nothing yet within next's own timeout
	StatusCancelled       Status = C.BACKEND_API_STATUS_CANCELLED
	StatusInvalidArgument Status = C.BACKEND_API_STATUS_INVALID_ARGUMENT
	StatusMedia           Status = C.BACKEND_API_STATUS_MEDIA
	StatusNotFound        Status = C.BACKEND_API_STATUS_NOT_FOUND
	StatusWrongType       Status = C.BACKEND_API_STATUS_WRONG_TYPE // a JSON value of another type than asked
	StatusConnect         Status = C.BACKEND_API_STATUS_CONNECT
	StatusTLS             Status = C.BACKEND_API_STATUS_TLS
	StatusTimedOut        Status = C.BACKEND_API_STATUS_TIMED_OUT // a client timeout elapsed
	StatusHTTP            Status = C.BACKEND_API_STATUS_HTTP
	StatusIO              Status = C.BACKEND_API_STATUS_IO
	StatusProtocol        Status = C.BACKEND_API_STATUS_PROTOCOL
	StatusLimit           Status = C.BACKEND_API_STATUS_LIMIT
	StatusInternal        Status = C.BACKEND_API_STATUS_INTERNAL
)

// String returns the library's name of the status, such as "HTTP", or "UNKNOWN".
func (s Status) String() string {
	return C.GoString(C.backend_api_status_name(C.uint32_t(s)))
}

// Sentinels for [errors.Is]: errors.Is(err, ErrTimedOut) reports whether err is
// (or wraps) an [*Error] of that status.
var (
	ErrCancelled       = errors.New("backendapi: cancelled")
	ErrInvalidArgument = errors.New("backendapi: invalid argument")
	ErrMedia           = errors.New("backendapi: media could not be read")
	ErrNotFound        = errors.New("backendapi: not found")
	ErrWrongType       = errors.New("backendapi: wrong JSON type")
	ErrConnect         = errors.New("backendapi: connection failed")
	ErrTLS             = errors.New("backendapi: TLS handshake failed")
	ErrTimedOut        = errors.New("backendapi: timed out") // a connect, response-header, idle or total timeout
	ErrHTTP            = errors.New("backendapi: HTTP error status")
	ErrIO              = errors.New("backendapi: connection broken")
	ErrProtocol        = errors.New("backendapi: protocol error")
	ErrLimit           = errors.New("backendapi: size limit exceeded")
	ErrInternal        = errors.New("backendapi: internal error")
)

var sentinels = map[Status]error{
	StatusCancelled: ErrCancelled, StatusInvalidArgument: ErrInvalidArgument, StatusMedia: ErrMedia,
	StatusNotFound: ErrNotFound, StatusWrongType: ErrWrongType, StatusConnect: ErrConnect, StatusTLS: ErrTLS, StatusTimedOut: ErrTimedOut,
	StatusHTTP: ErrHTTP, StatusIO: ErrIO, StatusProtocol: ErrProtocol, StatusLimit: ErrLimit,
	StatusInternal: ErrInternal,
}

// Error is an error reported by the native library.
type Error struct {
	// Status tells what failed: StatusHTTP, StatusConnect, StatusProtocol, ...
	Status Status
	// Message is the library's human-readable message; it never holds the api key.
	Message string
	// HTTPStatus is the HTTP status code of a StatusHTTP error, else 0.
	HTTPStatus int
	// ServerMessage is the server's own {"error":{"message":...}} of an HTTP
	// error, or "" when it sent none (an HTML error page, say): raw and
	// untrusted, as sent (Message quotes it escaped and bounded).
	ServerMessage string
}

// Error returns the message with control characters escaped (see [Printable]):
// a server's escape sequences never reach a terminal or a log through it. The
// library's Message holds a server's text escaped already; ServerMessage keeps
// it as it came.
func (e *Error) Error() string {
	if e.Message == "" {
		return "backendapi: " + e.Status.String()
	}
	return "backendapi: " + Printable(e.Message)
}

// Printable returns s fit for a terminal or a log line: control characters (C0,
// DEL and the C1 range U+0080 to U+009F, where escape sequences start) written
// as \xHH or \u00HH, so that a server's bytes can neither move the cursor nor
// retitle the window; other text is kept. Error strings of this package pass
// through it; use it for a server's text you print yourself.
func Printable(s string) string {
	i := strings.IndexFunc(s, isControl)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		switch {
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", r)
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) }

// Is makes errors.Is(err, ErrHTTP) (and the other ErrXxx sentinels) match an
// *Error of that status.
func (e *Error) Is(target error) bool {
	s, ok := sentinels[e.Status]
	return ok && s == target
}

// Timeout reports whether one of the client's timeouts elapsed (StatusTimedOut),
// as net.Error's Timeout does.
func (e *Error) Timeout() bool { return e.Status == StatusTimedOut }

// ErrClosed is returned by calls on a Stream or Client after its Close.
var ErrClosed = errors.New("backendapi: use of a closed stream or client")

// takeError turns the C error (which may be NULL) of a failed call into an
// *Error, copying its strings into Go memory, and frees the C error.
func takeError(status C.backend_api_status, cerr *C.backend_api_error) error {
	e := &Error{Status: Status(status)}
	if cerr == nil {
		return e
	}
	defer C.backend_api_error_free(cerr)
	if s := C.backend_api_error_status(cerr); s != C.BACKEND_API_STATUS_OK {
		e.Status = Status(s)
	}
	e.Message = C.GoString(C.backend_api_error_message(cerr))
	e.HTTPStatus = int(C.backend_api_error_http_status(cerr))
	if m := C.backend_api_error_server_message(cerr); m != nil {
		e.ServerMessage = C.GoString(m)
	}
	return e
}

func invalid(msg string) error {
	return &Error{Status: StatusInvalidArgument, Message: msg}
}

// nilContext is the error of a call given a nil context.Context: the standard
// library's rule (net/http refuses one too) rather than a silent Background.
func nilContext() error {
	return invalid("nil context.Context: pass context.Background() or context.TODO()")
}

// cString copies s into C memory (free it with C.free). Go strings may hold NUL
// bytes, which a C string cannot: those are refused instead of being cut short.
func cString(what, s string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, invalid(what + " contains a NUL byte")
	}
	return C.CString(s), nil
}

func free(p *C.char) {
	if p != nil {
		C.free(unsafe.Pointer(p))
	}
}

// goBytes copies n bytes at p into a new Go slice.
func goBytes(p *C.char, n C.size_t) []byte {
	if p == nil || n == 0 {
		return []byte{}
	}
	out := make([]byte, int(n))
	copy(out, unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n)))
	return out
}
