package backendapi

/*
#include <backend_api.h>
*/
import "C"

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"runtime"
)

// Answer is what the chunks a stream has handed out (by Recv or TryRecv) add
// up to, as the g4f browser client keeps it. Fields the stream has not sent
// are "" or nil.
type Answer struct {
	Content      string `json:"content"`       // the content chunks' text, joined
	Reasoning    string `json:"reasoning"`     // the reasoning chunks' tokens, joined
	FinishReason string `json:"finish_reason"` // "stop", "length", ... of the finish chunk
	// Usage is the last usage chunk's token counts (its Raw the whole "usage"
	// object), nil when the server sent none.
	Usage *Usage `json:"-"`
	Title string `json:"title"`
	// ToolCalls are the tool calls the model made, assembled from their deltas.
	ToolCalls []ToolCall `json:"tool_calls"`
	// Conversation is the provider's conversation state (the last conversation
	// chunk's "conversation"): send it back as the "conversation" field, as
	// [Request.FollowUp] does.
	Conversation json.RawMessage `json:"conversation"`
	Provider     string          `json:"provider"` // the provider chunk's name
	Model        string          `json:"model"`    // the provider chunk's model, or the usage chunk's
	Error        string          `json:"error"`    // the message of an error or auth chunk
	// Raw is the whole "answer" object as the library made it (with "type":
	// "answer"), for fields this struct does not have yet.
	Raw json.RawMessage `json:"-"`
}

// Complete sends req and waits for the whole answer: the call for those who do
// not stream. It returns the answer assembled from every chunk (see [Answer]), a
// [*StreamError] when the server sent an in-stream error or auth chunk, and
// Recv's errors otherwise ([*Error], ctx.Err()). Cancelling ctx ends it at once.
// The chunks are not copied into Go, so it costs about what the C library does.
// With [WithAssemble](false) the answer is empty.
func (c *Client) Complete(ctx context.Context, req *Request) (Answer, error) {
	s, err := c.Stream(ctx, req)
	if err != nil {
		return Answer{}, err
	}
	defer s.Close()
	if err := s.drain(); err != nil {
		return Answer{}, err
	}
	return s.Answer()
}

// Answer returns the answer assembled from the chunks handed out so far: during
// the stream (what has arrived) and after its end, until Close; after Close it
// returns ErrClosed (Close frees the answer with the native stream). During the
// stream it may count a few chunks (up to 63) that Recv has taken from the
// library but not returned yet: the binding takes the chunks that are ready in
// one batch. Any goroutine. The error is an [*Error] when the library fails (not
// expected).
func (s *Stream) Answer() (Answer, error) {
	st := s.st
	st.mu.Lock()
	var raw []byte
	err := ErrClosed
	if !st.closed {
		raw, err = st.answerJSONLocked()
	}
	st.mu.Unlock()
	runtime.KeepAlive(s)
	if err != nil {
		return Answer{}, err
	}
	return decodeAnswer(raw)
}

// answerJSONLocked reads the C stream's answer chunk (mu held, ptr set).
func (st *streamState) answerJSONLocked() ([]byte, error) {
	var cchunk *C.backend_api_chunk
	var cerr *C.backend_api_error
	if rc := C.backend_api_stream_answer(st.ptr, &cchunk, &cerr); rc != C.BACKEND_API_STATUS_OK {
		return nil, takeError(rc, cerr)
	}
	defer C.backend_api_chunk_free(cchunk)
	var n C.size_t
	js := C.backend_api_chunk_json(cchunk, &n)
	return goBytes(js, n), nil
}

// ToolCall is one tool call of an answer, in OpenAI's shape.
type ToolCall struct {
	ID       string           `json:"id"`   // the call's id, to answer it with a "tool" message
	Type     string           `json:"type"` // "function"
	Function ToolCallFunction `json:"function"`
}

// ToolCallFunction is the function a [ToolCall] calls.
type ToolCallFunction struct {
	Name string `json:"name"`
	// Arguments are the arguments as the model wrote them: JSON text, not
	// checked (a provider that sends an object instead of OpenAI's string gets
	// that object's JSON text).
	Arguments string `json:"arguments"`
}

// UnmarshalJSON reads Arguments as a string, or any other JSON value as its text.
func (f *ToolCallFunction) UnmarshalJSON(b []byte) error {
	var raw struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	f.Name, f.Arguments = raw.Name, string(raw.Arguments)
	var s string
	if json.Unmarshal(raw.Arguments, &s) == nil {
		f.Arguments = s
	} else if isNull(raw.Arguments) {
		f.Arguments = ""
	}
	return nil
}

func decodeAnswer(raw []byte) (Answer, error) {
	var a Answer
	var extra struct {
		Usage json.RawMessage `json:"usage"`
	}
	if err := errors.Join(json.Unmarshal(raw, &a), json.Unmarshal(raw, &extra)); err != nil {
		return Answer{}, &Error{Status: StatusInternal, Message: "the answer's JSON: " + err.Error()}
	}
	if !isNull(extra.Usage) {
		// The usage chunk's reading, on the answer's "usage" object.
		c := Chunk{Kind: KindUsage, Raw: json.RawMessage(`{"usage":` + string(extra.Usage) + `}`)}
		if u, ok := c.Usage(); ok {
			u.Model, u.Provider = a.Model, a.Provider
			a.Usage = &u
		}
	}
	if isNull(a.Conversation) {
		a.Conversation = nil
	}
	a.Raw = json.RawMessage(raw)
	return a, nil
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// FollowUp makes the request that continues the conversation after ans (from
// [Stream.Answer] of the stream that answered r): r's model, api key and extra
// fields and headers; r's messages plus {"role": "assistant", "content": ans.Content} and
// {"role": "user", "content": userMessage}; and ans.Conversation (when the
// server sent one) as the "conversation" field, replacing one of r. Media are
// not sent again. r is not changed; the new request shares no slice or map with
// it (message contents and extra values themselves are not deep-copied). This is
// backend_api_request_follow_up of the C API, in Go.
func (r *Request) FollowUp(ans Answer, userMessage string) *Request {
	if r == nil {
		r = &Request{}
	}
	next := &Request{
		Model:           r.Model,
		APIKey:          r.APIKey,
		APIKeyPlacement: r.APIKeyPlacement,
		Messages: append(append(make([]Message, 0, len(r.Messages)+2), r.Messages...),
			Message{Role: "assistant", Content: ans.Content},
			Message{Role: "user", Content: userMessage}),
		Extra:     maps.Clone(r.Extra),
		ExtraJSON: bytes.Clone(r.ExtraJSON),
		Headers:   maps.Clone(r.Headers),
		Timeout:   r.Timeout,
	}
	if !isNull(ans.Conversation) {
		if next.Extra == nil {
			next.Extra = map[string]any{}
		}
		next.Extra["conversation"] = json.RawMessage(bytes.Clone(ans.Conversation))
	}
	return next
}
