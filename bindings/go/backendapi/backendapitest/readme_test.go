package backendapitest_test

import (
	"os"
	"strings"
	"testing"
)

// The README's backendapitest example is the Example that go test runs and
// checks (its // Output:), word for word.
func TestReadmeExampleIsChecked(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "<!-- backendapitest example -->\n```go\n")
	block, _, ok2 := strings.Cut(block, "```\n")
	if !ok || !ok2 || !strings.Contains(block, "// Output:") {
		t.Fatal("README.md has no backendapitest example with an // Output: comment")
	}
	examples, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(examples), block) {
		t.Fatalf("the README's example is not in example_test.go:\n%s", block)
	}
}
