package backendapitest_test

import (
	"context"
	"testing"

	"github.com/backend-api/backend-api/bindings/go/backendapi"
	"github.com/backend-api/backend-api/bindings/go/backendapi/backendapitest"
)

// Each chunk that All hands out is whole and its own: All reads every chunk into
// one reused value and copies it out of the stream's batch buffer, so a chunk
// without text that follows one with text, or a provider's own type that
// follows a named one, must carry nothing of the chunk before it, and a kept
// chunk must stay as it was while later ones arrive in the same batch.
func TestAllHandsOutWholeChunks(t *testing.T) {
	srv := backendapitest.NewServer(backendapitest.Script{Chunks: []backendapitest.Chunk{
		backendapitest.Content("first text"),
		{"type": "my_own_type", "x": 1},
		backendapitest.Content(""),
		{"type": "another_type"},
		backendapitest.Reasoning("a token"),
		backendapitest.Usage(3, 2),
		backendapitest.Finish("stop"),
	}})
	defer srv.Close()
	client, err := backendapi.NewClient(srv.URL, backendapi.WithNoProxy())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	stream, err := client.Stream(context.Background(), &backendapi.Request{Messages: []backendapi.Message{{Role: "user", Content: "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	var kept []backendapi.Chunk
	for chunk, err := range stream.All() {
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, chunk)
	}
	type want struct {
		typ     string
		kind    backendapi.Kind
		text    string
		hasText bool
	}
	wants := []want{
		{"content", backendapi.KindContent, "first text", true},
		{"my_own_type", backendapi.KindOther, "", false},
		{"content", backendapi.KindContent, "", true},
		{"another_type", backendapi.KindOther, "", false},
		{"reasoning", backendapi.KindReasoning, "a token", true},
		{"usage", backendapi.KindUsage, "", false},
		{"finish", backendapi.KindFinish, "", false},
	}
	// The library may add chunks of its own (a provider chunk): compare the script's.
	var got []backendapi.Chunk
	for _, c := range kept {
		if c.Kind != backendapi.KindProvider {
			got = append(got, c)
		}
	}
	if len(got) != len(wants) {
		t.Fatalf("got %d chunks %v, want %d", len(got), got, len(wants))
	}
	for i, w := range wants {
		c := got[i]
		if c.Type != w.typ || c.Kind != w.kind || c.Text() != w.text || c.HasText() != w.hasText {
			t.Errorf("chunk %d: type %q kind %v text %q hasText %v, want %+v (raw %s)",
				i, c.Type, c.Kind, c.Text(), c.HasText(), w, c.Raw)
		}
		var f struct{ Type string }
		if err := c.Decode(&f); err != nil || f.Type != w.typ {
			t.Errorf("chunk %d: raw %s does not hold its own type %q (%v)", i, c.Raw, w.typ, err)
		}
	}
}
