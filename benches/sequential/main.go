// Sequential streams through Go's net/http, for the bench's connection-reuse
// row: one client (its default transport keeps connections), N streamed chat
// completions one after the other, each body read to its end; prints each
// one's milliseconds, one a line.
//
//	go build -o sequential_go main.go && ./sequential_go BASE_URL CA_FILE N
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: sequential_go BASE_URL CA_FILE N")
		os.Exit(2)
	}
	pem, err := os.ReadFile(os.Args[2])
	if err != nil {
		panic(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	n, _ := strconv.Atoi(os.Args[3])
	body := []byte(`{"model":"bench","messages":[{"role":"user","content":"hi"}],"stream":true}`)
	for i := 0; i < n; i++ {
		t := time.Now()
		resp, err := client.Post(os.Args[1]+"/chat/completions", "application/json", bytes.NewReader(body))
		if err != nil {
			panic(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Printf("%.3f\n", float64(time.Since(t).Microseconds())/1e3)
	}
}
