package benchmarks

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// A peer is one implementation of the three operations benchmarked by
// BenchmarkSeal, BenchmarkOpen and BenchmarkRequest. A "cookie" is what the
// implementation reads back: the Cookie header for cookiesession (several
// chunks for 10KB), the cookie value for the others.
type peer struct {
	impl string
	// seal turns fresh values into a cookie.
	seal func(v map[string]any) (string, error)
	// open reads a cookie back into something the application can read.
	open func(cookie string) error
	// request is one request: open, read CounterKey, change it, seal.
	request func(cookie string) (string, error)
	// counter reads CounterKey, to check the others.
	counter func(cookie string) (int, error)
	// setCookieBytes, when not nil, returns the bytes of the Set-Cookie
	// lines a request on cookie writes.
	setCookieBytes func(cookie string) int
}

func peers() []peer {
	var ps []peer
	for _, v := range Variants {
		ps = append(ps, cookiesessionPeer(v))
	}
	ps = append(ps,
		securecookiePeer("securecookie-json", securecookie.JSONEncoder{}),
		securecookiePeer("securecookie-gob", securecookie.GobEncoder{}),
		securecookieTypedPeer(),
		floorPeer(),
	)
	return ps
}

// cookiesessionPeer uses the public API an application uses: Set of each
// value and SetCookies to seal; LoadHeader to open (values are checked but
// decoded only when read); LoadHeader, GetInt, Set and SetCookies for a
// request.
func cookiesessionPeer(variant Variant) peer {
	m := NewManager(variant, nil)
	seal := func(v map[string]any) (string, error) {
		s, _ := m.LoadHeader()
		for k, x := range v {
			if err := s.Set(k, x); err != nil {
				return "", err
			}
		}
		lines, err := m.SetCookies(s)
		return CookieHeader(lines), err
	}
	return peer{
		impl: variant.Impl,
		seal: seal,
		open: func(cookie string) error {
			_, err := m.LoadHeader(cookie)
			return err
		},
		request: func(cookie string) (string, error) {
			s, err := m.LoadHeader(cookie)
			if err != nil {
				return "", err
			}
			s.Set(CounterKey, s.GetInt(CounterKey)+1)
			lines, err := m.SetCookies(s)
			if err != nil {
				return "", err
			}
			// A real response carries the lines; the browser's next Cookie
			// header is built from them outside the measured work.
			return lines[0], nil
		},
		counter: func(cookie string) (int, error) {
			s, err := m.LoadHeader(cookie)
			return s.GetInt(CounterKey), err
		},
		setCookieBytes: func(cookie string) int {
			s, _ := m.LoadHeader(cookie)
			s.Set(CounterKey, s.GetInt(CounterKey)+1)
			lines, _ := m.SetCookies(s)
			n := 0
			for _, l := range lines {
				n += len(l)
			}
			return n
		},
	}
}

// securecookiePeer is gorilla/securecookie with AES-256 (CTR) and
// HMAC-SHA256, the configuration its documentation recommends, MaxLength
// raised so the 10KB session fits in one value.
func securecookiePeer(impl string, enc securecookie.Serializer) peer {
	sc := securecookie.New(Secret32("hash"), Secret32("block")).SetSerializer(enc).MaxLength(1 << 16)
	open := func(cookie string) (map[string]any, error) {
		var v map[string]any
		return v, sc.Decode(CookieName, cookie, &v)
	}
	return peer{
		impl: impl,
		seal: func(v map[string]any) (string, error) { return sc.Encode(CookieName, v) },
		open: func(cookie string) error { _, err := open(cookie); return err },
		request: func(cookie string) (string, error) {
			v, err := open(cookie)
			if err != nil {
				return "", err
			}
			v[CounterKey] = counterOf(v[CounterKey]) + 1
			return sc.Encode(CookieName, v)
		},
		counter: func(cookie string) (int, error) {
			v, err := open(cookie)
			return counterOf(v[CounterKey]), err
		},
	}
}

func floorPeer() peer {
	f := newFloor()
	return peer{
		impl: "floor",
		seal: f.seal,
		open: func(cookie string) error { _, err := f.open(cookie); return err },
		request: func(cookie string) (string, error) {
			v, err := f.open(cookie)
			if err != nil {
				return "", err
			}
			v[CounterKey] = counterOf(v[CounterKey]) + 1
			return f.seal(v)
		},
		counter: func(cookie string) (int, error) {
			v, err := f.open(cookie)
			return counterOf(v[CounterKey]), err
		},
	}
}

// counterOf reads a counter decoded by encoding/json (float64) or gob (int).
func counterOf(x any) int {
	switch x := x.(type) {
	case int:
		return x
	case float64:
		return int(x)
	}
	return 0
}

// forPeers runs f for every size and peer, named size=…/impl=…, after
// checking that the peer's cookie round-trips.
func forPeers(b *testing.B, f func(b *testing.B, p peer, cookie string)) {
	for _, sz := range Sizes {
		values := Values(sz)
		for _, p := range peers() {
			cookie, err := p.seal(values)
			if err != nil {
				b.Fatalf("%s %s: seal: %v", p.impl, sz.Name, err)
			}
			checkRequest(b, p, cookie)
			b.Run("size="+sz.Name+"/impl="+p.impl, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(JSONSize(values)))
				withCPUTime(b, func() { f(b, p, cookie) })
			})
		}
	}
}

// checkRequest checks that a request of p on cookie gives a cookie whose
// counter went up by one.
func checkRequest(b testing.TB, p peer, cookie string) {
	b.Helper()
	before, err := p.counter(cookie)
	if err != nil || before != 1 {
		b.Fatalf("%s: counter %d, %v", p.impl, before, err)
	}
	out, err := p.request(cookie)
	if err != nil {
		b.Fatalf("%s: request: %v", p.impl, err)
	}
	if p.impl == "cookiesession" || strings.HasPrefix(p.impl, "cookiesession-") {
		out = CookieHeader([]string{out}) // the first line is enough for the check below
		if strings.Contains(out, "~") {
			return // chunked: one line does not open alone
		}
	}
	if after, err := p.counter(out); err != nil || after != 2 {
		b.Fatalf("%s: counter after a request %d, %v", p.impl, after, err)
	}
}

// BenchmarkSeal turns fresh values into a cookie.
func BenchmarkSeal(b *testing.B) {
	for _, sz := range Sizes {
		values := Values(sz)
		for _, p := range peers() {
			b.Run("size="+sz.Name+"/impl="+p.impl, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(JSONSize(values)))
				for b.Loop() {
					if _, err := p.seal(values); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkOpen reads a cookie back.
func BenchmarkOpen(b *testing.B) {
	forPeers(b, func(b *testing.B, p peer, cookie string) {
		for b.Loop() {
			if err := p.open(cookie); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRequest is what one request does with its session: open it, read
// one value, change one value, seal it. For cookiesession it also reports the
// bytes of the Set-Cookie lines of one request ("setcookie-B/op"), against
// which cmd/ratios judges the bytes allocated.
func BenchmarkRequest(b *testing.B) {
	forPeers(b, func(b *testing.B, p peer, cookie string) {
		for b.Loop() {
			if _, err := p.request(cookie); err != nil {
				b.Fatal(err)
			}
		}
		if p.setCookieBytes != nil {
			b.ReportMetric(float64(p.setCookieBytes(cookie)), "setcookie-B/op")
		}
	})
}

// BenchmarkCodec is the codec alone, with no JSON work: Codec.Seal and
// Codec.Open of a prepared *Payload whose values are raw JSON already, against
// the "crypto only" floor (AES-256-GCM and base64url of the very bytes the
// codec seals). impl=cookiesession-compressed against impl=cookiesession at
// op=seal is the cost of compression.
func BenchmarkCodec(b *testing.B) {
	now := time.Now()
	for _, op := range []string{"seal", "open", "roundtrip"} {
		for _, sz := range Sizes {
			values := Values(sz)
			p := preparedPayload(b, values, now)
			plaintext := payloadBytes(b, p)
			for _, v := range Variants {
				c := newCodec(b, v)
				sealed, err := c.Seal(p)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := c.Open(sealed, now); err != nil {
					b.Fatal(err)
				}
				b.Run("op="+op+"/size="+sz.Name+"/impl="+v.Impl, func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(int64(len(plaintext)))
					for b.Loop() {
						if op != "open" {
							if sealed, err = c.Seal(p); err != nil {
								b.Fatal(err)
							}
						}
						if op != "seal" {
							if _, _, err := c.Open(sealed, now); err != nil {
								b.Fatal(err)
							}
						}
					}
				})
			}
			f := newFloor()
			sealed := f.sealBytes(plaintext)
			b.Run("op="+op+"/size="+sz.Name+"/impl=crypto-floor", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(plaintext)))
				for b.Loop() {
					if op != "open" {
						sealed = f.sealBytes(plaintext)
					}
					if op != "seal" {
						if _, err := f.openBytes(sealed); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

func newCodec(b *testing.B, v Variant) *cookiesession.Codec {
	c, err := cookiesession.NewCodec(cookiesession.CodecConfig{
		Name: CookieName, Keys: Keys(), Mode: v.Mode, Compress: v.Compress, Limits: Limits,
	})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func preparedPayload(b *testing.B, values map[string]any, now time.Time) *cookiesession.Payload {
	raw := make(map[string]json.RawMessage, len(values))
	for k, v := range values {
		j, err := json.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		raw[k] = j
	}
	iat := now.Add(-time.Minute).Truncate(time.Second)
	return &cookiesession.Payload{
		ID:           "n2b0Q1kqVQpXbZ0hGmB6Yw",
		IssuedAt:     iat,
		LastActivity: iat,
		Expiry:       iat.Add(time.Hour),
		Values:       raw,
	}
}

// payloadBytes returns the exact JSON the codec seals for p: the payload
// segment of a signed (readable) value.
func payloadBytes(b *testing.B, p *cookiesession.Payload) []byte {
	signed, err := newCodec(b, Variant{Mode: cookiesession.Signed}).Seal(p)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := b64.DecodeString(strings.Split(signed, ".")[1])
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkTwoRequests is two full httptest requests through the
// middleware: the first creates a session holding the values, the second
// sends its cookie back and reads one value. cookiesession (Manager.Handler)
// against gorilla/sessions' CookieStore (gob, AES-256 + HMAC-SHA256, through
// its request registry).
func BenchmarkTwoRequests(b *testing.B) {
	for _, sz := range Sizes {
		values := Values(sz)
		for _, impl := range []string{"cookiesession", "gorilla-sessions"} {
			var h http.Handler
			if impl == "cookiesession" {
				h = cookiesessionHandler(values)
			} else {
				h = gorillaHandler(values)
			}
			if got := twoRequests(h); got != "1" {
				b.Fatalf("%s %s: second request read %q", impl, sz.Name, got)
			}
			b.Run("size="+sz.Name+"/impl="+impl, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(JSONSize(values)))
				for b.Loop() {
					twoRequests(h)
				}
			})
		}
	}
}

// twoRequests runs GET /new, then GET /read with the cookies /new set, and
// returns the body of /read.
func twoRequests(h http.Handler) string {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/new", nil))
	req := httptest.NewRequest("GET", "/read", nil)
	req.Header.Set("Cookie", CookieHeaderOf(rec.Header()))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Body.String()
}

func cookiesessionHandler(values map[string]any) http.Handler {
	m := NewManager(Variants[0], nil)
	return m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := m.Session(r)
		if r.URL.Path == "/new" {
			for k, v := range values {
				s.Set(k, v)
			}
			io.WriteString(w, "ok")
			return
		}
		w.Write(strconv.AppendInt(nil, int64(s.GetInt(CounterKey)), 10))
	}))
}

func gorillaHandler(values map[string]any) http.Handler {
	store := sessions.NewCookieStore(Secret32("hash"), Secret32("block"))
	store.Options.SameSite = http.SameSiteLaxMode
	store.Options.HttpOnly = true
	for _, c := range store.Codecs {
		c.(*securecookie.SecureCookie).MaxLength(1 << 16)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, CookieName)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		if r.URL.Path == "/new" {
			for k, v := range values {
				s.Values[k] = v
			}
			if err := s.Save(r, w); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			io.WriteString(w, "ok")
			return
		}
		n, _ := s.Values[CounterKey].(int)
		w.Write(strconv.AppendInt(nil, int64(n), 10))
	})
}

// BenchmarkUntouched is a full httptest request carrying a session cookie to
// a handler that never calls Session: through Manager.Handler against the
// bare handler. The middleware should cost next to nothing.
func BenchmarkUntouched(b *testing.B) {
	values := Values(Sizes[0])
	m := NewManager(Variants[0], nil)
	s, _ := m.LoadHeader()
	for k, v := range values {
		s.Set(k, v)
	}
	lines, err := m.SetCookies(s)
	if err != nil {
		b.Fatal(err)
	}
	cookie := CookieHeader(lines)
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	for _, impl := range []string{"bare", "cookiesession"} {
		var h http.Handler = bare
		if impl == "cookiesession" {
			h = m.Handler(bare)
		}
		b.Run("impl="+impl, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", "/", nil)
				req.Header.Set("Cookie", cookie)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 || len(rec.Header()["Set-Cookie"]) != 0 {
					b.Fatal(fmt.Sprint("unexpected response ", rec.Code, rec.Header()))
				}
			}
		})
	}
}
