package backendapitest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/backend-api/backend-api/bindings/go/backendapi"
	"github.com/backend-api/backend-api/bindings/go/backendapi/backendapitest"
)

// A scripted answer, paced, under the backend API.
func Example() {
	srv := backendapitest.NewServer(backendapitest.Script{
		Chunks: []backendapitest.Chunk{
			backendapitest.Reasoning("greet"),
			backendapitest.Content("Hello, "),
			backendapitest.Content("world"),
			backendapitest.Usage(3, 2),
			backendapitest.Finish("stop"),
		},
		Delay: 10 * time.Millisecond,
	})
	defer srv.Close()

	client, err := backendapi.NewClient(srv.URL, backendapi.WithNoProxy())
	if err != nil {
		panic(err)
	}
	defer client.Close()
	answer, err := client.Complete(context.Background(), &backendapi.Request{
		Model:    "fake-model",
		Messages: []backendapi.Message{{Role: "user", Content: "Hi"}},
	})
	fmt.Println(answer.Content, answer.Reasoning, answer.FinishReason, err)
	fmt.Println("the server got:", srv.Requests()[0]["model"])
	// Output:
	// Hello, world greet stop <nil>
	// the server got: fake-model
}

// The same script under the OpenAI-compatible protocol, and its model listing.
func Example_openAI() {
	srv := backendapitest.NewServer(backendapitest.Script{
		Chunks: []backendapitest.Chunk{backendapitest.Content("Hi there"), backendapitest.Finish("stop")},
		Models: map[string][]string{"Fake": {"fake-model"}},
	})
	defer srv.Close()

	client, err := backendapi.NewClient(srv.URL+"/v1", backendapi.WithNoProxy(),
		backendapi.WithProtocol(backendapi.ProtocolOpenAI))
	if err != nil {
		panic(err)
	}
	defer client.Close()
	answer, err := client.Complete(context.Background(), &backendapi.Request{
		Messages: []backendapi.Message{{Role: "user", Content: "Hi"}},
	})
	fmt.Println(answer.Content, answer.FinishReason, err)
	models, err := client.ListModels(context.Background(), "")
	fmt.Println(models[0].ID, models[0].OwnedBy, err)
	// Output:
	// Hi there stop <nil>
	// fake-model Fake <nil>
}

// Faults: an HTTP error status, an in-stream error, a connection cut mid-stream.
func Example_faults() {
	ask := func(script backendapitest.Script) error {
		srv := backendapitest.NewServer(script)
		defer srv.Close()
		client, err := backendapi.NewClient(srv.URL, backendapi.WithNoProxy())
		if err != nil {
			return err
		}
		defer client.Close()
		_, err = client.Complete(context.Background(), &backendapi.Request{
			Messages: []backendapi.Message{{Role: "user", Content: "Hi"}},
		})
		return err
	}
	err := ask(backendapitest.Script{Status: 503, Message: "busy"})
	var e *backendapi.Error
	fmt.Println(errors.Is(err, backendapi.ErrHTTP), errors.As(err, &e) && e.HTTPStatus == 503, e.ServerMessage)

	err = ask(backendapitest.Script{Chunks: []backendapitest.Chunk{
		backendapitest.Content("partial"), backendapitest.Error("ValueError: the provider failed")}})
	var se *backendapi.StreamError
	fmt.Println(errors.As(err, &se), se.Chunk.ErrorMessage())

	err = ask(backendapitest.Script{Chunks: []backendapitest.Chunk{backendapitest.Content("partial")}, Fault: backendapitest.Cut})
	fmt.Println(errors.Is(err, backendapi.ErrIO) || errors.Is(err, backendapi.ErrProtocol))
	// Output:
	// true true busy
	// true ValueError: the provider failed
	// true
}

// A stalled server: the client's idle timeout ends the wait.
func Example_stall() {
	srv := backendapitest.NewServer(backendapitest.Script{
		Chunks: []backendapitest.Chunk{backendapitest.Content("first")},
		Fault:  backendapitest.Stall,
	})
	defer srv.Close()
	client, err := backendapi.NewClient(srv.URL, backendapi.WithNoProxy(),
		backendapi.WithIdleTimeout(200*time.Millisecond))
	if err != nil {
		panic(err)
	}
	defer client.Close()
	_, err = client.Complete(context.Background(), &backendapi.Request{
		Messages: []backendapi.Message{{Role: "user", Content: "Hi"}},
	})
	fmt.Println(errors.Is(err, backendapi.ErrTimedOut))
	// Output: true
}
