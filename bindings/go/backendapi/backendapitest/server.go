// Package backendapitest is a fake g4f server for testing code that uses
// package backendapi without a real server: an [httptest.Server] on loopback
// that answers both protocols (the backend API's POST
// /backend-api/v2/conversation, and the OpenAI-compatible POST
// /v1/chat/completions under the base URL URL+"/v1") with the chunks of a
// [Script], paced by its Delay, and with its faults (an HTTP error status, a
// connection cut mid-stream, a stall). It lists Script.Models at
// /backend-api/v2/models and at /v1/models (each model "owned_by" its provider).
//
// It answers every request with the same script and keeps the request bodies
// it got (see [Server.Requests]), so a test checks both what its code sent and
// what it made of the answer.
package backendapitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"time"
)

// Chunk is one chunk of the answer as the backend API sends it: a JSON object
// with a "type" field. Build the usual ones with [Content], [Reasoning],
// [Usage], [Finish] and [Error], or write any object the server may send.
type Chunk map[string]any

// Content is a content chunk (a piece of the answer's text).
func Content(text string) Chunk { return Chunk{"type": "content", "content": text} }

// Reasoning is a reasoning chunk (a piece of the model's thinking).
func Reasoning(token string) Chunk { return Chunk{"type": "reasoning", "token": token} }

// Usage is a usage chunk with the token counts.
func Usage(prompt, completion int) Chunk {
	return Chunk{"type": "usage", "usage": map[string]int{
		"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}
}

// Finish is a finish chunk with the finish reason ("stop", "length", ...).
func Finish(reason string) Chunk {
	return Chunk{"type": "finish", "finish": map[string]string{"reason": reason}}
}

// Error is a fatal in-stream error chunk, as g4f sends when a provider fails.
func Error(message string) Chunk { return Chunk{"type": "error", "message": message} }

// Fault is how the server misbehaves after the script's chunks.
type Fault int

const (
	// NoFault ends the answer properly (the OpenAI protocol with "data: [DONE]").
	NoFault Fault = iota
	// Cut closes the connection in the middle of a line after the chunks.
	Cut
	// Stall keeps the connection open and sends nothing more, until the client
	// goes away or the server closes.
	Stall
)

// Script is what the server answers.
type Script struct {
	Chunks  []Chunk             // the answer's chunks, in order
	Delay   time.Duration       // a pause before each chunk
	Status  int                 // not 0: answer with this HTTP status and Message as g4f's error body
	Message string              // the error message of Status (default "fake failure")
	Fault   Fault               // what follows the chunks
	Models  map[string][]string // provider name to model names, for the listings
}

// Server is a running fake server. Close it when done.
type Server struct {
	*httptest.Server
	script Script
	mu     sync.Mutex
	bodies []map[string]any
	stop   chan struct{}
	once   sync.Once
}

// NewServer starts a fake server on loopback answering with script.
func NewServer(script Script) *Server {
	s := &Server{script: script, stop: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /backend-api/v2/conversation", func(w http.ResponseWriter, r *http.Request) { s.answer(w, r, false) })
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) { s.answer(w, r, true) })
	mux.HandleFunc("GET /backend-api/v2/models", s.backendModels)
	mux.HandleFunc("GET /v1/models", s.openAIModels)
	s.Server = httptest.NewServer(mux)
	return s
}

// Close ends stalled answers, then shuts the server down.
func (s *Server) Close() {
	s.once.Do(func() { close(s.stop) })
	s.Server.Close()
}

// Requests returns the JSON bodies of the chat requests received so far.
func (s *Server) Requests() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.bodies...)
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, openai bool) {
	var body map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(&body); err != nil {
		http.Error(w, `{"error": {"message": "the body is no JSON object"}}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, body)
	s.mu.Unlock()
	if s.script.Status != 0 {
		msg := s.script.Message
		if msg == "" {
			msg = "fake failure"
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.script.Status)
		out, _ := json.Marshal(map[string]any{"error": map[string]string{"message": msg}})
		_, _ = w.Write(out)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	for _, c := range s.script.Chunks {
		select {
		case <-time.After(s.script.Delay):
		case <-r.Context().Done():
			return
		case <-s.stop:
			return
		}
		if openai {
			c = openAIEvent(c)
		}
		data, err := json.Marshal(c)
		if err != nil {
			panic(fmt.Sprintf("backendapitest: a chunk of the script is no JSON: %v", err))
		}
		fmt.Fprintf(w, "data: %s\n\n", data)
		if flusher != nil {
			flusher.Flush()
		}
	}
	switch s.script.Fault {
	case Cut:
		_, _ = io.WriteString(w, `data: {"type": "content", "cont`)
		if flusher != nil {
			flusher.Flush()
		}
		panic(http.ErrAbortHandler) // net/http closes the connection without ending the body
	case Stall:
		select {
		case <-r.Context().Done():
		case <-s.stop:
		}
	default:
		if openai {
			_, _ = io.WriteString(w, "data: [DONE]\n\n")
		}
	}
}

// openAIEvent is the chat.completion.chunk event that carries c under the
// OpenAI-compatible protocol.
func openAIEvent(c Chunk) Chunk {
	event := Chunk{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": "fake-model"}
	delta := map[string]any{}
	choice := map[string]any{"index": 0, "delta": delta, "finish_reason": nil}
	switch c["type"] {
	case "content":
		delta["content"] = c["content"]
	case "reasoning":
		delta["reasoning_content"] = c["token"]
	case "usage":
		event["usage"] = c["usage"]
		event["choices"] = []any{}
		return event
	case "finish":
		choice["finish_reason"] = c["finish"].(map[string]string)["reason"]
	case "error":
		return Chunk{"error": map[string]any{"message": c["message"]}}
	default:
		return c
	}
	event["choices"] = []any{choice}
	return event
}

func (s *Server) backendModels(w http.ResponseWriter, _ *http.Request) {
	listing := s.script.Models
	if listing == nil {
		listing = map[string][]string{}
	}
	writeJSON(w, listing)
}

func (s *Server) openAIModels(w http.ResponseWriter, _ *http.Request) {
	providers := make([]string, 0, len(s.script.Models))
	for p := range s.script.Models {
		providers = append(providers, p)
	}
	sort.Strings(providers)
	data := []map[string]any{}
	for _, p := range providers {
		for _, m := range s.script.Models[p] {
			data = append(data, map[string]any{"id": m, "object": "model", "created": 0, "owned_by": p})
		}
	}
	writeJSON(w, map[string]any{"object": "list", "data": data})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
