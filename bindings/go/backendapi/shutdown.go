package backendapi

/*
#include <backend_api.h>
*/
import "C"

import (
	"context"
	"time"
)

// shutdownSlice is how long one backend_api_shutdown call waits, so that
// Shutdown notices its context between calls.
const shutdownSlice = 50 * time.Millisecond

// Shutdown waits for the native library to go quiet (backend_api_shutdown, the
// role of curl_global_cleanup): it cancels every stream and model listing still
// in flight in the process (a Recv then returns an [*Error] matching
// ErrCancelled; the Stream stays valid and must still be closed), then waits
// until every thread of the library has ended. It returns nil once none is left:
// from then on no [WithLogger] or [WithSlog] function runs on a library thread.
// When ctx ends first it returns ctx.Err() and the threads left finish on
// their own (call again to wait for them).
//
// Call it before the program exits when a logger the library calls must not run
// past a point (a log file closed at exit, say), and before unloading the
// library. Streams may be started again afterwards. Never call it from a logger
// function; a nil ctx is an error (ErrInvalidArgument).
func Shutdown(ctx context.Context) error {
	if ctx == nil {
		return nilContext()
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		slice := shutdownSlice
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < slice {
			slice = max(time.Until(deadline), 0)
		}
		st := C.backend_api_shutdown(C.int64_t(slice.Milliseconds()))
		switch st {
		case C.BACKEND_API_STATUS_OK:
			return nil
		case C.BACKEND_API_STATUS_TIMED_OUT:
		default:
			return &Error{Status: Status(st), Message: "backend_api_shutdown failed"}
		}
	}
}
