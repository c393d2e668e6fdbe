package backendapi

/*
#include <stdlib.h>
#include <backend_api.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"unsafe"
)

// FetchedMedia is a generated medium downloaded by [Client.FetchMedia].
type FetchedMedia struct {
	Data        []byte
	ContentType string // the MIME type the server named ("" when none)
}

// FetchMedia downloads a medium an answer generated ([GeneratedMedium].URL; a
// data: URI is decoded without a request) with the client's TLS settings, proxy
// and timeouts. The client's headers, and req's headers and bearer key (req may
// be nil), go to the base URL's origin only: a medium on another host is fetched
// without them. At most maxBytes (0: the media limit, 20 MiB), else an [*Error]
// matching ErrLimit. Cancelling ctx ends it at once with ctx.Err().
func (c *Client) FetchMedia(ctx context.Context, url string, req *Request, maxBytes int) (FetchedMedia, error) {
	var out FetchedMedia
	err := c.withMedia(ctx, url, req, maxBytes, func(ptr *C.backend_api_client, creq *C.backend_api_request, curl *C.char, canc *C.backend_api_canceller, max C.size_t, ctype **C.char, cerr **C.backend_api_error) C.backend_api_status {
		var data *C.uint8_t
		var n C.size_t
		st := C.backend_api_media_fetch(ptr, creq, curl, canc, max, &data, &n, ctype, cerr)
		if st == C.BACKEND_API_STATUS_OK && data != nil {
			out.Data = C.GoBytes(unsafe.Pointer(data), C.int(n))
			C.backend_api_bytes_free(data, n)
		}
		return st
	}, &out.ContentType)
	return out, err
}

// SaveMedia is [Client.FetchMedia] into the file at path, written whole or not
// at all (through path+".part", renamed once complete: a failed or cancelled
// download leaves no partial file and replaces none). It returns the bytes
// written and the MIME type the server named.
func (c *Client) SaveMedia(ctx context.Context, url, path string, req *Request, maxBytes int) (int64, string, error) {
	cpath, err := cString("path", path)
	if err != nil {
		return 0, "", err
	}
	defer free(cpath)
	var written C.uint64_t
	var ctype string
	err = c.withMedia(ctx, url, req, maxBytes, func(ptr *C.backend_api_client, creq *C.backend_api_request, curl *C.char, canc *C.backend_api_canceller, max C.size_t, ct **C.char, cerr **C.backend_api_error) C.backend_api_status {
		return C.backend_api_media_save(ptr, creq, curl, cpath, canc, max, &written, ct, cerr)
	}, &ctype)
	return int64(written), ctype, err
}

type mediaCall func(*C.backend_api_client, *C.backend_api_request, *C.char, *C.backend_api_canceller, C.size_t, **C.char, **C.backend_api_error) C.backend_api_status

// withMedia prepares what a media fetch takes (the URL and the request in C),
// runs it as a cancellable blocking call, and reads the content type it names.
func (c *Client) withMedia(ctx context.Context, url string, req *Request, maxBytes int, call mediaCall, contentType *string) error {
	if maxBytes < 0 {
		return invalid("maxBytes must not be negative")
	}
	curl, err := cString("media URL", url)
	if err != nil {
		return err
	}
	defer free(curl)
	var creq *C.backend_api_request
	if req != nil {
		if creq, err = req.toC(); err != nil {
			return err
		}
		defer C.backend_api_request_free(creq)
	}
	var ctype *C.char
	err = c.blocking(ctx, func(ptr *C.backend_api_client, canc *C.backend_api_canceller, cerr **C.backend_api_error) C.backend_api_status {
		return call(ptr, creq, curl, canc, C.size_t(maxBytes), &ctype, cerr)
	})
	if ctype != nil {
		*contentType = C.GoString(ctype)
		C.backend_api_string_free(ctype)
	}
	return err
}

// Provider is one provider of the server's listing ([Client.Providers]).
type Provider struct {
	// Name is the provider's name (the backend API's "name", an OpenAI-compatible
	// listing's "id"): the request's "provider" field.
	Name  string
	Label string
	// Raw is the provider's whole object (auth, login_url, vision, url, ...).
	Raw json.RawMessage
}

// Providers lists the server's providers: GET /backend-api/v2/providers, or
// {base}/providers under [ProtocolOpenAI] (servers without it answer an HTTP 404
// error). Cancelling ctx ends it at once with ctx.Err().
func (c *Client) Providers(ctx context.Context) ([]Provider, error) {
	var out *C.char
	var n C.size_t
	err := c.blocking(ctx, func(ptr *C.backend_api_client, canc *C.backend_api_canceller, cerr **C.backend_api_error) C.backend_api_status {
		return C.backend_api_providers(ptr, canc, &out, &n, cerr)
	})
	if err != nil {
		return nil, err
	}
	defer C.backend_api_string_free(out)
	var raw []json.RawMessage
	if err := json.Unmarshal(goBytes(out, n), &raw); err != nil {
		return nil, &Error{Status: StatusProtocol, Message: "unexpected provider listing: " + err.Error()}
	}
	providers := make([]Provider, 0, len(raw))
	for _, r := range raw {
		var f struct {
			Name  string `json:"name"`
			ID    string `json:"id"`
			Label string `json:"label"`
		}
		_ = json.Unmarshal(r, &f) // a field of another type stays ""
		if f.Name == "" {
			f.Name = f.ID
		}
		providers = append(providers, Provider{Name: f.Name, Label: f.Label, Raw: r})
	}
	return providers, nil
}

// Capability is a model capability, a bit of [ModelInfo]'s sets.
type Capability uint32

const (
	CapabilityVision Capability = C.BACKEND_API_CAPABILITY_VISION // image input
	CapabilityImage  Capability = C.BACKEND_API_CAPABILITY_IMAGE  // image generation
	CapabilityAudio  Capability = C.BACKEND_API_CAPABILITY_AUDIO  // audio input or output
	CapabilityVideo  Capability = C.BACKEND_API_CAPABILITY_VIDEO  // video input or generation
	CapabilityTools  Capability = C.BACKEND_API_CAPABILITY_TOOLS  // tool (function) calls
)

// ModelInfo is a model with the capabilities its listing states ([Client.ModelInfos]).
type ModelInfo struct {
	ID       string
	Provider string     // "" when the listing names none
	Has      Capability // the capabilities the listing says it has
	Known    Capability // the capabilities the listing says anything about
}

// Supports reports whether the model has c, and whether the listing says so at
// all (known false: the server did not state it).
func (m ModelInfo) Supports(c Capability) (has, known bool) {
	return m.Has&c != 0, m.Known&c != 0
}

// ModelInfos lists the models with the capabilities the server states (g4f's
// per-provider flags, g4f api's /v1/models, and the capabilities, architecture
// and supported_parameters other OpenAI-compatible servers send); provider as
// for [Client.ModelsJSON]. Cancelling ctx ends it at once with ctx.Err().
func (c *Client) ModelInfos(ctx context.Context, provider string) ([]ModelInfo, error) {
	var cprov *C.char
	if provider != "" {
		var err error
		if cprov, err = cString("provider", provider); err != nil {
			return nil, err
		}
		defer free(cprov)
	}
	var list *C.backend_api_model_list
	err := c.blocking(ctx, func(ptr *C.backend_api_client, canc *C.backend_api_canceller, cerr **C.backend_api_error) C.backend_api_status {
		return C.backend_api_model_list_fetch(ptr, cprov, canc, &list, cerr)
	})
	if err != nil {
		return nil, err
	}
	defer C.backend_api_model_list_free(list)
	out := make([]ModelInfo, C.backend_api_model_list_count(list))
	for i := range out {
		var id, prov *C.char
		var has, known C.uint32_t
		if C.backend_api_model_list_get(list, C.size_t(i), &id, &prov, &has, &known) != C.BACKEND_API_STATUS_OK {
			return out[:i], nil
		}
		out[i] = ModelInfo{ID: C.GoString(id), Has: Capability(has), Known: Capability(known)}
		if prov != nil {
			out[i].Provider = C.GoString(prov)
		}
	}
	return out, nil
}

// Header returns the value of the response header name (any case, such as
// "X-Request-Id"); ok is false when the response has none, before the headers
// arrived (they are there once Recv returned a chunk or the end), and after Close.
func (s *Stream) Header(name string) (value string, ok bool) {
	cname, err := cString("header name", name)
	if err != nil {
		return "", false
	}
	defer free(cname)
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	defer runtime.KeepAlive(s)
	if st.ptr == nil {
		return "", false
	}
	var v *C.char
	var n C.size_t
	if C.backend_api_stream_header(st.ptr, cname, &v, &n) != C.BACKEND_API_STATUS_OK {
		return "", false
	}
	return string(goBytes(v, n)), true
}

// ResponseHeaders returns the response's headers (empty before they arrived, and
// after Close).
func (s *Stream) ResponseHeaders() http.Header {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	defer runtime.KeepAlive(s)
	h := http.Header{}
	if st.ptr == nil {
		return h
	}
	for i := C.size_t(0); ; i++ {
		var name, value *C.char
		if C.backend_api_stream_header_at(st.ptr, i, &name, &value) != C.BACKEND_API_STATUS_OK {
			return h
		}
		h.Add(C.GoString(name), C.GoString(value))
	}
}
