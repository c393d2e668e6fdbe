// Command bench drains one answer of N small content chunks from a server
// through the binding's streaming path (range over Stream.All, each chunk copied
// into Go), for the project's benchmark, which measures its time, CPU and peak
// memory from outside. It asks the bundled test backend for N chunks (the
// request field test_chunks) and exits 0 only when all N arrived.
//
//	go build -o drain ./bench
//	./drain [-complete] http://127.0.0.1:PORT 1000000
//
// -complete takes the answer with Client.Complete instead (no chunk reaches Go).
// bindings/cpp/bench/drain.c is the same program in C, for comparison.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	backendapi "github.com/backend-api/backend-api/bindings/go/backendapi"
)

func main() {
	complete := flag.Bool("complete", false, "take the answer with Client.Complete")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: drain [-complete] BASE_URL N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(flag.Arg(1))
	if err != nil || n < 0 {
		fmt.Fprintln(os.Stderr, "N must be a count")
		os.Exit(2)
	}
	got, err := drain(flag.Arg(0), n, *complete)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if got != n {
		fmt.Fprintf(os.Stderr, "received %d content chunks of %d\n", got, n)
		os.Exit(1)
	}
}

func drain(url string, n int, complete bool) (int, error) {
	client, err := backendapi.NewClient(url, backendapi.WithNoProxy())
	if err != nil {
		return 0, err
	}
	defer client.Close()
	req := &backendapi.Request{
		Messages: []backendapi.Message{{Role: "user", Content: "bench"}},
		Extra:    map[string]any{"test_chunks": n},
	}
	ctx := context.Background()
	if complete {
		answer, err := client.Complete(ctx, req)
		return strings.Count(answer.Content, " "), err // "part0 part1 ..."
	}
	stream, err := client.Stream(ctx, req)
	if err != nil {
		return 0, err
	}
	defer stream.Close()
	got := 0
	for chunk, err := range stream.All() {
		if err != nil {
			return got, err
		}
		if chunk.Kind == backendapi.KindContent {
			got++
		}
	}
	return got, nil
}
