// Command node is the server of the fleet drill (see the fleet package): a
// small cookiesession application whose key ring follows its own JWK Set file
// with [cookiesession.OpenKeyFile], and whose clock can be shifted to
// simulate a machine whose time is off.
//
//	node -addr 127.0.0.1:0 -keys ring.json -insecure -lifetime 6s -clock-offset 3s
//
// It listens on loopback only and writes "listening ADDR" to stderr once it
// accepts connections. Endpoints:
//
//	GET /            counts a visit: {"node","id","new","visits","kid","primary","issued_at","subject","load_error"}
//	GET /login?user=U  renews the session, sets its subject to U, counts a visit
//	GET /api/session the session as the request sent it, without changing it
//	GET /api/ring    the key ring in force: {"node","primary","ids"}
//	GET /healthz     "ok", without touching the session
//
// "new" is true when the request carried no cookie that opened (load_error
// then says why); "kid" is the key that opened it. Rejected cookies are logged
// by the library's default ErrorLog; a key file that does not parse is logged
// by the library's default KeyFileOptions.OnError.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cookiesession/cookiesession"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	keysFile := flag.String("keys", "", "JWK Set file, followed as it changes (required)")
	interval := flag.Duration("interval", 200*time.Millisecond, "re-read the key file at most this often")
	lifetime := flag.Duration("lifetime", 24*time.Hour, "absolute session lifetime")
	skew := flag.Duration("skew", 0, "clock-skew allowance, Limits.ClockSkew (0: the library's default)")
	offset := flag.Duration("clock-offset", 0, "added to this process's session clock (Config.Now), to simulate a clock that is off")
	insecure := flag.Bool("insecure", false, "omit the Secure attribute, for plain-HTTP clients")
	name := flag.String("name", "node", "this node's name in responses")
	dieAfter := flag.Duration("die-after", 0, "exit after this long (0: never), a safety net for drills")
	revFile := flag.String("revocations", "", "revocation list file, followed as it changes, re-read at most every -interval (default: none)")
	flag.Parse()
	log.SetPrefix(*name + " ")

	if *keysFile == "" {
		log.Fatal("-keys FILE is required")
	}
	if host, _, err := net.SplitHostPort(*addr); err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("-addr %q: only loopback addresses (127.0.0.1:PORT)", *addr)
	}
	keys, err := cookiesession.OpenKeyFile(*keysFile, &cookiesession.KeyFileOptions{
		Interval: *interval,
		// OnError is left to the library's default, which logs why the file was
		// not put in force: the drill checks that message.
		OnChange: func(r *cookiesession.KeyRing) { slog.Info("fleet node: key ring reloaded", "ring", r) },
	})
	if err != nil {
		log.Fatal(err)
	}
	cfg := cookiesession.Config{
		Keys:     keys,
		Lifetime: *lifetime,
		Insecure: *insecure,
		Limits:   cookiesession.Limits{ClockSkew: *skew},
	}
	if *revFile != "" {
		revs, err := cookiesession.OpenRevocationFile(*revFile, &cookiesession.RevocationFileOptions{
			Interval: *interval,
			OnChange: func(l *cookiesession.RevocationList) { slog.Info("fleet node: revocation list reloaded", "list", l) },
		})
		if err != nil {
			log.Fatal(err)
		}
		cfg.Revocations = revs
	}
	if *offset != 0 {
		off := *offset
		cfg.Now = func() time.Time { return time.Now().Add(off) }
	}
	sessions, err := cookiesession.New(cfg)
	if err != nil {
		log.Fatal(err)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Handler:           sessions.Handler(routes(*name, sessions, keys)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *dieAfter > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *dieAfter)
		defer cancel()
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Printf("listening %s ring=%v lifetime=%v skew=%v clock-offset=%v", ln.Addr(), keys.KeyRing(), *lifetime, sessions.Config().Limits.ClockSkew, *offset)
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

// report is what the node says about a request's session.
type report struct {
	Node      string                     `json:"node"`
	ID        string                     `json:"id"`
	New       bool                       `json:"new"`
	Visits    int                        `json:"visits"`
	KeyID     string                     `json:"kid"`
	Primary   bool                       `json:"primary"`
	IssuedAt  string                     `json:"issued_at"`
	Subject   string                     `json:"subject,omitempty"`
	LoadError string                     `json:"load_error"`
	Values    map[string]json.RawMessage `json:"values,omitempty"`
}

func routes(node string, sessions *cookiesession.Manager, keys cookiesession.KeySource) http.Handler {
	mux := http.NewServeMux()
	describe := func(s *cookiesession.Session) report {
		info := s.Info()
		rep := report{Node: node, New: s.IsNew(), KeyID: info.KeyID, Primary: info.Primary}
		if err := s.LoadError(); err != nil {
			rep.LoadError = err.Error()
		}
		return rep
	}
	finish := func(rep *report, s *cookiesession.Session) {
		rep.ID, rep.Visits, rep.Subject = s.ID(), s.GetInt("visits"), s.Subject()
		if t := s.IssuedAt(); !t.IsZero() {
			rep.IssuedAt = t.UTC().Format(time.RFC3339)
		}
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Session(r)
		rep := describe(s) // as loaded, before the visit is counted
		s.Set("visits", s.GetInt("visits")+1)
		if err := s.Save(); err != nil { // seal now, so a new session has its id
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		finish(&rep, s)
		writeJSON(w, rep)
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Session(r)
		rep := describe(s)
		s.Renew()
		if err := s.SetSubject(r.URL.Query().Get("user")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.Set("visits", s.GetInt("visits")+1)
		if err := s.Save(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		finish(&rep, s)
		writeJSON(w, rep)
	})
	mux.HandleFunc("GET /api/session", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Session(r)
		rep := describe(s)
		finish(&rep, s)
		rep.Values = map[string]json.RawMessage{}
		for _, k := range s.Keys() {
			rep.Values[k] = s.Raw(k)
		}
		writeJSON(w, rep)
	})
	mux.HandleFunc("GET /api/ring", func(w http.ResponseWriter, r *http.Request) {
		ring := keys.KeyRing()
		writeJSON(w, map[string]any{"node": node, "primary": ring.Primary(), "ids": ring.IDs()})
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
