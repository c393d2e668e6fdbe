package backendapi

/*
#include <backend_api.h>
*/
import "C"

import (
	"bytes"
	"encoding/json"
)

// Kind classifies a chunk without comparing strings (enum backend_api_kind).
type Kind uint32

// The chunk kinds.
const (
	KindOther        Kind = C.BACKEND_API_KIND_OTHER // a type without a name here (a provider's own)
	KindContent      Kind = C.BACKEND_API_KIND_CONTENT
	KindReasoning    Kind = C.BACKEND_API_KIND_REASONING
	KindError        Kind = C.BACKEND_API_KIND_ERROR // fatal: the answer ends; only log chunks follow
	KindAuth         Kind = C.BACKEND_API_KIND_AUTH  // fatal authentication error
	KindUsage        Kind = C.BACKEND_API_KIND_USAGE
	KindFinish       Kind = C.BACKEND_API_KIND_FINISH
	KindProvider     Kind = C.BACKEND_API_KIND_PROVIDER
	KindConversation Kind = C.BACKEND_API_KIND_CONVERSATION
	KindMessage      Kind = C.BACKEND_API_KIND_MESSAGE // a non-fatal error message
	KindTitle        Kind = C.BACKEND_API_KIND_TITLE
	KindToolCalls    Kind = C.BACKEND_API_KIND_TOOL_CALLS
	KindLog          Kind = C.BACKEND_API_KIND_LOG
	KindPreview      Kind = C.BACKEND_API_KIND_PREVIEW
	KindParameters   Kind = C.BACKEND_API_KIND_PARAMETERS
	KindSuggestions  Kind = C.BACKEND_API_KIND_SUGGESTIONS
	KindSynthesize   Kind = C.BACKEND_API_KIND_SYNTHESIZE
	KindContinue     Kind = C.BACKEND_API_KIND_CONTINUE
	KindVariant      Kind = C.BACKEND_API_KIND_VARIANT
	KindRequest      Kind = C.BACKEND_API_KIND_REQUEST
	KindResponse     Kind = C.BACKEND_API_KIND_RESPONSE
	KindHeaders      Kind = C.BACKEND_API_KIND_HEADERS
	// KindAnswer is made by this library, not sent by servers: the assembled
	// answer's chunk (see [Answer.Raw]).
	KindAnswer Kind = C.BACKEND_API_KIND_ANSWER
	// KindRefusal is a refusal of the model (the OpenAI protocol's
	// delta.refusal): [Chunk.Text] says why; the answer keeps it as Refusal.
	KindRefusal Kind = C.BACKEND_API_KIND_REFUSAL
)

// kindNames holds the chunk type of each kind, indexed by kind.
var kindNames = [...]string{
	KindOther: "other", KindContent: "content", KindReasoning: "reasoning", KindError: "error",
	KindAuth: "auth", KindUsage: "usage", KindFinish: "finish", KindProvider: "provider",
	KindConversation: "conversation", KindMessage: "message", KindTitle: "title",
	KindToolCalls: "tool_calls", KindLog: "log", KindPreview: "preview", KindParameters: "parameters",
	KindSuggestions: "suggestions", KindSynthesize: "synthesize", KindContinue: "continue",
	KindVariant: "variant", KindRequest: "request", KindResponse: "response", KindHeaders: "headers",
	KindAnswer: "answer", KindRefusal: "refusal",
}

// String returns the chunk type the kind stands for ("content", ...), or "other".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "other"
}

// Chunk is one chunk of the answer (g4f's RawResponse), copied into Go memory:
// it stays valid for as long as you keep it.
type Chunk struct {
	// Type is the chunk's "type" field ("content", "reasoning", "usage", ...).
	Type string
	// Kind classifies Type; KindOther for a provider's own types.
	Kind Kind
	// Raw is the chunk's whole JSON object as the server sent it.
	Raw json.RawMessage
	// Choice is the choice the chunk belongs to, from 0: with the OpenAI
	// protocol and "n" > 1 each choice's chunks come apart (the assembled
	// answer follows choice 0); 0 for every other chunk.
	Choice uint32

	text    string
	hasText bool
}

// Text returns the chunk's main text: the content of a content chunk, the token
// of a reasoning chunk, the message of an error, auth or message chunk, a title,
// a log line, a preview; "" when the chunk has none.
func (c Chunk) Text() string { return c.text }

// HasText reports whether the chunk has a main text (see Text), even an empty one.
func (c Chunk) HasText() bool { return c.hasText }

// Content returns the text of a content chunk, else "".
func (c Chunk) Content() string {
	if c.Kind != KindContent {
		return ""
	}
	return c.text
}

// ReasoningToken returns the token of a reasoning chunk, else "".
func (c Chunk) ReasoningToken() string {
	if c.Kind != KindReasoning {
		return ""
	}
	return c.text
}

// IsFatal reports whether the chunk is an error or auth chunk: the answer ends
// with it (only log chunks follow).
func (c Chunk) IsFatal() bool { return c.Kind == KindError || c.Kind == KindAuth }

// ErrorMessage returns the message of an error, auth or (non-fatal) message
// chunk, such as "ValueError: ...", else "".
func (c Chunk) ErrorMessage() string {
	switch c.Kind {
	case KindError, KindAuth, KindMessage:
		return c.text
	}
	return ""
}

// Err returns a [*StreamError] for a fatal (error or auth) chunk, else nil.
func (c Chunk) Err() error {
	if !c.IsFatal() {
		return nil
	}
	e := &StreamError{Type: c.Type, Message: c.text, Chunk: c}
	var f struct {
		Error json.RawMessage `json:"error"`
		Auth  json.RawMessage `json:"auth"`
	}
	if json.Unmarshal(c.Raw, &f) == nil {
		for _, raw := range []json.RawMessage{f.Error, f.Auth} {
			var s string
			if json.Unmarshal(raw, &s) == nil && s != "" {
				e.Class = s
				break
			}
		}
	}
	return e
}

// Field returns the JSON value of a top-level field of the chunk.
func (c Chunk) Field(key string) (json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(c.Raw, &m) != nil {
		return nil, false
	}
	v, ok := m[key]
	return v, ok
}

// Decode unmarshals the chunk's JSON into v.
func (c Chunk) Decode(v any) error { return json.Unmarshal(c.Raw, v) }

// String returns the chunk's JSON.
func (c Chunk) String() string { return string(c.Raw) }

// Usage is the payload of a usage chunk.
type Usage struct {
	PromptTokens     int64
	CompletionTokens int64
	TotalTokens      int64
	// Model and Provider are the chunk's "model" and "provider" when strings.
	Model    string
	Provider string
	// Raw is the whole "usage" object (providers add more keys).
	Raw json.RawMessage
}

// Usage returns the token counts of a usage chunk; ok is false for other chunks.
func (c Chunk) Usage() (u Usage, ok bool) {
	if c.Kind != KindUsage {
		return u, false
	}
	var f struct {
		Usage    json.RawMessage `json:"usage"`
		Model    any             `json:"model"`
		Provider any             `json:"provider"`
	}
	if json.Unmarshal(c.Raw, &f) != nil {
		return u, false
	}
	var n struct {
		Prompt     *float64 `json:"prompt_tokens"`
		Completion *float64 `json:"completion_tokens"`
		Total      *float64 `json:"total_tokens"`
	}
	if json.Unmarshal(f.Usage, &n) != nil {
		return u, false
	}
	get := func(p *float64) int64 {
		if p == nil {
			return 0
		}
		return int64(*p)
	}
	u.PromptTokens, u.CompletionTokens, u.TotalTokens = get(n.Prompt), get(n.Completion), get(n.Total)
	if n.Total == nil {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	u.Model, _ = f.Model.(string)
	u.Provider, _ = f.Provider.(string)
	u.Raw = bytes.Clone(f.Usage)
	return u, true
}

// FinishReason returns the reason of a finish chunk ("stop", "length", ...), else "".
func (c Chunk) FinishReason() string {
	if c.Kind != KindFinish {
		return ""
	}
	raw, ok := c.Field("finish")
	if !ok {
		return ""
	}
	var obj struct {
		Reason string `json:"reason"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Reason != "" {
		return obj.Reason
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// StreamError is a fatal error the server sent inside the answer: an "error"
// or "auth" chunk (as openai-go's ssestream.StreamError). [Stream.All] and
// [Client.Complete] end with it; [Chunk.Err] makes it of such a chunk.
type StreamError struct {
	Type    string // "error" or "auth"
	Class   string // the server's exception class, such as "ValueError", when given
	Message string // the server's message, such as "ValueError: ..."
	Chunk   Chunk  // the chunk itself, as Recv returns it
}

func (e *StreamError) Error() string {
	if e.Message == "" {
		return "backendapi: the server sent an " + Printable(e.Type) + " chunk"
	}
	return "backendapi: server error: " + Printable(e.Message)
}
