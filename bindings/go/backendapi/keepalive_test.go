package backendapi

import (
	"context"
	"errors"
	"testing"
	"time"
)

// reuseOfTwoStreams reads two streams, one after the other, on one client and
// says whether each reused a kept connection (the test backend keeps it open when
// asked, as g4f's server does).
func reuseOfTwoStreams(t *testing.T, opts ...Option) [2]bool {
	t.Helper()
	c := client(t, opts...)
	var reused [2]bool
	for i := range reused {
		s, err := c.Stream(context.Background(), &Request{Messages: user("x"), Extra: map[string]any{"test_keep_connection": true}})
		if err != nil {
			t.Fatalf("Stream %d: %v", i, err)
		}
		if _, err := collect(t, s); err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		reused[i] = s.Stats().ReusedConnection
		s.Close()
	}
	return reused
}

// The second stream of a client reuses the first's connection (by default and as
// set); with keep-alive off neither does; a negative argument is an error.
func TestKeepAlive(t *testing.T) {
	for name, tc := range map[string]struct {
		opts []Option
		want [2]bool
	}{
		"default":               {nil, [2]bool{false, true}},
		"WithKeepAlive(2, 10s)": {[]Option{WithKeepAlive(2, 10*time.Second)}, [2]bool{false, true}},
		"WithoutKeepAlive()":    {[]Option{WithoutKeepAlive()}, [2]bool{false, false}},
		"WithKeepAlive(0, 10s)": {[]Option{WithKeepAlive(0, 10*time.Second)}, [2]bool{false, false}},
		"WithKeepAlive(2, 0)":   {[]Option{WithKeepAlive(2, 0)}, [2]bool{false, false}},
	} {
		t.Run(name, func(t *testing.T) {
			if got := reuseOfTwoStreams(t, tc.opts...); got != tc.want {
				t.Errorf("reused connection of two streams: %v, want %v", got, tc.want)
			}
		})
	}
	for name, opt := range map[string]Option{
		"WithKeepAlive(-1, 4s)":  WithKeepAlive(-1, 4*time.Second),
		"WithKeepAlive(10, -1s)": WithKeepAlive(10, -time.Second),
	} {
		if _, err := NewClient(backendURL, opt); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
	}
}
