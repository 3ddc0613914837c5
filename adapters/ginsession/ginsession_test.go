package ginsession_test

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/adapters/ginsession"
	"github.com/cookiesession/cookiesession/internal/adapt/adapttest"
	"github.com/gin-gonic/gin"
)

func init() { gin.SetMode(gin.TestMode) }

func TestVisitsThroughTheRouter(t *testing.T) {
	m, _ := adapttest.Manager(t, cookiesession.Config{})
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	r.GET("/", func(c *gin.Context) {
		s := ginsession.Session(c)
		s.Set("visits", s.GetInt("visits")+1)
		c.String(http.StatusOK, "visits: %d\n", s.GetInt("visits"))
	})
	cookie := ""
	for i := 1; i <= 3; i++ {
		rec := adapttest.Get(r, "/", cookie)
		if want := "visits: " + string(rune('0'+i)) + "\n"; rec.Body.String() != want {
			t.Fatalf("request %d: %q, want %q", i, rec.Body.String(), want)
		}
		if rec.Header().Get("Vary") != "Cookie" || rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("headers %v", rec.Header())
		}
		cookie = adapttest.SessionCookie(rec)
		if cookie == "" {
			t.Fatalf("request %d set no session cookie", i)
		}
	}
}

// TestCookieBeforeTheBody: each way a gin handler sends its response
// carries the session it changed; c.Status only records the status, so a
// change after it is saved too.
func TestCookieBeforeTheBody(t *testing.T) {
	m, log := adapttest.Manager(t, cookiesession.Config{})
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	set := func(c *gin.Context) { ginsession.Session(c).Set("user", "ada") }
	r.GET("/string", func(c *gin.Context) { set(c); c.String(200, "hi") })
	r.GET("/json", func(c *gin.Context) { set(c); c.JSON(200, gin.H{"ok": true}) })
	r.GET("/write", func(c *gin.Context) { set(c); _, _ = c.Writer.Write([]byte("hi")) })
	r.GET("/writestring", func(c *gin.Context) { set(c); _, _ = c.Writer.WriteString("hi") })
	r.GET("/status-first", func(c *gin.Context) { c.Status(201); set(c); c.String(201, "created") })
	r.GET("/abort", func(c *gin.Context) { set(c); c.AbortWithStatus(401) })
	r.GET("/headernow", func(c *gin.Context) { set(c); c.Status(204); c.Writer.WriteHeaderNow() })
	r.GET("/nothing", set)
	r.GET("/redirect", func(c *gin.Context) { set(c); c.Redirect(http.StatusFound, "/string") })
	r.GET("/flush", func(c *gin.Context) { set(c); c.Writer.Flush() })
	for _, path := range []string{"/string", "/json", "/write", "/writestring", "/status-first", "/abort", "/headernow", "/nothing", "/redirect", "/flush"} {
		t.Run(path, func(t *testing.T) {
			rec := adapttest.Get(r, path, "")
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
	m, _ := adapttest.Manager(t, cookiesession.Config{})
	// One channel a route, made before the server starts: the handlers
	// block on them until the client has read the first part.
	release := map[string]chan struct{}{"/flush": make(chan struct{}), "/stream": make(chan struct{})}
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	r.GET("/flush", func(c *gin.Context) {
		ginsession.Session(c).Set("user", "ada")
		_, _ = c.Writer.WriteString("first\n")
		c.Writer.Flush()
		<-release["/flush"]
		_, _ = c.Writer.WriteString("second\n")
	})
	r.GET("/stream", func(c *gin.Context) {
		ginsession.Session(c).Set("user", "ada")
		n := 0
		c.Stream(func(w io.Writer) bool {
			n++
			if n == 2 {
				<-release["/stream"]
			}
			c.SSEvent("tick", n)
			return n < 3
		})
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	for _, path := range []string{"/flush", "/stream"} {
		t.Run(path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			// The handler is blocked: the headers came with the first flush.
			var cookie string
			for _, c := range resp.Cookies() {
				if c.Name == "session" {
					cookie = c.Name + "=" + c.Value
				}
			}
			if cookie == "" {
				t.Fatalf("no Set-Cookie before the body: %v", resp.Header)
			}
			line, err := bufio.NewReader(resp.Body).ReadString('\n')
			if err != nil || line == "" {
				t.Fatalf("first line %q, %v", line, err)
			}
			close(release[path])
			if got := adapttest.Open(t, m, cookie).GetString("user"); got != "ada" {
				t.Fatalf("user %q", got)
			}
		})
	}
}

func TestUntouchedSessionCostsNothing(t *testing.T) {
	m, _ := adapttest.Manager(t, cookiesession.Config{})
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	r.GET("/", func(c *gin.Context) { c.String(200, "plain") })
	rec := adapttest.Get(r, "/", "")
	if len(rec.Result().Cookies()) != 0 || rec.Header().Get("Vary") != "" {
		t.Fatalf("headers %v", rec.Header())
	}
}

// TestSaveErrorIsGins: a session that does not fit goes to c.Errors, the
// chain is aborted with 500, none of the handler's body leaves, and the
// client keeps its cookie; an error middleware renders the response.
func TestSaveErrorIsGins(t *testing.T) {
	m, _ := adapttest.Manager(t, cookiesession.Config{})
	r := gin.New()
	var seen []error
	r.Use(func(c *gin.Context) { // the application's error middleware
		c.Next()
		for _, e := range c.Errors {
			seen = append(seen, e.Err)
		}
		if len(c.Errors) > 0 && !c.Writer.Written() {
			c.JSON(c.Writer.Status(), gin.H{"error": "session too large"})
		}
	})
	r.Use(ginsession.Middleware(m))
	after := false
	r.GET("/login", func(c *gin.Context) { ginsession.Session(c).Set("user", "ada"); c.String(200, "ok") })
	r.GET("/write", func(c *gin.Context) {
		ginsession.Session(c).Set("big", adapttest.BigValue(t))
		c.String(200, "the handler's body")
	}, func(*gin.Context) { after = true })
	r.GET("/nothing", func(c *gin.Context) { ginsession.Session(c).Set("big", adapttest.BigValue(t)) })
	r.GET("/stream", func(c *gin.Context) {
		ginsession.Session(c).Set("big", adapttest.BigValue(t))
		c.Writer.Flush()
		_, err := c.Writer.WriteString("the handler's body")
		if !errors.Is(err, cookiesession.ErrTooLarge) {
			t.Errorf("write after the failure: %v", err)
		}
	})
	login := adapttest.SessionCookie(adapttest.Get(r, "/login", ""))
	for _, path := range []string{"/write", "/nothing", "/stream"} {
		t.Run(path, func(t *testing.T) {
			seen = nil
			rec := adapttest.Get(r, path, login)
			if rec.Code != 500 || rec.Body.String() != `{"error":"session too large"}` {
				t.Fatalf("%d %q", rec.Code, rec.Body.String())
			}
			if len(seen) != 1 || !errors.Is(seen[0], cookiesession.ErrTooLarge) {
				t.Fatalf("c.Errors %v", seen)
			}
			for _, line := range rec.Header()["Set-Cookie"] {
				if strings.HasPrefix(line, "session=") {
					t.Fatalf("the client's cookie is replaced: %q", line)
				}
			}
		})
	}
	if after {
		t.Fatal("the chain went on after the failure")
	}
	// Without an error middleware gin sends the bare 500.
	r2 := gin.New()
	r2.Use(ginsession.Middleware(m))
	r2.GET("/", func(c *gin.Context) { ginsession.Session(c).Set("big", adapttest.BigValue(t)); c.String(200, "body") })
	if rec := adapttest.Get(r2, "/", ""); rec.Code != 500 || rec.Body.Len() != 0 {
		t.Fatalf("%d %q", rec.Code, rec.Body.String())
	}
}

func TestLateChangeIsReported(t *testing.T) {
	m, log := adapttest.Manager(t, cookiesession.Config{})
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	r.GET("/", func(c *gin.Context) {
		c.String(200, "body first")
		ginsession.Session(c).Set("late", true)
	})
	rec := adapttest.Get(r, "/", "")
	if adapttest.SessionCookie(rec) != "" || !log.Has(cookiesession.ErrHeadersWritten) {
		t.Fatalf("cookie %q, log %v", adapttest.SessionCookie(rec), log.Errors())
	}
}

// TestGinWriterFeatures: gin's view of the response stays right for the
// middleware around the session's.
func TestGinWriterFeatures(t *testing.T) {
	m, _ := adapttest.Manager(t, cookiesession.Config{})
	r := gin.New()
	var status, size int
	var written bool
	r.Use(func(c *gin.Context) {
		c.Next()
		status, size, written = c.Writer.Status(), c.Writer.Size(), c.Writer.Written()
	})
	r.Use(ginsession.Middleware(m))
	r.GET("/", func(c *gin.Context) { ginsession.Session(c).Set("a", 1); c.String(202, "12345") })
	adapttest.Get(r, "/", "")
	if status != 202 || size != 5 || !written {
		t.Fatalf("status %d size %d written %v", status, size, written)
	}
}

func TestSessionWithoutMiddlewarePanics(t *testing.T) {
	r := gin.New()
	r.GET("/", func(c *gin.Context) {
		defer func() {
			if recover() == nil {
				t.Error("no panic")
			}
		}()
		ginsession.Session(c)
	})
	adapttest.Get(r, "/", "")

}

// TestPanicGoesToRecovery: a handler that panics after changing the session
// reaches gin.Recovery, which answers 500 through gin's own writer; no
// session cookie goes out.
func TestPanicGoesToRecovery(t *testing.T) {
	m, _ := adapttest.Manager(t, cookiesession.Config{})
	r := gin.New()
	r.Use(gin.CustomRecoveryWithWriter(io.Discard, func(c *gin.Context, _ any) { c.AbortWithStatus(500) }))
	r.Use(ginsession.Middleware(m))
	r.GET("/", func(c *gin.Context) { ginsession.Session(c).Set("a", 1); panic("boom") })
	rec := adapttest.Get(r, "/", "")
	if rec.Code != 500 || adapttest.SessionCookie(rec) != "" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
}
