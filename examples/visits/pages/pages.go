// Package pages holds the HTML of the demo server (examples/visits), so that
// the load test (benchmarks/cmd/loadserver) serves the very same page with and
// without sessions.
package pages

import (
	"encoding/json"
	"html/template"
	"net/http"
)

// Render writes the page name ("home", "login", "cart" or "session") with
// data, as text/html, or a 500 when the template fails.
func Render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		http.Error(w, "template: "+err.Error(), http.StatusInternalServerError)
	}
}

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"json": func(v any) string { b, _ := json.MarshalIndent(v, "", "  "); return string(b) },
}).Parse(`
{{define "top"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><title>cookiesession demo</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}
nav a{margin-right:1rem}.flash{background:#e7f6e7;padding:.5rem 1rem}.error{background:#fbe9e9;padding:.5rem 1rem}
pre{background:#f4f4f4;padding:1rem;overflow:auto}td{padding:.1rem .8rem}</style></head><body>
<nav><a href="/">Counter</a><a href="/login">Log in</a><a href="/cart">Cart</a><a href="/session">Session</a></nav>
{{end}}
{{define "flashes"}}{{range .}}<p class="flash">{{.}}</p>{{end}}{{end}}
{{define "home"}}{{template "top"}}{{template "flashes" .Flashes}}
<h1>You have visited <span id="visits">{{.Visits}}</span> time{{if ne .Visits 1}}s{{end}}.</h1>
{{if .User}}<p>Logged in as <b id="user">{{.User}}</b>.</p>
<form method="post" action="/logout"><button id="logout">Log out</button></form>{{if .Everywhere}}
<form method="post" action="/logout/everywhere"><button id="logout-everywhere">Log out everywhere else</button></form>{{end}}{{else}}<p>Not logged in.</p>{{end}}
</body></html>{{end}}
{{define "login"}}{{template "top"}}<h1>Log in</h1>
<form method="post" action="/login"><label>User <input name="user" id="user-input" required maxlength="64"></label>
<label><input type="checkbox" name="remember"> Remember me</label> <button id="login">Log in</button></form>
</body></html>{{end}}
{{define "cart"}}{{template "top"}}{{template "flashes" .Flashes}}
{{with .Error}}<p class="error" id="error">{{.}}</p>{{end}}
<h1>Cart: <span id="count">{{len .Items}}</span> items</h1>
<form method="post" action="/cart"><input type="number" name="n" value="10" min="1" max="500"> <button id="add">Add items</button></form>
<form method="post" action="/cart/clear"><button id="clear">Empty the cart</button></form>
<ul>{{range .Items}}<li>{{.Name}} ({{.SKU}}) × {{.Qty}}</li>{{end}}</ul>
</body></html>{{end}}
{{define "session"}}{{template "top"}}<h1>This session</h1>
{{with .LoadError}}<p class="error">The cookie sent was refused: {{.}}</p>{{end}}
<table>
<tr><td>Session id</td><td id="sid">{{.ID}}{{if .New}} (new, not issued yet){{end}}</td></tr>
<tr><td>Key id</td><td id="kid">{{.KeyID}}{{if .KeyID}}{{if .Primary}} (primary){{else}} (old key: re-sealed on this response){{end}}{{end}}</td></tr>
<tr><td>Subject</td><td id="subject">{{.Subject}}</td></tr>{{with .Device}}
<tr><td>Device key (DBSC)</td><td id="device">{{.Algorithm}}, thumbprint {{.Thumbprint}}</td></tr>{{end}}
<tr><td>Issued at</td><td>{{.IssuedAt}}</td></tr>
<tr><td>Last activity</td><td>{{.LastActivity}}</td></tr>
<tr><td>Expires at</td><td>{{.ExpiresAt}}</td></tr>
<tr><td>Sealed bytes</td><td id="bytes">{{.Bytes}} in {{.Chunks}} cookie(s){{if .Compressed}}, compressed{{end}}</td></tr>
</table>
<h2>Cookies as sent</h2><table>{{range $name, $n := .CookieBytes}}<tr><td>{{$name}}</td><td>{{$n}} bytes</td></tr>{{end}}</table>
<h2>Values</h2><pre>{{json .Values}}</pre>
</body></html>{{end}}
`))
