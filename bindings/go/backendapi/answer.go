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
	// Refusal is the model's refusal (the text of its refusal chunks), "" when it
	// did not refuse.
	Refusal string `json:"refusal"`
	// Media are the media (images, audio, video) the answer generated; fetch
	// them with [Client.FetchMedia] or [Client.SaveMedia].
	Media []GeneratedMedium `json:"-"`
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
	var media []GeneratedMedium
	err := ErrClosed
	if !st.closed {
		raw, media, err = st.answerJSONLocked()
	}
	st.mu.Unlock()
	runtime.KeepAlive(s)
	if err != nil {
		return Answer{}, err
	}
	a, err := decodeAnswer(raw)
	a.Media = media
	return a, err
}

// GeneratedMedium is a medium an answer generated ([Answer.Media]).
type GeneratedMedium struct {
	Kind MediaKind
	// URL is absolute (a server-relative one resolved against the base URL), or
	// a data: URI as sent.
	URL string
	Alt string // the alternative text (g4f: the prompt); "" when none
}

// MediaKind is what a [GeneratedMedium] is.
type MediaKind uint32

const (
	MediaImage MediaKind = C.BACKEND_API_MEDIA_KIND_IMAGE
	MediaAudio MediaKind = C.BACKEND_API_MEDIA_KIND_AUDIO
	MediaVideo MediaKind = C.BACKEND_API_MEDIA_KIND_VIDEO
)

// answerJSONLocked reads the C stream's answer chunk (mu held, ptr set): its
// JSON and its generated media, as the library lists them.
func (st *streamState) answerJSONLocked() ([]byte, []GeneratedMedium, error) {
	var cchunk *C.backend_api_chunk
	var cerr *C.backend_api_error
	if rc := C.backend_api_stream_answer(st.ptr, &cchunk, &cerr); rc != C.BACKEND_API_STATUS_OK {
		return nil, nil, takeError(rc, cerr)
	}
	defer C.backend_api_chunk_free(cchunk)
	var n C.size_t
	js := C.backend_api_chunk_json(cchunk, &n)
	var media []GeneratedMedium
	for i := C.size_t(0); i < C.backend_api_answer_media_count(cchunk); i++ {
		var kind C.backend_api_media_kind
		var url, alt *C.char
		if C.backend_api_answer_medium(cchunk, i, &kind, &url, &alt, nil) != C.BACKEND_API_STATUS_OK {
			break
		}
		m := GeneratedMedium{Kind: MediaKind(kind), URL: C.GoString(url)}
		if alt != nil {
			m.Alt = C.GoString(alt)
		}
		media = append(media, m)
	}
	return goBytes(js, n), media, nil
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
// [Stream.Answer] of the stream that answered r): r's model, api key, extra
// fields, headers and timeout; r's messages plus the assistant's message (ans's
// text and tool calls) and {"role": "user", "content": userMessage}; and the
// provider's conversation state as g4f expects it back (the answering
// provider's own state, unwrapped) as the "conversation" field, replacing one of
// r (kept when ans brought none). Media are not sent again. The library makes
// the added messages and the state (backend_api_request_follow_up_answer, from
// ans's Content, ToolCalls, Conversation and Provider), so its rules are the
// C library's. r is not changed; the new request shares no slice or map with it
// (message contents and extra values themselves are not deep-copied). When the
// library refuses (ans.Conversation that is not JSON, an Extra value it
// refuses), [Client.Stream] of the new request returns that error. After tool
// calls, use [Request.FollowUpToolResults] instead.
func (r *Request) FollowUp(ans Answer, userMessage string) *Request {
	return r.followUp(ans, &userMessage, nil)
}

// ToolResult is the result of one tool call, for [Request.FollowUpToolResults].
type ToolResult struct {
	ID      string // the [ToolCall]'s ID
	Content string // the tool's output: text, JSON or not
}

// FollowUpToolResults makes the request that continues the conversation after
// ans asked for tools: as [Request.FollowUp], with a {"role": "tool",
// "tool_call_id": ..., "content": ...} message per result instead of a user
// message (backend_api_request_add_tool_result of the C API). The tool loop:
//
//	for {
//		ans, err := client.Complete(ctx, req)
//		if err != nil || len(ans.ToolCalls) == 0 { break }
//		var results []ToolResult
//		for _, call := range ans.ToolCalls { results = append(results, ToolResult{call.ID, run(call)}) }
//		req = req.FollowUpToolResults(ans, results...)
//	}
func (r *Request) FollowUpToolResults(ans Answer, results ...ToolResult) *Request {
	return r.followUp(ans, nil, results)
}

// followUp is r's copy plus what the library's follow-up adds (see
// [followUpAdds]): the messages, and the conversation state when ans brought one.
func (r *Request) followUp(ans Answer, userMessage *string, results []ToolResult) *Request {
	if r == nil {
		r = &Request{}
	}
	next := &Request{
		Model:           r.Model,
		APIKey:          r.APIKey,
		APIKeyPlacement: r.APIKeyPlacement,
		Messages:        append(make([]Message, 0, len(r.Messages)+2+len(results)), r.Messages...),
		Extra:           maps.Clone(r.Extra),
		ExtraJSON:       bytes.Clone(r.ExtraJSON),
		Headers:         maps.Clone(r.Headers),
		Timeout:         r.Timeout,
		err:             r.err,
	}
	added, state, err := r.followUpAdds(ans, userMessage, results)
	if err != nil {
		next.err = err
		return next
	}
	next.Messages = append(next.Messages, added...)
	if state != nil {
		if next.Extra == nil {
			next.Extra = map[string]any{}
		}
		next.Extra["conversation"] = state
	}
	return next
}

// followUpAdds asks the library what the follow-up of r after ans adds: the
// messages (the assistant's, then the user's or the tool results) and the
// conversation field, nil when ans brought no state. The library gets r's extra
// fields but no messages, media, key or earlier state: the messages it adds are
// then all its body holds, and a conversation there is the answer's.
func (r *Request) followUpAdds(ans Answer, userMessage *string, results []ToolResult) ([]Message, json.RawMessage, error) {
	answer, err := ans.chunkJSON()
	if err != nil {
		return nil, nil, err
	}
	fields, err := r.fields()
	if err != nil {
		return nil, nil, err
	}
	delete(fields, "conversation")
	req := C.backend_api_request_new()
	if req == nil {
		return nil, nil, &Error{Status: StatusInternal, Message: "backend_api_request_new failed"}
	}
	defer C.backend_api_request_free(req)
	if err := setFields(req, fields); err != nil {
		return nil, nil, err
	}
	var cerr *C.backend_api_error
	var chunk *C.backend_api_chunk
	ca := (*C.char)(C.CBytes(answer))
	defer free(ca)
	if err := check(C.backend_api_chunk_parse(ca, C.size_t(len(answer)), &chunk, &cerr), cerr); err != nil {
		return nil, nil, err
	}
	defer C.backend_api_chunk_free(chunk)
	var cuser *C.char
	if userMessage != nil {
		if cuser, err = cString("user message", *userMessage); err != nil {
			return nil, nil, err
		}
		defer free(cuser)
	}
	var out *C.backend_api_request
	if err := check(C.backend_api_request_follow_up_answer(req, chunk, cuser, &out, &cerr), cerr); err != nil {
		return nil, nil, err
	}
	defer C.backend_api_request_free(out)
	for _, res := range results {
		if err := addToolResult(out, res); err != nil {
			return nil, nil, err
		}
	}
	var js *C.char
	var n C.size_t
	if err := check(C.backend_api_request_json(out, &js, &n, &cerr), cerr); err != nil {
		return nil, nil, err
	}
	body := goBytes(js, n)
	C.backend_api_string_free(js)
	var made struct {
		Messages     []Message       `json:"messages"`
		Conversation json.RawMessage `json:"conversation"`
	}
	if err := json.Unmarshal(body, &made); err != nil {
		return nil, nil, &Error{Status: StatusInternal, Message: "the follow-up's JSON: " + err.Error()}
	}
	return made.Messages, made.Conversation, nil
}

// chunkJSON is ans as the library's answer chunk, which its follow-up reads: the
// library's own answer object (Raw) with the fields a caller may have changed
// (Content, ToolCalls, Conversation, Provider) as they are now.
func (a Answer) chunkJSON() ([]byte, error) {
	obj := map[string]any{}
	var raw map[string]json.RawMessage
	if json.Unmarshal(a.Raw, &raw) == nil {
		for k, v := range raw {
			obj[k] = v
		}
	}
	obj["type"], obj["content"], obj["tool_calls"] = "answer", a.Content, a.ToolCalls
	obj["conversation"], obj["provider"] = a.Conversation, a.Provider
	if isNull(a.Conversation) {
		obj["conversation"] = nil
	}
	if a.Provider == "" {
		delete(obj, "provider")
	}
	js, err := json.Marshal(obj)
	if err != nil {
		return nil, invalid("the answer: " + err.Error())
	}
	return js, nil
}

// addToolResult adds res to req as a "tool" message (backend_api_request_add_tool_result).
func addToolResult(req *C.backend_api_request, res ToolResult) error {
	id, err := cString("tool call id", res.ID)
	if err != nil {
		return err
	}
	defer free(id)
	content, err := cString("tool result", res.Content)
	if err != nil {
		return err
	}
	defer free(content)
	var cerr *C.backend_api_error
	return check(C.backend_api_request_add_tool_result(req, id, content, &cerr), cerr)
}
