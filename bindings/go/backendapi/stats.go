package backendapi

/*
#include <backend_api.h>
*/
import "C"

import (
	"runtime"
	"time"
	"unsafe"
)

// Stats are a stream's statistics (backend_api_stats). The times count from the
// moment the stream was opened; a time not known (yet) is negative (-1 µs): no
// response headers, no chunk so far.
type Stats struct {
	Bytes     uint64 // response body bytes read (after HTTP framing)
	Chunks    uint64 // chunks decoded by the stream's native thread
	Delivered uint64 // chunks handed out by Recv and TryRecv (or Complete)
	Skipped   uint64 // malformed lines skipped (with WithSkipMalformed(true))
	Retries   int    // requests sent again after a failure before any answer (see WithRetries)
	// QueuedBytes are the bytes of decoded chunks the library holds for Recv
	// (bounded: the stream's thread stops reading while its queue is full).
	QueuedBytes uint64
	// ReusedConnection: the answer came on a connection the client kept from an
	// earlier request (the C API's backend_api_client_set_keep_alive).
	ReusedConnection bool

	HeadersAfter    time.Duration // when the response headers arrived; negative until then
	FirstChunkAfter time.Duration // when the first chunk was decoded; negative until then
	Elapsed         time.Duration // how long the stream ran: until it ended, or until now
}

// Stats returns the stream's statistics so far. Any goroutine, also while
// another one is in Recv. It works after the end and after Close too: Close keeps
// the last statistics when it frees the native stream (Elapsed stays put from
// the end of the stream, or from Close when that comes first).
func (s *Stream) Stats() Stats {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	defer runtime.KeepAlive(s)
	if st.ptr == nil {
		return st.finalStats
	}
	return st.statsLocked()
}

// statsLocked reads the live C stream's stats (mu held, ptr set).
func (st *streamState) statsLocked() Stats {
	var cs C.backend_api_stats
	cs.size = C.size_t(unsafe.Sizeof(cs))
	if C.backend_api_stream_stats(st.ptr, &cs) != C.BACKEND_API_STATUS_OK {
		return Stats{HeadersAfter: -time.Microsecond, FirstChunkAfter: -time.Microsecond, Elapsed: -time.Microsecond}
	}
	us := func(v C.int64_t) time.Duration {
		if v < 0 {
			return -time.Microsecond
		}
		return time.Duration(v) * time.Microsecond
	}
	return Stats{
		Bytes:            uint64(cs.bytes),
		Chunks:           uint64(cs.chunks),
		Delivered:        uint64(cs.delivered) - uint64(st.fetchedLocked()), // not the fetched ones Recv has yet to return
		Skipped:          uint64(cs.skipped),
		Retries:          int(cs.retries),
		QueuedBytes:      uint64(cs.queued_bytes),
		ReusedConnection: bool(cs.reused_connection),
		HeadersAfter:     us(cs.headers_us),
		FirstChunkAfter:  us(cs.first_chunk_us),
		Elapsed:          us(cs.elapsed_us),
	}
}
