package backendapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// failKey is a test_fail_key no other request of this test binary uses.
func failKey(t *testing.T, what string) string {
	return fmt.Sprintf("%s-%s-%d", t.Name(), what, time.Now().UnixNano())
}

// run opens a stream for req and reads it to its end; the stream is closed
// when the test ends.
func run(t *testing.T, c *Client, req *Request) (*Stream, []Chunk, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	s, err := c.Stream(ctx, req)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	chunks, err := collect(t, s)
	return s, chunks, err
}

// ---------------------------------------------------------------- retries

func TestRetries(t *testing.T) {
	c := client(t, WithRetries(2, 10*time.Millisecond, 200*time.Millisecond))

	// One 503, then the answer.
	s, chunks, err := run(t, c, &Request{Messages: user("x"), Extra: map[string]any{
		"test_fail_key": failKey(t, "503"), "test_fail_times": 1, "test_chunks": 2}})
	if err != nil || contentOf(chunks) != "part0 part1 " {
		t.Fatalf("after one 503: %q, %v", contentOf(chunks), err)
	}
	if st := s.Stats(); st.Retries != 1 {
		t.Errorf("Stats().Retries = %d, want 1 (%+v)", st.Retries, st)
	}

	// 429 twice: both retried.
	s, _, err = run(t, c, &Request{Messages: user("x"), Extra: map[string]any{
		"test_fail_key": failKey(t, "429"), "test_fail_times": 2, "test_fail_status": 429}})
	if err != nil || s.Stats().Retries != 2 {
		t.Errorf("after two 429: %v, %d retries", err, s.Stats().Retries)
	}

	// More failures than retries: the last failure is the error.
	s, _, err = run(t, c, &Request{Messages: user("x"), Extra: map[string]any{
		"test_fail_key": failKey(t, "many"), "test_fail_times": 9, "test_fail_status": 502}})
	var e *Error
	if !errors.As(err, &e) || e.HTTPStatus != 502 || s.Stats().Retries != 2 {
		t.Errorf("too many failures: %v, %d retries", err, s.Stats().Retries)
	}

	// 500 is not retried.
	s, _, err = run(t, c, &Request{Messages: user("x"), Extra: map[string]any{
		"test_fail_key": failKey(t, "500"), "test_fail_times": 1, "test_fail_status": 500}})
	if !errors.As(err, &e) || e.HTTPStatus != 500 || s.Stats().Retries != 0 {
		t.Errorf("500: %v, %d retries; want HTTP 500 and no retry", err, s.Stats().Retries)
	}

	// Without WithRetries nothing is retried.
	plain := client(t)
	s, _, err = run(t, plain, &Request{Messages: user("x"), Extra: map[string]any{
		"test_fail_key": failKey(t, "plain"), "test_fail_times": 1}})
	if !errors.As(err, &e) || e.HTTPStatus != 503 || s.Stats().Retries != 0 {
		t.Errorf("no retries configured: %v, %d retries", err, s.Stats().Retries)
	}
}

func TestRetryAfterIsCapped(t *testing.T) {
	c := client(t, WithRetries(1, time.Millisecond, 300*time.Millisecond))
	start := time.Now()
	s, _, err := run(t, c, &Request{Messages: user("x"), Extra: map[string]any{
		"test_fail_key": failKey(t, "ra"), "test_fail_times": 1, "test_retry_after": "30"}})
	took := time.Since(start)
	if err != nil || s.Stats().Retries != 1 {
		t.Fatalf("%v, %d retries", err, s.Stats().Retries)
	}
	if took < 300*time.Millisecond || took > 15*time.Second {
		t.Errorf("took %v: Retry-After 30 s capped at 300 ms", took)
	}
}

// A context cancelled during the wait between two attempts ends the stream at once.
// The wait is known by its warning ("retrying in ..."): Stats().Retries counts a
// retry once it is sent, after the wait.
func TestCancelDuringRetryWait(t *testing.T) {
	waiting := make(chan struct{}, 1)
	c := client(t, WithRetries(5, time.Minute, time.Minute), WithLogger(func(_ LogLevel, msg string) {
		if strings.Contains(msg, "retrying in") {
			select {
			case waiting <- struct{}{}:
			default:
			}
		}
	}, LogWarn))
	ctx, cancel := context.WithCancel(context.Background())
	s, err := c.Stream(ctx, &Request{Messages: user("x"), Extra: map[string]any{
		"test_fail_key": failKey(t, "wait"), "test_fail_times": 9}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	select {
	case <-waiting:
	case <-time.After(10 * time.Second):
		t.Fatal("no retry wait within 10 s")
	}
	err, took := blockedRecv(t, s, cancel)
	if !errors.Is(err, context.Canceled) || took > 2*time.Second {
		t.Errorf("Recv: %v after %v", err, took)
	}
}

func TestRetriesInvalid(t *testing.T) {
	for name, o := range map[string]Option{
		"negative max":     WithRetries(-1, time.Millisecond, time.Second),
		"zero base":        WithRetries(1, 0, time.Second),
		"cap below base":   WithRetries(1, time.Second, time.Millisecond),
		"negative base":    WithRetries(1, -time.Second, time.Second),
		"cap out of range": WithRetries(1, time.Millisecond, time.Duration(1<<32)*time.Millisecond),
	} {
		if _, err := NewClient("http://127.0.0.1:1", o); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v, want INVALID_ARGUMENT", name, err)
		}
	}
	c, err := NewClient("http://127.0.0.1:1", WithRetries(0, 0, 0)) // off
	if err != nil {
		t.Fatalf("retries off: %v", err)
	}
	c.Close()
}

// ---------------------------------------------------------------- logging

type logRecord struct {
	level LogLevel
	msg   string
}

type recorder struct {
	mu   sync.Mutex
	recs []logRecord
}

func (r *recorder) log(level LogLevel, msg string) {
	r.mu.Lock()
	r.recs = append(r.recs, logRecord{level, msg})
	r.mu.Unlock()
}

func (r *recorder) all() []logRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]logRecord(nil), r.recs...)
}

func (r *recorder) count(level LogLevel, substr string) int {
	n := 0
	for _, rec := range r.all() {
		if rec.level == level && strings.Contains(rec.msg, substr) {
			n++
		}
	}
	return n
}

func TestLogger(t *testing.T) {
	const marker = "sk-MARKER-must-not-be-logged-4711"
	var rec recorder
	c := client(t, WithLogger(rec.log, LogDebug), WithRetries(2, 10*time.Millisecond, 100*time.Millisecond),
		WithHeader("Authorization", "Bearer "+marker+"-header"))
	s, chunks, err := run(t, c, &Request{Model: "test-model", Messages: user("x"), APIKey: marker,
		APIKeyPlacement: KeyInBodyAndBearer, Extra: map[string]any{
			"test_fail_key": failKey(t, "log"), "test_fail_times": 1, "test_chunks": 2}})
	if err != nil || len(chunks) == 0 || s.Stats().Retries != 1 {
		t.Fatalf("stream: %v, %d chunks, %d retries", err, len(chunks), s.Stats().Retries)
	}
	recs := rec.all()
	if n := rec.count(LogInfo, "POST "); n != 2 {
		t.Errorf("%d info records \"POST ...\", want one per attempt (2): %v", n, recs)
	}
	if rec.count(LogInfo, "attempt 2") != 1 || rec.count(LogInfo, "model=\"test-model\"") != 2 {
		t.Errorf("POST records lack the attempt or the model: %v", recs)
	}
	if n := rec.count(LogWarn, "retrying in"); n != 1 {
		t.Errorf("%d warn records \"retrying in\", want 1: %v", n, recs)
	}
	if rec.count(LogInfo, "stream ended") != 1 {
		t.Errorf("no \"stream ended\" record: %v", recs)
	}
	debug := 0
	for _, r := range recs {
		if strings.Contains(r.msg, marker) {
			t.Errorf("a record holds the api key or the secret header: %v %q", r.level, r.msg)
		}
		if r.level < LogError || r.level > LogDebug {
			t.Errorf("record above the max level debug: %v %q", r.level, r.msg)
		}
		if r.level == LogDebug {
			debug++
		}
	}
	if debug == 0 {
		t.Errorf("no debug records at max level debug: %v", recs)
	}
}

func TestLoggerLevels(t *testing.T) {
	var warn, trace recorder
	cw := client(t, WithLogger(warn.log, LogWarn), WithRetries(1, 10*time.Millisecond, 100*time.Millisecond))
	ct := client(t, WithLogger(trace.log, LogTrace))
	if _, _, err := run(t, cw, &Request{Messages: user("x"), Extra: map[string]any{
		"test_fail_key": failKey(t, "warn"), "test_fail_times": 1}}); err != nil {
		t.Fatal(err)
	}
	if recs := warn.all(); len(recs) != 1 || recs[0].level != LogWarn || !strings.Contains(recs[0].msg, "retrying in") {
		t.Errorf("max level warn gave %v, want the one retry warning", recs)
	}
	if _, _, err := run(t, ct, &Request{Messages: user("x")}); err != nil {
		t.Fatal(err)
	}
	levels := map[LogLevel]int{}
	for _, r := range trace.all() {
		levels[r.level]++
	}
	if levels[LogTrace] == 0 || levels[LogInfo] == 0 || levels[LogDebug] == 0 {
		t.Errorf("max level trace gave levels %v", levels)
	}
	if LogWarn.String() != "warn" || LogTrace.String() != "trace" || LogLevel(9).String() != "LogLevel(9)" {
		t.Errorf("LogLevel names")
	}
	if _, err := NewClient("http://127.0.0.1:1", WithLogger(warn.log, LogLevel(0))); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("log level 0: %v", err)
	}
}

// newSinks returns the ids of the sinks registered since before (the tests of
// this package run one at a time, so they are the caller's).
func newSinks(before map[uintptr]bool) []uintptr {
	var ids []uintptr
	for id := range liveSinks() {
		if !before[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

// sinksGone waits until the library has let go of the sinks ids (its destroy
// callback runs once no record can come, possibly shortly after the last
// close, on another thread) and reports whether they left the registry.
func sinksGone(ids []uintptr) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		live, gone := liveSinks(), true
		for _, id := range ids {
			gone = gone && !live[id]
		}
		if gone {
			return true
		}
	}
	return false
}

// The logger lives as long as the client or a stream of it: records of a
// stream that outlives its client still arrive, and the sink leaves the
// registry once both are done.
func TestLoggerLifetime(t *testing.T) {
	if backendURL == "" {
		t.Skip("NO TEST BACKEND: " + backendSkip)
	}
	before := liveSinks()
	var rec recorder
	c, err := NewClient(backendURL, WithNoProxy(), WithLogger(rec.log, LogInfo))
	if err != nil {
		t.Fatal(err)
	}
	ids := newSinks(before)
	if len(ids) != 1 {
		t.Fatalf("%d new sinks, want 1", len(ids))
	}
	s, err := c.Stream(context.Background(), &Request{Messages: user("x"), Extra: map[string]any{"test_chunks": 3, "test_delay_ms": 20}})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if !liveSinks()[ids[0]] {
		t.Errorf("the sink went with the client while a stream of it runs")
	}
	if _, err := collect(t, s); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if !sinksGone(ids) {
		t.Errorf("the sink is still there after the stream and the client are done")
	}
	if rec.count(LogInfo, "stream ended") != 1 {
		t.Errorf("the stream's last record after the client's Close is missing: %v", rec.all())
	}

	// A failing option and a replaced logger leave nothing behind.
	before = liveSinks()
	if _, err := NewClient(backendURL, WithLogger(rec.log, LogInfo), WithProxy("ftp://x")); err == nil {
		t.Fatal("ftp proxy accepted")
	}
	if _, err := NewClient(backendURL, WithLogger(rec.log, LogLevel(0))); err == nil {
		t.Fatal("log level 0 accepted")
	}
	c, err = NewClient(backendURL, WithLogger(rec.log, LogInfo), WithLogger(rec.log, LogWarn), WithLogger(nil, 0))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if ids := newSinks(before); !sinksGone(ids) {
		t.Errorf("sinks %v left behind", ids)
	}
	deliverLog(1<<40, LogError, "unknown id: ignored") // must not panic
}

// A panicking logger does not take the process down.
func TestLoggerPanic(t *testing.T) {
	c := client(t, WithLogger(func(LogLevel, string) { panic("boom") }, LogTrace))
	if _, chunks, err := run(t, c, &Request{Messages: user("x")}); err != nil || len(chunks) == 0 {
		t.Fatalf("%v, %d chunks", err, len(chunks))
	}
}

func TestSlog(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	h := slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelInfo})
	c := client(t, WithSlog(slog.New(h)), WithRetries(1, 10*time.Millisecond, 100*time.Millisecond))
	if _, _, err := run(t, c, &Request{Messages: user("x"), Extra: map[string]any{
		"test_fail_key": failKey(t, "slog"), "test_fail_times": 1}}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "retrying in") ||
		!strings.Contains(out, "level=INFO") || !strings.Contains(out, "lib=backend-api") {
		t.Errorf("slog output:\n%s", out)
	}
	if strings.Contains(out, "level=DEBUG") {
		t.Errorf("debug records through an info handler:\n%s", out)
	}
	if LogTrace.SlogLevel() != slog.LevelDebug-4 || LogError.SlogLevel() != slog.LevelError {
		t.Errorf("SlogLevel mapping")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// ---------------------------------------------------------------- stats

func TestStats(t *testing.T) {
	c := client(t)
	s, err := c.Stream(context.Background(), &Request{Messages: user("x"), Extra: map[string]any{"test_chunks": 20}})
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := collect(t, s)
	if err != nil {
		t.Fatal(err)
	}
	st := s.Stats() // the C stream is freed by now: this is the kept snapshot
	n := uint64(len(chunks))
	if st.Chunks != n || st.Delivered != n || st.Skipped != 0 || st.Retries != 0 || st.Bytes < 20*30 {
		t.Errorf("stats %+v for %d chunks", st, n)
	}
	if !(0 <= st.HeadersAfter && st.HeadersAfter <= st.FirstChunkAfter && st.FirstChunkAfter <= st.Elapsed && st.Elapsed < 30*time.Second) {
		t.Errorf("times %+v", st)
	}
	time.Sleep(20 * time.Millisecond)
	s.Close()
	if again := s.Stats(); again != st {
		t.Errorf("stats changed after the end: %+v, then %+v", st, again)
	}

	// During a stream: Elapsed grows, Delivered counts what Recv handed out.
	s = stalled(t, context.Background(), c)
	a := s.Stats()
	time.Sleep(30 * time.Millisecond)
	b := s.Stats()
	if a.Delivered != 3 || b.Elapsed <= a.Elapsed || a.HeadersAfter < 0 || a.FirstChunkAfter < 0 || a.QueuedBytes != 0 {
		t.Errorf("live stats %+v then %+v", a, b)
	}
	s.Close() // before the end: the snapshot is taken at Close
	if cl := s.Stats(); cl.Delivered != 3 || cl.Elapsed < b.Elapsed {
		t.Errorf("stats after Close %+v", cl)
	}

	// Times unknown: a request the server never answers.
	s, err = c.Stream(context.Background(), &Request{Messages: user("x"), Extra: map[string]any{"test_fault": "no_answer"}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if st := s.Stats(); st.HeadersAfter >= 0 || st.FirstChunkAfter >= 0 || st.Elapsed <= 0 {
		t.Errorf("stats before any answer %+v", st)
	}
	s.Close()

	// A stream nobody reads: the library queues decoded chunks up to its budget
	// (128 KiB, or one batch larger than that alone), then stops reading.
	s, err = c.Stream(context.Background(), &Request{Messages: user("x"), Extra: map[string]any{"test_chunks": 200000}})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); s.Stats().QueuedBytes == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if q := s.Stats().QueuedBytes; q == 0 || q > 1<<20 {
		t.Errorf("queued bytes of an unread stream: %d", q)
	}
	s.Close()

	skip := client(t, WithSkipMalformed(true))
	s, _, err = run(t, skip, &Request{Messages: user("x"), Extra: map[string]any{"test_fault": "malformed", "test_chunks": 2}})
	if err != nil || s.Stats().Skipped != 1 {
		t.Errorf("malformed with skip: %v, %+v", err, s.Stats())
	}
}

// ---------------------------------------------------------------- answer

func TestAnswer(t *testing.T) {
	c := client(t)
	s, err := c.Stream(context.Background(), &Request{Model: "test-model", Messages: user("hi")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err := s.Answer()
	if err != nil || a.Content != "" || a.Usage != nil || a.Conversation != nil {
		t.Errorf("answer before any Recv: %+v, %v", a, err)
	}
	chunks, err := collect(t, s)
	if err != nil {
		t.Fatal(err)
	}
	a, err = s.Answer()
	if err != nil {
		t.Fatal(err)
	}
	want := "Hello from the bundled offline backend! You said: hi"
	if a.Content != want || contentOf(chunks) != want || a.Provider != "TestBackend" || a.Model != "test-model" ||
		a.FinishReason != "stop" || a.Error != "" || a.Reasoning != "" || a.ToolCalls != nil || a.Conversation != nil {
		t.Errorf("answer %+v", a)
	}
	if u := a.Usage; u == nil || u.TotalTokens == 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens ||
		!strings.Contains(string(u.Raw), `"total_tokens"`) || u.Model != "test-model" {
		t.Errorf("usage %+v", a.Usage)
	}
	var raw map[string]any
	if err := json.Unmarshal(a.Raw, &raw); err != nil || raw["type"] != "answer" {
		t.Errorf("raw %s", a.Raw)
	}
	if b, err := s.Answer(); err != nil || !reflect.DeepEqual(a, b) {
		t.Errorf("answer asked again: %+v, %v", b, err)
	}
	s.Close() // frees the answer with the native stream
	if b, err := s.Answer(); !errors.Is(err, ErrClosed) || b.Raw != nil {
		t.Errorf("answer after Close: %+v, %v; want ErrClosed", b, err)
	}

	// An in-stream error chunk: Error holds its message.
	s, _, err = run(t, c, &Request{Messages: user("x"), Extra: map[string]any{"test_fault": "error_chunk", "test_chunks": 2}})
	if a, aerr := s.Answer(); err != nil || aerr != nil || a.Error != "ValueError: test failure" || a.Content != "part0 part1 " {
		t.Errorf("answer with an error chunk: %+v, %v %v", a, err, aerr)
	}

	// Only what Recv handed out counts.
	s = stalled(t, context.Background(), c) // provider + 2 content chunks read
	defer s.Close()
	if a, err := s.Answer(); err != nil || a.Content != "part0 part1 " || a.FinishReason != "" {
		t.Errorf("answer of a stream read half-way: %+v, %v", a, err)
	}
}

func TestAssembleOff(t *testing.T) {
	for _, assemble := range []bool{true, false} {
		var opts []Option
		if !assemble {
			opts = append(opts, WithAssemble(false))
		}
		c := client(t, opts...)
		s, err := c.Stream(context.Background(), &Request{Messages: user("long"), Extra: map[string]any{"test_chunks": 4}})
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := collect(t, s)
		if want := "part0 part1 part2 part3 "; err != nil || contentOf(chunks) != want {
			t.Errorf("assemble %v: chunks %q, %v; want %q", assemble, contentOf(chunks), err, want)
		}
		want := contentOf(chunks)
		if !assemble {
			want = ""
		}
		a, err := s.Answer()
		if err != nil || a.Content != want {
			t.Errorf("assemble %v: answer content %q, %v; want %q", assemble, a.Content, err, want)
		}
		s.Close()
	}
}

func TestFollowUp(t *testing.T) {
	c := client(t)
	first := &Request{
		Model:           "test-model",
		Messages:        []Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "first"}},
		Media:           []Media{MediaURI("https://example.com/a.png", "a.png")},
		APIKey:          "sk-follow",
		APIKeyPlacement: KeyInBody,
		Extra:           map[string]any{"provider": "TestBackend", "web_search": true},
	}
	s, _, err := run(t, c, first)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := s.Answer()
	if err != nil || ans.Content == "" {
		t.Fatalf("answer %+v, %v", ans, err)
	}
	next := first.FollowUp(ans, "second")
	e := askEcho(t, c, next) // adds test_echo to next.Extra, which must not be first's map
	if _, ok := first.Extra["test_echo"]; ok || len(first.Messages) != 2 || len(first.Media) != 1 {
		t.Errorf("FollowUp changed the first request: %+v", first)
	}
	var msgs []map[string]string
	if err := json.Unmarshal(e.Body["messages"], &msgs); err != nil {
		t.Fatalf("messages %s: %v", e.Body["messages"], err)
	}
	wantMsgs := []map[string]string{
		{"role": "system", "content": "be brief"},
		{"role": "user", "content": "first"},
		{"role": "assistant", "content": ans.Content},
		{"role": "user", "content": "second"},
	}
	if !reflect.DeepEqual(msgs, wantMsgs) {
		t.Errorf("follow-up messages %v, want %v", msgs, wantMsgs)
	}
	for k, w := range map[string]string{"model": `"test-model"`, "api_key": `"sk-follow"`, "provider": `"TestBackend"`,
		"web_search": `true`, "media": `null`} {
		if got := string(e.Body[k]); got != w {
			t.Errorf("follow-up body %s = %s, want %s", k, got, w)
		}
	}
	if _, ok := e.Body["conversation"]; ok {
		t.Errorf("a conversation field without a conversation chunk: %s", e.Body["conversation"])
	}

	// The test backend sends no conversation chunk: check with a made-up answer
	// that the state goes back as JSON (not as a base64 string of its bytes),
	// the answering provider's own state unwrapped, as g4f expects it.
	ans.Conversation = json.RawMessage(`{"TestBackend":{"id":3}}`)
	e = askEcho(t, c, first.FollowUp(ans, "third"))
	var conv any
	if err := json.Unmarshal(e.Body["conversation"], &conv); err != nil ||
		!reflect.DeepEqual(conv, map[string]any{"id": 3.0}) {
		t.Errorf("conversation sent as %s", e.Body["conversation"])
	}
}

// FollowUp's rules, without a server: the conversation state goes back, media
// stay behind, nothing is shared with the original.
func TestFollowUpRules(t *testing.T) {
	r := &Request{
		Model:     "m",
		Messages:  []Message{{Role: "user", Content: "q1"}},
		Media:     []Media{MediaBytes([]byte{1}, "x.png")},
		APIKey:    "k",
		Extra:     map[string]any{"provider": "P", "conversation": "old"},
		ExtraJSON: json.RawMessage(`{"x":1}`),
	}
	ans := Answer{Content: "a1", Conversation: json.RawMessage(`{"P":{"id":3}}`)}
	n := r.FollowUp(ans, "q2")
	if n.Model != "m" || n.APIKey != "k" || n.Media != nil || string(n.ExtraJSON) != `{"x":1}` || len(n.Messages) != 3 ||
		!reflect.DeepEqual(n.Messages[1:], []Message{{Role: "assistant", Content: "a1"}, {Role: "user", Content: "q2"}}) {
		t.Errorf("follow-up %+v", n)
	}
	// The state of the provider asked for goes back unwrapped, as the C library sends it.
	if conv, ok := n.Extra["conversation"].(json.RawMessage); !ok || string(conv) != `{"id":3}` {
		t.Errorf("conversation %#v", n.Extra["conversation"])
	}
	if r.Extra["conversation"] != "old" || len(r.Messages) != 1 {
		t.Errorf("original changed: %+v", r)
	}

	// No conversation in the answer: the request's own stays.
	n = r.FollowUp(Answer{Content: "a1", Conversation: json.RawMessage("null")}, "q2")
	if n.Extra["conversation"] != "old" {
		t.Errorf("conversation without one in the answer: %#v", n.Extra["conversation"])
	}
	n = (*Request)(nil).FollowUp(Answer{Content: "a"}, "b")
	if len(n.Messages) != 2 || n.Extra != nil {
		t.Errorf("FollowUp of nil: %+v", n)
	}
	// Chained follow-ups do not share message arrays.
	n1 := r.FollowUp(ans, "q2")
	n2a, n2b := n1.FollowUp(ans, "A"), n1.FollowUp(ans, "B")
	if n2a.Messages[4].Content != "A" || n2b.Messages[4].Content != "B" {
		t.Errorf("chained follow-ups share messages")
	}
}

// The conversation state a follow-up sends back is the library's rule, not a Go
// copy of it (backend_api_request_follow_up_answer makes it): a stateful
// provider's own state goes back unwrapped on turn two and stays on turn three;
// the provider asked for counts however the request names it (ExtraJSON, a
// json.RawMessage), as the library reads the body; a keyed value that is not an
// object, or a state not keyed by provider, goes back whole. The ExtraJSON and
// RawMessage cases failed on the Go copy of the rule, which read only a string
// Extra["provider"].
func TestFollowUpStateIsTheLibrarys(t *testing.T) {
	c := client(t)
	first := &Request{Messages: []Message{{Role: "user", Content: "first"}},
		Extra: map[string]any{"test_conversation": map[string]any{"TestBackend": map[string]any{"conversation_id": "c-1"}}}}
	s, _, err := run(t, c, first)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := s.Answer()
	if err != nil || ans.Provider != "TestBackend" {
		t.Fatalf("answer %+v, %v", ans, err)
	}
	second := first.FollowUp(ans, "second")
	delete(second.Extra, "test_conversation")
	if got := string(askEcho(t, c, second).Body["conversation"]); got != `{"conversation_id":"c-1"}` {
		t.Errorf("turn two sent the state %s", got)
	}
	third := second.FollowUp(Answer{Content: "no state this time"}, "third")
	if got := string(askEcho(t, c, third).Body["conversation"]); got != `{"conversation_id":"c-1"}` {
		t.Errorf("turn three sent the state %s", got)
	}

	state := json.RawMessage(`{"P":{"id":3},"Q":"text"}`)
	for _, tc := range []struct {
		name string
		req  *Request
		ans  Answer
		want string
	}{
		{"asked in ExtraJSON", &Request{ExtraJSON: json.RawMessage(`{"provider":"P"}`)}, Answer{Conversation: state}, `{"id":3}`},
		{"asked as RawMessage", &Request{Extra: map[string]any{"provider": json.RawMessage(`"P"`)}}, Answer{Conversation: state}, `{"id":3}`},
		{"the answering provider", &Request{}, Answer{Conversation: state, Provider: "P"}, `{"id":3}`},
		{"a keyed value not an object", &Request{}, Answer{Conversation: state, Provider: "Q"}, string(state)},
		{"not keyed (AnyProvider)", &Request{Extra: map[string]any{"provider": "P"}}, Answer{Conversation: json.RawMessage(`{"id":4}`)}, `{"id":4}`},
	} {
		next := tc.req.FollowUp(tc.ans, "q")
		var got, want any
		conv, _ := json.Marshal(next.Extra["conversation"])
		if json.Unmarshal(conv, &got) != nil || json.Unmarshal([]byte(tc.want), &want) != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: conversation %s, want %s", tc.name, conv, tc.want)
		}
	}

	// What the library refuses reaches Client.Stream.
	bad := (&Request{}).FollowUp(Answer{Content: "a", Conversation: json.RawMessage(`{not json`)}, "q")
	if _, err := c.Stream(context.Background(), bad); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("a follow-up of an answer with a broken state: %v", err)
	}
}

// ---------------------------------------------------------------- TryRecv

func TestTryRecvAndDeadlineHint(t *testing.T) {
	c := client(t, WithIdleTimeout(10*time.Second))
	s := stalled(t, context.Background(), c)
	defer s.Close()
	if ch, ok, err := s.TryRecv(); ok || err != nil || ch.Raw != nil {
		t.Errorf("TryRecv on a stalled stream: %v %v %v", ch, ok, err)
	}
	d, ok := s.DeadlineHint()
	if !ok || d <= 0 || d > 10*time.Second {
		t.Errorf("DeadlineHint with a 10 s idle timeout: %v %v", d, ok)
	}
	s.Close()
	if _, ok, err := s.TryRecv(); ok || !errors.Is(err, ErrClosed) {
		t.Errorf("TryRecv after Close: %v %v", ok, err)
	}
	if _, ok := s.DeadlineHint(); ok {
		t.Errorf("DeadlineHint after Close is ok")
	}
	if _, err := s.Fd(); !errors.Is(err, ErrClosed) {
		t.Errorf("Fd after Close: %v", err)
	}

	// No idle or total timeout: no hint.
	c = client(t, WithIdleTimeout(0))
	s, err := c.Stream(context.Background(), &Request{Messages: user("x")})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.DeadlineHint(); ok {
		t.Errorf("DeadlineHint without timeouts is ok")
	}
	// TryRecv until the end, polling: the same chunks as Recv.
	var chunks []Chunk
	for deadline := time.Now().Add(30 * time.Second); ; {
		ch, ok, err := s.TryRecv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			chunks = append(chunks, ch)
		} else if time.Now().After(deadline) {
			t.Fatal("no end within 30 s")
		} else {
			time.Sleep(time.Millisecond)
		}
	}
	if contentOf(chunks) != "Hello from the bundled offline backend! You said: x" {
		t.Errorf("content by TryRecv %q", contentOf(chunks))
	}
	if fd, err := s.Fd(); err != nil || fd < 0 {
		t.Errorf("Fd of a stream that is over: %v, %v", fd, err)
	}
	s.Close()

	// A due idle timeout ends the stream in TryRecv. Since the network engine's
	// rework the stream's thread ends the stream itself when the timeout runs out,
	// and an ended stream has no deadline: the hint is 0 (due) or none.
	c = client(t, WithIdleTimeout(100*time.Millisecond))
	s = stalled(t, context.Background(), c)
	defer s.Close()
	time.Sleep(150 * time.Millisecond)
	if d, ok := s.DeadlineHint(); ok && d != 0 {
		t.Errorf("DeadlineHint past the idle timeout: %v %v", d, ok)
	}
	if _, ok, err := s.TryRecv(); ok || !errors.Is(err, ErrTimedOut) {
		t.Errorf("TryRecv past the idle timeout: %v %v", ok, err)
	}
}

// ---------------------------------------------------------------- protocols

// Without WithProtocol(ProtocolOpenAI) the same base URL gets a 404 for
// {base}/backend-api/v2/conversation.
func TestProtocolOpenAI(t *testing.T) {
	if backendURL == "" {
		t.Skip("NO TEST BACKEND: " + backendSkip)
	}
	c, err := NewClient(backendURL+"/v1", WithNoProxy(), WithProtocol(ProtocolOpenAI))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	defer c.Close()
	s, chunks, err := run(t, c, &Request{Model: "test-model", Messages: user("over openai")})
	want := "Hello from the bundled offline backend! You said: over openai"
	if err != nil || contentOf(chunks) != want {
		t.Fatalf("content %q, %v", contentOf(chunks), err)
	}
	for _, ch := range chunks { // every chunk keeps the OpenAI event it came from
		var event struct {
			Object string `json:"object"`
		}
		raw, ok := ch.Field("event")
		if !ok || json.Unmarshal(raw, &event) != nil || event.Object != "chat.completion.chunk" {
			t.Errorf("chunk without its chat.completion.chunk event: %s", ch)
		}
	}
	if a, err := s.Answer(); err != nil || a.Content != want || a.FinishReason != "stop" {
		t.Errorf("answer %+v, %v", a, err)
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if raw, err := c.ModelsJSON(context.Background(), ""); err != nil || json.Unmarshal(raw, &list) != nil ||
		len(list.Data) == 0 || list.Data[0].ID != "test-model" {
		t.Errorf("models: %s, %v", raw, err)
	}
	var e *Error
	if _, err := c.ModelsJSON(context.Background(), "TestBackend"); !errors.As(err, &e) || e.Status != StatusInvalidArgument {
		t.Errorf("models of a provider under OpenAI: %v, want INVALID_ARGUMENT", err)
	}
	if _, err := NewClient(backendURL, WithProtocol(Protocol(2))); !errors.As(err, &e) || e.Status != StatusInvalidArgument {
		t.Errorf("an unknown protocol: %v, want INVALID_ARGUMENT", err)
	}
}

// Every C function has a way in from Go: the answer limit, the media limit, the
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

// A per-request timeout (openai-go's WithRequestTimeout), on top of the client's.
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
