package cookiesession_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/cookiesession/cookiesession"
)

// Device-bound sessions: the login asks the browser to bind the session to a
// device key; a browser with DBSC answers at the registration path.
func ExampleDeviceBinding() {
	keys := exampleRing
	sessions, err := cookiesession.New(cookiesession.Config{
		Name:          "__Host-session",
		Keys:          keys,
		DeviceBinding: &cookiesession.DeviceBinding{Exclude: []string{"/static"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	login := func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Session(r)
		s.Renew()
		s.Set("user", r.FormValue("user"))
		s.BindDevice()
	}
	handler := sessions.Handler(http.HandlerFunc(login))

	req := httptest.NewRequest("POST", "https://example.com/login?user=ada", nil)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	reg := rec.Header().Get("Secure-Session-Registration")
	fmt.Println(reg[:strings.Index(reg, "challenge=")])
	// Output: (ES256 RS256);path="/.cookiesession/dbsc/register";
}
