package backendapi

/*
#include <stdlib.h>
#include <backend_api.h>
*/
import "C"

import (
	"context"
	"encoding/json"
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
}

// Option configures a Client in [NewClient].
type Option struct {
	apply func(*C.backend_api_client) error
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
	for _, o := range opts {
		if o.apply == nil {
			continue
		}
		if err := o.apply(ptr); err != nil {
			C.backend_api_client_free(ptr)
			return nil, err
		}
	}
	c := &Client{ptr: ptr}
	runtime.SetFinalizer(c, (*Client).Close)
	return c, nil
}

// Close frees the client. Streams opened from it stay valid. Safe to call more
// than once; later calls on the client return ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr != nil {
		C.backend_api_client_free(c.ptr)
		c.ptr = nil
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
	return Option{func(p *C.backend_api_client) error {
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
	return Option{func(p *C.backend_api_client) error {
		var cerr *C.backend_api_error
		return check(C.backend_api_client_set_verify_tls(p, false, &cerr), cerr)
	}}
}

// WithCAFile trusts only the certificates of the PEM file at path (read by NewClient).
func WithCAFile(path string) Option {
	return Option{func(p *C.backend_api_client) error {
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
	return Option{func(p *C.backend_api_client) error {
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
	return Option{func(p *C.backend_api_client) error {
		var cerr *C.backend_api_error
		return check(C.backend_api_client_set_proxy(p, nil, &cerr), cerr)
	}}
}

func timeoutOption(kind C.uint32_t, d time.Duration) Option {
	return Option{func(p *C.backend_api_client) error {
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

// WithMaxLineBytes bounds one line or event of the response (default 16 MiB);
// a longer one ends the stream with StatusLimit.
func WithMaxLineBytes(n int) Option {
	return Option{func(p *C.backend_api_client) error {
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
	return Option{func(p *C.backend_api_client) error {
		var cerr *C.backend_api_error
		return check(C.backend_api_client_set_skip_malformed(p, C.bool(skip), &cerr), cerr)
	}}
}

// Models fetches the model listing: with provider "", GET /backend-api/v2/models
// (an object mapping provider names to model names); else
// /backend-api/v2/models/<provider> (a list of model objects). When ctx ends
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
