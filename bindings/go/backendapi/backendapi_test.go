package backendapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestVersionAndStatusNames(t *testing.T) {
	if v := Version(); !strings.HasPrefix(v, "0.") && !strings.Contains(v, ".") {
		t.Fatalf("Version() = %q", v)
	}
	for st, name := range map[Status]string{StatusOK: "OK", StatusHTTP: "HTTP", StatusTimedOut: "TIMED_OUT", StatusWrongType: "WRONG_TYPE", 4: "UNKNOWN"} {
		if st.String() != name {
			t.Errorf("Status(%d).String() = %q, want %q", uint32(st), st.String(), name)
		}
	}
	if KindContent.String() != "content" || KindToolCalls.String() != "tool_calls" || Kind(999).String() != "other" {
		t.Errorf("Kind names wrong")
	}
}

func TestCannedAnswer(t *testing.T) {
	c := client(t)
	chunks := ask(t, c, &Request{Model: "test-model", Messages: user("hi")})
	if got, want := contentOf(chunks), "Hello from the bundled offline backend! You said: hi"; got != want {
		t.Fatalf("content %q, want %q", got, want)
	}
	ty := types(chunks)
	if ty[0] != "provider" || ty[len(ty)-2] != "usage" || ty[len(ty)-1] != "finish" {
		t.Fatalf("chunk types %v", ty)
	}
	if chunks[0].Kind != KindProvider {
		t.Errorf("provider kind = %v", chunks[0].Kind)
	}
	var p struct {
		Provider struct{ Name, Model string }
	}
	if err := chunks[0].Decode(&p); err != nil || p.Provider.Name != "TestBackend" || p.Provider.Model != "test-model" {
		t.Errorf("provider chunk %s: %+v %v", chunks[0].Raw, p, err)
	}
	u, ok := chunks[len(chunks)-2].Usage()
	if !ok || u.PromptTokens != 3 || u.CompletionTokens != int64(len(chunks)-3) || u.TotalTokens != u.PromptTokens+u.CompletionTokens ||
		u.Model != "test-model" || u.Provider != "TestBackend" || !json.Valid(u.Raw) {
		t.Errorf("usage %+v ok=%v from %s", u, ok, chunks[len(chunks)-2].Raw)
	}
	if r := chunks[len(chunks)-1].FinishReason(); r != "stop" {
		t.Errorf("finish reason %q", r)
	}
	for _, ch := range chunks[1 : len(chunks)-2] {
		if ch.Kind != KindContent || !ch.HasText() || ch.Text() != ch.Content() || ch.IsFatal() || ch.Err() != nil {
			t.Errorf("content chunk %+v", ch)
		}
		if v, ok := ch.Field("content"); !ok || !json.Valid(v) {
			t.Errorf("Field(content) of %s", ch.Raw)
		}
	}
	if _, ok := chunks[0].Usage(); ok {
		t.Errorf("Usage() of a provider chunk is ok")
	}
	if chunks[0].FinishReason() != "" || chunks[0].Content() != "" || chunks[0].ErrorMessage() != "" {
		t.Errorf("helpers of a provider chunk are not empty")
	}
}

// The three framings the backend speaks give the same chunks.
func TestFramings(t *testing.T) {
	c := client(t)
	var want []Chunk
	for _, framing := range []string{"sse", "ndjson", "sse-crlf"} {
		chunks := ask(t, c, &Request{Model: "test-model", Messages: user("x"),
			Extra: map[string]any{"test_framing": framing, "test_chunks": 7}})
		if got := contentOf(chunks); got != "part0 part1 part2 part3 part4 part5 part6 " {
			t.Fatalf("%s: content %q", framing, got)
		}
		if want == nil {
			want = chunks
			continue
		}
		if !reflect.DeepEqual(types(chunks), types(want)) {
			t.Fatalf("%s: types %v, sse gave %v", framing, types(chunks), types(want))
		}
		for i := range chunks {
			var a, b any
			if err := json.Unmarshal(chunks[i].Raw, &a); err != nil {
				t.Fatalf("%s: chunk %d: %v", framing, i, err)
			}
			_ = json.Unmarshal(want[i].Raw, &b)
			if !reflect.DeepEqual(a, b) || chunks[i].Text() != want[i].Text() || chunks[i].Kind != want[i].Kind {
				t.Errorf("%s: chunk %d is %s, sse gave %s", framing, i, chunks[i].Raw, want[i].Raw)
			}
		}
	}
}

func TestIterator(t *testing.T) {
	c := client(t)
	s, err := c.Stream(context.Background(), &Request{Messages: user("x"), Extra: map[string]any{"test_chunks": 3}})
	if err != nil {
		t.Fatal(err)
	}
	var text string
	n := 0
	for ch, err := range s.All() {
		if err != nil {
			t.Fatal(err)
		}
		text += ch.Content()
		n++
	}
	if text != "part0 part1 part2 " || n != 6 {
		t.Fatalf("All gave %d chunks, content %q", n, text)
	}
	// At its end All leaves the stream open: the end stays, the answer is there.
	if _, err := s.Recv(); err != io.EOF {
		t.Fatalf("Recv after All: %v, want io.EOF", err)
	}
	if a, err := s.Answer(); err != nil || a.Content != "part0 part1 part2 " {
		t.Fatalf("Answer after All: %q, %v", a.Content, err)
	}
	s.Close()

	// break ends the loop and leaves the stream open: the answer so far
	// and more chunks are there until the caller's Close.
	s, err = c.Stream(context.Background(), &Request{Messages: user("x"), Extra: map[string]any{"test_chunks": 50}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n = 0
	for _, err := range s.All() {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	if _, err := s.Answer(); err != nil {
		t.Fatalf("Answer after break: %v, want the answer so far", err)
	}
	if ch, err := s.Recv(); err != nil {
		t.Fatalf("Recv after break: %v, want the next chunk", err)
	} else {
		t.Logf("after break: Answer ok, Recv gave a %s chunk", ch.Type)
	}
	s.Close()
	if _, err := s.Recv(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Recv after Close: %v, want ErrClosed", err)
	}
}

// A nil context.Context is refused, as the standard library refuses one.
func TestNilContextRefused(t *testing.T) {
	c := client(t)
	//lint:ignore SA1012 the nil context is what is tested
	_, err := c.Stream(nil, &Request{Messages: user("x")}) //nolint:staticcheck
	if !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Stream(nil ctx): %v, want ErrInvalidArgument", err)
	}
	t.Logf("Stream(nil ctx): %v", err)
	//lint:ignore SA1012 the nil context is what is tested
	if _, err := c.Models(nil); !errors.Is(err, ErrInvalidArgument) { //nolint:staticcheck
		t.Fatalf("Models(nil ctx): %v, want ErrInvalidArgument", err)
	}
	//lint:ignore SA1012 the nil context is what is tested
	if _, err := c.Complete(nil, &Request{Messages: user("x")}); !errors.Is(err, ErrInvalidArgument) { //nolint:staticcheck
		t.Fatalf("Complete(nil ctx): %v, want ErrInvalidArgument", err)
	}
}

type echo struct {
	Body    map[string]json.RawMessage `json:"body"`
	Headers map[string]string          `json:"headers"`
}

func askEcho(t *testing.T, c *Client, req *Request) echo {
	t.Helper()
	if req.Extra == nil {
		req.Extra = map[string]any{}
	}
	req.Extra["test_echo"] = true
	chunks := ask(t, c, req)
	text, ok := strings.CutPrefix(chunks[1].Content(), "ECHO:")
	if !ok {
		t.Fatalf("no echo chunk: %s", chunks[1].Raw)
	}
	var e echo
	if err := json.Unmarshal([]byte(text), &e); err != nil {
		t.Fatalf("echo %q: %v", text, err)
	}
	return e
}

func TestRequestFieldsReachTheServer(t *testing.T) {
	c := client(t, WithHeader("X-Test", "yes"))
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 20)...)
	file := filepath.Join(t.TempDir(), "pic.png")
	if err := os.WriteFile(file, png, 0o600); err != nil {
		t.Fatal(err)
	}
	e := askEcho(t, c, &Request{
		Model: "test-vision",
		Messages: []Message{
			{Role: "system", Content: "be brief"},
			{Role: "user", Content: []map[string]any{{"type": "text", "text": "what is it?"}}},
			{Role: "assistant", Content: json.RawMessage(`"a \u00e9 b"`)},
		},
		Media: []Media{
			MediaBytes(png, "a.png"),
			MediaFile(file),
			MediaURI("https://example.com/b.jpg", ""),
		},
		APIKey: "sk-body",
		Extra: map[string]any{
			"provider":   "TestBackend",
			"web_search": true,
			"nested":     map[string]any{"a": []int{1, 2}},
			"raw":        json.RawMessage(`{"k":null}`),
			"text":       "plain",
		},
		ExtraJSON: json.RawMessage(`{"conversation_id":"c-1","text":"overridden"}`),
	})
	want := map[string]string{
		"model":           `"test-vision"`,
		"messages":        `[{"content":"be brief","role":"system"},{"content":[{"text":"what is it?","type":"text"}],"role":"user"},{"content":"a é b","role":"assistant"}]`,
		"api_key":         `"sk-body"`,
		"provider":        `"TestBackend"`,
		"web_search":      `true`,
		"nested":          `{"a":[1,2]}`,
		"raw":             `{"k":null}`,
		"text":            `"plain"`,
		"conversation_id": `"c-1"`,
		"test_echo":       `true`,
	}
	for k, w := range want {
		var a, b any
		if err := json.Unmarshal(e.Body[k], &a); err != nil {
			t.Errorf("body field %s missing: %v", k, err)
			continue
		}
		_ = json.Unmarshal([]byte(w), &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("body field %s = %s, want %s", k, e.Body[k], w)
		}
	}
	var media [][]any
	if err := json.Unmarshal(e.Body["media"], &media); err != nil || len(media) != 3 {
		t.Fatalf("media %s: %v", e.Body["media"], err)
	}
	uri := "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
	if media[0][0] != uri || media[0][1] != "a.png" {
		t.Errorf("media from bytes: %v", media[0])
	}
	if media[1][0] != uri || media[1][1] != "pic.png" {
		t.Errorf("media from file: %v", media[1])
	}
	if media[2][0] != "https://example.com/b.jpg" || media[2][1] != nil {
		t.Errorf("media from URI: %v", media[2])
	}
	if e.Headers["x-test"] != "yes" {
		t.Errorf("client header missing: %v", e.Headers)
	}
	if _, ok := e.Headers["authorization"]; ok {
		t.Errorf("key in body also sent as bearer")
	}

	// Bearer placement: no api_key in the body at all.
	e = askEcho(t, c, &Request{Messages: user("x"), APIKey: "sk-bearer", APIKeyPlacement: KeyAsBearer})
	if _, ok := e.Body["api_key"]; ok {
		t.Errorf("bearer key also in body: %s", e.Body["api_key"])
	}
	if e.Headers["authorization"] != "Bearer sk-bearer" {
		t.Errorf("authorization header %q", e.Headers["authorization"])
	}
	e = askEcho(t, c, &Request{Messages: user("x"), APIKey: "sk-both", APIKeyPlacement: KeyInBodyAndBearer})
	if string(e.Body["api_key"]) != `"sk-both"` || e.Headers["authorization"] != "Bearer sk-both" {
		t.Errorf("both placements: body %s, header %q", e.Body["api_key"], e.Headers["authorization"])
	}
	// No key: no api_key field.
	e = askEcho(t, c, &Request{Messages: user("x")})
	if _, ok := e.Body["api_key"]; ok {
		t.Errorf("api_key sent without a key")
	}
}

// Per-request headers reach the server after the client's (the same name: the
// request's value comes last), with no effect on other requests; FollowUp keeps them.
func TestRequestHeaders(t *testing.T) {
	c := client(t, WithHeader("X-Shared", "client"), WithHeader("X-Client", "yes"))
	req := &Request{Messages: user("x"), Headers: Headers{"X-Shared": "request", "X-Trace-Id": "t-1", "x-secret": "s3"}}
	e := askEcho(t, c, req)
	for name, want := range map[string]string{"x-shared": "request", "x-trace-id": "t-1", "x-secret": "s3", "x-client": "yes"} {
		if got := e.Headers[name]; got != want {
			t.Errorf("header %s = %q, want %q (all: %v)", name, got, want, e.Headers)
		}
	}
	e = askEcho(t, c, &Request{Messages: user("x")})
	if _, ok := e.Headers["x-trace-id"]; ok || e.Headers["x-shared"] != "client" {
		t.Errorf("a request header stayed for the next request: %v", e.Headers)
	}
	next := req.FollowUp(Answer{Content: "a"}, "b")
	next.Headers["X-Trace-Id"] = "t-2"
	if req.Headers["X-Trace-Id"] != "t-1" || askEcho(t, c, next).Headers["x-trace-id"] != "t-2" {
		t.Errorf("FollowUp's headers: %v, original %v", next.Headers, req.Headers)
	}
	for name, h := range map[string]Headers{"NUL in value": {"X-A": "a\x00b"}, "bad name": {"X A": "v"}, "newline in value": {"X-A": "a\r\nX-B: b"}} {
		if _, err := c.Stream(context.Background(), &Request{Headers: h}); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
	}
}

func TestInvalidArguments(t *testing.T) {
	if _, err := NewClient("ftp://nope"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("NewClient(ftp://): %v", err)
	}
	if _, err := NewClient("http://a\x00b"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("NewClient with NUL: %v", err)
	}
	if _, err := NewClient("http://127.0.0.1:1", WithConnectTimeout(-time.Second)); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("negative timeout: %v", err)
	}
	if _, err := NewClient("http://127.0.0.1:1", WithCAFile("/nonexistent/ca.pem")); err == nil {
		t.Errorf("missing CA file accepted")
	}
	c, err := NewClient("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for name, req := range map[string]*Request{
		"nil":           nil,
		"NUL in model":  {Model: "a\x00b"},
		"reserved key":  {Extra: map[string]any{"model": "x"}},
		"bad ExtraJSON": {ExtraJSON: json.RawMessage(`[1]`)},
		"unencodable":   {Extra: map[string]any{"f": func() {}}},
		"bad raw":       {Extra: map[string]any{"f": json.RawMessage(`{`)}},
	} {
		if _, err := c.Stream(ctx, req); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v, want INVALID_ARGUMENT", name, err)
		}
	}
	for name, m := range map[string]Media{
		"unknown bytes": MediaBytes([]byte("not an image"), "x.bin"),
		"missing file":  MediaFile("/nonexistent/file.png"),
		"empty":         {},
	} {
		_, err := c.Stream(ctx, &Request{Media: []Media{m}})
		var e *Error
		if !errors.As(err, &e) || e.Status != StatusMedia || e.Message == "" {
			t.Errorf("%s: %v, want MEDIA", name, err)
		}
	}
}

func TestHTTPErrors(t *testing.T) {
	c := client(t)
	for _, tc := range []struct {
		extra  map[string]any
		status int
		server string
	}{
		{map[string]any{"test_status": 500}, 500, "test status 500"},
		{map[string]any{"test_status": 403}, 403, "test status 403"},
		{map[string]any{"provider": "NoSuchProvider"}, 404, "Provider not found"},
		{map[string]any{"test_status": 502, "test_html": true}, 502, ""},
	} {
		s, err := c.Stream(context.Background(), &Request{Messages: user("x"), Extra: tc.extra})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Recv()
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%v: Recv gave %v, want *Error", tc.extra, err)
		}
		if e.Status != StatusHTTP || e.HTTPStatus != tc.status || e.ServerMessage != tc.server || !errors.Is(err, ErrHTTP) ||
			!strings.Contains(err.Error(), fmt.Sprint(tc.status)) {
			t.Errorf("%v: %#v", tc.extra, e)
		}
		if _, again := s.Recv(); again != err {
			t.Errorf("second Recv: %v, want the same error", again)
		}
		s.Close()
	}
}

func TestInStreamErrorChunk(t *testing.T) {
	c := client(t)
	chunks := ask(t, c, &Request{Messages: user("x"), Extra: map[string]any{"test_fault": "error_chunk", "test_chunks": 2}})
	if got := strings.Join(types(chunks), ","); got != "provider,content,content,error,log" {
		t.Fatalf("types %s", got)
	}
	ec := chunks[3]
	if ec.Kind != KindError || !ec.IsFatal() || ec.ErrorMessage() != "ValueError: test failure" {
		t.Errorf("error chunk %+v", ec)
	}
	var ce *StreamError
	if err := ec.Err(); !errors.As(err, &ce) || ce.Class != "ValueError" || ce.Message != "ValueError: test failure" || ce.Type != "error" {
		t.Errorf("Err() = %#v", err)
	}
	if chunks[4].Kind != KindLog || chunks[4].Text() != "Using TestBackend provider" || chunks[4].IsFatal() {
		t.Errorf("log chunk %+v", chunks[4])
	}
}

func TestProtocolFaults(t *testing.T) {
	run := func(c *Client, fault string) ([]Chunk, error) {
		s, err := c.Stream(context.Background(), &Request{Messages: user("x"), Extra: map[string]any{"test_fault": fault, "test_chunks": 2}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		return collect(t, s)
	}
	c := client(t)
	if chunks, err := run(c, "malformed"); !errors.Is(err, ErrProtocol) || len(chunks) != 3 {
		t.Errorf("malformed: %d chunks, %v", len(chunks), err)
	}
	if _, err := run(c, "invalid_utf8"); !errors.Is(err, ErrProtocol) {
		t.Errorf("invalid_utf8: %v", err)
	}
	if chunks, err := run(c, "cut_mid_line"); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("cut_mid_line: %d chunks, %v", len(chunks), err)
	}
	skip := client(t, WithSkipMalformed(true))
	if chunks, err := run(skip, "malformed"); err != nil || types(chunks)[len(chunks)-1] != "finish" {
		t.Errorf("malformed with skip: %v %v", types(chunks), err)
	}
	small := client(t, WithMaxLineBytes(64<<10))
	if _, err := run(small, "oversized"); !errors.Is(err, ErrLimit) {
		t.Errorf("oversized: %v", err)
	}
}

func TestConnectError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c, err := NewClient("http://"+addr, WithNoProxy(), WithConnectTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.Stream(context.Background(), &Request{Messages: user("x")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Recv(); !errors.Is(err, ErrConnect) {
		t.Fatalf("Recv: %v, want CONNECT", err)
	}
	if _, err := c.ModelsJSON(context.Background(), ""); !errors.Is(err, ErrConnect) {
		t.Fatalf("Models: %v, want CONNECT", err)
	}
}

func TestIdleTimeout(t *testing.T) {
	c := client(t, WithIdleTimeout(300*time.Millisecond))
	s, err := c.Stream(context.Background(), &Request{Messages: user("x"), Extra: map[string]any{"test_fault": "stall", "test_chunks": 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	chunks, err := collect(t, s)
	if !errors.Is(err, ErrTimedOut) || len(chunks) != 2 {
		t.Fatalf("%d chunks, %v; want 2 and TIMED_OUT", len(chunks), err)
	}
}

// stalled opens a stream that sends 3 chunks and then holds the connection open,
// and reads those chunks.
func stalled(t *testing.T, ctx context.Context, c *Client) *Stream {
	t.Helper()
	s, err := c.Stream(ctx, &Request{Messages: user("x"), Extra: map[string]any{"test_fault": "stall", "test_chunks": 2}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := s.Recv(); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
	}
	return s
}

// blockedRecv calls Recv in a goroutine, lets it block, runs wake, and returns
// Recv's error and how long after wake it returned.
func blockedRecv(t *testing.T, s *Stream, wake func()) (error, time.Duration) {
	t.Helper()
	type result struct {
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		_, err := s.Recv()
		done <- result{err, time.Now()}
	}()
	select {
	case r := <-done:
		t.Fatalf("Recv returned before the wake-up: %v", r.err)
	case <-time.After(200 * time.Millisecond):
	}
	woke := time.Now()
	wake()
	select {
	case r := <-done:
		return r.err, r.at.Sub(woke)
	case <-time.After(10 * time.Second):
		t.Fatal("Recv still blocked 10 s after the wake-up")
		return nil, 0
	}
}

func TestContextCancelWakesRecv(t *testing.T) {
	c := client(t)
	ctx, cancel := context.WithCancel(context.Background())
	s := stalled(t, ctx, c)
	defer s.Close()
	err, took := blockedRecv(t, s, cancel)
	t.Logf("Recv returned %v after cancel", took)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Recv: %v, want context.Canceled", err)
	}
	if took > 2*time.Second {
		t.Errorf("Recv took %v to wake up", took)
	}
	if _, err := s.Recv(); !errors.Is(err, context.Canceled) {
		t.Errorf("second Recv: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}

func TestContextDeadline(t *testing.T) {
	c := client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	s := stalled(t, ctx, c)
	defer s.Close()
	start := time.Now()
	_, err := s.Recv()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv: %v, want DeadlineExceeded", err)
	}
	t.Logf("deadline ended Recv after %v", time.Since(start))

	// An already cancelled context: Stream refuses to start.
	if _, err := c.Stream(ctx, &Request{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stream with a done context: %v", err)
	}
}

func TestCloseWakesRecv(t *testing.T) {
	c := client(t)
	s := stalled(t, context.Background(), c)
	err, took := blockedRecv(t, s, func() { s.Close() })
	t.Logf("Recv returned %v after Close", took)
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("Recv: %v, want ErrClosed", err)
	}
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	c := client(t)
	s, err := c.Stream(context.Background(), &Request{Messages: user("x")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	for i := 0; i < 2; i++ {
		if _, err := s.Recv(); !errors.Is(err, ErrClosed) {
			t.Fatalf("Recv after Close: %v", err)
		}
	}
	n := 0
	for _, err := range s.All() {
		if n++; !errors.Is(err, ErrClosed) {
			t.Fatalf("All after Close yielded %v", err)
		}
	}
	if n != 1 {
		t.Fatalf("All after Close yielded %d times", n)
	}

	// A stream read to its end: io.EOF stays, Close still fine.
	s, _ = c.Stream(context.Background(), &Request{Messages: user("x")})
	if _, err := collect(t, s); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != io.EOF {
		t.Fatalf("Recv after EOF: %v", err)
	}
	s.Close()
	s.Close()

	// Streams outlive their client; the client refuses work after Close.
	s, err = c.Stream(context.Background(), &Request{Messages: user("x"), Extra: map[string]any{"test_chunks": 3, "test_delay_ms": 20}})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	c.Close()
	chunks, err := collect(t, s)
	if err != nil || contentOf(chunks) != "part0 part1 part2 " {
		t.Fatalf("stream after client Close: %q %v", contentOf(chunks), err)
	}
	s.Close()
	if _, err := c.Stream(context.Background(), &Request{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Stream after Close: %v", err)
	}
	if _, err := c.ModelsJSON(context.Background(), ""); !errors.Is(err, ErrClosed) {
		t.Errorf("Models after Close: %v", err)
	}
}

func TestModels(t *testing.T) {
	c := client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := c.ModelsJSON(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string][]string
	if err := json.Unmarshal(raw, &m); err != nil || !reflect.DeepEqual(m["TestBackend"], []string{"test-model", "test-vision"}) {
		t.Fatalf("models %s: %v", raw, err)
	}
	if typed, err := c.Models(ctx); err != nil || !reflect.DeepEqual(typed, m) {
		t.Fatalf("Models: %v, %v; want %v", typed, err, m)
	}
	list, err := c.ProviderModels(ctx, "TestBackend")
	if err != nil || len(list) != 1 {
		t.Fatalf("models of TestBackend: %+v, %v", list, err)
	}
	if got := list[0]; got.ID != "test-model" || got.Label != "Test" || !got.Default || got.Vision || got.Count != 0 ||
		len(got.Tags) != 0 || !json.Valid(got.Raw) {
		t.Errorf("model %+v", got)
	}
	_, err = c.ProviderModels(ctx, "NoSuchProvider")
	var e *Error
	if !errors.As(err, &e) || e.HTTPStatus != 404 || !errors.Is(err, ErrHTTP) {
		t.Fatalf("models of an unknown provider: %v", err)
	}
	if _, err := c.ProviderModels(ctx, ""); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("ProviderModels without a provider: %v", err)
	}
	cancel()
	if _, err := c.Models(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Models with a cancelled context: %v", err)
	}
}

// listingServer serves the model listings of both g4f generations on loopback:
// names or objects under each provider, "model" (6.x) or "id" (8.x), "count" as
// a number, false or null, and a grouped provider listing.
func listingServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/backend-api/v2/models":
			io.WriteString(w, `{"Old":["a","b"],"New":[{"id":"c","label":"C"},"d"],"None":[]}`)
		case "/backend-api/v2/models/Old":
			io.WriteString(w, `[{"model":"a","label":"a","default":true,"vision":false,"audio":false,"video":false,"image":true,"count":3,"tags":["x"]},`+
				`{"model":"b","label":"b","default":false,"count":false,"tags":[]}]`)
		case "/backend-api/v2/models/New":
			io.WriteString(w, `[{"group":"Chat","models":[{"id":"c","label":"C","vision":true,"count":null,"extra":1}]},`+
				`{"group":"Images","models":[{"id":"d","label":"D","image":true}]}]`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestModelsShapes(t *testing.T) {
	c, err := NewClient(listingServer(t), WithNoProxy())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	m, err := c.Models(ctx)
	if want := map[string][]string{"Old": {"a", "b"}, "New": {"c", "d"}, "None": {}}; err != nil || !reflect.DeepEqual(m, want) {
		t.Errorf("Models: %v, %v; want %v", m, err, want)
	}
	old, err := c.ProviderModels(ctx, "Old")
	if err != nil || len(old) != 2 {
		t.Fatalf("Old: %+v, %v", old, err)
	}
	if a := old[0]; a.ID != "a" || !a.Default || !a.Image || a.Vision || a.Count != 3 || !reflect.DeepEqual(a.Tags, []string{"x"}) || a.Group != "" {
		t.Errorf("g4f 6.x model %+v", a)
	}
	if b := old[1]; b.ID != "b" || b.Default || b.Count != 0 {
		t.Errorf("count false: %+v", b)
	}
	grouped, err := c.ProviderModels(ctx, "New")
	if err != nil || len(grouped) != 2 {
		t.Fatalf("New: %+v, %v", grouped, err)
	}
	if g := grouped[0]; g.ID != "c" || g.Label != "C" || !g.Vision || g.Group != "Chat" || !strings.Contains(string(g.Raw), `"extra":1`) {
		t.Errorf("grouped model %+v", g)
	}
	if g := grouped[1]; g.ID != "d" || !g.Image || g.Group != "Images" {
		t.Errorf("grouped model %+v", g)
	}
}

// A listing the server never answers: Close returns at once and the client
// refuses new work, though Models still waits; cancelling its context then ends
// the native call, and the client is freed when it returns.
func TestCloseWhileModelsWaits(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if conn, err := l.Accept(); err == nil {
			accepted <- conn // read the request, never answer
		}
	}()
	c, err := NewClient("http://"+l.Addr().String(), WithNoProxy(), WithResponseHeaderTimeout(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.Models(ctx)
		done <- err
	}()
	var conn net.Conn
	select {
	case conn = <-accepted:
		defer conn.Close()
	case err := <-done:
		t.Fatalf("Models returned before the server answered: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the listing never connected")
	}

	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for a model listing that never ends")
	}
	if _, err := c.Stream(context.Background(), &Request{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Stream after Close: %v, want ErrClosed", err)
	}
	if _, err := c.ModelsJSON(context.Background(), ""); !errors.Is(err, ErrClosed) {
		t.Errorf("Models after Close: %v, want ErrClosed", err)
	}
	c.mu.Lock()
	held := c.ptr != nil
	c.mu.Unlock()
	if !held {
		t.Fatal("the native client was freed while Models still used it")
	}

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Models after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Models still waits 10 s after its context was cancelled")
	}
	c.mu.Lock()
	freed := c.ptr == nil
	c.mu.Unlock()
	if !freed {
		t.Error("the native client was not freed when the last Models returned")
	}
}

// Many goroutines, many streams at once, on one shared client.
func TestConcurrentStreams(t *testing.T) {
	c := client(t)
	const goroutines, each, parts = 50, 4, 20
	var want strings.Builder
	for i := 0; i < parts; i++ {
		fmt.Fprintf(&want, "part%d ", i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				extra := map[string]any{"test_chunks": parts}
				if (g+i)%3 == 1 {
					extra["test_framing"] = "ndjson"
				}
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				s, err := c.Stream(ctx, &Request{Messages: user(fmt.Sprint(g)), Extra: extra})
				if err != nil {
					cancel()
					errs <- err
					return
				}
				var text strings.Builder
				for ch, err := range s.All() {
					if err != nil {
						errs <- fmt.Errorf("goroutine %d stream %d: %w", g, i, err)
						break
					}
					text.WriteString(ch.Content())
				}
				cancel()
				if text.String() != want.String() {
					errs <- fmt.Errorf("goroutine %d stream %d: content %q", g, i, text.String())
				}
			}
		}(g)
	}
	// Meanwhile: streams cancelled mid-way and streams dropped without Close.
	for g := 0; g < 10; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			s, err := c.Stream(ctx, &Request{Messages: user("x"), Extra: map[string]any{"test_fault": "endless"}})
			if err != nil {
				errs <- err
				cancel()
				return
			}
			for i := 0; i < 5; i++ {
				if _, err := s.Recv(); err != nil {
					errs <- err
				}
			}
			cancel()
			for {
				if _, err := s.Recv(); err != nil {
					if !errors.Is(err, context.Canceled) {
						errs <- fmt.Errorf("endless stream ended with %w", err)
					}
					break
				}
			}
			// No Close: the finalizer frees it.
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	runtime.GC()
}

// Several goroutines reading one stream: every chunk reaches exactly one of
// them, and each sees its chunks in the stream's order (the binding takes chunks
// in batches; a batch must not interleave with another goroutine's).
func TestConcurrentRecvKeepsOrder(t *testing.T) {
	c := client(t)
	const parts, readers = 20000, 4
	s, err := c.Stream(context.Background(), &Request{Messages: user("x"), Extra: map[string]any{"test_chunks": parts}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := make([][]int, readers)
	var wg sync.WaitGroup
	for r := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ch, err := s.Recv()
				if err != nil {
					if err != io.EOF {
						t.Errorf("reader %d: %v", r, err)
					}
					return
				}
				var n int
				if _, err := fmt.Sscanf(ch.Content(), "part%d ", &n); err == nil {
					got[r] = append(got[r], n)
				}
			}
		}()
	}
	wg.Wait()
	seen := make([]bool, parts)
	for r, ids := range got {
		for i, n := range ids {
			if i > 0 && n <= ids[i-1] {
				t.Fatalf("reader %d got part%d after part%d", r, n, ids[i-1])
			}
			if seen[n] {
				t.Fatalf("part%d handed out twice", n)
			}
			seen[n] = true
		}
	}
	for n, ok := range seen {
		if !ok {
			t.Fatalf("part%d never handed out", n)
		}
	}
	if st := s.Stats(); st.Delivered != parts+3 {
		t.Errorf("Delivered %d, want %d", st.Delivered, parts+3)
	}
}

// Streams that are never closed are freed by the finalizer, even with a live
// context (its callback must not keep the stream reachable).
func TestFinalizerBackstop(t *testing.T) {
	c := client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var states []*streamState // not the Streams: those must become unreachable
	for i := 0; i < 20; i++ {
		s, err := c.Stream(ctx, &Request{Messages: user("x"), Extra: map[string]any{"test_fault": "stall", "test_chunks": 1}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
		states = append(states, s.st)
	}
	freed := 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		runtime.GC()
		freed = 0
		for _, st := range states {
			st.mu.Lock()
			if st.ptr == nil && st.closed {
				freed++
			}
			st.mu.Unlock()
		}
		if freed == len(states) {
			break
		}
	}
	if freed != len(states) {
		t.Fatalf("only %d of %d forgotten streams were freed by their finalizer", freed, len(states))
	}
}

// Close, context cancellation and Recv racing each other on one stream, many
// times: no crash, no hang, and Recv ends with one of the expected errors.
func TestCloseCancelRecvRace(t *testing.T) {
	c := client(t)
	for i := 0; i < 100; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		s, err := c.Stream(ctx, &Request{Messages: user("x"), Extra: map[string]any{"test_fault": "endless"}})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for r := 0; r < 2; r++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					_, err := s.Recv()
					if err == nil {
						continue
					}
					if !errors.Is(err, ErrClosed) && !errors.Is(err, context.Canceled) {
						t.Errorf("Recv ended with %v", err)
					}
					return
				}
			}()
		}
		time.Sleep(time.Duration(i%5) * time.Millisecond)
		wg.Add(2)
		go func() { defer wg.Done(); cancel() }()
		go func() { defer wg.Done(); s.Close() }()
		wg.Wait()
		s.Close()
	}
}

// Helpers on chunk shapes the test backend does not send.
func TestChunkHelpers(t *testing.T) {
	r := Chunk{Type: "reasoning", Kind: KindReasoning, Raw: json.RawMessage(`{"type": "reasoning", "token": "hmm"}`), text: "hmm", hasText: true}
	if r.ReasoningToken() != "hmm" || r.Content() != "" || r.Text() != "hmm" {
		t.Errorf("reasoning helpers: %q %q", r.ReasoningToken(), r.Content())
	}
	a := Chunk{Type: "auth", Kind: KindAuth, Raw: json.RawMessage(`{"type": "auth", "auth": "MissingAuthError", "message": "Add a key"}`), text: "Add a key", hasText: true}
	var ce *StreamError
	if !a.IsFatal() || !errors.As(a.Err(), &ce) || ce.Class != "MissingAuthError" || ce.Type != "auth" || a.ErrorMessage() != "Add a key" {
		t.Errorf("auth chunk: %#v", a.Err())
	}
	m := Chunk{Type: "message", Kind: KindMessage, Raw: json.RawMessage(`{"type": "message", "message": "Warn: x", "error": "Warn"}`), text: "Warn: x", hasText: true}
	if m.IsFatal() || m.Err() != nil || m.ErrorMessage() != "Warn: x" {
		t.Errorf("message chunk helpers")
	}
	f := Chunk{Type: "finish", Kind: KindFinish, Raw: json.RawMessage(`{"type": "finish", "finish": "length"}`)}
	if f.FinishReason() != "length" {
		t.Errorf("finish as a string: %q", f.FinishReason())
	}
	u := Chunk{Type: "usage", Kind: KindUsage, Raw: json.RawMessage(`{"type": "usage", "usage": {"prompt_tokens": 2.0, "completion_tokens": 5, "prompt_tokens_details": {}}}`)}
	if got, ok := u.Usage(); !ok || got.PromptTokens != 2 || got.CompletionTokens != 5 || got.TotalTokens != 7 || got.Model != "" {
		t.Errorf("usage without total: %+v %v", got, ok)
	}
}

func TestClientOptions(t *testing.T) {
	// The header timeout ends a request the server never answers.
	c := client(t, WithResponseHeaderTimeout(300*time.Millisecond), WithTotalTimeout(0), WithInsecureSkipVerify())
	s, err := c.Stream(context.Background(), &Request{Messages: user("x"), Extra: map[string]any{"test_fault": "no_answer"}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := s.Recv(); !errors.Is(err, ErrTimedOut) {
		t.Errorf("no_answer with a header timeout: %v", err)
	}
	t.Logf("header timeout after %v", time.Since(start))
	s.Close()

	// A total timeout ends an answer that goes on for ever.
	c = client(t, WithTotalTimeout(400*time.Millisecond))
	s, err = c.Stream(context.Background(), &Request{Messages: user("x"), Extra: map[string]any{"test_fault": "endless", "test_delay_ms": 10}})
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := collect(t, s)
	if !errors.Is(err, ErrTimedOut) || len(chunks) < 2 {
		t.Errorf("endless with a total timeout: %d chunks, %v", len(chunks), err)
	}
	s.Close()

	// A proxy nobody listens on: the connection fails.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	c = client(t, WithProxy("http://"+dead))
	s, err = c.Stream(context.Background(), &Request{Messages: user("x")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); !errors.Is(err, ErrConnect) {
		t.Errorf("through a dead proxy: %v", err)
	}
	s.Close()
	if _, err := NewClient(backendURL, WithProxy("ftp://nope")); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("ftp proxy: %v", err)
	}
	if _, err := NewClient(backendURL, WithMaxLineBytes(0)); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("max line 0: %v", err)
	}
}

// The basic uses a program makes of a client, one subtest each against the test
// backend: stream, cancel from another goroutine, continue the conversation,
// list models, an HTTP error, Complete under Shutdown.
func TestBasicUses(t *testing.T) {
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
