// Command loadserver is the server scripts/load.sh measures with wrk. It
// listens on loopback only and serves two routes that write the same body:
//
//	GET /session  through Manager.Handler: opens the session cookie, reads the
//	              visit counter, writes it back incremented (a Set-Cookie on
//	              every response). A request without a valid cookie gets a
//	              new ~200 B session (the benchmarks' small payload).
//	GET /plain    the same handler without sessions.
//	GET /untouched
//	              the /plain handler through Manager.Handler, never calling
//	              Session.
//	GET /page     the demo server's counter page (examples/visits: its home
//	              handler and HTML template) through Manager.Handler: the
//	              session read and written, a Set-Cookie on every response.
//	GET /page-plain
//	              the same page without sessions.
//	POST /login   the demo server's login (examples/visits): renews the
//	              session and stores the user from the form, with a flash
//	              message, then redirects to /page. With the /page that
//	              follows it gives the session of a logged-in demo user.
//	GET /plain-headers
//	              the same handler without sessions, writing the headers
//	              /session writes (Set-Cookie lines sealed once at start,
//	              Vary: Cookie, Cache-Control: no-store): what the bytes
//	              cost, apart from the session's work.
//
// It prints "listening on http://ADDR" once it accepts connections.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/cookiesession/cookiesession/benchmarks"
	"github.com/cookiesession/cookiesession/examples/visits/pages"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on (port 0: any free port)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file, until SIGINT or SIGTERM")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || net.ParseIP(host) == nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("loadserver: -addr %q is not a loopback address", *addr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: handler(), ReadHeaderTimeout: 10 * time.Second}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
		go func() {
			<-stop
			pprof.StopCPUProfile()
			f.Close()
			srv.Close()
		}()
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	os.Stdout.Sync()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

func handler() http.Handler {
	m := benchmarks.NewManager(benchmarks.Variants[0], nil)
	values := benchmarks.Values(benchmarks.Sizes[0])
	mux := http.NewServeMux()
	mux.Handle("GET /session", m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := m.Session(r)
		if s.IsNew() {
			for k, v := range values {
				s.Set(k, v)
			}
		} else {
			s.Set(benchmarks.CounterKey, s.GetInt(benchmarks.CounterKey)+1)
		}
		write(w, s.GetInt(benchmarks.CounterKey))
	})))
	mux.HandleFunc("GET /plain", func(w http.ResponseWriter, r *http.Request) {
		write(w, 1)
	})
	// The hello-world handler through the middleware, never touching the
	// session: what the middleware costs a route that does not use it.
	mux.Handle("GET /untouched", m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		write(w, 1)
	})))
	// The demo server's counter page (examples/visits, its home handler and
	// template), with its session, and the same page without one.
	mux.Handle("GET /page", m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := m.Session(r)
		s.Set(benchmarks.CounterKey, s.GetInt(benchmarks.CounterKey)+1)
		pages.Render(w, "home", map[string]any{
			"Visits":  s.GetInt(benchmarks.CounterKey),
			"User":    s.GetString("user"),
			"Flashes": s.Flashes(),
		})
	})))
	// The demo's login handler: its session work, then its redirect.
	mux.Handle("POST /login", m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := m.Session(r)
		s.Renew()
		s.Set("user", r.FormValue("user"))
		s.RememberMe(r.FormValue("remember") == "on")
		s.AddFlash("Welcome, " + r.FormValue("user") + ".")
		http.Redirect(w, r, "/page", http.StatusSeeOther)
	})))
	mux.HandleFunc("GET /page-plain", func(w http.ResponseWriter, r *http.Request) {
		pages.Render(w, "home", map[string]any{"Visits": 1, "User": "ada", "Flashes": []string(nil)})
	})
	// The headers /session adds, with none of its work: the Set-Cookie lines
	// of a session sealed once at start, Vary and Cache-Control. It tells the
	// cost of the bytes from the cost of the session.
	s, _ := m.LoadHeader()
	for k, v := range values {
		s.Set(k, v)
	}
	lines, err := m.SetCookies(s)
	if err != nil {
		log.Fatal(err)
	}
	mux.HandleFunc("GET /plain-headers", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Set-Cookie"] = lines
		h["Vary"] = []string{"Cookie"}
		h["Cache-Control"] = []string{"no-store"}
		write(w, 1)
	})
	return mux
}

func write(w http.ResponseWriter, visits int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(strconv.AppendInt([]byte("visits "), int64(visits), 10))
}
