package backendapi

/*
#include <backend_api.h>
*/
import "C"

import (
	"context"
	"sync/atomic"
)

// canceller is a native canceller (backend_api_canceller) shared by its owner (a
// stream, a model listing) and the context watch that cancels it: whichever lets
// go last frees it. It never holds the stream or client pointer, so a context may
// end at any moment, also while or after the owner closes what it cancels.
type canceller struct {
	p    *C.backend_api_canceller
	refs atomic.Int32
}

// newCanceller takes ownership of p (one reference: the owner's).
func newCanceller(p *C.backend_api_canceller) *canceller {
	c := &canceller{p: p}
	c.refs.Store(1)
	return c
}

// cancel cancels what the canceller belongs to; any goroutine, any time before
// the caller's reference is released.
func (c *canceller) cancel() { C.backend_api_canceller_cancel(c.p) }

// release drops a reference; the last one frees the native canceller.
func (c *canceller) release() {
	if c.refs.Add(-1) == 0 {
		C.backend_api_canceller_free(c.p)
	}
}

// watch cancels c when ctx ends. The watch holds a reference of its own until it
// fired or stop ended it. Call stop exactly once.
func (c *canceller) watch(ctx context.Context) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	c.refs.Add(1)
	stopAfter := context.AfterFunc(ctx, func() {
		c.cancel()
		c.release()
	})
	return func() {
		if stopAfter() { // the callback will never run: drop its reference here
			c.release()
		}
	}
}
