package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cookiesession/cookiesession"
)

// Handler serves API Gateway HTTP API events (payload format 2.0) with a
// session kept in the client's cookies. API Gateway hands the request's
// cookies over as a list of "name=value" strings (events.APIGatewayV2HTTPRequest
// Cookies) and sends back the response's Cookies as Set-Cookie headers, one
// each, so the handler uses the low-level calls: Manager.LoadHeader on the
// way in and Manager.SetCookies on the way out.
//
// Routes:
//
//	GET    /        counts the visit and answers the session as JSON
//	POST   /login   user=NAME (form body): Renew, then stores the user
//	POST   /logout  Destroy: expires every cookie of the session
//	POST   /notes   appends the body (at most 2000 bytes) to a list of notes,
//	                which grows the session past one cookie; 413 past the budget
//	DELETE /notes   removes the notes
//
// A POST or DELETE from a browser page of another origin is refused with 403
// (http.CrossOriginProtection on the event's headers).
type Handler struct {
	Sessions *cookiesession.Manager
}

// State is the JSON body of every successful answer.
type State struct {
	Visits  int      `json:"visits"`
	User    string   `json:"user,omitempty"`
	Notes   []string `json:"notes,omitempty"`
	Session struct {
		ID     string `json:"id"`
		Fresh  bool   `json:"fresh"`  // the request carried no usable session cookie
		Chunks int    `json:"chunks"` // cookies the request's session came in
	} `json:"session"`
}

const maxNote = 2000

// Handle is the Lambda function: lambda.Start(h.Handle).
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if err := crossOrigin(req); err != nil {
		// A form or script of another origin posting here (login CSRF):
		// refused before the session is read. SameSite=Lax does not stop
		// a sibling subdomain.
		return answer(http.StatusForbidden, map[string]string{"error": "cross-origin request refused"}, nil), nil
	}
	s, err := h.Sessions.LoadHeader(req.Cookies...)
	if err != nil {
		// A tampered, expired or foreign cookie: log why, go on with the
		// fresh session that LoadHeader returned. The client is not told.
		slog.WarnContext(ctx, "session cookie refused", "err", err, "requestId", req.RequestContext.RequestID)
	}
	fresh := s.IsNew()
	chunks := s.Info().Chunks

	method, path := req.RequestContext.HTTP.Method, routePath(req)
	switch {
	case method == http.MethodGet && path == "/":
		s.Set("visits", s.GetInt("visits")+1)
	case method == http.MethodPost && path == "/login":
		form, _ := url.ParseQuery(body(req))
		user := strings.TrimSpace(form.Get("user"))
		if user == "" || len(user) > 64 {
			return answer(http.StatusBadRequest, map[string]string{"error": "user: 1 to 64 characters"}, nil), nil
		}
		s.Renew() // a new identity at a change of privilege
		s.Set("user", user)
	case method == http.MethodPost && path == "/logout":
		s.Destroy()
	case method == http.MethodPost && path == "/notes":
		note := body(req)
		if note == "" || len(note) > maxNote || !utf8.ValidString(note) {
			return answer(http.StatusBadRequest, map[string]string{"error": "a note of 1 to 2000 bytes of UTF-8"}, nil), nil
		}
		notes, _ := cookiesession.Get[[]string](s, "notes")
		s.Set("notes", append(notes, note))
	case method == http.MethodDelete && path == "/notes":
		s.Delete("notes")
	default:
		return answer(http.StatusNotFound, map[string]string{"error": "no route " + method + " " + path}, nil), nil
	}

	cookies, err := h.Sessions.SetCookies(s)
	if err != nil {
		slog.WarnContext(ctx, "session not saved", "err", err)
		var size *cookiesession.SizeError
		if errors.As(err, &size) {
			// No Set-Cookie: the client keeps its previous session.
			return answer(http.StatusRequestEntityTooLarge, map[string]any{
				"error": "the session would no longer fit in its cookies; nothing was changed",
				"what":  size.What, "size": size.Size, "budget": size.Budget,
			}, nil), nil
		}
		return answer(http.StatusInternalServerError, map[string]string{"error": "session not saved"}, nil), nil
	}

	var st State
	st.Visits = s.GetInt("visits")
	st.User = s.GetString("user")
	st.Notes, _ = cookiesession.Get[[]string](s, "notes")
	st.Session.ID, st.Session.Fresh, st.Session.Chunks = s.ID(), fresh, chunks
	return answer(http.StatusOK, st, cookies), nil
}

// crossOriginProtection refuses browsers' cross-origin requests with a method
// other than GET, HEAD or OPTIONS, from Sec-Fetch-Site or Origin.
var crossOriginProtection = http.NewCrossOriginProtection()

// crossOrigin runs crossOriginProtection on the request headers of the event.
func crossOrigin(req events.APIGatewayV2HTTPRequest) error {
	r := &http.Request{Method: req.RequestContext.HTTP.Method, Host: req.Headers["host"], Header: http.Header{}}
	for name, value := range req.Headers {
		r.Header.Set(name, value)
	}
	return crossOriginProtection.Check(r)
}

// routePath is the request's path without the stage prefix that API Gateway
// keeps in rawPath for a stage other than $default.
func routePath(req events.APIGatewayV2HTTPRequest) string {
	p := req.RawPath
	if st := req.RequestContext.Stage; st != "" && st != "$default" {
		p = strings.TrimPrefix(p, "/"+st)
	}
	if p == "" {
		p = "/"
	}
	return p
}

// body returns the request body, decoded when API Gateway base64-encoded it.
func body(req events.APIGatewayV2HTTPRequest) string {
	if !req.IsBase64Encoded {
		return req.Body
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return ""
	}
	return string(b)
}

// answer builds the response. A response that sets cookies must stay out of
// shared caches: Cache-Control no-store and Vary: Cookie, as Manager.Save
// adds them for net/http.
func answer(status int, v any, cookies []string) events.APIGatewayV2HTTPResponse {
	b, _ := json.Marshal(v)
	resp := events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
		Cookies:    cookies,
	}
	if len(cookies) > 0 {
		resp.Headers["Cache-Control"] = "no-store"
		resp.Headers["Vary"] = "Cookie"
	}
	return resp
}
