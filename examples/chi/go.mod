module github.com/cookiesession/cookiesession/examples/chi

go 1.26.0

replace github.com/cookiesession/cookiesession => ../..

require (
	github.com/cookiesession/cookiesession v0.0.0-00010101000000-000000000000
	github.com/go-chi/chi/v5 v5.5.0
)

require (
	github.com/go-jose/go-jose/v4 v4.1.9 // indirect
	golang.org/x/crypto v0.59.0 // indirect
)
