// Command lambda is the cookiesession serverless example: an AWS Lambda
// function behind an API Gateway HTTP API (payload format 2.0) that keeps a
// visit counter and a login in the client's cookies, with no store. Every
// instance that shares the key ring reads and writes the same sessions, so
// the function scales out with no sticky routing.
//
// The key ring is a JWK Set in the COOKIESESSION_KEYS environment variable
// (make one with `cookiesession keygen`); a function without it refuses to
// start, because an ephemeral ring would differ between instances.
//
// Build it for the provided.al2023 runtime:
//
//	GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -o bootstrap .
//
// See README.md, which also shows the same session in a plain
// http.HandlerFunc (package httpfunc) for platforms that take one.
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cookiesession/cookiesession"
)

func main() {
	h, err := newHandler()
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h.Handle)
}

func newHandler() (*Handler, error) {
	keys, err := cookiesession.KeyRingFromEnv("COOKIESESSION_KEYS")
	if err != nil {
		return nil, err
	}
	sessions, err := cookiesession.New(cookiesession.Config{Keys: keys})
	if err != nil {
		return nil, err
	}
	return &Handler{Sessions: sessions}, nil
}
