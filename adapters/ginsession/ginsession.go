// Package ginsession connects cookiesession to the gin web framework
// (github.com/gin-gonic/gin): [Middleware] is the session middleware in
// gin's shape, and [Session] reaches the request's session from a
// *gin.Context in one call.
//
//	r := gin.New()
//	r.Use(ginsession.Middleware(sessions))
//	r.GET("/", func(c *gin.Context) {
//		s := ginsession.Session(c)
//		s.Set("visits", s.GetInt("visits")+1)
//		c.String(http.StatusOK, "visits: %d\n", s.GetInt("visits"))
//	})
//
// It is a module of its own, so that users of cookiesession who do not use
// gin never download it.
package ginsession

import (
	"io"
	"net/http"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/internal/adapt"
	"github.com/gin-gonic/gin"
)

// stateKey is the gin.Context key of the request's session state.
const stateKey = "github.com/cookiesession/cookiesession/adapters/ginsession"

// Middleware returns gin middleware that makes each request's session
// available through [Session] and writes it back, as
// [cookiesession.Manager.Handler] does for net/http:
//
//   - The session is loaded on the first call to Session: a handler that
//     never calls it pays nothing and gets no Set-Cookie.
//   - The session is saved, and its Set-Cookie lines added, before the first
//     byte of the response leaves: when gin writes the header (c.String,
//     c.JSON, c.Writer.Write, c.Writer.WriteHeaderNow, c.AbortWithStatus), at
//     a flush (c.Stream, c.SSEvent, c.Writer.Flush), or when the handlers
//     return without writing. c.Status only records the status, as in gin,
//     so a handler may still change the session after it.
//   - A session that cannot be saved (it grew past its budget, see
//     cookiesession.ErrTooLarge) is gin's way: the error is added to
//     c.Errors (once), the chain is aborted with status 500, the handler's writes are dropped
//     (they return the error), and the client keeps its previous cookie. An
//     error middleware before this one may render the response from
//     c.Errors; without one, gin sends the bare 500.
//   - c.Writer keeps gin's features: Status, Size, Written, Hijack, Pusher.
//
// Use [Session] rather than Manager.Session(c.Request): a session loaded that
// way is saved by Manager.Handler alone, whose save error is answered by
// Config.ErrorHandler, not gin.
//
// Register it before the handlers that use sessions (r.Use, or on a group).
func Middleware(m *cookiesession.Manager) gin.HandlerFunc {
	return func(c *gin.Context) {
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			orig := c.Writer
			st := adapt.NewState(m, r, func(error) {
				c.Abort()
				orig.WriteHeader(http.StatusInternalServerError)
			})
			c.Request = r
			c.Set(stateKey, st)
			c.Writer = &writer{ResponseWriter: orig, body: &adapt.Writer{ResponseWriter: w, State: st}}
			defer func() { c.Writer = orig }()
			c.Next()
			if err := st.Save(); err != nil && !reported(c, err) {
				_ = c.Error(err)
			}
		})).ServeHTTP(c.Writer, c.Request)
	}
}

// Session returns the request's session, loading it on the first call. It
// panics when the request did not pass through [Middleware]: a wiring
// mistake.
func Session(c *gin.Context) *cookiesession.Session {
	v, _ := c.Get(stateKey)
	st, ok := v.(*adapt.State)
	if !ok {
		panic("ginsession: Session called on a request that did not pass through ginsession.Middleware")
	}
	return st.Session()
}

// reported reports whether c.Errors has err: gin adds the write error of a
// render (c.String, c.JSON) itself.
func reported(c *gin.Context, err error) bool {
	for _, e := range c.Errors {
		if e.Err == err {
			return true
		}
	}
	return false
}

// writer is the gin.ResponseWriter handed to the handlers: gin's own for
// everything but what sends bytes, which goes through body (the session's
// writer, itself around gin's) so that the session is saved first.
type writer struct {
	gin.ResponseWriter // gin's: records the status, counts the size
	body               *adapt.Writer
}

func (w *writer) Write(b []byte) (int, error) { return w.body.Write(b) }

func (w *writer) WriteString(s string) (int, error) { return io.WriteString(w.body, s) }

// WriteHeaderNow sends the header gin recorded, the session's cookies in it.
func (w *writer) WriteHeaderNow() {
	if !w.Written() {
		w.body.WriteHeader(w.Status())
	}
	if w.body.State.Err() == nil {
		w.ResponseWriter.WriteHeaderNow()
	}
}

func (w *writer) Flush() { w.body.Flush() }
