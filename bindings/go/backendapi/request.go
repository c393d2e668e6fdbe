package backendapi

/*
#include <stdlib.h>
#include <backend_api.h>
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// Request is one conversation request: a plain Go value, turned into the
// library's request when it is passed to [Client.Stream] (which copies it: change
// or reuse it freely afterwards).
type Request struct {
	// Model is the model name ("" lets the server choose).
	Model string
	// Messages is the conversation so far.
	Messages []Message
	// Media are images or audio sent with the request.
	Media []Media
	// APIKey is the provider's api key; "" sends none (then the server may use
	// an Authorization header of the client). It never appears in errors, logs,
	// or prints of the request (see [Secret]).
	APIKey Secret
	// APIKeyPlacement says where the key goes; the zero value means KeyInBody.
	APIKeyPlacement KeyPlacement
	// Extra holds further body fields (the Python client's **kwargs: "provider",
	// "conversation", "web_search", ...). Each value is encoded with
	// encoding/json; a json.RawMessage value is sent as it is. "model",
	// "messages", "media" and "api_key" are refused: they have their own fields.
	Extra map[string]any
	// ExtraJSON is a JSON object whose fields are added like Extra's (Extra wins
	// when both name a field).
	ExtraJSON json.RawMessage
	// Headers are sent with this request only, after the client's (see
	// [WithHeader]): a tracing id, the x-secret of a demo deployment.
	Headers Headers
	// MaxMediaBytes bounds each item of Media (0: the library's default, 20
	// MiB): a larger one fails with StatusLimit, a larger file before it is read.
	MaxMediaBytes int
	// Timeout bounds this request's whole exchange, from [Client.Stream] to the
	// last chunk, on top of the client's timeouts and ctx (0: none), as openai-go's
	// WithRequestTimeout: when it passes, the stream is cancelled and Recv and
	// [Client.Complete] return an [*Error] with StatusTimedOut (errors.Is(err,
	// ErrTimedOut)).
	Timeout time.Duration

	// err is why the follow-up that made this request failed (see
	// [Request.FollowUp]): Client.Stream returns it.
	err error
}

// Format prints the request as fmt prints a *Request, with the api key and the
// values of secret headers redacted. Without it, fmt would print a *Request held
// in a slice or map with a verb it has no use for (%s, %q) field by field,
// bypassing the redaction of [Secret] and [Headers].
func (r *Request) Format(f fmt.State, verb rune) {
	if r == nil {
		_, _ = io.WriteString(f, "<nil>")
		return
	}
	type Request requestFields // the same fields, without this method
	fmt.Fprintf(f, fmt.FormatString(f, verb), (*Request)(r))
}

type requestFields = Request

// redacted is what a secret prints as.
const redacted = "[redacted]"

// Secret is a string that never prints: fmt's verbs (%v, %+v, %#v, %s, %q, %x,
// ...), String, GoString, encoding/json and log/slog all show "[redacted]".
// Convert it to a string to read it: string(key). It reads from JSON as a plain
// string.
type Secret string

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "[redacted]" in quotes, as %#v prints a string.
func (Secret) GoString() string { return strconv.Quote(redacted) }

// Format writes "[redacted]" whatever the verb (in quotes for %q and %#v).
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' || verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, s.GoString())
		return
	}
	_, _ = io.WriteString(f, redacted)
}

// MarshalJSON returns "[redacted]" as a JSON string.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// LogValue returns "[redacted]" for log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// Headers are HTTP headers, name to value. Printed (fmt's verbs, encoding/json,
// log/slog), the values of secret headers show as "[redacted]": Authorization,
// Proxy-Authorization, Cookie, X-Api-Key, Api-Key and names holding "secret" or
// "token", as the library hides them from its logs.
type Headers map[string]string

// Format prints the headers with secret values redacted, as a map[string]string.
func (h Headers) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), h.redacted())
}

// GoString returns the headers as %#v prints them, secret values redacted.
func (h Headers) GoString() string { return fmt.Sprintf("%#v", h.redacted()) }

// String returns the headers as %v prints them, secret values redacted.
func (h Headers) String() string { return fmt.Sprint(h.redacted()) }

// MarshalJSON encodes the headers with secret values redacted.
func (h Headers) MarshalJSON() ([]byte, error) { return json.Marshal(h.redacted()) }

// LogValue gives log/slog the headers with secret values redacted.
func (h Headers) LogValue() slog.Value { return slog.AnyValue(h.redacted()) }

func (h Headers) redacted() map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		if isSecretHeader(k) {
			v = redacted
		}
		out[k] = v
	}
	return out
}

// isSecretHeader is the library's rule (src/secret.rs) for header values that
// are credentials.
func isSecretHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "x-api-key", "api-key":
		return true
	}
	return strings.Contains(n, "secret") || strings.Contains(n, "token")
}

// Message is one message of the conversation.
type Message struct {
	// Role is "system", "user", "assistant", ...
	Role string `json:"role"`
	// Content is a string, a json.RawMessage, or any value encoding/json turns
	// into the JSON content (a list of parts, say).
	Content any `json:"content"`
	// ToolCalls are the tool calls of an assistant message (see
	// [Request.FollowUpToolResults]).
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID is the call a "tool" message answers.
	ToolCallID string `json:"tool_call_id,omitempty"`
}

// KeyPlacement says where [Request.APIKey] is sent.
type KeyPlacement uint32

const (
	// KeyInBody sends the key as the body's "api_key" (like the Python client).
	KeyInBody KeyPlacement = C.BACKEND_API_KEY_BODY
	// KeyAsBearer sends the key as "Authorization: Bearer <key>".
	KeyAsBearer KeyPlacement = C.BACKEND_API_KEY_BEARER
	// KeyInBodyAndBearer does both.
	KeyInBodyAndBearer KeyPlacement = C.BACKEND_API_KEY_BODY | C.BACKEND_API_KEY_BEARER
)

// Media is one image or audio attachment. Make it with [MediaBytes],
// [MediaFile] or [MediaURI].
type Media struct {
	// Exactly one of Data, Path and URI is used, in that order.
	Data []byte // raw bytes, base64-encoded into a data: URI
	Path string // a file, read when the request is sent
	URI  string // a data: URI or an http(s):// URL, sent as it is
	// Filename is sent along; for Data, its extension gives the MIME type of
	// audio (images are recognised from their bytes). May be "".
	Filename string
}

// MediaBytes attaches raw bytes (jpeg, png, gif, webp, or audio named by filename).
func MediaBytes(data []byte, filename string) Media { return Media{Data: data, Filename: filename} }

// MediaFile attaches the file at path, read when the request is sent; its base
// name is sent as the file name.
func MediaFile(path string) Media { return Media{Path: path} }

// MediaURI attaches a data: URI or an http(s):// URL, sent as it is.
func MediaURI(uri, filename string) Media { return Media{URI: uri, Filename: filename} }

// toC builds the library's request. The caller frees it with backend_api_request_free.
func (r *Request) toC() (req *C.backend_api_request, err error) {
	if r.err != nil {
		return nil, r.err
	}
	req = C.backend_api_request_new()
	if req == nil {
		return nil, &Error{Status: StatusInternal, Message: "backend_api_request_new failed"}
	}
	defer func() {
		if err != nil {
			C.backend_api_request_free(req)
			req = nil
		}
	}()
	var cerr *C.backend_api_error

	if r.Model != "" {
		cm, err := cString("model", r.Model)
		if err != nil {
			return nil, err
		}
		st := C.backend_api_request_set_model(req, cm, &cerr)
		free(cm)
		if err := check(st, cerr); err != nil {
			return nil, err
		}
	}

	if len(r.Messages) > 0 {
		js, err := json.Marshal(r.Messages)
		if err != nil {
			return nil, invalid("messages: " + err.Error())
		}
		if err := setJSON(req, "", string(js), func(k, v *C.char, e **C.backend_api_error) C.backend_api_status {
			return C.backend_api_request_set_messages_json(req, v, e)
		}); err != nil {
			return nil, err
		}
	}

	if r.MaxMediaBytes < 0 {
		return nil, invalid("MaxMediaBytes must not be negative")
	}
	if r.MaxMediaBytes > 0 {
		if err := check(C.backend_api_request_set_max_media(req, C.size_t(r.MaxMediaBytes), &cerr), cerr); err != nil {
			return nil, err
		}
	}

	for i, m := range r.Media {
		if err := addMedia(req, m); err != nil {
			if e, ok := err.(*Error); ok {
				e.Message = fmt.Sprintf("media %d: %s", i, e.Message)
			}
			return nil, err
		}
	}

	if r.APIKey != "" {
		place := r.APIKeyPlacement
		if place == 0 {
			place = KeyInBody
		}
		ck, err := cString("api key", string(r.APIKey))
		if err != nil {
			return nil, err
		}
		st := C.backend_api_request_set_api_key(req, ck, C.uint32_t(place), &cerr)
		free(ck)
		if err := check(st, cerr); err != nil {
			return nil, err
		}
	}

	names := make([]string, 0, len(r.Headers))
	for name := range r.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := addHeader(req, name, r.Headers[name]); err != nil {
			return nil, err
		}
	}

	fields, err := r.fields()
	if err != nil {
		return nil, err
	}
	if err := setFields(req, fields); err != nil {
		return nil, err
	}
	return req, nil
}

// fields are the extra body fields of r, each as JSON: ExtraJSON's, then
// Extra's (which win). A field that has its own Request field is refused.
func (r *Request) fields() (map[string]json.RawMessage, error) {
	fields := map[string]json.RawMessage{}
	if len(r.ExtraJSON) > 0 {
		if err := json.Unmarshal(r.ExtraJSON, &fields); err != nil || fields == nil {
			return nil, invalid("ExtraJSON must be a JSON object")
		}
	}
	for k, v := range r.Extra {
		if f, ok := ownFields[k]; ok {
			return nil, invalid(fmt.Sprintf("extra field %q: set Request.%s instead", k, f))
		}
		js, err := json.Marshal(v)
		if err != nil {
			return nil, invalid(fmt.Sprintf("extra field %q: %v", k, err))
		}
		fields[k] = js
	}
	for k := range fields {
		if f, ok := ownFields[k]; ok {
			return nil, invalid(fmt.Sprintf("ExtraJSON field %q: set Request.%s instead", k, f))
		}
	}
	return fields, nil
}

// setFields sets each field on req, in the order of their names.
func setFields(req *C.backend_api_request, fields map[string]json.RawMessage) error {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := setJSON(req, k, string(fields[k]), func(k, v *C.char, e **C.backend_api_error) C.backend_api_status {
			return C.backend_api_request_set_field_json(req, k, v, e)
		}); err != nil {
			return err
		}
	}
	return nil
}

// ownFields are the body fields that have their own Request field.
var ownFields = map[string]string{"model": "Model", "messages": "Messages", "media": "Media", "api_key": "APIKey"}

// setJSON calls a setter with a key (skipped when "") and a JSON text as C strings.
func setJSON(req *C.backend_api_request, key, value string, set func(k, v *C.char, e **C.backend_api_error) C.backend_api_status) error {
	var ck *C.char
	if key != "" {
		var err error
		if ck, err = cString("field name", key); err != nil {
			return err
		}
		defer free(ck)
	}
	cv, err := cString("JSON value", value) // encoding/json escapes NUL, so this never fails
	if err != nil {
		return err
	}
	defer free(cv)
	var cerr *C.backend_api_error
	return check(set(ck, cv, &cerr), cerr)
}

func addHeader(req *C.backend_api_request, name, value string) error {
	return withHeader(name, value, func(n, v *C.char, e **C.backend_api_error) C.backend_api_status {
		return C.backend_api_request_add_header(req, n, v, e)
	})
}

// withHeader calls add with name and value as C strings.
func withHeader(name, value string, add func(n, v *C.char, e **C.backend_api_error) C.backend_api_status) error {
	cn, err := cString("header name", name)
	if err != nil {
		return err
	}
	defer free(cn)
	cv, err := cString("header value", value)
	if err != nil {
		return err
	}
	defer free(cv)
	var cerr *C.backend_api_error
	return check(add(cn, cv, &cerr), cerr)
}

func addMedia(req *C.backend_api_request, m Media) error {
	var cname *C.char
	if m.Filename != "" {
		var err error
		if cname, err = cString("file name", m.Filename); err != nil {
			return err
		}
		defer free(cname)
	}
	var cerr *C.backend_api_error
	var st C.backend_api_status
	switch {
	case m.Data != nil:
		var p *C.uint8_t
		if len(m.Data) > 0 {
			// The library copies the bytes during the call; the Go memory holds
			// no Go pointers, so it may be passed directly.
			p = (*C.uint8_t)(unsafe.Pointer(&m.Data[0]))
		}
		st = C.backend_api_request_add_media_bytes(req, p, C.size_t(len(m.Data)), cname, &cerr)
		runtime.KeepAlive(m.Data)
	case m.Path != "":
		cp, err := cString("media path", m.Path)
		if err != nil {
			return err
		}
		defer free(cp)
		st = C.backend_api_request_add_media_file(req, cp, &cerr)
	case m.URI != "":
		cu, err := cString("media URI", m.URI)
		if err != nil {
			return err
		}
		defer free(cu)
		st = C.backend_api_request_add_media_uri(req, cu, cname, &cerr)
	default:
		return &Error{Status: StatusMedia, Message: "empty media: set Data, Path or URI"}
	}
	return check(st, cerr)
}
