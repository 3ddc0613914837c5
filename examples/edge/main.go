//go:build js && wasm

package main

import (
	"fmt"
	"syscall/js"
)

// bridgeFunc is the global function through which worker.mjs calls the Go
// program for each request.
const bridgeFunc = "cookiesessionServe"

// main builds the handler, publishes the bridge function and blocks: the
// program serves until the isolate goes away.
func main() {
	h := newHandler()
	js.Global().Set(bridgeFunc, js.FuncOf(func(_ js.Value, args []js.Value) any {
		in := fromJS(args) // read now: the arguments are valid during the call only
		return promise(func() js.Value { return toJS(serve(h, in)) })
	}))
	select {}
}

// promise returns a JavaScript Promise of work's result. work runs on its own
// goroutine, so a handler may block (on a timer, a channel) without blocking
// the runtime's event loop, which is what wakes it up again.
func promise(work func() js.Value) js.Value {
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			defer func() {
				if p := recover(); p != nil {
					reject.Invoke(js.Global().Get("Error").New(fmt.Sprint("edge: ", p)))
				}
			}()
			resolve.Invoke(work())
		}()
		return nil
	})
	defer executor.Release() // the Promise constructor calls it before returning
	return js.Global().Get("Promise").New(executor)
}

// fromJS reads the bridge's arguments: method, URL, the header list as
// [name, value] pairs, and the body as a Uint8Array or null.
func fromJS(args []js.Value) request {
	if len(args) != 4 {
		return request{} // serve answers 400
	}
	in := request{method: args[0].String(), url: args[1].String()}
	pairs := args[2]
	for i, n := 0, pairs.Length(); i < n; i++ {
		kv := pairs.Index(i)
		in.header = append(in.header, [2]string{kv.Index(0).String(), kv.Index(1).String()})
	}
	if body := args[3]; body.Truthy() {
		in.body = make([]byte, body.Length())
		js.CopyBytesToGo(in.body, body)
	}
	return in
}

// toJS returns {status, headers, body}: headers as [name, value] pairs, one
// per value, and body as a Uint8Array.
func toJS(out response) js.Value {
	headers := make([]any, len(out.header))
	for i, kv := range out.header {
		headers[i] = []any{kv[0], kv[1]}
	}
	body := js.Global().Get("Uint8Array").New(len(out.body))
	js.CopyBytesToJS(body, out.body)
	return js.ValueOf(map[string]any{"status": out.status, "headers": headers, "body": body})
}
