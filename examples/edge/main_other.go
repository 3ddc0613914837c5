//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// main outside js/wasm says how to build the worker, so that `go build ./...`
// and `go vet ./...` work on every platform.
func main() {
	fmt.Fprintln(os.Stderr, "examples/edge runs in workerd: build it with GOOS=js GOARCH=wasm (see scripts/edge.sh)")
	os.Exit(2)
}
