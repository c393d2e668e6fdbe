package backendapi

/*
#include <backend_api.h>
*/
import "C"

import (
	"runtime"
	"time"
)

// Fd returns a file descriptor for an event loop of your own (epoll, poll,
// select, a C library's loop): it is readable whenever [Stream.TryRecv] has
// something to return (a chunk, the end or an error, or the stream was
// cancelled). It may be readable spuriously: TryRecv then returns ok false. Wait
// on it for readability only (level-triggered), and call TryRecv until it returns
// ok false or an error before waiting again. The client's idle and total
// timeouts, [Request.Timeout] and the context end the stream by themselves and
// make the descriptor readable: the wait needs no timeout of its own.
//
// In Go, a goroutine per stream blocked in Recv is the usual way, and costs one
// OS thread while it waits; Fd serves programs that drive many streams from one
// thread, or hand them to a C event loop.
//
// The descriptor belongs to the stream: never read, write or close it. It lives
// until Close, also after the end: take it out of your event loop before Close.
// Fd fails with ErrClosed after Close.
func (s *Stream) Fd() (int, error) {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	defer runtime.KeepAlive(s)
	if st.closed {
		return -1, ErrClosed
	}
	var fd C.ptrdiff_t
	var cerr *C.backend_api_error
	if rc := C.backend_api_stream_fd(st.ptr, &fd, &cerr); rc != C.BACKEND_API_STATUS_OK {
		return -1, takeError(rc, cerr)
	}
	return int(fd), nil
}

// DeadlineHint returns how long until the client's idle or total timeout would
// end the stream (0 when it is due); ok is false when neither timeout is set,
// once nothing more can arrive (the stream is over), and after Close.
// Informative: when the timeout fires, the stream's thread ends the stream and
// [Stream.Fd] turns readable.
func (s *Stream) DeadlineHint() (d time.Duration, ok bool) {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	defer runtime.KeepAlive(s)
	if st.ptr == nil {
		return 0, false
	}
	ms := C.backend_api_stream_timeout_ms(st.ptr)
	if ms < 0 {
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
}
