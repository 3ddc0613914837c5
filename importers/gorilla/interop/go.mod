module github.com/cookiesession/cookiesession/importers/gorilla/interop

go 1.26.0

replace github.com/cookiesession/cookiesession => ../../..

require (
	github.com/cookiesession/cookiesession v0.0.0-00010101000000-000000000000
	github.com/gorilla/securecookie v1.1.2
	github.com/gorilla/sessions v1.4.0
)

require (
	github.com/go-jose/go-jose/v4 v4.1.9 // indirect
	golang.org/x/crypto v0.59.0 // indirect
)
