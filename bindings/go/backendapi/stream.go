package backendapi

/*
#include <stdlib.h>
#include <string.h>
#include <backend_api.h>

// What Go copies of a chunk, gathered by C: one C call per batch of chunks
// rather than six per chunk. The chunk's bytes are copied into its batch's
// buffer and the chunk is freed at once, as the plain C loop does: each chunk's
// allocations are then freed before the next chunk's are made (64 chunks alive
// at once would overflow the allocator's per-thread cache).
typedef struct {
	backend_api_kind kind;
	uint32_t choice;
	int has_text; // 0: the chunk has no main text
	size_t type_at, type_len; // only for BACKEND_API_KIND_OTHER: Go knows the others' names
	size_t json_at, json_len;
	size_t text_at, text_len; // offsets into the batch's bytes
} backendapi_view;

enum { BACKENDAPI_BATCH = 64 };
// A batch takes no more chunks once its bytes reach this size, and a buffer
// grown beyond it for one large chunk is given back at the next reset.
enum { BACKENDAPI_BATCH_BYTES = 64 * 1024 };

// The chunks one call took (n of them, status OK), or how the stream ended.
typedef struct {
	backend_api_status status;
	backend_api_error *err; // may be set when status is an error; Go takes it
	int n;
	char *bytes; // the chunks' type, JSON and text, at their views' offsets
	size_t used, cap;
	backendapi_view chunks[BACKENDAPI_BATCH];
} backendapi_batch;

// Appends len bytes at p to b's bytes and returns their offset; (size_t)-1
// when memory runs out.
static size_t backendapi_put(backendapi_batch *b, const char *p, size_t len) {
	if (len > b->cap - b->used) {
		size_t cap = b->cap * 2 > b->used + len ? b->cap * 2 : b->used + len;
		if (cap < 4096)
			cap = 4096;
		char *grown = realloc(b->bytes, cap);
		if (grown == NULL)
			return (size_t)-1;
		b->bytes = grown, b->cap = cap;
	}
	size_t at = b->used;
	if (len > 0)
		memcpy(b->bytes + at, p, len);
	b->used += len;
	return at;
}

// Copies chunk into b and frees it. 0 when memory runs out (then b->n is
// unchanged and the status says so).
static int backendapi_add(backendapi_batch *b, backend_api_chunk *chunk) {
	backendapi_view *v = &b->chunks[b->n];
	v->kind = backend_api_chunk_kind(chunk);
	v->choice = backend_api_chunk_choice(chunk);
	const char *type = v->kind == BACKEND_API_KIND_OTHER ? backend_api_chunk_type(chunk) : "";
	v->type_len = strlen(type);
	const char *json = backend_api_chunk_json(chunk, &v->json_len);
	const char *text = backend_api_chunk_text(chunk, &v->text_len);
	v->has_text = text != NULL;
	v->type_at = backendapi_put(b, type, v->type_len);
	v->json_at = backendapi_put(b, json, v->json_len);
	v->text_at = backendapi_put(b, text, text != NULL ? v->text_len : 0);
	backend_api_chunk_free(chunk);
	if (v->type_at == (size_t)-1 || v->json_at == (size_t)-1 || v->text_at == (size_t)-1) {
		b->status = BACKEND_API_STATUS_INTERNAL; // Go says: out of memory
		return 0;
	}
	b->n++;
	return 1;
}

// Empties b for another call, or makes one. NULL only when
// memory runs out.
static backendapi_batch *backendapi_reset(backendapi_batch *b) {
	if (b == NULL)
		return calloc(1, sizeof *b);
	if (b->cap > BACKENDAPI_BATCH_BYTES) {
		free(b->bytes);
		b->bytes = NULL, b->cap = 0;
	}
	b->used = 0;
	b->status = BACKEND_API_STATUS_OK;
	b->err = NULL;
	b->n = 0;
	return b;
}

static void backendapi_batch_free(backendapi_batch *b) {
	if (b != NULL)
		free(b->bytes);
	free(b);
}

// Waits up to timeout_ms for a chunk, then takes those ready at once, up to
// BACKENDAPI_BATCH. An end met after the first chunk is left for the next call:
// END, CANCELLED and errors are final, so next returns them again.
static backendapi_batch *backendapi_fetch(backend_api_stream *stream, int64_t timeout_ms, backendapi_batch *b) {
	if ((b = backendapi_reset(b)) == NULL)
		return NULL;
	backend_api_chunk *chunk = NULL;
	b->status = backend_api_next(stream, timeout_ms, &chunk, &b->err);
	while (b->status == BACKEND_API_STATUS_OK) {
		if (!backendapi_add(b, chunk) || b->n == BACKENDAPI_BATCH || b->used >= BACKENDAPI_BATCH_BYTES)
			break;
		backend_api_error *ignored = NULL;
		if (backend_api_next(stream, 0, &chunk, &ignored) != BACKEND_API_STATUS_OK) {
			backend_api_error_free(ignored);
			break;
		}
	}
	return b;
}

// Complete's loop: takes and frees chunks until the end, a failure, or a fatal
// (error or auth) chunk, which it leaves in b (n 1, status OK).
static backendapi_batch *backendapi_drain(backend_api_stream *stream, backendapi_batch *b) {
	if ((b = backendapi_reset(b)) == NULL)
		return NULL;
	for (;;) {
		backend_api_chunk *chunk = NULL;
		b->status = backend_api_next(stream, -1, &chunk, &b->err);
		if (b->status != BACKEND_API_STATUS_OK)
			return b;
		backend_api_kind kind = backend_api_chunk_kind(chunk);
		if (kind == BACKEND_API_KIND_ERROR || kind == BACKEND_API_KIND_AUTH) {
			backendapi_add(b, chunk);
			return b;
		}
		backend_api_chunk_free(chunk);
	}
}
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
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
// thread is inside a call on the stream, and chunks must reach Recv's callers in
// their order: one goroutine at a time calls into the C stream (fetching), taking
// a batch of the chunks that are ready (copied into the batch's C buffer); the
// others wait for it (wake). Each chunk is copied into Go memory as it is handed
// out. mu guards all but the immutable fields.
// Cancelling needs no lock: the context's watch and Close use the stream's
// canceller, which stays valid whatever the stream's state.
//
// The C stream lives until Close: once the stream is over its thread has ended,
// and what it still holds is the assembled answer, which Answer reads. Close
// frees it at once (or the fetching goroutine does, as it returns), keeping only
// the stats.
type streamState struct {
	mu        sync.Mutex
	wake      sync.Cond // broadcast when a fetch ends, and by Close
	ptr       *C.backend_api_stream
	canc      *canceller // the stream's canceller; released with ptr
	stopWatch func()     // ends the context's watch of canc
	ctx       context.Context
	fetching  bool                // a goroutine is inside a call on ptr
	closed    bool                // Close was called
	final     error               // the sticky end result (io.EOF, an *Error, ctx.Err()), once known
	batch     *C.backendapi_batch // the last fetch, reused by the next; nil while one runs
	head      int                 // the batch's chunks before head were handed out

	finalStats Stats // the stats when the C stream was freed
}

// Stream sends req and returns the answer's stream at once: the HTTP exchange
// runs on a background thread of the library, and connection and HTTP errors
// arrive from the first Recv. The request is copied: change or reuse it freely.
//
// Cancelling ctx cancels the stream: a blocked Recv returns ctx.Err() at once.
// A nil ctx is an error (ErrInvalidArgument), as in the standard library: pass
// context.Background() or context.TODO().
func (c *Client) Stream(ctx context.Context, req *Request) (*Stream, error) {
	if ctx == nil {
		return nil, nilContext()
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
	stopTimer := context.CancelFunc(func() {})
	if req.Timeout > 0 { // the stream's context ends with the request's own timeout
		ctx, stopTimer = context.WithTimeoutCause(ctx, req.Timeout, &Error{Status: StatusTimedOut,
			Message: "the request's timeout of " + req.Timeout.String() + " elapsed (Request.Timeout)"})
	}
	opened := false
	defer func() {
		if !opened {
			stopTimer()
		}
	}()

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
	st.wake.L = &st.mu
	stopWatch := st.canc.watch(ctx)
	st.stopWatch = func() { stopWatch(); stopTimer() }
	opened = true
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
	var c Chunk
	_, err := s.recv(-1, &c)
	return c, err
}

// TryRecv is Recv without waiting, for event loops (see [Stream.Fd]): it returns
// (chunk, true, nil) when a chunk is ready, (Chunk{}, false, nil) when nothing is
// ready yet (or another goroutine is inside Recv taking chunks), and
// (Chunk{}, false, err) with Recv's errors (io.EOF, ...) when the stream is over.
// An idle or total timeout of the client that is due ends the stream here too,
// with an [*Error] that matches ErrTimedOut.
func (s *Stream) TryRecv() (Chunk, bool, error) {
	var c Chunk
	ok, err := s.recv(0, &c)
	return c, ok, err
}

// recv writes the next chunk into c (a Chunk is too large to return cheaply by
// value on every path): one fetched already, or the first of a new batch
// (timeoutMs -1: wait for ever; 0: only look). It reports whether it wrote one.
func (s *Stream) recv(timeoutMs int64, c *Chunk) (bool, error) {
	defer runtime.KeepAlive(s) // no finalizer while a call runs
	st := s.st
	st.mu.Lock()
	for st.fetching && st.usableLocked() == nil {
		if timeoutMs == 0 {
			st.mu.Unlock()
			return false, nil // another goroutine is taking chunks
		}
		st.wake.Wait()
	}
	if err := st.usableLocked(); err != nil {
		st.mu.Unlock()
		return false, err
	}
	if st.popLocked(c) {
		st.mu.Unlock()
		return true, nil
	}
	if st.final != nil {
		st.mu.Unlock()
		return false, st.final
	}
	ptr, b := st.beginLocked()
	st.mu.Unlock()

	b = C.backendapi_fetch(ptr, C.int64_t(timeoutMs), b)
	for b != nil && b.status == C.BACKEND_API_STATUS_AGAIN && timeoutMs < 0 { // not expected with -1
		b = C.backendapi_fetch(ptr, -1, b)
	}
	err := batchError(b)

	st.mu.Lock()
	defer st.mu.Unlock()
	if err = st.endLocked(b, err); err != nil {
		return false, err
	}
	return st.popLocked(c), nil // false: AGAIN, nothing ready
}

// drain takes the stream's chunks up to its end without copying them (the
// assembled answer holds them). It returns nil at the end, a [*StreamError] at a
// fatal chunk, or Recv's errors.
func (s *Stream) drain() error {
	defer runtime.KeepAlive(s)
	st := s.st
	st.mu.Lock()
	if err := st.usableLocked(); err != nil { // Complete owns its stream: nobody else fetches
		st.mu.Unlock()
		return err
	}
	ptr, b := st.beginLocked()
	st.mu.Unlock()

	b = C.backendapi_drain(ptr, b)
	err := batchError(b)
	st.mu.Lock()
	defer st.mu.Unlock()
	if err = st.endLocked(b, err); err != nil && err != io.EOF {
		return err
	}
	var fatal Chunk
	if st.popLocked(&fatal) {
		return fatal.Err()
	}
	return nil
}

// batchError is the error of a fetch's result: nil for chunks, AGAIN and
// CANCELLED (see endLocked), io.EOF at the end, or an [*Error].
func batchError(b *C.backendapi_batch) error {
	switch {
	case b == nil, b.status == C.BACKEND_API_STATUS_INTERNAL && b.err == nil: // see backendapi_add
		return &Error{Status: StatusInternal, Message: "out of memory for a batch of chunks"}
	case b.status == C.BACKEND_API_STATUS_OK, b.status == C.BACKEND_API_STATUS_AGAIN, b.status == C.BACKEND_API_STATUS_CANCELLED:
		return nil
	case b.status == C.BACKEND_API_STATUS_END:
		return io.EOF
	}
	return takeError(b.status, b.err)
}

// chunkFrom copies the chunk of v, whose bytes are in bytes, into Go memory, in
// c (overwritten whole). Its JSON and text are one allocation of their own: a
// chunk the caller keeps holds on to its own bytes only, not to its batch.
func chunkFrom(c *Chunk, v *C.backendapi_view, bytes []byte) {
	kind := Kind(v.kind)
	typ := ""
	if kind == KindOther || int(kind) >= len(kindNames) {
		typ = string(bytes[v.type_at : v.type_at+v.type_len])
	} else {
		typ = kindNames[kind]
	}
	jn, tn := int(v.json_len), int(v.text_len)
	data := make([]byte, jn+tn)
	copy(data, bytes[v.json_at:v.json_at+v.json_len])
	text := ""
	if v.has_text != 0 && tn > 0 {
		copy(data[jn:], bytes[v.text_at:v.text_at+v.text_len])
		text = unsafe.String(&data[jn], tn) // nothing else reaches these bytes
	}
	*c = Chunk{Type: typ, Kind: kind, Choice: uint32(v.choice),
		Raw:  json.RawMessage(data[:jn:jn]), // capped: appending to Raw never reaches the text
		text: text, hasText: v.has_text != 0}
}

// Close cancels the stream if it still runs and frees it with its assembled
// answer, at once or (when Recv calls run in other goroutines: they return
// ErrClosed) as soon as the last of them returns; it never waits for them. Safe
// to call more than once; Recv and Answer after Close return ErrClosed, Stats
// the statistics as they were. Always returns nil.
func (s *Stream) Close() error {
	s.st.close()
	runtime.KeepAlive(s)
	return nil
}

// All returns an iterator over the stream's chunks for use with range. It ends
// after the last chunk. A failure is yielded once as (Chunk{}, err) and ends it:
// Recv's errors, and a [*StreamError] at an in-stream error or auth chunk (which
// Recv would return as a chunk; [StreamError.Chunk] holds it). All never closes
// the stream, whether the loop ends or stops early (break, return): it stays
// readable ([Stream.Answer], [Stream.Stats], more Recv) until you Close it, as
// your `defer s.Close()` does.
func (s *Stream) All() iter.Seq2[Chunk, error] {
	return func(yield func(Chunk, error) bool) {
		var c Chunk // reused: recv overwrites it whole
		for {
			_, err := s.recv(-1, &c)
			if err == io.EOF {
				return
			}
			if err == nil && c.IsFatal() {
				err = c.Err()
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

// usableLocked reports why the stream can give no more chunks right now:
// ErrClosed after Close, ctx.Err() once the context ended (ending the stream), or
// nil. The end of the stream itself comes after the chunks fetched before it.
func (st *streamState) usableLocked() error {
	if st.closed {
		return ErrClosed
	}
	if err := st.ctxErr(); err != nil {
		if st.final == nil {
			// The context's watch may not have fired yet; end the stream now.
			st.final = err
			st.canc.cancel() // the watch would: shut the connection, wake a fetch
		}
		if st.final == err {
			return err
		}
	}
	return nil
}

// fetchedLocked is how many chunks of the last fetch are not handed out yet.
func (st *streamState) fetchedLocked() int {
	if st.batch == nil {
		return 0
	}
	return int(st.batch.n) - st.head
}

// popLocked copies the next chunk of the last fetch into c; false when that
// fetch's chunks are all taken (or a fetch runs).
func (st *streamState) popLocked(c *Chunk) bool {
	b := st.batch
	if st.fetchedLocked() <= 0 {
		return false
	}
	chunkFrom(c, &b.chunks[st.head], unsafe.Slice((*byte)(unsafe.Pointer(b.bytes)), int(b.used)))
	st.head++
	return true
}

// beginLocked starts a call on the C stream: it returns the stream and the batch
// to reuse.
func (st *streamState) beginLocked() (*C.backend_api_stream, *C.backendapi_batch) {
	st.fetching = true
	b := st.batch
	st.batch = nil
	return st.ptr, b
}

// endLocked ends a call on the C stream, whose result is b (kept for reuse) and
// err (see batchError). It returns the error the call reports, records the
// stream's end, and wakes the goroutines waiting for the call.
func (st *streamState) endLocked(b *C.backendapi_batch, err error) error {
	st.fetching = false
	st.batch = b
	st.head = 0
	if err != nil && b != nil {
		st.head = int(b.n) // out of memory mid-batch: the stream ends here
	}
	st.wake.Broadcast()
	switch {
	case st.closed:
		err = ErrClosed
	case b == nil:
	case b.status == C.BACKEND_API_STATUS_CANCELLED:
		if err = st.ctxErr(); err == nil {
			err = &Error{Status: StatusCancelled, Message: "stream cancelled"}
		}
	case b.status == C.BACKEND_API_STATUS_END && st.ctx.Err() != nil:
		// The core may report END for a stream cancelled while its thread
		// waited to retry or read (the thread then ends "cleanly"): an answer
		// cut short by the context is no clean end.
		err = st.ctxErr()
	}
	if err != nil && !st.closed && st.final == nil {
		st.final = err
	}
	st.releaseLocked() // after Close, the fetching goroutine frees the C stream
	return err
}

// ctxErr is why the stream's context ended: the [*Error] (StatusTimedOut) of
// [Request.Timeout] when that timeout ended it, else ctx.Err(); nil while it runs.
func (st *streamState) ctxErr() error {
	err := st.ctx.Err()
	if err == nil {
		return nil
	}
	var timeout *Error
	if errors.As(context.Cause(st.ctx), &timeout) {
		return timeout
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
	if st.fetching {
		st.canc.cancel() // wake the call; it frees the stream as it returns
	}
	st.wake.Broadcast()
	st.releaseLocked()
}

// releaseLocked frees the C stream once Close was called and no call is inside
// it (else the fetching goroutine does). Called with mu held. It keeps the final
// stats first.
func (st *streamState) releaseLocked() {
	if !st.closed || st.ptr == nil || st.fetching {
		return
	}
	st.finalStats = st.statsLocked()
	st.head = 0
	C.backendapi_batch_free(st.batch)
	st.batch = nil
	C.backend_api_close(st.ptr) // returns at once; the stream's thread ends on its own
	st.ptr = nil
	st.stopWatch()
	st.canc.release()
	st.canc = nil
}
