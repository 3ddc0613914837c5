// Package interop proves the gorilla importer (package
// github.com/cookiesession/cookiesession/importers/gorilla, standard library
// only) against the real github.com/gorilla/sessions v1.4.0 and
// github.com/gorilla/securecookie v1.1.2: every cookie they write imports
// with the values they read, and every cookie they refuse is refused. It is a
// module of its own so that the root module never depends on gorilla.
package interop
