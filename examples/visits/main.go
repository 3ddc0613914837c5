// Command visits is the cookiesession demo server: a visit counter, login and
// logout with Renew and a flash message, a cart that grows past one cookie and
// past the budget, and a page that shows the session's own cookie.
//
//	go run ./examples/visits
//
// then open http://localhost:8080. With no configuration it generates an
// ephemeral key ring (sessions end when it stops) and says so. Give it a ring
// with the COOKIESESSION_KEYS environment variable (a JWK Set) or -keys FILE
// (read again, at most once a second, on the requests after it changes). The
// sessions' counters (loads and saves by outcome, seals by key) are on
// /debug/vars.
//
// /?delay=5s answers the counter five seconds late, to race two tabs by hand
// (see the app package's home handler): the session survives the chunk its
// other tab left behind.
//
// With -https it serves HTTPS with a self-signed certificate made at start
// and turns on device-bound sessions (DBSC): login asks the browser to bind
// the session to its device key. It prints the Chromium command line that
// trusts the certificate and enables DBSC with software keys.
//
// "Log out everywhere else" revokes the logged-in user's other sessions. The
// revocation list lives in memory, or with -revocations FILE in a file that
// the server follows (as every process of a fleet would) and writes.
//
// Over plain HTTP, browsers keep its Secure cookie only from localhost: to
// open it from another host (a VM, Docker, a remote box), listen there with
// -addr and add -https or -insecure. POSTs from another origin are refused
// (http.CrossOriginProtection).
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"

	"expvar"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/examples/visits/app"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "listen address")
	keysFile := flag.String("keys", "", "JWK Set file, re-read when it changes (default: $COOKIESESSION_KEYS, else an ephemeral ring)")
	insecure := flag.Bool("insecure", false, "omit the Secure attribute (for plain-HTTP clients other than browsers on localhost)")
	lifetime := flag.Duration("lifetime", 24*time.Hour, "absolute session lifetime")
	remember := flag.Duration("remember-lifetime", 30*24*time.Hour, "absolute lifetime of sessions logged in with \"remember me\"")
	idle := flag.Duration("idle", 0, "idle timeout (0: none)")
	signed := flag.Bool("signed", false, "sign only (JWS) instead of encrypting")
	budget := flag.Int("header-budget", 0, "Cookie header budget in bytes (0: the default, 8192)")
	name := flag.String("name", "session", "cookie name")
	https := flag.Bool("https", false, "serve HTTPS (self-signed certificate) with device-bound sessions (DBSC); -addr defaults to localhost:8443")
	revFile := flag.String("revocations", "", "revocation list file, followed and written by \"log out everywhere\" (default: a list in memory)")
	flag.Parse()
	var binding *cookiesession.DeviceBinding
	if *https {
		binding = &cookiesession.DeviceBinding{Exclude: []string{"/favicon.ico"}}
		if !isFlagSet("addr") {
			*addr = "localhost:8443"
		}
	}

	keys, err := keySource(*keysFile)
	if err != nil {
		log.Fatal(err)
	}
	revocations, err := revocationSource(*revFile)
	if err != nil {
		log.Fatal(err)
	}
	mode := cookiesession.Encrypted
	if *signed {
		mode = cookiesession.Signed
	}
	counters := new(cookiesession.Counters)
	expvar.Publish("cookiesession", counters) // on /debug/vars
	sessions, err := cookiesession.New(cookiesession.Config{
		Observer:         counters.Observe,
		Name:             *name,
		Keys:             keys,
		Mode:             mode,
		Lifetime:         *lifetime,
		RememberLifetime: *remember,
		IdleTimeout:      *idle,
		Insecure:         *insecure,
		Limits:           cookiesession.Limits{HeaderBudget: *budget},
		Revocations:      revocations,
		DeviceBinding:    binding,
	})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/", sessions.Handler(app.New(sessions)))
	mux.Handle("GET /debug/vars", expvar.Handler())
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	if *https {
		cert, spki, err := selfSigned()
		if err != nil {
			log.Fatal(err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		log.Printf("visits: serving https://%s with device-bound sessions (ring %v); try it in Chromium with\n"+
			"  chromium --enable-features=DeviceBoundSessions,EnableBoundSessionCredentialsSoftwareKeysForManualTesting "+
			"--ignore-certificate-errors-spki-list=%s https://%s/login", *addr, keys.KeyRing(), spki, *addr)
		err = srv.ListenAndServeTLS("", "")
		if err != http.ErrServerClosed {
			log.Fatal(err)
		}
		return
	}
	log.Printf("visits: key ring %v", keys.KeyRing())
	for _, line := range startupNotes(*addr, *insecure) {
		log.Print(line)
	}
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

func isFlagSet(name string) (set bool) {
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// selfSigned makes a certificate for localhost, 127.0.0.1 and ::1, valid for
// a day, and returns it with the base64 SHA-256 of its public key, which
// Chromium's --ignore-certificate-errors-spki-list takes.
func selfSigned() (tls.Certificate, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "cookiesession demo"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, base64.StdEncoding.EncodeToString(sum[:]), nil
}

// keySource returns the ring from a file, the environment, or a new
// ephemeral one, in that order.
func keySource(file string) (cookiesession.KeySource, error) {
	if file != "" {
		return cookiesession.OpenKeyFile(file, &cookiesession.KeyFileOptions{
			OnChange: func(r *cookiesession.KeyRing) { slog.Info("visits: key ring reloaded", "ring", r) },
			OnError: func(err error) {
				slog.Error("visits: key ring file not reloaded, previous ring stays in force", "err", err)
			},
		})
	}
	if _, ok := os.LookupEnv("COOKIESESSION_KEYS"); ok {
		return cookiesession.KeyRingFromEnv("COOKIESESSION_KEYS")
	}
	key, err := cookiesession.GenerateKey("")
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(os.Stderr, "visits: no COOKIESESSION_KEYS and no -keys file: using an ephemeral key ring; sessions end when this process stops.")
	return cookiesession.NewKeyRing(key)
}

// revocationSource returns a revocation list in memory, or one that follows
// file and writes it (created empty when missing).
func revocationSource(file string) (cookiesession.RevocationSource, error) {
	if file == "" {
		return cookiesession.NewRevocations(nil), nil
	}
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(file, []byte(`{"revocations":[]}`+"\n"), 0o644); err != nil {
			return nil, err
		}
	}
	rf, err := cookiesession.OpenRevocationFile(file, &cookiesession.RevocationFileOptions{
		OnChange: func(l *cookiesession.RevocationList) { slog.Info("visits: revocation list reloaded", "list", l) },
	})
	if err != nil {
		return nil, err
	}
	return &fileRevocations{RevocationFile: rf, path: file}, nil
}

// fileRevocations is a followed revocation list file that "log out
// everywhere" writes, as "cookiesession revoke" does: the list read afresh,
// the entry added, the file replaced atomically (a temporary file renamed
// over it), then reloaded at once, so that the response that asked for the
// revocation is sealed under it.
type fileRevocations struct {
	*cookiesession.RevocationFile
	path string
	mu   sync.Mutex // one writer in this process
}

func (f *fileRevocations) Revoke(subject string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := os.ReadFile(f.path)
	if err != nil {
		return err
	}
	list, err := cookiesession.ParseRevocationList(b)
	if err != nil {
		return err
	}
	if list, err = list.Revoke(subject, at); err != nil {
		return err
	}
	if b, err = list.MarshalJSON(); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".revocations-*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.Write(append(b, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return f.Reload()
}

// startupNotes says where the demo is served and, when it listens beyond
// loopback with Secure cookies, that browsers elsewhere need -insecure.
func startupNotes(addr string, insecure bool) []string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return []string{"visits: serving " + addr}
	}
	loopback := host == "localhost" || strings.HasSuffix(host, ".localhost")
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		loopback = true
	}
	if host == "" || host == "0.0.0.0" || host == "::" || loopback {
		host = "localhost"
	}
	notes := []string{"visits: open http://" + net.JoinHostPort(host, port) + "/"}
	if !loopback && !insecure {
		notes = append(notes, "visits: from another machine (a VM, Docker, a remote box) over plain http://, "+
			"browsers drop the Secure session cookie and every visit counts 1: restart with -https (a self-signed certificate) or with -insecure")
	}
	return notes
}
