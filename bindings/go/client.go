package backendapi

/*
#include <stdlib.h>
#include <backend_api.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"math"
	"runtime"
	"sync"
	"time"
)

// Client holds the settings for one g4f server: base URL, headers, TLS, proxy,
// timeouts and limits. It is safe for concurrent use; open as many streams from
// it as you like. Close it when done (streams opened from it stay valid).
type Client struct {
	mu  sync.RWMutex // Close takes it for writing; calls that use ptr, for reading
	ptr *C.backend_api_client
	log *logSink // the logger of WithLogger/WithSlog, or nil; see log.go
}

// Option configures a Client in [NewClient].
type Option struct {
	apply func(*C.backend_api_client) error
	// setup, when set, is used instead of apply: options that give the client
	// Go state of its own (the logger) need the Client.
	setup func(*Client) error
}

// NewClient creates a client for the g4f server at baseURL ("http://host:port"
// or "https://..."). TLS certificates are verified against the bundled Mozilla
// roots, and the proxy comes from ALL_PROXY/HTTPS_PROXY/HTTP_PROXY/NO_PROXY,
// unless options say otherwise.
func NewClient(baseURL string, opts ...Option) (*Client, error) {
	curl, err := cString("base URL", baseURL)
	if err != nil {
		return nil, err
	}
	defer free(curl)
	var ptr *C.backend_api_client
	var cerr *C.backend_api_error
	if st := C.backend_api_client_new(curl, &ptr, &cerr); st != C.BACKEND_API_STATUS_OK {
		return nil, takeError(st, cerr)
	}
	c := &Client{ptr: ptr}
	for _, o := range opts {
		var err error
		switch {
		case o.setup != nil:
			err = o.setup(c)
		case o.apply != nil:
			err = o.apply(ptr)
		}
		if err != nil {
			c.Close()
			return nil, err
		}
	}
	runtime.SetFinalizer(c, (*Client).Close)
	return c, nil
}

// Close frees the client. Streams opened from it stay valid (and keep logging
// to its logger until they are closed). Safe to call more than once; later calls
// on the client return ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr != nil {
		C.backend_api_client_free(c.ptr)
		c.ptr = nil
		c.log.release() // the client's reference; streams hold their own
		c.log = nil
	}
	return nil
}

func check(st C.backend_api_status, cerr *C.backend_api_error) error {
	if st == C.BACKEND_API_STATUS_OK {
		return nil
	}
	return takeError(st, cerr)
}

// WithHeader adds a header sent with every request. Values of secret headers
// (Authorization, Cookie, *token*, ...) never reach logs or error messages.
func WithHeader(name, value string) Option {
	return Option{apply: func(p *C.backend_api_client) error {
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
		return check(C.backend_api_client_add_header(p, cn, cv, &cerr), cerr)
	}}
}

// WithInsecureSkipVerify turns TLS certificate verification off (the Python
// client's ssl=False). Insecure: for test servers only.
func WithInsecureSkipVerify() Option {
	return Option{apply: func(p *C.backend_api_client) error {
		var cerr *C.backend_api_error
		return check(C.backend_api_client_set_verify_tls(p, false, &cerr), cerr)
	}}
}

// WithCAFile trusts only the certificates of the PEM file at path (read by NewClient).
func WithCAFile(path string) Option {
	return Option{apply: func(p *C.backend_api_client) error {
		cp, err := cString("CA file path", path)
		if err != nil {
			return err
		}
		defer free(cp)
		var cerr *C.backend_api_error
		return check(C.backend_api_client_set_ca_file(p, cp, &cerr), cerr)
	}}
}

// WithProxy routes requests through a proxy: an http://, socks4://, socks5:// or
// socks5h:// URL, with optional user:password@.
func WithProxy(url string) Option {
	return Option{apply: func(p *C.backend_api_client) error {
		cu, err := cString("proxy URL", url)
		if err != nil {
			return err
		}
		defer free(cu)
		var cerr *C.backend_api_error
		return check(C.backend_api_client_set_proxy(p, cu, &cerr), cerr)
	}}
}

// WithNoProxy connects directly, ignoring the proxy environment variables.
func WithNoProxy() Option {
	return Option{apply: func(p *C.backend_api_client) error {
		var cerr *C.backend_api_error
		return check(C.backend_api_client_set_proxy(p, nil, &cerr), cerr)
	}}
}

func timeoutOption(kind C.uint32_t, d time.Duration) Option {
	return Option{apply: func(p *C.backend_api_client) error {
		ms := d.Milliseconds()
		if d > 0 && ms == 0 {
			ms = 1 // a positive sub-millisecond timeout must not turn into "off"
		}
		var cerr *C.backend_api_error
		return check(C.backend_api_client_set_timeout(p, kind, C.int64_t(ms), &cerr), cerr)
	}}
}

// WithConnectTimeout bounds name resolution, TCP connect, proxy and TLS
// handshakes (default 30 s). 0 turns it off; negative is an error.
func WithConnectTimeout(d time.Duration) Option {
	return timeoutOption(C.BACKEND_API_TIMEOUT_CONNECT, d)
}

// WithResponseHeaderTimeout bounds the wait from the request being sent to the
// response headers (default 120 s). 0 turns it off.
func WithResponseHeaderTimeout(d time.Duration) Option {
	return timeoutOption(C.BACKEND_API_TIMEOUT_HEADERS, d)
}

// WithIdleTimeout bounds the gap between two chunks (default 300 s); keep-alive
// comments do not count. 0 turns it off.
func WithIdleTimeout(d time.Duration) Option {
	return timeoutOption(C.BACKEND_API_TIMEOUT_IDLE, d)
}

// WithTotalTimeout bounds the whole exchange (off by default: long answers are
// healthy; prefer a context deadline per request). 0 turns it off.
func WithTotalTimeout(d time.Duration) Option {
	return timeoutOption(C.BACKEND_API_TIMEOUT_TOTAL, d)
}

// Protocol is the wire protocol a [Client] speaks; see [WithProtocol].
type Protocol uint32

const (
	// ProtocolBackend is g4f's backend API (the default), at a base URL such as
	// http://host:8080.
	ProtocolBackend Protocol = C.BACKEND_API_PROTOCOL_BACKEND
	// ProtocolOpenAI is the OpenAI-compatible API of `g4f api` and its peers, at a
	// base URL such as http://host:1337/v1: chat at {base}/chat/completions, models
	// at {base}/models.
	ProtocolOpenAI Protocol = C.BACKEND_API_PROTOCOL_OPENAI
)

// WithProtocol chooses the wire protocol (default [ProtocolBackend]). Requests,
// streams, chunks and answers work the same for both; under [ProtocolOpenAI],
// [Client.Models] with a provider fails with StatusInvalidArgument. Any other
// value is an error of NewClient.
func WithProtocol(p Protocol) Option {
	return Option{apply: func(c *C.backend_api_client) error {
		var cerr *C.backend_api_error
		return check(C.backend_api_client_set_protocol(c, C.uint32_t(p), &cerr), cerr)
	}}
}

// WithMaxLineBytes bounds one line or event of the response (default 16 MiB);
// a longer one ends the stream with StatusLimit.
func WithMaxLineBytes(n int) Option {
	return Option{apply: func(p *C.backend_api_client) error {
		if n < 1 {
			return invalid("max line bytes must be at least 1")
		}
		var cerr *C.backend_api_error
		return check(C.backend_api_client_set_max_line(p, C.size_t(n), &cerr), cerr)
	}}
}

// WithSkipMalformed, with skip true, drops response lines that are not JSON
// objects instead of ending the stream with StatusProtocol (the default).
func WithSkipMalformed(skip bool) Option {
	return Option{apply: func(p *C.backend_api_client) error {
		var cerr *C.backend_api_error
		return check(C.backend_api_client_set_skip_malformed(p, C.bool(skip), &cerr), cerr)
	}}
}

// WithAssemble, with assemble false, keeps no assembled answer for the client's
// streams: [Stream.Answer] then reports an empty one. For very long streams whose
// text the caller keeps itself. On by default.
func WithAssemble(assemble bool) Option {
	return Option{apply: func(p *C.backend_api_client) error {
		var cerr *C.backend_api_error
		return check(C.backend_api_client_set_assemble(p, C.bool(assemble), &cerr), cerr)
	}}
}

// WithRetries retries a request that failed before any answer began: a
// connection that could not be made, or HTTP 429, 502, 503 or 504 (never 500,
// and never once the answer has begun, so no chunk is ever delivered twice). Up
// to maxRetries times (0, the default, turns retries off), waiting base doubled
// at each retry with jitter, or the server's Retry-After, but never longer than
// maxDelay. With maxRetries > 0, base must be positive and maxDelay at least
// base; both are rounded to milliseconds (a positive value to at least 1 ms).
// Each retry is logged (warn) and counted in [Stats].Retries.
// Cancelling the stream's context also ends a wait between two attempts.
func WithRetries(maxRetries int, base, maxDelay time.Duration) Option {
	return Option{apply: func(p *C.backend_api_client) error {
		if maxRetries < 0 || uint64(maxRetries) > math.MaxUint32 {
			return invalid("retries: maxRetries must be between 0 and 2^32-1")
		}
		bms, err := retryMillis("base", base)
		if err != nil {
			return err
		}
		cms, err := retryMillis("maxDelay", maxDelay)
		if err != nil {
			return err
		}
		var cerr *C.backend_api_error
		return check(C.backend_api_client_set_retries(p, C.uint32_t(maxRetries), bms, cms, &cerr), cerr)
	}}
}

func retryMillis(what string, d time.Duration) (C.uint32_t, error) {
	if d < 0 {
		return 0, invalid("retries: negative " + what)
	}
	ms := d.Milliseconds()
	if d > 0 && ms == 0 {
		ms = 1
	}
	if ms > math.MaxUint32 {
		return 0, invalid("retries: " + what + " is too long")
	}
	return C.uint32_t(ms), nil
}

// Models fetches the model listing: with provider "", GET /backend-api/v2/models
// (an object mapping provider names to model names); else
// /backend-api/v2/models/<provider> (a list of model objects). Under
// [ProtocolOpenAI]: GET {base}/models (an OpenAI model list), and a provider is
// an error (StatusInvalidArgument). When ctx ends
// first, Models returns ctx.Err() at once and the request finishes in the
// background (bounded by the client's timeouts).
func (c *Client) Models(ctx context.Context, provider string) (json.RawMessage, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ctx.Done() == nil {
		return c.models(provider)
	}
	type result struct {
		json json.RawMessage
		err  error
	}
	done := make(chan result, 1)
	go func() {
		j, err := c.models(provider)
		done <- result{j, err}
	}()
	select {
	case r := <-done:
		return r.json, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *Client) models(provider string) (json.RawMessage, error) {
	var cprov *C.char
	if provider != "" {
		var err error
		if cprov, err = cString("provider", provider); err != nil {
			return nil, err
		}
		defer free(cprov)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return nil, ErrClosed
	}
	var out *C.char
	var n C.size_t
	var cerr *C.backend_api_error
	st := C.backend_api_models(c.ptr, cprov, &out, &n, &cerr)
	runtime.KeepAlive(c)
	if st != C.BACKEND_API_STATUS_OK {
		return nil, takeError(st, cerr)
	}
	defer C.backend_api_string_free(out)
	return json.RawMessage(goBytes(out, n)), nil
}
