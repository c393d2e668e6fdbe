package backendapi

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A tool round against the test backend's scripted OpenAI agent:
// typed calls, the assistant's message with its calls, tool results, the answer.
func TestToolRound(t *testing.T) {
	c, err := NewClient(backendURL+"/v1", WithNoProxy(), WithProtocol(ProtocolOpenAI))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	req := &Request{Model: "test-model", Messages: user("weather?"), Extra: map[string]any{"test_openai": "agent"}}
	first, err := c.Complete(ctx, req)
	if err != nil || len(first.ToolCalls) != 1 || first.FinishReason != "tool_calls" {
		t.Fatalf("first round: %+v, %v", first, err)
	}
	call := first.ToolCalls[0]
	if call.ID != "call_w1" || call.Function.Name != "get_weather" || !strings.Contains(call.Function.Arguments, "Paris") {
		t.Fatalf("call %+v", call)
	}
	next := req.FollowUpToolResults(first, ToolResult{ID: call.ID, Content: `{"forecast": "sunny"}`})
	if len(next.Messages) != 3 || len(next.Messages[1].ToolCalls) != 1 || next.Messages[2].Role != "tool" ||
		next.Messages[2].ToolCallID != "call_w1" {
		t.Fatalf("tool round request %+v", next.Messages)
	}
	second, err := c.Complete(ctx, next)
	if err != nil || !strings.Contains(second.Content, "The weather in Paris") || !strings.Contains(second.Content, "sunny") ||
		len(second.ToolCalls) != 0 {
		t.Fatalf("second round: %+v, %v", second, err)
	}
}

// Choices, refusals, response headers through the OpenAI protocol.
func TestChoicesRefusalHeaders(t *testing.T) {
	c, err := NewClient(backendURL+"/v1", WithNoProxy(), WithProtocol(ProtocolOpenAI))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	s, err := c.Stream(ctx, &Request{Messages: user("x"), Extra: map[string]any{"test_openai": "choices"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.Header("X-Request-Id"); ok {
		t.Errorf("a header before the response came")
	}
	var byChoice [2]string
	for chunk, err := range s.All() {
		if err != nil {
			t.Fatal(err)
		}
		if chunk.Kind == KindContent && chunk.Choice < 2 {
			byChoice[chunk.Choice] += chunk.Text()
		}
	}
	if byChoice != [2]string{"Red", "Blue"} {
		t.Errorf("choices %q", byChoice)
	}
	if a, _ := s.Answer(); a.Content != "Red" {
		t.Errorf("the answer follows choice 0: %q", a.Content)
	}
	if v, ok := s.Header("x-request-id"); v != "req-test" || !ok {
		t.Errorf("X-Request-Id %q %v", v, ok)
	}
	if h := s.ResponseHeaders(); h.Get("X-Ratelimit-Remaining-Requests") != "99" {
		t.Errorf("headers %v", h)
	}
	a, err := c.Complete(ctx, &Request{Messages: user("x"), Extra: map[string]any{"test_openai": "refusal"}})
	if err != nil || a.Refusal == "" {
		t.Errorf("refusal %+v, %v", a, err)
	}
}

// Generated media listed, fetched and saved; providers; capabilities.
func TestMediaProvidersCapabilities(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	a, err := c.Complete(ctx, &Request{Messages: user("draw"), Extra: map[string]any{"test_media": true}})
	if err != nil || len(a.Media) != 1 || a.Media[0].Kind != MediaImage || a.Media[0].URL != backendURL+"/media/test-dot.png" {
		t.Fatalf("media %+v, %v", a.Media, err)
	}
	m, err := c.FetchMedia(ctx, a.Media[0].URL, nil, 0)
	if err != nil || !bytes.HasPrefix(m.Data, []byte("\x89PNG")) || m.ContentType != "image/png" {
		t.Fatalf("FetchMedia %q %q, %v", m.Data, m.ContentType, err)
	}
	if _, err := c.FetchMedia(ctx, a.Media[0].URL, nil, 4); !errors.Is(err, ErrLimit) {
		t.Errorf("over maxBytes: %v", err)
	}
	if d, err := c.FetchMedia(ctx, "data:text/plain;base64,aGk=", nil, 0); err != nil || string(d.Data) != "hi" {
		t.Errorf("data URI %q, %v", d.Data, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.FetchMedia(cctx, a.Media[0].URL, nil, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	path := filepath.Join(t.TempDir(), "dot.png")
	n, ctype, err := c.SaveMedia(ctx, a.Media[0].URL, path, &Request{Headers: Headers{"X-Trace": "t"}}, 0)
	if saved, _ := os.ReadFile(path); err != nil || n != int64(len(m.Data)) || ctype != "image/png" || !bytes.Equal(saved, m.Data) {
		t.Errorf("SaveMedia %d %q, %v", n, ctype, err)
	}
	providers, err := c.Providers(ctx)
	if err != nil || len(providers) != 1 || providers[0].Name != "TestBackend" || providers[0].Label != "Test Backend" {
		t.Errorf("providers %+v, %v", providers, err)
	}
	infos, err := c.ModelInfos(ctx, "TestBackend")
	if err != nil || len(infos) != 1 || infos[0].ID != "test-model" || infos[0].Provider != "TestBackend" {
		t.Fatalf("model infos %+v, %v", infos, err)
	}
	if has, known := infos[0].Supports(CapabilityVision); has || !known {
		t.Errorf("vision: has %v known %v", has, known)
	}
	if _, known := infos[0].Supports(CapabilityTools); known {
		t.Errorf("tools known, though the listing says nothing of them")
	}
}

// Usage and ToolCalls of an answer are typed, not json.RawMessage.
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
