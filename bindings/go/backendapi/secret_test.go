package backendapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// Every public value that holds the api key or a secret header value, printed
// every way Go prints values: none shows it.
func TestSecretsDoNotPrint(t *testing.T) {
	const key = "sk-PRINTED-4711"
	const header = "hdr-PRINTED-0815"
	req := &Request{
		Model:    "m",
		Messages: user("hi"),
		APIKey:   key,
		Headers:  Headers{"Authorization": "Bearer " + header, "X-Auth-Token": header, "X-Trace": "visible"},
	}
	c := client(t, WithHeader("Cookie", header), WithProxy("http://user:"+header+"@127.0.0.1:1"), WithNoProxy())
	s, err := c.Stream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	values := map[string]any{
		"Secret":           req.APIKey,
		"*Request":         req,
		"Request":          *req,
		"Headers":          req.Headers,
		"follow-up":        req.FollowUp(Answer{Content: "a"}, "b"),
		"[]*Request":       []*Request{req},
		"map of Request":   map[string]Request{"r": *req},
		"WithHeader":       WithHeader("Authorization", header),
		"WithProxy":        WithProxy("http://user:" + header + "@127.0.0.1:1"),
		"*Client":          c,
		"*Stream":          s,
		"struct of fields": struct{ K Secret }{req.APIKey},
	}
	for name, v := range values {
		var outs []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
			outs = append(outs, fmt.Sprintf(verb, v))
		}
		outs = append(outs, fmt.Sprint(v), fmt.Sprintln(v))
		if gs, ok := v.(fmt.GoStringer); ok {
			outs = append(outs, gs.GoString())
		}
		if st, ok := v.(fmt.Stringer); ok {
			outs = append(outs, st.String())
		}
		if js, err := json.Marshal(v); err == nil {
			outs = append(outs, string(js))
		}
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("req", "v", v)
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("req", "v", v)
		outs = append(outs, buf.String())
		for _, out := range outs {
			if strings.Contains(out, key) || strings.Contains(out, header) {
				t.Errorf("%s prints a secret: %s", name, out)
			}
		}
	}
	// What is not secret still prints, and the key is still there to send.
	if out := fmt.Sprintf("%+v", req); !strings.Contains(out, "visible") || !strings.Contains(out, "[redacted]") {
		t.Errorf("%%+v of a request: %s", out)
	}
	if string(req.APIKey) != key {
		t.Errorf("string(APIKey) = %q", string(req.APIKey))
	}
	var back Request
	if err := json.Unmarshal([]byte(`{"APIKey":"`+key+`"}`), &back); err != nil || string(back.APIKey) != key {
		t.Errorf("a key read from JSON: %q, %v", string(back.APIKey), err)
	}
}
