package main

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// djangoCookie returns a case of the cookies real Django made for the django
// importer's tests: its cookie, secret keys (SECRET_KEY first), timestamp
// and values.
func djangoCookie(t *testing.T, name string) (cookie string, secrets []string, ts int64, values map[string]any) {
	t.Helper()
	data, err := os.ReadFile("../../importers/django/testdata/django-cookies.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Name   string `json:"name"`
			Cookie string `json:"cookie"`
			Config struct {
				SecretKey    string   `json:"secret_key"`
				FallbackKeys []string `json:"fallback_keys"`
			} `json:"config"`
			Timestamp int64          `json:"timestamp"`
			Values    map[string]any `json:"values"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	for _, c := range file.Cases {
		if c.Name == name {
			return c.Cookie, append([]string{c.Config.SecretKey}, c.Config.FallbackKeys...), c.Timestamp, c.Values
		}
	}
	t.Fatalf("no Django case %q", name)
	return
}

type imported struct {
	opened
	ImportedFrom string   `json:"imported_from"`
	Cookies      []string `json:"cookies"`
}

func decodeImported(t *testing.T, out string) imported {
	t.Helper()
	var o imported
	d := json.NewDecoder(strings.NewReader(out))
	d.DisallowUnknownFields()
	if err := d.Decode(&o); err != nil {
		t.Fatalf("import printed %q: %v", out, err)
	}
	return o
}

func unixRFC3339(ts int64) string { return time.Unix(ts, 0).UTC().Format(time.RFC3339) }

func TestImportDjango(t *testing.T) {
	cookie, secrets, ts, values := djangoCookie(t, "store, logged in")
	secret := secrets[0]
	at := unixRFC3339(ts + 60)
	header := "csrftoken=x; sessionid=" + cookie
	args := []string{"import", "--from", "django", "--secret-key", secret, "--now", at}
	for _, stdin := range []bool{false, true} {
		var out string
		if stdin {
			out = ok(t, nil, "Cookie: "+header+"\n", args...)
		} else {
			out = ok(t, nil, "", append(args, header)...)
		}
		o := decodeImported(t, out)
		if o.ImportedFrom != "django" || !reflect.DeepEqual(o.Cookies, []string{"sessionid"}) ||
			o.IssuedAt != unixRFC3339(ts) || o.ExpiresAt != unixRFC3339(ts+14*24*3600) {
			t.Errorf("import = %+v", o)
		}
		if !reflect.DeepEqual(o.Values, values) {
			t.Errorf("values %v, want %v", o.Values, values)
		}
	}

	// What Django refuses exits 1: expired, tampered, another key; absent too.
	fails(t, exitFail, "expired", nil, "", append(args, "--max-age", "59s", header)...)
	fails(t, exitFail, "invalid", nil, "", append(args, strings.Replace(header, "sessionid=.", "sessionid=.x", 1))...)
	fails(t, exitFail, "invalid", nil, "", "import", "--from", "django", "--secret-key", "another", "--now", at, header)
	fails(t, exitFail, "no session of django", nil, "", append(args, "csrftoken=x")...)

	// A rotated key opens with --fallback-key, repeatable.
	old, oldSecrets, oldTS, _ := djangoCookie(t, "SECRET_KEY_FALLBACKS")
	rotated := []string{"import", "--from", "django", "--secret-key", oldSecrets[0], "--now", unixRFC3339(oldTS), "sessionid=" + old}
	fails(t, exitFail, "signature does not match", nil, "", rotated...)
	out := ok(t, nil, "", append(rotated, "--fallback-key", "unrelated", "--fallback-key", oldSecrets[1])...)
	if decodeImported(t, out).ImportedFrom != "django" {
		t.Errorf("fallback: %s", out)
	}
}

func TestImportCookiesession(t *testing.T) {
	keys := keygen(t, t.TempDir(), "k1")
	cookie := strings.TrimSpace(ok(t, nil, values, "seal", "--name", "old", "--keys", keys, "--signed", "--now", t0))
	out := ok(t, nil, "", "import", "--from", "cookiesession", "--name", "old", "--signed", "--keys", keys,
		"--now", "2026-03-01T11:00:00Z", "a=1; "+cookie)
	o := decodeImported(t, out)
	if o.ImportedFrom != "cookiesession" || o.KeyID != "k1" || o.Mode != "signed" || o.IssuedAt != t0 ||
		o.ExpiresAt != "2026-03-02T10:00:00Z" || len(o.ID) != 22 || !reflect.DeepEqual(o.Cookies, []string{"old"}) {
		t.Errorf("import = %+v", o)
	}
	if want := jsonValue(t, values); !reflect.DeepEqual(o.Values, want) {
		t.Errorf("values = %v, want %v", o.Values, want)
	}
	fails(t, exitFail, "invalid", nil, "", "import", "--from", "cookiesession", "--name", "old", "--keys", keys, cookie)
	fails(t, exitFail, "expired", nil, "", "import", "--from", "cookiesession", "--name", "old", "--signed", "--keys", keys,
		"--now", "2026-03-03T10:00:00Z", cookie)
	fails(t, exitFail, "no session of cookiesession", nil, "", "import", "--from", "cookiesession", "--name", "new", "--keys", keys, cookie)
}

func TestImportUsage(t *testing.T) {
	for _, tc := range []struct {
		want string
		args []string
	}{
		{"missing --from", []string{"import", "sessionid=x"}},
		{"missing --from", []string{"import", "--secret-key", "k", "sessionid=x"}},
		{`unknown --from "rails"`, []string{"import", "--from", "rails", "x=1"}},
		{"missing --secret-key", []string{"import", "--from", "django", "sessionid=x"}},
		{"unknown flag --secret-key", []string{"import", "--from", "cookiesession", "--name", "s", "--secret-key", "k", "s=1"}},
		{"missing --name", []string{"import", "--from=cookiesession", "s=1"}},
		{"--from given twice", []string{"import", "--from", "django", "--from", "cookiesession", "--secret-key", "k", "s=1"}},
		{`invalid value "soon" for --max-age`, []string{"import", "--from", "django", "--secret-key", "k", "--max-age", "soon", "s=1"}},
		{"no Cookie header", []string{"import", "--from", "django", "--secret-key", "k"}},
	} {
		fails(t, exitUsage, tc.want, nil, "", tc.args...)
	}
	help := ok(t, nil, "", "import", "--from", "django", "-h")
	for _, f := range []string{"--secret-key", "--fallback-key", "--max-age", "--salt", "--legacy-sha1", "--from", "--now"} {
		if !strings.Contains(help, f) {
			t.Errorf("import --from django -h does not list %s:\n%s", f, help)
		}
	}
	if general := ok(t, nil, "", "help", "import"); !strings.Contains(general, "django") || !strings.Contains(general, "cookiesession") {
		t.Errorf("help import does not list the sources:\n%s", general)
	}
}

// gorillaCase is a cookie the real gorilla made for the gorilla importer's
// tests (importers/gorilla/interop writes them).
type gorillaCase struct {
	Name       string         `json:"name"`
	Cookie     string         `json:"cookie"`
	CookieName string         `json:"cookie_name"`
	KeyPairs   [][]string     `json:"key_pairs"`
	Serializer string         `json:"serializer"`
	Timestamp  int64          `json:"timestamp"`
	Values     map[string]any `json:"values"`
	Refusal    string         `json:"refusal"`
}

func gorillaCases(t *testing.T) []gorillaCase {
	t.Helper()
	data, err := os.ReadFile("../../importers/gorilla/testdata/gorilla-cookies.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Cases []gorillaCase }
	if err := json.Unmarshal(data, &file); err != nil || len(file.Cases) == 0 {
		t.Fatalf("gorilla cases: %v", err)
	}
	return file.Cases
}

func TestImportGorilla(t *testing.T) {
	for _, c := range gorillaCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			args := []string{"import", "--from", "gorilla", "--name", c.CookieName, "--serializer", c.Serializer}
			for _, p := range c.KeyPairs {
				args = append(args, "--hash-key-hex", p[0])
				if len(p) > 1 {
					args = append(args, "--block-key-hex", p[1])
				}
			}
			header := "a=1; " + c.CookieName + "=" + c.Cookie
			at := append(args, "--now", unixRFC3339(c.Timestamp+60))
			if c.Refusal != "" {
				// The tool has none of the application's types.
				fails(t, exitFail, c.Refusal, nil, "", append(at, header)...)
				return
			}
			o := decodeImported(t, ok(t, nil, "", append(at, header)...))
			if o.ImportedFrom != "gorilla" || !reflect.DeepEqual(o.Cookies, []string{c.CookieName}) ||
				o.IssuedAt != unixRFC3339(c.Timestamp) || o.ExpiresAt != unixRFC3339(c.Timestamp+30*24*3600+1) {
				t.Errorf("import = %+v", o)
			}
			if !reflect.DeepEqual(o.Values, c.Values) {
				t.Errorf("values %v, want %v", o.Values, c.Values)
			}
			// What gorilla refuses exits 1: past MaxAge, tampered, another key.
			fails(t, exitFail, "expired", nil, "", append(at, "--max-age", "59s", header)...)
			fails(t, exitFail, "invalid", nil, "", append(at, strings.Replace(header, "=M", "=N", 1))...)
			fails(t, exitFail, "authentication failed", nil, "", "import", "--from", "gorilla", "--name", c.CookieName,
				"--hash-key-hex", "00ff", "--serializer", c.Serializer, header)
			fails(t, exitFail, "no session of gorilla", nil, "", append(at, "other="+c.Cookie)...)
			// --max-age 0 is gorilla's MaxAge(0): no limit, no expiry.
			far := append(args, "--now", unixRFC3339(c.Timestamp+400*24*3600), "--max-age", "0", header)
			if o := decodeImported(t, ok(t, nil, "", far...)); o.ExpiresAt != "" {
				t.Errorf("expires at %q without MaxAge", o.ExpiresAt)
			}
		})
	}
}

func TestImportGorillaUsage(t *testing.T) {
	for _, tc := range []struct {
		want string
		args []string
	}{
		{"missing --name", []string{"--hash-key-hex", "00"}},
		{"missing --hash-key-hex", []string{"--name", "app"}},
		{"follows the --hash-key-hex of its pair", []string{"--name", "app", "--block-key-hex", "00", "--hash-key-hex", "00"}},
		{"follows the --hash-key-hex of its pair", []string{"--name", "app", "--hash-key-hex", "00", "--block-key-hex", "00", "--block-key-hex", "00"}},
		{"want a key in hex", []string{"--name", "app", "--hash-key-hex", "xyz"}},
		{`unknown --serializer "xml"`, []string{"--name", "app", "--hash-key-hex", "00", "--serializer", "xml"}},
		{"not 16, 24 or 32", []string{"--name", "app", "--hash-key-hex", "00", "--block-key-hex", "0011"}},
	} {
		fails(t, exitUsage, tc.want, nil, "", append(append([]string{"import", "--from", "gorilla"}, tc.args...), "app=x")...)
	}
	help := ok(t, nil, "", "import", "--from", "gorilla", "-h")
	for _, f := range []string{"--name", "--hash-key-hex", "--block-key-hex", "--max-age", "--serializer"} {
		if !strings.Contains(help, f) {
			t.Errorf("import --from gorilla -h does not list %s:\n%s", f, help)
		}
	}
}
