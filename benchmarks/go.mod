module github.com/cookiesession/cookiesession/benchmarks

go 1.26.0

require (
	github.com/cookiesession/cookiesession v0.0.0
	github.com/gorilla/securecookie v1.1.2
	github.com/gorilla/sessions v1.4.0
)

require (
	github.com/go-jose/go-jose/v4 v4.1.9 // indirect
	golang.org/x/crypto v0.59.0 // indirect
)

replace github.com/cookiesession/cookiesession => ../
