package cookiesessionotel_test

import (
	"log"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/cookiesessionotel"
)

// The observer on the global MeterProvider (set up by the application's
// OpenTelemetry SDK and exporter).
func ExampleNew() {
	keys, err := cookiesession.KeyRingFromEnv("COOKIESESSION_KEYS")
	if err != nil {
		log.Print(err)
		return
	}
	obs, err := cookiesessionotel.New(nil) // the global MeterProvider
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := cookiesession.New(cookiesession.Config{Keys: keys, Observer: obs.Observe})
	if err != nil {
		log.Fatal(err)
	}
	_ = sessions
}
