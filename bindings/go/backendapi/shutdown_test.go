package backendapi

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// Shutdown cancels the streams left open (their Recv ends with ErrCancelled)
// and, once it returns, no logger runs any more.
func TestShutdown(t *testing.T) {
	var records atomic.Int64
	c := client(t, WithLogger(func(LogLevel, string) { records.Add(1) }, LogTrace))
	s, err := c.Stream(context.Background(), &Request{Messages: user("x"), Extra: map[string]any{"test_fault": "endless"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	after := records.Load()
	time.Sleep(300 * time.Millisecond)
	if n := records.Load(); n != after || after == 0 {
		t.Fatalf("log records: %d at Shutdown's return, %d 300 ms later", after, n)
	}
	var got error
	for got == nil {
		_, got = s.Recv()
	}
	if !errors.Is(got, ErrCancelled) {
		t.Fatalf("Recv after Shutdown: %v, want ErrCancelled", got)
	}
	t.Logf("after Shutdown: %d log records, none later; the open stream ended: %v", after, got)

	// Streams start again afterwards.
	if a, err := c.Complete(context.Background(), &Request{Messages: user("again")}); err != nil || a.Content == "" {
		t.Fatalf("a stream after Shutdown: %q, %v", a.Content, err)
	}
	if err := Shutdown(nil); !errors.Is(err, ErrInvalidArgument) { //nolint:staticcheck // the nil context is what is tested
		t.Fatalf("Shutdown(nil): %v", err)
	}
	expired, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := Shutdown(expired); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown(cancelled ctx): %v", err)
	}
}
