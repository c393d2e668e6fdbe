package backendapi

/*
#include <backend_api.h>

// A call's result and what Go copies of its chunk, in one C call rather than six.
typedef struct {
	backend_api_status status;
	backend_api_chunk *chunk; // set when status is OK
	backend_api_error *err;   // may be set when status is an error
	backend_api_kind kind;
	const char *type; // only for BACKEND_API_KIND_OTHER: Go knows the others' names
	const char *json;
	size_t json_len;
	const char *text; // NULL: the chunk has no main text
	size_t text_len;
} backendapi_result;

static void backendapi_view(backendapi_result *r) {
	r->kind = backend_api_chunk_kind(r->chunk);
	if (r->kind == BACKEND_API_KIND_OTHER)
		r->type = backend_api_chunk_type(r->chunk);
	r->json = backend_api_chunk_json(r->chunk, &r->json_len);
	r->text = backend_api_chunk_text(r->chunk, &r->text_len);
}

// next; it also frees the chunk of an earlier call (spent, may be NULL).
static backendapi_result backendapi_next(backend_api_stream *stream, int64_t timeout_ms, backend_api_chunk *spent) {
	backendapi_result r = {0};
	backend_api_chunk_free(spent);
	r.status = backend_api_next(stream, timeout_ms, &r.chunk, &r.err);
	if (r.status == BACKEND_API_STATUS_OK)
		backendapi_view(&r);
	return r;
}

// Complete's loop: takes and frees chunks until the end, a failure, or a fatal
// (error or auth) chunk, which it returns with status OK.
static backendapi_result backendapi_drain(backend_api_stream *stream, backend_api_chunk *spent) {
	backend_api_chunk_free(spent);
	for (;;) {
		backendapi_result r = {0};
		r.status = backend_api_next(stream, -1, &r.chunk, &r.err);
		if (r.status != BACKEND_API_STATUS_OK)
			return r;
		backendapi_view(&r);
		if (r.kind == BACKEND_API_KIND_ERROR || r.kind == BACKEND_API_KIND_AUTH)
			return r;
		backend_api_chunk_free(r.chunk);
	}
}
*/
import "C"

import (
	"context"
	"encoding/json"
	"io"
	"iter"
	"runtime"
	"sync"
	"unsafe"
)

// Stream is one streaming answer in flight. Read it with [Stream.Recv] (or
// range over [Stream.All]) and Close it when done. All methods are safe to call
// from any goroutine; Close also wakes a Recv that is blocked in another one.
type Stream struct {
	st *streamState
	// The finalizer sits on Stream, while the context watch holds only the
	// canceller: a forgotten Stream becomes unreachable even while its context
	// lives on.
}

// streamState owns the C stream. backend_api_close must not run while another
// thread is inside a call on the stream: mu guards ptr and the counters, calls
// run outside mu counted by inflight, and close runs under mu once inflight is 0
// (by Close, or by the last call to leave after it). Cancelling needs no lock:
// the context's watch and Close use the stream's canceller, which stays valid
// whatever the stream's state.
//
// The C stream is freed as soon as the stream is over (an end, a failure, the
// context) and no call uses it, unless Fd was called: the descriptor belongs to
// the C stream, so then it lives until Close. Right before it is freed, the
// stats and the assembled answer are copied (final*), so that Stats and Answer
// still work afterwards.
type streamState struct {
	mu        sync.Mutex
	ptr       *C.backend_api_stream
	canc      *canceller // the stream's canceller; released with ptr
	stopWatch func()     // ends the context's watch of canc
	inflight  int        // goroutines inside a call on ptr (next, drain)
	closed    bool       // Close was called
	final     error      // the sticky end result (io.EOF, an *Error, ctx.Err()), once known
	ctx       context.Context
	fdUsed    bool                 // Fd was called: keep the C stream (and its descriptor) until Close
	spent     *C.backend_api_chunk // a chunk already copied into Go, freed by the next call

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

	cptr, err := c.acquire()
	if err != nil {
		return nil, err
	}
	var ptr *C.backend_api_stream
	var cerr *C.backend_api_error
	status := C.backend_api_open(cptr, creq, &ptr, &cerr)
	c.release()
	if status != C.BACKEND_API_STATUS_OK {
		return nil, takeError(status, cerr)
	}
	var cp *C.backend_api_canceller
	if status = C.backend_api_stream_canceller(ptr, &cp, &cerr); status != C.BACKEND_API_STATUS_OK {
		C.backend_api_close(ptr)
		return nil, takeError(status, cerr)
	}

	st := &streamState{ptr: ptr, ctx: ctx, canc: newCanceller(cp)}
	st.stopWatch = st.canc.watch(ctx)
	s := &Stream{st: st}
	runtime.SetFinalizer(s, (*Stream).Close)
	return s, nil
}

// Recv waits for the next chunk. It returns io.EOF once the answer is complete,
// ctx.Err() when the stream's context ended, ErrClosed after Close, and an
// [*Error] when the exchange failed (HTTP status, connection, protocol, timeout).
// These ends are final: later calls return the same error.
//
// In-stream "error" and "auth" chunks are chunks here (see [Chunk.IsFatal] and
// [Chunk.Err]), as the Python client yields them; io.EOF follows them. [Stream.All]
// and [Client.Complete] end with a [*StreamError] at such a chunk instead.
func (s *Stream) Recv() (Chunk, error) {
	c, _, err := s.recv(-1)
	return c, err
}

// TryRecv is Recv without waiting, for event loops (see [Stream.Fd]): it returns
// (chunk, true, nil) when a chunk is ready, (Chunk{}, false, nil) when nothing is
// ready yet, and (Chunk{}, false, err) with Recv's errors (io.EOF, ...) when the
// stream is over. An idle or total timeout of the client that is due ends the
// stream here too, with an [*Error] that matches ErrTimedOut.
func (s *Stream) TryRecv() (Chunk, bool, error) {
	return s.recv(0)
}

// recv calls backend_api_next with timeoutMs (-1: wait for ever; 0: only look).
func (s *Stream) recv(timeoutMs int64) (Chunk, bool, error) {
	defer runtime.KeepAlive(s) // no finalizer while a call runs
	st := s.st
	ptr, spent, err := st.enter()
	if err != nil {
		return Chunk{}, false, err
	}
	r := C.backendapi_next(ptr, C.int64_t(timeoutMs), spent)
	for r.status == C.BACKEND_API_STATUS_AGAIN && timeoutMs < 0 { // not expected with -1; just wait on
		r = C.backendapi_next(ptr, -1, nil)
	}
	var chunk Chunk
	switch r.status {
	case C.BACKEND_API_STATUS_OK:
		chunk = chunkFrom(&r)
	case C.BACKEND_API_STATUS_END:
		err = io.EOF
	case C.BACKEND_API_STATUS_AGAIN, C.BACKEND_API_STATUS_CANCELLED:
		// AGAIN: nothing ready (TryRecv). CANCELLED: decided by leave.
	default:
		err = takeError(r.status, r.err)
	}
	if err = st.leave(r.status, err, r.chunk); err != nil {
		return Chunk{}, false, err
	}
	return chunk, r.status == C.BACKEND_API_STATUS_OK, nil
}

// drain takes the stream's chunks up to its end without copying them (the
// assembled answer holds them). It returns nil at the end, a [*StreamError] at a
// fatal chunk, or Recv's errors.
func (s *Stream) drain() error {
	defer runtime.KeepAlive(s)
	st := s.st
	ptr, spent, err := st.enter()
	if err != nil {
		return err
	}
	r := C.backendapi_drain(ptr, spent)
	var fatal error
	switch r.status {
	case C.BACKEND_API_STATUS_OK:
		fatal = chunkFrom(&r).Err()
	case C.BACKEND_API_STATUS_END:
		err = io.EOF
	case C.BACKEND_API_STATUS_CANCELLED:
	default:
		err = takeError(r.status, r.err)
	}
	if err = st.leave(r.status, err, r.chunk); err != nil && err != io.EOF {
		return err
	}
	return fatal
}

// chunkFrom copies the chunk of r into Go memory, in one allocation.
func chunkFrom(r *C.backendapi_result) Chunk {
	c := Chunk{Kind: Kind(r.kind)}
	if c.Kind == KindOther || int(c.Kind) >= len(kindNames) {
		c.Type = C.GoString(r._type)
	} else {
		c.Type = kindNames[c.Kind]
	}
	jn, tn := int(r.json_len), int(r.text_len)
	buf := make([]byte, jn+tn)
	copy(buf, unsafe.Slice((*byte)(unsafe.Pointer(r.json)), jn))
	c.Raw = json.RawMessage(buf[:jn:jn])
	if r.text != nil {
		c.hasText = true
		if tn > 0 {
			copy(buf[jn:], unsafe.Slice((*byte)(unsafe.Pointer(r.text)), tn))
			c.text = unsafe.String(&buf[jn], tn) // buf[jn:] is reachable from nowhere else
		}
	}
	return c
}

// Close cancels the stream if it still runs and frees it, at once or (when
// Recv calls run in other goroutines: they return ErrClosed) as soon as the last
// of them returns; it never waits for them. Safe to call more than once; Recv
// after Close returns ErrClosed. Always returns nil.
func (s *Stream) Close() error {
	s.st.close()
	runtime.KeepAlive(s)
	return nil
}

// All returns an iterator over the stream's chunks for use with range. It ends
// after the last chunk. A failure is yielded once as (Chunk{}, err) and ends it:
// Recv's errors, and a [*StreamError] at an in-stream error or auth chunk (which
// Recv would return as a chunk; [StreamError.Chunk] holds it). The stream is
// closed when the loop ends, also by break.
func (s *Stream) All() iter.Seq2[Chunk, error] {
	return func(yield func(Chunk, error) bool) {
		defer s.Close()
		for {
			c, err := s.Recv()
			if err == io.EOF {
				return
			}
			if err == nil {
				err = c.Err() // nil unless the chunk is fatal
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

// enter starts a call on the C stream: it returns the stream and the spent chunk
// to free, or the stream's end.
func (st *streamState) enter() (*C.backend_api_stream, *C.backend_api_chunk, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return nil, nil, ErrClosed
	}
	if st.final != nil {
		return nil, nil, st.final
	}
	if err := st.ctx.Err(); err != nil {
		// The context's watch may not have fired yet; end the stream now.
		st.final = err
		if st.inflight > 0 {
			st.canc.cancel() // wake the calls of other goroutines
		}
		st.releaseLocked()
		return nil, nil, err
	}
	st.inflight++
	spent := st.spent
	st.spent = nil
	return st.ptr, spent, nil
}

// leave ends a call that returned status and err (nil for a chunk, AGAIN and
// CANCELLED) and handed out chunk (or nil), which Go has copied. It returns the
// error the call reports, and records the stream's end.
func (st *streamState) leave(status C.backend_api_status, err error, chunk *C.backend_api_chunk) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.inflight--
	if st.spent == nil {
		st.spent = chunk
	} else {
		C.backend_api_chunk_free(chunk)
	}
	switch {
	case st.closed:
		err = ErrClosed
	case status == C.BACKEND_API_STATUS_CANCELLED:
		if err = st.ctx.Err(); err == nil {
			err = &Error{Status: StatusCancelled, Message: "stream cancelled"}
		}
	case status == C.BACKEND_API_STATUS_END && st.ctx.Err() != nil:
		// The core may report END for a stream cancelled while its thread
		// waited to retry or read (the thread then ends "cleanly"): an answer
		// cut short by the context is no clean end.
		err = st.ctx.Err()
	}
	if err != nil && !st.closed && st.final == nil {
		st.final = err
	}
	if st.final != nil || st.closed {
		st.releaseLocked() // frees the C stream once no call uses it
	}
	return err
}

func (st *streamState) close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return
	}
	st.closed = true
	if st.ptr != nil && st.inflight > 0 {
		st.canc.cancel() // wake the calls; the last to leave frees the stream
	}
	st.releaseLocked()
}

// releaseLocked frees the C stream when no call is inside it (else the last
// call to leave does), and, once Fd was called, only on Close. Called with mu
// held, once the stream is over. It keeps the final stats and answer first.
func (st *streamState) releaseLocked() {
	if st.ptr == nil || st.inflight > 0 || (st.fdUsed && !st.closed) {
		return
	}
	st.finalStats = st.statsLocked()
	st.finalAnswer, st.finalAnswerErr = st.answerJSONLocked()
	C.backend_api_chunk_free(st.spent)
	st.spent = nil
	C.backend_api_close(st.ptr) // returns at once; the stream's thread ends on its own
	st.ptr = nil
	st.stopWatch()
	st.canc.release()
	st.canc = nil
}
