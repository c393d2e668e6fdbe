package backendapi

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The project's test backend (examples/test_backend.rs), started once for all
// tests: BACKEND_API_TEST_BACKEND names the binary; else ../../../target/debug/examples/test_backend.
var (
	backendURL  string
	backendSkip string // why backend tests skip, when they do
)

func TestMain(m *testing.M) {
	stop := startBackend()
	code := m.Run()
	// The test binary owns the process: let the library's threads end (and with
	// them the loggers' calls) before the servers go and the process exits.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	if err := Shutdown(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "Shutdown at exit: %v\n", err)
		code = 1
	}
	cancel()
	stopG4F()
	stop()
	os.Exit(code)
}

func startBackend() (stop func()) {
	path := os.Getenv("BACKEND_API_TEST_BACKEND")
	if path == "" {
		path = filepath.Join("..", "..", "..", "target", "debug", "examples", "test_backend")
		if _, err := os.Stat(path); err != nil {
			backendSkip = "BACKEND_API_TEST_BACKEND is not set and " + path + " does not exist: " +
				"build it with `cargo build --example test_backend` and set BACKEND_API_TEST_BACKEND " +
				"(or run bindings/go/test.sh)"
			fmt.Fprintln(os.Stderr, "!!! SKIPPING ALL BACKEND TESTS: "+backendSkip)
			return func() {}
		}
	}
	cmd := exec.Command(path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // the backend exits when this closes
	if err != nil {
		panic(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		panic(err)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "cannot start the test backend %s: %v\n", path, err)
		os.Exit(2)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if port, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				ready <- strings.TrimSpace(port)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case port := <-ready:
		backendURL = "http://127.0.0.1:" + port
		os.Setenv("BACKEND_API_TEST_URL", backendURL) // for the examples that run (package backendapi_test)
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		fmt.Fprintln(os.Stderr, "the test backend did not print READY within 30 s")
		os.Exit(2)
	}
	return func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
}

// client returns a client of the test backend, closed at the end of the test;
// the test skips (loudly) without a backend.
func client(t testing.TB, opts ...Option) *Client {
	t.Helper()
	if backendURL == "" {
		t.Skip("NO TEST BACKEND: " + backendSkip)
	}
	c, err := NewClient(backendURL, append([]Option{WithNoProxy()}, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// collect reads a stream to its end.
func collect(t testing.TB, s *Stream) ([]Chunk, error) {
	t.Helper()
	var out []Chunk
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
}

func ask(t testing.TB, c *Client, req *Request) []Chunk {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := c.Stream(ctx, req)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	defer s.Close()
	chunks, err := collect(t, s)
	if err != nil {
		t.Fatalf("Recv: %v (after %d chunks)", err, len(chunks))
	}
	return chunks
}

func contentOf(chunks []Chunk) string {
	var b strings.Builder
	for _, c := range chunks {
		b.WriteString(c.Content())
	}
	return b.String()
}

func types(chunks []Chunk) []string {
	out := make([]string, len(chunks))
	for i, c := range chunks {
		out[i] = c.Type
	}
	return out
}

func user(text string) []Message { return []Message{{Role: "user", Content: text}} }
