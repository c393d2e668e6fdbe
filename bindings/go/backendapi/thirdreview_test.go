package backendapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// The third review (issue 34) ran one program per case against the test backend;
// each is a subtest here: stream, cancel from another goroutine, continue the
// conversation, list models, an HTTP error, Complete under Shutdown.
func TestReviewPrograms(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	t.Run("stream", func(t *testing.T) {
		s, err := c.Stream(ctx, &Request{Messages: user("stream me")})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var text strings.Builder
		for chunk, err := range s.All() {
			if err != nil {
				t.Fatal(err)
			}
			text.WriteString(chunk.Content())
		}
		if !strings.HasSuffix(text.String(), "You said: stream me") {
			t.Fatalf("streamed %q", text.String())
		}
	})
	t.Run("cancel from another goroutine", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		s, err := c.Stream(cctx, &Request{Messages: user("x"), Extra: map[string]any{"test_chunks": 1, "test_fault": "stall"}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var at time.Time
		go func() { time.Sleep(200 * time.Millisecond); at = time.Now(); cancel() }()
		if _, err := collect(t, s); !errors.Is(err, context.Canceled) {
			t.Fatalf("Recv after cancel: %v", err)
		}
		if d := time.Since(at); d > 2*time.Second {
			t.Fatalf("woke %v after the cancel", d)
		}
	})
	t.Run("continue the conversation", func(t *testing.T) {
		req := &Request{Messages: user("first"), Extra: map[string]any{"test_conversation": map[string]any{"id": 9}}}
		a, err := c.Complete(ctx, req)
		if err != nil || a.Conversation == nil {
			t.Fatalf("first answer %+v, %v", a, err)
		}
		next := req.FollowUp(a, "second")
		next.Extra["test_echo"] = true
		b, err := c.Complete(ctx, next)
		if err != nil || !strings.Contains(b.Content, `"conversation":{"id":9}`) ||
			!strings.Contains(b.Content, `"content":"second"`) || !strings.Contains(b.Content, a.Content[:20]) {
			t.Fatalf("follow-up answer %q, %v", b.Content, err)
		}
	})
	t.Run("list models", func(t *testing.T) {
		m, err := c.Models(ctx)
		if err != nil || len(m["TestBackend"]) == 0 {
			t.Fatalf("Models: %v, %v", m, err)
		}
	})
	t.Run("an HTTP error", func(t *testing.T) {
		_, err := c.Complete(ctx, &Request{Messages: user("x"), Extra: map[string]any{"test_status": 404}})
		var e *Error
		if !errors.As(err, &e) || e.HTTPStatus != 404 || !errors.Is(err, ErrHTTP) || e.ServerMessage != "test status 404" {
			t.Fatalf("HTTP 404: %#v", err)
		}
	})
	t.Run("complete under shutdown", func(t *testing.T) {
		done := make(chan error)
		go func() {
			time.Sleep(300 * time.Millisecond)
			sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			done <- Shutdown(sctx)
		}()
		a, err := c.Complete(ctx, &Request{Messages: user("x"), Extra: map[string]any{"test_fault": "endless"}})
		if serr := <-done; serr != nil { // no later test's stream is cancelled by it
			t.Fatalf("Shutdown: %v", serr)
		}
		if !errors.Is(err, ErrCancelled) || a.Content != "" {
			t.Fatalf("Complete under Shutdown: %d bytes, %v (want ErrCancelled, no answer)", len(a.Content), err)
		}
	})
}

// Issue 34: every C function reaches Go: the answer limit, the media limit, the
// trust store, an added CA, URL redaction, the version number.
func TestLimitsTrustAndRedaction(t *testing.T) {
	ctx := context.Background()
	small := client(t, WithMaxAnswerBytes(16))
	if _, err := small.Complete(ctx, &Request{Messages: user("a long enough message")}); !errors.Is(err, ErrLimit) {
		t.Errorf("an answer over WithMaxAnswerBytes: %v, want ErrLimit", err)
	}
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 20)...) // recognised by its signature
	c := client(t, WithTrustStore(TrustStoreBundled), WithTrustStore(TrustStorePlatform))
	_, err := c.Complete(ctx, &Request{Messages: user("x"), Media: []Media{MediaBytes(png, "a.png")}, MaxMediaBytes: 16})
	if !errors.Is(err, ErrLimit) {
		t.Errorf("media over MaxMediaBytes: %v, want ErrLimit", err)
	}
	if _, err := c.Complete(ctx, &Request{Messages: user("x"), Media: []Media{MediaBytes(png, "a.png")}, MaxMediaBytes: len(png)}); err != nil {
		t.Errorf("media within MaxMediaBytes: %v", err)
	}
	for name, opt := range map[string]Option{
		"WithTrustStore(7)":             WithTrustStore(7),
		"WithAdditionalCAFile(missing)": WithAdditionalCAFile("/no/such/ca.pem"),
		"WithMaxAnswerBytes(0)":         WithMaxAnswerBytes(0),
	} {
		if _, err := NewClient(backendURL, opt); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
	}
	for in, want := range map[string]string{
		"http://user:secret@h:8/p":              "http://***@h:8/p",
		"http://u:p@ss@h/":                      "http://***@h/",
		"https://h/" + strings.Repeat("x", 300): "https://h/" + strings.Repeat("x", 300),
	} {
		if got, err := RedactURL(in); got != want || err != nil {
			t.Errorf("RedactURL(%.30q) = %.30q, %v", in, got, err)
		}
	}
	if _, err := RedactURL("\xff"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("RedactURL of invalid UTF-8: %v", err)
	}
	var major, minor, patch uint32
	fmt.Sscanf(Version(), "%d.%d.%d", &major, &minor, &patch)
	if VersionNum() != major<<16|minor<<8|patch {
		t.Errorf("VersionNum %#x, Version %s", VersionNum(), Version())
	}
}

// Issue 34: Usage and ToolCalls of an answer are typed, not json.RawMessage.
func TestTypedToolCalls(t *testing.T) {
	a, err := client(t).Complete(context.Background(), &Request{Messages: user("x"), Extra: map[string]any{"test_extras": true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.ToolCalls) != 2 || a.ToolCalls[0].ID != "call_1" || a.ToolCalls[0].Type != "function" ||
		a.ToolCalls[0].Function.Name != "get_weather" || a.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` ||
		a.ToolCalls[1].Function.Name != "get_time" {
		t.Fatalf("tool calls %+v", a.ToolCalls)
	}
	if a.Usage == nil || a.Usage.CompletionTokens == 0 {
		t.Fatalf("usage %+v", a.Usage)
	}
}

// Issue 34: a per-request timeout (openai-go's WithRequestTimeout), on top of the client's.
func TestRequestTimeout(t *testing.T) {
	c := client(t)
	stalled := &Request{Messages: user("x"), Extra: map[string]any{"test_chunks": 1, "test_fault": "stall"}, Timeout: 400 * time.Millisecond}
	t0 := time.Now()
	_, err := c.Complete(context.Background(), stalled)
	took := time.Since(t0)
	var e *Error
	if !errors.As(err, &e) || e.Status != StatusTimedOut || !e.Timeout() || !strings.Contains(err.Error(), "Request.Timeout") {
		t.Fatalf("a stalled request with Timeout: %v", err)
	}
	if took < 400*time.Millisecond || took > 5*time.Second {
		t.Fatalf("took %v", took)
	}
	// Recv reports it too, and a FollowUp keeps the timeout.
	s, err := c.Stream(context.Background(), stalled.FollowUp(Answer{}, "again"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := collect(t, s); !errors.Is(err, ErrTimedOut) {
		t.Fatalf("Recv: %v, want ErrTimedOut", err)
	}
	// A whole answer within it is untouched; a cancelled context still says so.
	if _, err := c.Complete(context.Background(), &Request{Messages: user("x"), Timeout: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Complete(ctx, stalled); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled context: %v", err)
	}
}

// Review (issue 34): a server's escape sequences passed into Error() strings.
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
