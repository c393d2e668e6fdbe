package backendapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/backend-api/backend-api/bindings/go/backendapi"
)

func Example() {
	client, err := backendapi.NewClient("http://127.0.0.1:8080",
		backendapi.WithIdleTimeout(2*time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stream, err := client.Stream(ctx, &backendapi.Request{
		Model:    "gpt-4o-mini",
		Messages: []backendapi.Message{{Role: "user", Content: "Hello!"}},
		Extra:    map[string]any{"provider": "PollinationsAI"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer stream.Close()

	for {
		chunk, err := stream.Recv()
		if err == io.EOF {
			break
		}
		var apiErr *backendapi.Error
		if errors.As(err, &apiErr) && apiErr.Status == backendapi.StatusHTTP {
			log.Fatalf("server answered %d: %s", apiErr.HTTPStatus, apiErr.ServerMessage)
		}
		if err != nil {
			log.Fatal(err)
		}
		switch chunk.Kind {
		case backendapi.KindContent:
			fmt.Print(chunk.Content())
		case backendapi.KindError, backendapi.KindAuth:
			log.Fatal(chunk.Err())
		}
	}
}

func ExampleStream_All() {
	client, err := backendapi.NewClient("http://127.0.0.1:8080")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	stream, err := client.Stream(context.Background(), &backendapi.Request{
		Messages: []backendapi.Message{{Role: "user", Content: "Hi"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer stream.Close()
	for chunk, err := range stream.All() {
		if err != nil {
			log.Fatal(err)
		}
		if u, ok := chunk.Usage(); ok {
			fmt.Println("\ntokens:", u.TotalTokens)
		}
		fmt.Print(chunk.Content())
	}
}

// A conversation of two turns, with retries and the library's warnings in slog.
func ExampleRequest_FollowUp() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	client, err := backendapi.NewClient("http://127.0.0.1:8080",
		backendapi.WithRetries(3, 500*time.Millisecond, 10*time.Second),
		backendapi.WithSlog(logger))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ask := func(req *backendapi.Request) backendapi.Answer {
		stream, err := client.Stream(context.Background(), req)
		if err != nil {
			log.Fatal(err)
		}
		defer stream.Close()
		for chunk, err := range stream.All() {
			if err != nil {
				log.Fatal(err)
			}
			fmt.Print(chunk.Content())
		}
		answer, err := stream.Answer() // there after the end, until Close
		if err != nil {
			log.Fatal(err)
		}
		st := stream.Stats()
		fmt.Printf("\n[%d chunks, %d retries, first chunk after %v]\n", st.Delivered, st.Retries, st.FirstChunkAfter)
		return answer
	}

	req := &backendapi.Request{Messages: []backendapi.Message{{Role: "user", Content: "Name a prime."}}}
	answer := ask(req)
	ask(req.FollowUp(answer, "And the next one?"))
}

// The tool loop: the model asks for a tool, the program runs it and sends the
// result back, until the model answers in text. Here against the test backend's
// scripted agent (test_openai "agent"; a real model needs only "tools").
func ExampleRequest_FollowUpToolResults() {
	client, err := backendapi.NewClient(os.Getenv("BACKEND_API_TEST_URL")+"/v1",
		backendapi.WithProtocol(backendapi.ProtocolOpenAI), backendapi.WithNoProxy())
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	tools := []map[string]any{{"type": "function", "function": map[string]any{
		"name": "get_weather", "parameters": map[string]any{"type": "object",
			"properties": map[string]any{"city": map[string]any{"type": "string"}}}}}}
	req := &backendapi.Request{
		Model:    "test-model",
		Messages: []backendapi.Message{{Role: "user", Content: "What is the weather in Paris?"}},
		Extra:    map[string]any{"tools": tools, "test_openai": "agent"},
	}
	for round := 1; round <= 4; round++ {
		answer, err := client.Complete(context.Background(), req)
		if err != nil {
			log.Fatal(err)
		}
		if len(answer.ToolCalls) == 0 {
			fmt.Println("assistant:", answer.Content)
			break
		}
		var results []backendapi.ToolResult
		for _, call := range answer.ToolCalls {
			fmt.Printf("calls %s(%s)\n", call.Function.Name, call.Function.Arguments)
			results = append(results, backendapi.ToolResult{ID: call.ID, Content: `{"forecast": "sunny"}`})
		}
		req = req.FollowUpToolResults(answer, results...)
	}
	// Output:
	// calls get_weather({"city": "Paris"})
	// assistant: The weather in Paris: {"forecast": "sunny"}
}
