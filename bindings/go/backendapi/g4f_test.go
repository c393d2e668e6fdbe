package backendapi

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The real `g4f api` (g4f 8.8.6 from the venv scripts/g4f-venvs.sh makes, run
// offline by tests/interop/g4f_server.py --api with its InteropTest provider),
// started by the first test that asks for it and stopped by TestMain.
// BACKEND_API_G4F_PYTHON names the venv's python; by default the venv in
// ${BACKEND_API_CACHE:-~/.cache/backend-api}. Without it those tests skip loudly
// (and fail under CI=true).
var g4f struct {
	once sync.Once
	url  string
	why  string // why there is none
	cmd  *exec.Cmd
}

func g4fPython() string {
	if py := os.Getenv("BACKEND_API_G4F_PYTHON"); py != "" {
		return py
	}
	cache := os.Getenv("BACKEND_API_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "backend-api")
	}
	return filepath.Join(cache, "venv-g4f-8.8.6", "bin", "python")
}

// g4fAPI returns the base URL of the real g4f api, or skips the test.
func g4fAPI(t *testing.T) string {
	t.Helper()
	g4f.once.Do(startG4F)
	if g4f.url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("NO REAL g4f api under CI: " + g4f.why)
		}
		t.Skip("!!! NO REAL g4f api: " + g4f.why)
	}
	return g4f.url
}

func startG4F() {
	py := g4fPython()
	if _, err := os.Stat(py); err != nil {
		g4f.why = py + " is missing: run scripts/g4f-venvs.sh (or set BACKEND_API_G4F_PYTHON)"
		return
	}
	script := filepath.Join("..", "..", "..", "tests", "interop", "g4f_server.py")
	cmd := exec.Command(py, script, "--port", "0", "--quiet", "--api")
	stdin, _ := cmd.StdinPipe() // the server exits when this closes
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		g4f.why = "cannot start " + script + ": " + err.Error()
		return
	}
	_ = stdin
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		if port, ok := strings.CutPrefix(strings.TrimSpace(line), "READY "); ok {
			g4f.url, g4f.cmd = "http://127.0.0.1:"+port, cmd
			return
		}
		g4f.why = "g4f api printed " + line
	case <-time.After(90 * time.Second):
		g4f.why = "g4f api did not print READY within 90 s"
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

func stopG4F() {
	if g4f.cmd != nil {
		_ = g4f.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = g4f.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = g4f.cmd.Process.Kill()
			<-done
		}
	}
}

// One typed listing under both protocols, against the real g4f api: the backend
// API's /backend-api/v2/models (all providers, and one provider) and the
// OpenAI-compatible /v1/models.
func TestListModelsRealG4F(t *testing.T) {
	url := g4fAPI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	backend, err := NewClient(url, WithNoProxy())
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	all, err := backend.ListModels(ctx, "")
	if err != nil {
		t.Fatalf("ListModels (backend API): %v", err)
	}
	found := false
	for _, m := range all {
		found = found || (m.ID == "interop-model" && m.Provider == "InteropTest")
	}
	if !found {
		t.Fatalf("ListModels (backend API): no interop-model of InteropTest in %+v", all)
	}
	one, err := backend.ListModels(ctx, "InteropTest")
	if err != nil || len(one) != 2 {
		t.Fatalf("ListModels(InteropTest): %+v, %v", one, err)
	}
	if one[0].ID != "interop-model" || !one[0].Default || one[0].Provider != "InteropTest" ||
		one[1].ID != "interop-vision" || !one[1].Vision || one[1].Default {
		t.Fatalf("ListModels(InteropTest): %+v", one)
	}
	t.Logf("backend API: %d models, InteropTest: %s (default), %s (vision)", len(all), one[0].ID, one[1].ID)

	openai, err := NewClient(url+"/v1", WithNoProxy(), WithProtocol(ProtocolOpenAI))
	if err != nil {
		t.Fatal(err)
	}
	defer openai.Close()
	v1, err := openai.ListModels(ctx, "")
	if err != nil || len(v1) == 0 {
		t.Fatalf("ListModels (OpenAI API): %v, %v", len(v1), err)
	}
	ids := map[string]bool{}
	for _, m := range v1 {
		if m.ID == "" || m.Provider != "" || len(m.Raw) == 0 {
			t.Fatalf("OpenAI model %+v", m)
		}
		ids[m.ID] = true
	}
	if !ids["gpt-4o"] {
		t.Fatalf("ListModels (OpenAI API): no gpt-4o among %d models", len(v1))
	}
	names, err := openai.Models(ctx)
	total := 0
	for _, n := range names {
		total += len(n)
	}
	if err != nil || total != len(v1) {
		t.Fatalf("Models (OpenAI API): %d names, %v; want %d", total, err, len(v1))
	}
	t.Logf("OpenAI API: %d models, first %q", len(v1), v1[0].ID)
	if _, err := openai.ListModels(ctx, "InteropTest"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("ListModels(provider) under the OpenAI protocol: %v", err)
	}
}
