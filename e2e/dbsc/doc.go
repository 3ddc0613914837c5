// Package dbsc holds the end-to-end test of device-bound sessions (DBSC) in a
// real browser: headless Chromium with its DBSC features and software keys,
// driven by chromedp over HTTPS (httptest's certificate, trusted through
// --ignore-certificate-errors-spki-list) against a test server on 127.0.0.1.
// It reads Chromium's own DBSC events and cookie store through CDP.
//
// It is a nested module so that the root module keeps only its two
// dependencies. Run it from the repository root with
//
//	bash scripts/dbsc.sh
package dbsc
