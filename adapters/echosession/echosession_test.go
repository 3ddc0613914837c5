package echosession_test

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/adapters/echosession"
	"github.com/cookiesession/cookiesession/internal/adapt/adapttest"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

func newEcho(t *testing.T) (*echo.Echo, *cookiesession.Manager, *adapttest.ErrLog) {
	t.Helper()
	m, log := adapttest.Manager(t, cookiesession.Config{})
	e := echo.New()
	e.Use(echosession.Middleware(m))
	return e, m, log
}

func TestVisitsThroughTheRouter(t *testing.T) {
	e, _, _ := newEcho(t)
	e.GET("/", func(c echo.Context) error {
		s := echosession.Session(c)
		s.Set("visits", s.GetInt("visits")+1)
		return c.String(http.StatusOK, fmt.Sprintf("visits: %d\n", s.GetInt("visits")))
	})
	cookie := ""
	for i := 1; i <= 3; i++ {
		rec := adapttest.Get(e, "/", cookie)
		if want := fmt.Sprintf("visits: %d\n", i); rec.Body.String() != want {
			t.Fatalf("request %d: %q, want %q", i, rec.Body.String(), want)
		}
		if rec.Header().Get("Vary") != "Cookie" || rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("headers %v", rec.Header())
		}
		if cookie = adapttest.SessionCookie(rec); cookie == "" {
			t.Fatalf("request %d set no session cookie", i)
		}
	}
}

// TestCookieBeforeTheBody: each way an Echo handler sends its response, and
// the error handler's response to a returned error, carries the session.
func TestCookieBeforeTheBody(t *testing.T) {
	e, m, log := newEcho(t)
	set := func(c echo.Context) { echosession.Session(c).Set("user", "ada") }
	e.GET("/string", func(c echo.Context) error { set(c); return c.String(200, "hi") })
	e.GET("/json", func(c echo.Context) error { set(c); return c.JSON(200, map[string]bool{"ok": true}) })
	e.GET("/noContent", func(c echo.Context) error { set(c); return c.NoContent(204) })
	e.GET("/redirect", func(c echo.Context) error { set(c); return c.Redirect(http.StatusFound, "/string") })
	e.GET("/write", func(c echo.Context) error { set(c); _, err := c.Response().Write([]byte("hi")); return err })
	e.GET("/flush", func(c echo.Context) error { set(c); c.Response().Flush(); return nil })
	e.GET("/nothing", func(c echo.Context) error { set(c); return nil })
	e.GET("/error", func(c echo.Context) error { set(c); return echo.NewHTTPError(http.StatusForbidden) })
	e.GET("/stream", func(c echo.Context) error {
		set(c)
		return c.Stream(200, "text/plain", strings.NewReader("streamed"))
	})
	for _, path := range []string{"/string", "/json", "/noContent", "/redirect", "/write", "/flush", "/nothing", "/error", "/stream"} {
		t.Run(path, func(t *testing.T) {
			rec := adapttest.Get(e, path, "")
			cookie := adapttest.SessionCookie(rec)
			if cookie == "" {
				t.Fatalf("no session cookie: %d %v", rec.Code, rec.Header())
			}
			if got := adapttest.Open(t, m, cookie).GetString("user"); got != "ada" {
				t.Fatalf("user %q", got)
			}
		})
	}
	if log.Has(cookiesession.ErrHeadersWritten) {
		t.Fatal("a change reported late")
	}
}

// TestStreamingSendsTheCookieFirst: a handler that flushes part of its body
// and waits: the client has the Set-Cookie header before the handler ends.
func TestStreamingSendsTheCookieFirst(t *testing.T) {
	e, m, _ := newEcho(t)
	release := make(chan struct{})
	e.GET("/", func(c echo.Context) error {
		echosession.Session(c).Set("user", "ada")
		res := c.Response()
		res.Header().Set("Content-Type", "text/event-stream")
		res.WriteHeader(200)
		if _, err := res.Write([]byte("data: first\n")); err != nil {
			return err
		}
		res.Flush()
		<-release
		_, err := res.Write([]byte("data: second\n"))
		return err
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == "session" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if cookie == "" {
		t.Fatalf("no Set-Cookie before the body: %v", resp.Header)
	}
	if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || line != "data: first\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(release)
	if got := adapttest.Open(t, m, cookie).GetString("user"); got != "ada" {
		t.Fatalf("user %q", got)
	}
}

func TestUntouchedSessionCostsNothing(t *testing.T) {
	e, _, _ := newEcho(t)
	e.GET("/", func(c echo.Context) error { return c.String(200, "plain") })
	rec := adapttest.Get(e, "/", "")
	if len(rec.Result().Cookies()) != 0 || rec.Header().Get("Vary") != "" {
		t.Fatalf("headers %v", rec.Header())
	}
}

// TestSaveErrorIsEchos: a session that does not fit is the error the
// middleware returns: Echo's HTTPErrorHandler answers, none of the
// handler's body leaves, and the client keeps its cookie.
func TestSaveErrorIsEchos(t *testing.T) {
	e, _, _ := newEcho(t)
	var handled error
	def := e.HTTPErrorHandler
	e.HTTPErrorHandler = func(err error, c echo.Context) { handled = err; def(err, c) }
	e.GET("/login", func(c echo.Context) error { echosession.Session(c).Set("user", "ada"); return c.String(200, "ok") })
	e.GET("/string", func(c echo.Context) error {
		echosession.Session(c).Set("big", adapttest.BigValue(t))
		return c.String(200, "the handler's body")
	})
	e.GET("/ignored", func(c echo.Context) error { // a handler that drops the write error
		echosession.Session(c).Set("big", adapttest.BigValue(t))
		_ = c.String(200, "the handler's body")
		return nil
	})
	e.GET("/nothing", func(c echo.Context) error { echosession.Session(c).Set("big", adapttest.BigValue(t)); return nil })
	e.GET("/flush", func(c echo.Context) error {
		echosession.Session(c).Set("big", adapttest.BigValue(t))
		c.Response().Flush()
		_, err := c.Response().Write([]byte("the handler's body"))
		return err
	})
	login := adapttest.SessionCookie(adapttest.Get(e, "/login", ""))
	for _, path := range []string{"/string", "/ignored", "/nothing", "/flush"} {
		t.Run(path, func(t *testing.T) {
			handled = nil
			rec := adapttest.Get(e, path, login)
			if rec.Code != 500 || !strings.Contains(rec.Body.String(), "Internal Server Error") {
				t.Fatalf("%d %q", rec.Code, rec.Body.String())
			}
			if !errors.Is(handled, cookiesession.ErrTooLarge) {
				t.Fatalf("HTTPErrorHandler got %v", handled)
			}
			for _, line := range rec.Header()["Set-Cookie"] {
				if strings.HasPrefix(line, "session=") {
					t.Fatalf("the client's cookie is replaced: %q", line)
				}
			}
		})
	}
}

func TestLateChangeIsReported(t *testing.T) {
	e, _, log := newEcho(t)
	e.GET("/", func(c echo.Context) error {
		err := c.String(200, "body first")
		echosession.Session(c).Set("late", true)
		return err
	})
	rec := adapttest.Get(e, "/", "")
	if adapttest.SessionCookie(rec) != "" || !log.Has(cookiesession.ErrHeadersWritten) {
		t.Fatalf("cookie %q, log %v", adapttest.SessionCookie(rec), log.Errors())
	}
}

func TestSessionWithoutMiddlewarePanics(t *testing.T) {
	e := echo.New()
	e.GET("/", func(c echo.Context) error {
		defer func() {
			if recover() == nil {
				t.Error("no panic")
			}
		}()
		echosession.Session(c)
		return nil
	})
	adapttest.Get(e, "/", "")
}

// TestPanicGoesToRecover: a handler that panics after changing the session
// reaches Echo's Recover middleware and its error handler: a 500, no session
// cookie.
func TestPanicGoesToRecover(t *testing.T) {
	m, _ := adapttest.Manager(t, cookiesession.Config{})
	e := echo.New()
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true, DisableErrorHandler: false}))
	e.Use(echosession.Middleware(m))
	e.GET("/", func(c echo.Context) error { echosession.Session(c).Set("a", 1); panic("boom") })
	rec := adapttest.Get(e, "/", "")
	if rec.Code != 500 || adapttest.SessionCookie(rec) != "" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
}
