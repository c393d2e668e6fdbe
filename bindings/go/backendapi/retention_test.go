package backendapi

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// A Chunk the caller keeps holds its own bytes only, not the batch of up to 64
// chunks it was fetched with. Each of 32 streams queues 64 chunks of
// 1 KiB (one batch: the test waits until they are all there), and the test keeps
// the first chunk of each: 32 KiB of chunks, where whole batches would pin 2 MiB.
func TestKeptChunkHoldsOnlyItsOwnBytes(t *testing.T) {
	c := client(t)
	const streams, perStream, part = 32, 64, 1024
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	kept := make([]Chunk, 0, streams)
	before := heap()
	for i := 0; i < streams; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		s, err := c.Stream(ctx, &Request{Messages: user("x"),
			Extra: map[string]any{"test_chunks": perStream, "test_part_bytes": part}})
		if err != nil {
			t.Fatal(err)
		}
		for s.Stats().Chunks < perStream { // all queued: the first fetch takes one whole batch
			time.Sleep(5 * time.Millisecond)
		}
		ch, err := s.Recv()
		for ch.Kind != KindContent && err == nil {
			ch, err = s.Recv()
		}
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, ch)
		s.Close()
		cancel()
	}
	grown := int64(heap()) - int64(before)
	t.Logf("kept %d chunks of %d bytes each: the heap grew by %d KiB", len(kept), len(kept[0].Raw), grown/1024)
	if grown > 512*1024 {
		t.Fatalf("the heap grew by %d KiB for %d kept chunks of ~1 KiB: each pins its batch", grown/1024, streams)
	}
	runtime.KeepAlive(kept)
}
