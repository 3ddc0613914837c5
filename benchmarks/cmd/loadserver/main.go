// Command loadserver is the server scripts/load.sh measures with wrk. It
// listens on loopback only and serves two routes that write the same body:
//
//	GET /session  through Manager.Handler: opens the session cookie, reads the
//	              visit counter, writes it back incremented (a Set-Cookie on
//	              every response). A request without a valid cookie gets a
//	              new ~200 B session (the benchmarks' small payload).
//	GET /plain    the same handler without sessions.
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
	return mux
}

func write(w http.ResponseWriter, visits int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(strconv.AppendInt([]byte("visits "), int64(visits), 10))
}
