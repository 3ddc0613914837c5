// Package browser holds the end-to-end test of cookiesession in a real
// browser: headless Chromium, driven through the Chrome DevTools Protocol by
// chromedp, against the demo server examples/visits built and run as its own
// process on localhost. Every check reads the browser's own cookie store
// through CDP, so it shows what a browser really kept, sent and dropped.
//
// It is a nested module so that the root module keeps only its two
// dependencies. Run it from the repository root with
//
//	bash scripts/browser.sh
//
// or directly with `go test -v ./...` in this directory (Chromium must be
// installed: Debian's package `chromium`, or the path in $CHROMIUM).
package browser
