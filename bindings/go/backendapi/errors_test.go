package backendapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// Status is a code, not an error: StatusOK, StatusEnd and StatusAgain are no
// failures, and errors.Is(err, StatusTimedOut) used to compile but never match.
func TestStatusIsNotAnError(t *testing.T) {
	errType := reflect.TypeOf((*error)(nil)).Elem()
	if reflect.TypeOf(StatusOK).Implements(errType) {
		t.Error("Status implements error")
	}
	if StatusAgain.String() != "AGAIN" || StatusTimedOut.String() != "TIMED_OUT" {
		t.Errorf("names %q %q", StatusAgain, StatusTimedOut)
	}
}

// Every error status has its sentinel, which matches only that status, also
// through wrapping; Timeout tells a client timeout.
func TestErrorSentinels(t *testing.T) {
	if len(sentinels) != 13 {
		t.Errorf("%d sentinels", len(sentinels))
	}
	for st, want := range sentinels {
		err := fmt.Errorf("wrapped: %w", &Error{Status: st})
		for other, sentinel := range sentinels {
			if got := errors.Is(err, sentinel); got != (other == st) {
				t.Errorf("errors.Is(%v error, sentinel of %v) = %v", st, other, got)
			}
		}
		if errors.Is(err, ErrClosed) || !errors.Is(err, want) {
			t.Errorf("%v: sentinel matching", st)
		}
		var to interface{ Timeout() bool }
		if !errors.As(err, &to) || to.Timeout() != (st == StatusTimedOut) {
			t.Errorf("%v: Timeout() wrong", st)
		}
	}
	for _, st := range []Status{StatusOK, StatusEnd, StatusAgain} {
		for _, sentinel := range sentinels {
			if errors.Is(&Error{Status: st}, sentinel) {
				t.Errorf("an error of status %v matches %v", st, sentinel)
			}
		}
	}

	// A real timeout and a real HTTP error.
	c := client(t, WithIdleTimeout(200*time.Millisecond))
	s := stalled(t, context.Background(), c)
	defer s.Close()
	_, err := s.Recv()
	var e *Error
	if !errors.Is(err, ErrTimedOut) || !errors.As(err, &e) || !e.Timeout() || errors.Is(err, ErrHTTP) {
		t.Errorf("idle timeout: %v", err)
	}
	_, err = c.Complete(context.Background(), &Request{Messages: user("x"), Extra: map[string]any{"test_status": 503}})
	if !errors.Is(err, ErrHTTP) || !errors.As(err, &e) || e.Timeout() || e.HTTPStatus != 503 {
		t.Errorf("HTTP 503: %v", err)
	}
}

// An in-stream error chunk ends All with a *StreamError carrying the server's
// message and the chunk, after the content before it; Recv still returns the
// chunk itself (TestInStreamErrorChunk).
func TestInStreamErrorEndsAll(t *testing.T) {
	c := client(t)
	s, err := c.Stream(context.Background(), &Request{Messages: user("x"), Extra: map[string]any{"test_fault": "error_chunk", "test_chunks": 2}})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	var errs []error
	for ch, err := range s.All() {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		text.WriteString(ch.Content())
	}
	if text.String() != "part0 part1 " || len(errs) != 1 {
		t.Fatalf("All gave %q and errors %v", text.String(), errs)
	}
	checkStreamError(t, errs[0])
	if a, err := s.Answer(); err != nil || a.Error != "ValueError: test failure" || a.Content != "part0 part1 " {
		t.Errorf("answer %+v, %v", a, err)
	}
	// All stopped at the error chunk; the stream is still there for Recv.
	if ch, err := s.Recv(); err != nil || ch.Kind != KindLog {
		t.Errorf("Recv after All: %v, %v; want the log chunk", ch.Type, err)
	}
	s.Close()
}

func checkStreamError(t *testing.T, err error) {
	t.Helper()
	var se *StreamError
	if !errors.As(err, &se) {
		t.Fatalf("%v (%T), want a *StreamError", err, err)
	}
	if se.Type != "error" || se.Class != "ValueError" || se.Message != "ValueError: test failure" ||
		se.Chunk.Kind != KindError || !strings.Contains(string(se.Chunk.Raw), `"message": "ValueError: test failure"`) ||
		err.Error() != "backendapi: server error: ValueError: test failure" {
		t.Errorf("StreamError %#v: %q", se, err.Error())
	}
}

func TestComplete(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	a, err := c.Complete(ctx, &Request{Model: "test-model", Messages: user("hi")})
	if err != nil || a.Content != "Hello from the bundled offline backend! You said: hi" || a.FinishReason != "stop" ||
		a.Model != "test-model" || a.Usage == nil {
		t.Fatalf("Complete: %+v, %v", a, err)
	}
	a, err = c.Complete(ctx, &Request{Messages: user("x"), Extra: map[string]any{"test_chunks": 2000}})
	if err != nil || !strings.HasPrefix(a.Content, "part0 part1 ") || !strings.HasSuffix(a.Content, " part1999 ") {
		t.Fatalf("Complete of 2000 chunks: %d bytes, %v", len(a.Content), err)
	}

	// The in-stream error: a *StreamError and no answer.
	a, err = c.Complete(ctx, &Request{Messages: user("x"), Extra: map[string]any{"test_fault": "error_chunk", "test_chunks": 2}})
	checkStreamError(t, err)
	if a.Content != "" {
		t.Errorf("answer with the error: %+v", a)
	}
	if _, err := c.Complete(ctx, &Request{Messages: user("x"), Extra: map[string]any{"test_fault": "malformed"}}); !errors.Is(err, ErrProtocol) {
		t.Errorf("malformed: %v", err)
	}
	if _, err := c.Complete(ctx, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("nil request: %v", err)
	}

	// A context that ends while the answer stalls ends Complete.
	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.Complete(dctx, &Request{Messages: user("x"), Extra: map[string]any{"test_fault": "stall", "test_chunks": 2}})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Complete past its deadline: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Complete still waits 10 s after its deadline")
	}

	// Without the assembled answer there is nothing to return.
	off := client(t, WithAssemble(false))
	if a, err := off.Complete(ctx, &Request{Messages: user("x")}); err != nil || a.Content != "" {
		t.Errorf("Complete without assembling: %+v, %v", a, err)
	}
}

func TestKindAnswer(t *testing.T) {
	c := client(t)
	a, err := c.Complete(context.Background(), &Request{Messages: user("x")})
	if err != nil {
		t.Fatal(err)
	}
	var head struct{ Type string }
	if err := (Chunk{Raw: a.Raw}).Decode(&head); err != nil || head.Type != KindAnswer.String() || KindAnswer.String() != "answer" {
		t.Errorf("answer type %q, KindAnswer %q: %v", head.Type, KindAnswer, err)
	}
	if KindRefusal.String() != "refusal" || Kind(uint32(KindRefusal)+1).String() != "other" {
		t.Errorf("a kind after the last is named")
	}
}

// A server's escape sequences never reach Error() strings (a terminal, a log):
// they are shown escaped, while the error's fields keep the server's text.
func TestEscapeSequencesInErrors(t *testing.T) {
	const esc = `\u001b]0;pwned\u0007\u001b[31mred\u009b2J` // JSON escapes: OSC, BEL, CSI, C1 CSI
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("X-Case") == "http" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(500)
			fmt.Fprintf(w, `{"error":{"message":"%s"}}`, esc)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: {\"type\":\"error\",\"message\":\"%s\"}\n\n", esc)
	}))
	defer srv.Close()
	c, err := NewClient(srv.URL, WithNoProxy())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, kind := range []string{"http", "chunk"} {
		_, err := c.Complete(context.Background(), &Request{Messages: user("x"), Headers: Headers{"X-Case": kind}})
		if err == nil {
			t.Fatalf("%s: no error", kind)
		}
		msg := err.Error()
		if strings.IndexFunc(msg, isControl) >= 0 || !strings.Contains(msg, `\x1b]0;pwned`) || !strings.Contains(msg, `\u009b2J`) {
			t.Errorf("%s: Error() = %q", kind, msg)
		}
		var e *Error
		var se *StreamError
		if (errors.As(err, &e) && !strings.Contains(e.ServerMessage, "\x1b")) || (errors.As(err, &se) && !strings.Contains(se.Message, "\x1b")) {
			t.Errorf("%s: the error's fields lost the server's text: %#v", kind, err)
		}
		t.Logf("%s: %s", kind, msg)
	}
}
