//go:build linux

package backendapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"
)

// 20 streams driven from one goroutine: epoll on their descriptors (level-
// triggered), TryRecv to drain each ready one, DeadlineHint as the wait's timeout.
func TestEventLoopFd(t *testing.T) {
	c := client(t, WithIdleTimeout(20*time.Second))
	const streams, parts = 20, 8
	var want strings.Builder
	for i := 0; i < parts; i++ {
		fmt.Fprintf(&want, "part%d ", i)
	}

	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(epfd)

	type entry struct {
		s      *Stream
		text   strings.Builder
		chunks int
		done   bool
	}
	entries := make([]*entry, streams)
	fds := map[int]bool{}
	for i := range entries {
		extra := map[string]any{"test_chunks": parts, "test_delay_ms": 5 + i%4}
		if i%2 == 1 {
			extra["test_framing"] = "ndjson"
		}
		s, err := c.Stream(context.Background(), &Request{Messages: user(fmt.Sprint(i)), Extra: extra})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		fd, err := s.Fd()
		if err != nil {
			t.Fatalf("Fd: %v", err)
		}
		if fd < 0 || fds[fd] {
			t.Fatalf("stream %d: descriptor %d (negative or shared)", i, fd)
		}
		fds[fd] = true
		if again, _ := s.Fd(); again != fd {
			t.Errorf("Fd changed: %d, then %d", fd, again)
		}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(i)} // Fd: our own tag, the index
		if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
			t.Fatal(err)
		}
		entries[i] = &entry{s: s}
	}

	open, wakeups, empty := streams, 0, 0
	events := make([]syscall.EpollEvent, streams)
	deadline := time.Now().Add(60 * time.Second)
	for open > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d streams still open after 60 s", open)
		}
		// The wait's timeout: the nearest idle deadline, at most a second.
		wait := time.Second
		for _, e := range entries {
			if d, ok := e.s.DeadlineHint(); ok && !e.done && d < wait {
				wait = d
			}
		}
		n, err := syscall.EpollWait(epfd, events, int(wait.Milliseconds()))
		if errors.Is(err, syscall.EINTR) {
			continue // a signal of the Go runtime
		}
		if err != nil {
			t.Fatal(err)
		}
		wakeups++
		for _, ev := range events[:n] {
			e := entries[ev.Fd]
			got := 0
			for !e.done {
				ch, ok, err := e.s.TryRecv()
				if err == io.EOF {
					fd, _ := e.s.Fd() // still valid: the stream lives until Close
					if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_DEL, fd, nil); err != nil {
						t.Fatal(err)
					}
					e.done = true
					open--
					break
				}
				if err != nil {
					t.Fatalf("stream %d: %v", ev.Fd, err)
				}
				if !ok {
					break // drained: wait again
				}
				got++
				e.chunks++
				e.text.WriteString(ch.Content())
			}
			if got == 0 && !e.done {
				empty++ // a spurious wake-up, which the C API allows
			}
		}
	}
	t.Logf("%d streams in %d wake-ups (%d of them empty for a stream)", streams, wakeups, empty)
	for i, e := range entries {
		if e.text.String() != want.String() {
			t.Errorf("stream %d: content %q", i, e.text.String())
		}
		st := e.s.Stats()
		if st.Delivered != uint64(e.chunks) || st.Chunks != uint64(e.chunks) {
			t.Errorf("stream %d: %d chunks, stats %+v", i, e.chunks, st)
		}
		if a, err := e.s.Answer(); err != nil || a.Content != want.String() {
			t.Errorf("stream %d: answer %q, %v", i, a.Content, err)
		}
		if _, ok, err := e.s.TryRecv(); ok || err != io.EOF {
			t.Errorf("stream %d: TryRecv after the end: %v %v", i, ok, err)
		}
		e.s.Close()
		if _, err := e.s.Fd(); !errors.Is(err, ErrClosed) {
			t.Errorf("stream %d: Fd after Close: %v", i, err)
		}
	}
}

// What the docs promise: a client's idle timeout and a request's own
// Timeout end the stream by themselves and make Fd readable; the wait needs no
// timeout of its own.
func TestTimeoutsSignalTheDescriptor(t *testing.T) {
	stall := map[string]any{"test_chunks": 1, "test_fault": "stall"}
	for name, tc := range map[string]struct {
		opts []Option
		req  *Request
	}{
		"client idle timeout": {[]Option{WithIdleTimeout(300 * time.Millisecond)}, &Request{Messages: user("x"), Extra: stall}},
		"Request.Timeout":     {nil, &Request{Messages: user("x"), Extra: stall, Timeout: 300 * time.Millisecond}},
	} {
		s, err := client(t, tc.opts...).Stream(context.Background(), tc.req)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		fd, err := s.Fd()
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		var end error
		for end == nil && time.Since(t0) < 10*time.Second {
			var set syscall.FdSet
			set.Bits[fd/64] |= 1 << (uint(fd) % 64)
			tv := syscall.Timeval{Sec: 10} // far longer than the timeout: only the descriptor wakes it in time
			if _, err := syscall.Select(fd+1, &set, nil, nil, &tv); err != nil && err != syscall.EINTR {
				t.Fatal(err)
			}
			for {
				_, ok, err := s.TryRecv()
				if err != nil {
					end = err
				}
				if !ok {
					break
				}
			}
		}
		if !errors.Is(end, ErrTimedOut) || time.Since(t0) > 5*time.Second {
			t.Errorf("%s: %v after %v, want ErrTimedOut soon after 300 ms", name, end, time.Since(t0))
		}
	}
}
