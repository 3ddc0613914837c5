package ginsession_test

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/adapters/ginsession"
	"github.com/gin-gonic/gin"
)

func init() { gin.SetMode(gin.TestMode) }

// errLog records what the Manager reports.
type errLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errLog) record(_ *http.Request, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *errLog) has(target error) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, err := range l.errs {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func newManager(t *testing.T) (*cookiesession.Manager, *errLog) {
	t.Helper()
	key, err := cookiesession.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	log := &errLog{}
	m, err := cookiesession.New(cookiesession.Config{Keys: ring, ErrorLog: log.record})
	if err != nil {
		t.Fatal(err)
	}
	return m, log
}

// serve sends one request with the cookie header to r.
func serve(r http.Handler, path, cookie string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", "https://example.com"+path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	return rec
}

// sessionCookie returns "name=value" of the session cookie rec sets, or "".
func sessionCookie(rec *httptest.ResponseRecorder) string {
	for _, c := range rec.Result().Cookies() {
		if c.Name == "session" && c.MaxAge >= 0 {
			return c.Name + "=" + c.Value
		}
	}
	return ""
}

// open returns the values of the session a cookie carries.
func open(t *testing.T, m *cookiesession.Manager, cookie string) *cookiesession.Session {
	t.Helper()
	s, err := m.LoadHeader(cookie)
	if err != nil {
		t.Fatalf("LoadHeader: %v", err)
	}
	return s
}

func TestVisitsThroughTheRouter(t *testing.T) {
	m, _ := newManager(t)
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	r.GET("/", func(c *gin.Context) {
		s := ginsession.Session(c)
		s.Set("visits", s.GetInt("visits")+1)
		c.String(http.StatusOK, "visits: %d\n", s.GetInt("visits"))
	})
	cookie := ""
	for i := 1; i <= 3; i++ {
		rec := serve(r, "/", cookie)
		if want := "visits: " + string(rune('0'+i)) + "\n"; rec.Body.String() != want {
			t.Fatalf("request %d: %q, want %q", i, rec.Body.String(), want)
		}
		if rec.Header().Get("Vary") != "Cookie" || rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("headers %v", rec.Header())
		}
		cookie = sessionCookie(rec)
		if cookie == "" {
			t.Fatalf("request %d set no session cookie", i)
		}
	}
}

// TestCookieBeforeTheBody: each way a gin handler sends its response
// carries the session it changed; c.Status only records the status, so a
// change after it is saved too.
func TestCookieBeforeTheBody(t *testing.T) {
	m, log := newManager(t)
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
			rec := serve(r, path, "")
			cookie := sessionCookie(rec)
			if cookie == "" {
				t.Fatalf("no session cookie: %d %v", rec.Code, rec.Header())
			}
			if got := open(t, m, cookie).GetString("user"); got != "ada" {
				t.Fatalf("user %q", got)
			}
		})
	}
	if log.has(cookiesession.ErrHeadersWritten) {
		t.Fatal("a change reported late")
	}
}

// TestStreamingSendsTheCookieFirst: a handler that flushes part of its body
// and waits: the client has the Set-Cookie header before the handler ends.
func TestStreamingSendsTheCookieFirst(t *testing.T) {
	m, _ := newManager(t)
	release := make(chan struct{})
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	r.GET("/flush", func(c *gin.Context) {
		ginsession.Session(c).Set("user", "ada")
		_, _ = c.Writer.WriteString("first\n")
		c.Writer.Flush()
		<-release
		_, _ = c.Writer.WriteString("second\n")
	})
	r.GET("/stream", func(c *gin.Context) {
		ginsession.Session(c).Set("user", "ada")
		n := 0
		c.Stream(func(w io.Writer) bool {
			n++
			if n == 2 {
				<-release
			}
			c.SSEvent("tick", n)
			return n < 3
		})
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	for _, path := range []string{"/flush", "/stream"} {
		t.Run(path, func(t *testing.T) {
			release = make(chan struct{})
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
			close(release)
			if got := open(t, m, cookie).GetString("user"); got != "ada" {
				t.Fatalf("user %q", got)
			}
		})
	}
}

func TestUntouchedSessionCostsNothing(t *testing.T) {
	m, _ := newManager(t)
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	r.GET("/", func(c *gin.Context) { c.String(200, "plain") })
	rec := serve(r, "/", "")
	if len(rec.Result().Cookies()) != 0 || rec.Header().Get("Vary") != "" {
		t.Fatalf("headers %v", rec.Header())
	}
}

// bigValue does not fit the default 8 KiB budget, compressed or not.
func bigValue(t *testing.T) string {
	b := make([]byte, 6000)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestSaveErrorIsGins: a session that does not fit goes to c.Errors, the
// chain is aborted with 500, none of the handler's body leaves, and the
// client keeps its cookie; an error middleware renders the response.
func TestSaveErrorIsGins(t *testing.T) {
	m, _ := newManager(t)
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
		ginsession.Session(c).Set("big", bigValue(t))
		c.String(200, "the handler's body")
	}, func(*gin.Context) { after = true })
	r.GET("/nothing", func(c *gin.Context) { ginsession.Session(c).Set("big", bigValue(t)) })
	r.GET("/stream", func(c *gin.Context) {
		ginsession.Session(c).Set("big", bigValue(t))
		c.Writer.Flush()
		_, err := c.Writer.WriteString("the handler's body")
		if !errors.Is(err, cookiesession.ErrTooLarge) {
			t.Errorf("write after the failure: %v", err)
		}
	})
	login := sessionCookie(serve(r, "/login", ""))
	for _, path := range []string{"/write", "/nothing", "/stream"} {
		t.Run(path, func(t *testing.T) {
			seen = nil
			rec := serve(r, path, login)
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
	r2.GET("/", func(c *gin.Context) { ginsession.Session(c).Set("big", bigValue(t)); c.String(200, "body") })
	if rec := serve(r2, "/", ""); rec.Code != 500 || rec.Body.Len() != 0 {
		t.Fatalf("%d %q", rec.Code, rec.Body.String())
	}
}

func TestLateChangeIsReported(t *testing.T) {
	m, log := newManager(t)
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	r.GET("/", func(c *gin.Context) {
		c.String(200, "body first")
		ginsession.Session(c).Set("late", true)
	})
	rec := serve(r, "/", "")
	if sessionCookie(rec) != "" || !log.has(cookiesession.ErrHeadersWritten) {
		t.Fatalf("cookie %q, log %v", sessionCookie(rec), log.errs)
	}
}

// TestGinWriterFeatures: gin's view of the response stays right for the
// middleware around the session's.
func TestGinWriterFeatures(t *testing.T) {
	m, _ := newManager(t)
	r := gin.New()
	var status, size int
	var written bool
	r.Use(func(c *gin.Context) {
		c.Next()
		status, size, written = c.Writer.Status(), c.Writer.Size(), c.Writer.Written()
	})
	r.Use(ginsession.Middleware(m))
	r.GET("/", func(c *gin.Context) { ginsession.Session(c).Set("a", 1); c.String(202, "12345") })
	serve(r, "/", "")
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
	serve(r, "/", "")

}
