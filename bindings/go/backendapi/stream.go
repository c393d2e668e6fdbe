package backendapi

/*
#include <backend_api.h>
*/
import "C"

import (
	"context"
	"io"
	"iter"
	"runtime"
	"sync"
)

// Stream is one streaming answer in flight. Read it with [Stream.Recv] (or
// range over [Stream.All]) and Close it when done. All methods are safe to call
// from any goroutine; Close also wakes a Recv that is blocked in another one.
type Stream struct {
	st *streamState
	// The finalizer sits on Stream, while the context callback holds only st:
	// a forgotten Stream becomes unreachable even while its context lives on.
}

// streamState owns the C stream. Rules of the C API it enforces:
//   - backend_api_cancel may run at any time before backend_api_close, also
//     concurrently with backend_api_next, but never during or after close;
//   - backend_api_close must not run while another thread is inside a call.
//
// mu guards ptr and the counters. Cancel runs under mu (it is quick), next runs
// outside it counted by inflight, and close runs under mu once inflight is 0.
//
// The C stream is freed as soon as the stream is over (an end, a failure, the
// context) and no call uses it, unless Fd was called: the descriptor belongs to
// the C stream, so then it lives until Close. Right before it is freed, the
// stats and the assembled answer are copied (final*), so that Stats and Answer
// still work afterwards.
type streamState struct {
	mu       sync.Mutex
	idle     sync.Cond // signalled when inflight drops
	ptr      *C.backend_api_stream
	inflight int   // goroutines inside backend_api_next
	closed   bool  // Close was called
	final    error // the sticky end result (io.EOF, an *Error, ctx.Err()), once known
	ctx      context.Context
	stopCtx  func() bool
	log      *logSink // the client's logger, held until the C stream is freed
	fdUsed   bool     // Fd was called: keep the C stream (and its descriptor) until Close

	finalStats     Stats  // the stats when the C stream was freed
	finalAnswer    []byte // the answer chunk's JSON then
	finalAnswerErr error  // or why it could not be read
}

// Stream sends req and returns the answer's stream at once: the HTTP exchange
// runs on a background thread of the library, and connection and HTTP errors
// arrive from the first Recv. The request is copied: change or reuse it freely.
//
// Cancelling ctx cancels the stream: a blocked Recv returns ctx.Err() at once.
// A nil ctx means context.Background().
func (c *Client) Stream(ctx context.Context, req *Request) (*Stream, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if req == nil {
		return nil, invalid("nil request")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	creq, err := req.toC()
	if err != nil {
		return nil, err
	}
	defer C.backend_api_request_free(creq)

	c.mu.RLock()
	if c.ptr == nil {
		c.mu.RUnlock()
		return nil, ErrClosed
	}
	var ptr *C.backend_api_stream
	var cerr *C.backend_api_error
	status := C.backend_api_open(c.ptr, creq, &ptr, &cerr)
	var log *logSink
	if status == C.BACKEND_API_STATUS_OK {
		log = c.log.acquire() // under mu: Close cannot drop the client's reference meanwhile
	}
	c.mu.RUnlock()
	runtime.KeepAlive(c)
	if status != C.BACKEND_API_STATUS_OK {
		return nil, takeError(status, cerr)
	}

	st := &streamState{ptr: ptr, ctx: ctx, log: log}
	st.idle.L = &st.mu
	st.stopCtx = context.AfterFunc(ctx, st.cancel)
	s := &Stream{st: st}
	runtime.SetFinalizer(s, (*Stream).Close)
	return s, nil
}

// Recv waits for the next chunk. It returns io.EOF once the answer is complete,
// ctx.Err() when the stream's context ended, ErrClosed after Close, and an
// [*Error] when the exchange failed (HTTP status, connection, protocol, timeout).
// These ends are final: later calls return the same error.
//
// In-stream "error" and "auth" chunks are chunks (see [Chunk.IsFatal] and
// [Chunk.Err]), as the Python client yields them; io.EOF follows them.
func (s *Stream) Recv() (Chunk, error) {
	c, _, err := s.recv(-1)
	return c, err
}

// TryRecv is Recv without waiting, for event loops (see [Stream.Fd]): it returns
// (chunk, true, nil) when a chunk is ready, (Chunk{}, false, nil) when nothing is
// ready yet, and (Chunk{}, false, err) with Recv's errors (io.EOF, ...) when the
// stream is over. An idle or total timeout of the client that is due ends the
// stream here too, with StatusTimedOut.
func (s *Stream) TryRecv() (Chunk, bool, error) {
	return s.recv(0)
}

// recv calls backend_api_next with timeoutMs (-1: wait for ever; 0: only look).
func (s *Stream) recv(timeoutMs int64) (Chunk, bool, error) {
	defer runtime.KeepAlive(s) // no finalizer while a call runs
	st := s.st

	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return Chunk{}, false, ErrClosed
	}
	if st.final != nil {
		err := st.final
		st.mu.Unlock()
		return Chunk{}, false, err
	}
	if err := st.ctx.Err(); err != nil {
		// The context callback may not have run yet; end the stream now.
		st.final = err
		if st.ptr != nil && st.inflight > 0 {
			C.backend_api_cancel(st.ptr) // wake Recv calls of other goroutines
		}
		st.releaseLocked()
		st.mu.Unlock()
		return Chunk{}, false, err
	}
	st.inflight++
	ptr := st.ptr
	st.mu.Unlock()

	var chunk Chunk
	var err error
	var cchunk *C.backend_api_chunk
	var cerr *C.backend_api_error
	status := C.backend_api_next(ptr, C.int64_t(timeoutMs), &cchunk, &cerr)
	for status == C.BACKEND_API_STATUS_TIMEOUT && timeoutMs < 0 { // not expected with -1; just wait on
		status = C.backend_api_next(ptr, -1, &cchunk, &cerr)
	}
	switch status {
	case C.BACKEND_API_STATUS_OK:
		chunk = copyChunk(cchunk)
		C.backend_api_chunk_free(cchunk)
	case C.BACKEND_API_STATUS_END:
		err = io.EOF
	case C.BACKEND_API_STATUS_TIMEOUT, C.BACKEND_API_STATUS_CANCELLED:
		// TIMEOUT: nothing ready (TryRecv). CANCELLED: decided below: by Close,
		// by the context, or (not expected) otherwise.
	default:
		err = takeError(status, cerr)
	}

	st.mu.Lock()
	defer st.mu.Unlock()
	st.inflight--
	switch {
	case st.closed:
		chunk, err = Chunk{}, ErrClosed
	case status == C.BACKEND_API_STATUS_CANCELLED:
		if err = st.ctx.Err(); err == nil {
			err = &Error{Status: StatusCancelled, Message: "stream cancelled"}
		}
	}
	if err != nil && !st.closed && st.final == nil {
		st.final = err
	}
	if st.final != nil || st.closed {
		st.releaseLocked() // frees the C stream once no call uses it
	}
	st.idle.Broadcast()
	return chunk, err == nil && status == C.BACKEND_API_STATUS_OK, err
}

// Close cancels the stream if it still runs, waits until no Recv uses it, and
// frees it. A Recv blocked in another goroutine returns ErrClosed. Safe to call
// more than once; Recv after Close returns ErrClosed. Always returns nil.
func (s *Stream) Close() error {
	s.st.close()
	runtime.KeepAlive(s)
	return nil
}

// All returns an iterator over the stream's chunks for use with range. It ends
// after the last chunk; a failure is yielded once as (Chunk{}, err) and ends it.
// The stream is closed when the loop ends, also by break.
func (s *Stream) All() iter.Seq2[Chunk, error] {
	return func(yield func(Chunk, error) bool) {
		defer s.Close()
		for {
			c, err := s.Recv()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(Chunk{}, err)
				return
			}
			if !yield(c, nil) {
				return
			}
		}
	}
}

// cancel is the context callback: it wakes a blocked next. It never runs during
// or after backend_api_close, which happens under mu and clears ptr.
func (st *streamState) cancel() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ptr != nil {
		C.backend_api_cancel(st.ptr)
	}
}

func (st *streamState) close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return
	}
	st.closed = true
	if st.ptr != nil && st.inflight > 0 {
		C.backend_api_cancel(st.ptr) // wake the blocked Recv calls
	}
	for st.inflight > 0 {
		st.idle.Wait()
	}
	st.releaseLocked()
}

// releaseLocked frees the C stream when no call is inside it (else the last
// Recv to leave does), and, once Fd was called, only on Close. Called with mu
// held, once the stream is over. It keeps the final stats and answer first.
func (st *streamState) releaseLocked() {
	if st.ptr == nil || st.inflight > 0 || (st.fdUsed && !st.closed) {
		return
	}
	st.finalStats = st.statsLocked()
	st.finalAnswer, st.finalAnswerErr = st.answerJSONLocked()
	C.backend_api_close(st.ptr) // joins the stream's thread: it logs no more
	st.ptr = nil
	st.log.release()
	st.log = nil
	if st.stopCtx != nil {
		st.stopCtx()
	}
}
