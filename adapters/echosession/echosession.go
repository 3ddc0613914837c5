// Package echosession connects cookiesession to the Echo web framework
// (github.com/labstack/echo/v4): [Middleware] is the session middleware in
// Echo's shape, and [Session] reaches the request's session from an
// echo.Context in one call.
//
//	e := echo.New()
//	e.Use(echosession.Middleware(sessions))
//	e.GET("/", func(c echo.Context) error {
//		s := echosession.Session(c)
//		s.Set("visits", s.GetInt("visits")+1)
//		return c.String(http.StatusOK, fmt.Sprintf("visits: %d\n", s.GetInt("visits")))
//	})
//
// It is a module of its own, so that users of cookiesession who do not use
// Echo never download it.
package echosession

import (
	"net/http"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/internal/adapt"
	"github.com/labstack/echo/v4"
)

// stateKey is the echo.Context key of the request's session state.
const stateKey = "github.com/cookiesession/cookiesession/adapters/echosession"

// Middleware returns Echo middleware that makes each request's session
// available through [Session] and writes it back, as
// [cookiesession.Manager.Handler] does for net/http:
//
//   - The session is loaded on the first call to Session: a handler that
//     never calls it pays nothing and gets no Set-Cookie.
//   - The session is saved, and its Set-Cookie lines added, before the first
//     byte of the response leaves (c.String, c.JSON, c.Stream,
//     c.Response().WriteHeader, Write or Flush), or when the handler
//     returns without writing, so that the response of Echo's
//     HTTPErrorHandler for a returned error carries them too.
//   - A session that cannot be saved (it grew past its budget, see
//     cookiesession.ErrTooLarge) is Echo's way: the middleware returns the
//     error (matching ErrTooLarge) for Echo's HTTPErrorHandler, which answers
//     500 by default; the handler's writes are dropped (they return the
//     error) and the response is left uncommitted for the error handler; the
//     client keeps its previous cookie.
//
// Use [Session] rather than Manager.Session(c.Request()): a session loaded
// that way is saved by Manager.Handler alone, whose save error is answered
// by Config.ErrorHandler, not Echo.
func Middleware(m *cookiesession.Manager) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			res := c.Response()
			var st *adapt.State
			var err error
			m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				orig := res.Writer
				st = adapt.NewState(m, r, nil)
				c.SetRequest(r)
				c.Set(stateKey, st)
				res.Writer = &adapt.Writer{ResponseWriter: w, State: st}
				defer func() { res.Writer = orig }()
				err = next(c)
				if serr := st.Save(); serr != nil {
					err = serr
				}
			})).ServeHTTP(res.Writer, c.Request())
			if st.Err() != nil {
				// Nothing of the response left: Echo's error handler
				// writes it.
				res.Committed, res.Status, res.Size = false, http.StatusOK, 0
			}
			return err
		}
	}
}

// Session returns the request's session, loading it on the first call. It
// panics when the request did not pass through [Middleware]: a wiring
// mistake.
func Session(c echo.Context) *cookiesession.Session {
	st, ok := c.Get(stateKey).(*adapt.State)
	if !ok {
		panic("echosession: Session called on a request that did not pass through echosession.Middleware")
	}
	return st.Session()
}
