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
	mu     sync.Mutex
	ptr    *C.backend_api_client // nil once freed
	users  int                   // calls using ptr outside mu (open, models)
	closed bool                  // Close was called: the last user frees ptr
}

// Option configures a Client in [NewClient].
type Option struct {
	apply func(*C.backend_api_client) error
}

// NewClient creates a client for the g4f server at baseURL ("http://host:port"
// or "https://..."). TLS certificates are verified against the platform's trust
// store ([TrustStorePlatform], unless [WithTrustStore] says otherwise), and
// the proxy comes from the environment as curl reads it (http_proxy, never
// HTTP_PROXY; HTTPS_PROXY/https_proxy; ALL_PROXY; NO_PROXY), unless options say
// otherwise.
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

// Close frees the client: at once, or when the calls that use it right now
// (a [Client.Models] waiting for the server, say) return. It never waits for them.
// Streams opened from it stay valid (and keep logging to its logger until they
// end). Safe to call more than once; later calls on the client return ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.freeLocked()
	}
	return nil
}

// acquire lends the native client to a call that runs outside mu; release
// returns it. The client is freed by Close or by the last release after it.
func (c *Client) acquire() (*C.backend_api_client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	c.users++
	return c.ptr, nil
}

func (c *Client) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users--
	c.freeLocked()
}

func (c *Client) freeLocked() {
	if c.closed && c.users == 0 && c.ptr != nil {
		C.backend_api_client_free(c.ptr)
		c.ptr = nil
	}
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
		return withHeader(name, value, func(n, v *C.char, e **C.backend_api_error) C.backend_api_status {
			return C.backend_api_client_add_header(p, n, v, e)
		})
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

// WithAdditionalCAFile trusts the certificates of the PEM file at path (read by
// NewClient) besides the roots already trusted: a private or corporate CA next to
// the public ones.
func WithAdditionalCAFile(path string) Option {
	return Option{apply: func(p *C.backend_api_client) error {
		cp, err := cString("CA file path", path)
		if err != nil {
			return err
		}
		defer free(cp)
		var cerr *C.backend_api_error
		return check(C.backend_api_client_add_ca_file(p, cp, &cerr), cerr)
	}}
}

// TrustStore says where the roots of trust for TLS come from; see [WithTrustStore].
type TrustStore uint32

const (
	// TrustStorePlatform is the platform's verifier and store (the default): the
	// system bundle on Linux (SSL_CERT_FILE and SSL_CERT_DIR honoured), the OS
	// verifier on macOS and Windows.
	TrustStorePlatform TrustStore = C.BACKEND_API_TRUST_STORE_PLATFORM
	// TrustStoreBundled is the Mozilla roots compiled into the library: the same
	// on every machine.
	TrustStoreBundled TrustStore = C.BACKEND_API_TRUST_STORE_BUNDLED
)

// WithTrustStore chooses the trust store (default [TrustStorePlatform]). It ends
// a [WithCAFile] given before it; [WithAdditionalCAFile] CAs stay. Any other
// value is an error of NewClient.
func WithTrustStore(store TrustStore) Option {
	return Option{apply: func(p *C.backend_api_client) error {
		var cerr *C.backend_api_error
		return check(C.backend_api_client_set_trust_store(p, C.uint32_t(store), &cerr), cerr)
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
		var cerr *C.backend_api_error
		return check(C.backend_api_client_set_timeout(p, kind, C.int64_t(millis(d)), &cerr), cerr)
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

// WithMaxAnswerBytes bounds the assembled answer of each stream (default 64
// MiB): its text as sent and its tool-call JSON. The chunk that would pass it is
// not delivered: the stream ends there with StatusLimit. No effect with
// [WithAssemble](false).
func WithMaxAnswerBytes(n int) Option {
	return Option{apply: func(p *C.backend_api_client) error {
		if n < 1 {
			return invalid("max answer bytes must be at least 1")
		}
		var cerr *C.backend_api_error
		return check(C.backend_api_client_set_max_answer(p, C.size_t(n), &cerr), cerr)
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
	ms := millis(d)
	if ms > math.MaxUint32 {
		return 0, invalid("retries: " + what + " is too long")
	}
	return C.uint32_t(ms), nil
}

// millis is d in whole milliseconds, a positive d at least 1 ms: a positive
// sub-millisecond duration must not turn into 0, which the C API reads as "off".
func millis(d time.Duration) int64 {
	ms := d.Milliseconds()
	if d > 0 && ms == 0 {
		ms = 1
	}
	return ms
}

// WithKeepAlive keeps up to maxIdle idle connections of the client open for its
// later requests (streams, model listings, media fetches), each for at most
// idle: a later request then skips the connect and the TLS handshake. The
// default is 10 connections for 4 s (g4f's server closes an idle connection
// after 5 s); raise idle for servers that keep connections longer. 0 in either
// turns reuse off (see [WithoutKeepAlive]); negative values are an error of
// NewClient. idle is rounded to milliseconds (a positive value to at least 1 ms).
// A connection is kept only after a 2xx answer read to its end, never after an
// error status, a cancel or a timeout; [Stats].ReusedConnection says whether a
// stream reused one. Each stream's timeouts and context apply to a reused
// connection as to a new one.
func WithKeepAlive(maxIdle int, idle time.Duration) Option {
	return Option{apply: func(p *C.backend_api_client) error {
		if maxIdle < 0 {
			return invalid("keep-alive: negative maxIdle")
		}
		if idle < 0 {
			return invalid("keep-alive: negative idle time")
		}
		var cerr *C.backend_api_error
		return check(C.backend_api_client_set_keep_alive(p, C.size_t(maxIdle), C.int64_t(millis(idle)), &cerr), cerr)
	}}
}

// WithoutKeepAlive turns connection reuse off: every request of the client
// opens a connection of its own and closes it at its end.
func WithoutKeepAlive() Option {
	return WithKeepAlive(0, 0)
}

// ModelsJSON fetches the model listing as the server sent it: with provider "",
// GET /backend-api/v2/models; else /backend-api/v2/models/<provider>. Under
// [ProtocolOpenAI]: GET {base}/models (an OpenAI model list), and a provider is
// an error (StatusInvalidArgument). See [Client.Models] and
// [Client.ProviderModels] for the listing as Go values.
//
// Cancelling ctx ends the call at once with ctx.Err() (the request is cancelled,
// not left running); otherwise the client's timeouts bound it (connect, response
// headers, then the idle timeout for the whole body). A nil ctx is an error
// (ErrInvalidArgument).
func (c *Client) ModelsJSON(ctx context.Context, provider string) (json.RawMessage, error) {
	if ctx == nil {
		return nil, nilContext()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var cprov *C.char
	if provider != "" {
		var err error
		if cprov, err = cString("provider", provider); err != nil {
			return nil, err
		}
		defer free(cprov)
	}
	var out *C.char
	var n C.size_t
	err := c.blocking(ctx, func(ptr *C.backend_api_client, canc *C.backend_api_canceller, cerr **C.backend_api_error) C.backend_api_status {
		return C.backend_api_models(ptr, cprov, canc, &out, &n, cerr)
	})
	if err != nil {
		return nil, err
	}
	defer C.backend_api_string_free(out)
	return json.RawMessage(goBytes(out, n)), nil
}

// blocking runs a blocking C call of the client (a listing, a media fetch) with
// a canceller that ctx's end cancels: the call then returns at once and blocking
// returns ctx.Err(); otherwise the call's own error, or nil.
func (c *Client) blocking(ctx context.Context, call func(*C.backend_api_client, *C.backend_api_canceller, **C.backend_api_error) C.backend_api_status) error {
	if ctx == nil {
		return nilContext()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ptr, err := c.acquire()
	if err != nil {
		return err
	}
	defer c.release()
	p := C.backend_api_canceller_new()
	if p == nil {
		return &Error{Status: StatusInternal, Message: "backend_api_canceller_new failed"}
	}
	canc := newCanceller(p)
	defer canc.release()
	stop := canc.watch(ctx)
	var cerr *C.backend_api_error
	st := call(ptr, canc.p, &cerr)
	stop()
	if st == C.BACKEND_API_STATUS_OK {
		return nil
	}
	err = takeError(st, cerr)
	if st == C.BACKEND_API_STATUS_CANCELLED && ctx.Err() != nil {
		err = ctx.Err()
	}
	return err
}
