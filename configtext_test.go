package cookiesession

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestConfigErrorsReadDurations: configuration errors write durations as a
// person would ("400 days", not 9600h0m0s).
func TestConfigErrorsReadDurations(t *testing.T) {
	ring := e2eRing(t, "A")
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Lifetime: MaxLifetime + 24*time.Hour}, "Lifetime 401 days is outside 1 second..400 days"},
		{Config{Lifetime: 500 * time.Millisecond}, "Lifetime 500ms is outside 1 second..400 days"},
		{Config{Lifetime: 36 * time.Hour, IdleTimeout: 48 * time.Hour}, "IdleTimeout 2 days is outside 0..Lifetime (36 hours)"},
		{Config{IdleTimeout: 1500*time.Millisecond - time.Second}, "IdleTimeout 500ms is under one second"},
		{Config{IdleTimeout: 90 * time.Minute, TouchInterval: 2 * time.Hour}, "TouchInterval 2 hours is outside 0..IdleTimeout (90 minutes)"},
		{Config{Limits: Limits{ClockSkew: 11 * time.Minute}}, "ClockSkew 11 minutes is over the maximum 10 minutes"},
		{Config{RememberLifetime: 9601 * time.Hour}, "RememberLifetime 9601 hours is outside 1 second..400 days"},
		{Config{DeviceBinding: &DeviceBinding{CookieLifetime: 48 * time.Hour}}, "DeviceBinding.CookieLifetime 2 days is outside 10 seconds..1 hour"},
		{Config{DeviceBinding: &DeviceBinding{ChallengeLifetime: 5 * time.Second}}, "DeviceBinding.ChallengeLifetime 5 seconds is outside 10 seconds..10 minutes"},
	} {
		c.cfg.Keys = ring
		_, err := New(c.cfg)
		if !errors.Is(err, ErrConfig) || !strings.HasSuffix(err.Error(), ": "+c.want) {
			t.Errorf("New(%+v): %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestDurationText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		MaxLifetime:                           "400 days",
		24 * time.Hour:                        "1 day",
		25 * time.Hour:                        "25 hours",
		time.Minute:                           "1 minute",
		30 * time.Second:                      "30 seconds",
		-2 * time.Second:                      "-2 seconds",
		1500 * time.Millisecond:               "1.5s",
		0:                                     "0s",
		24*time.Hour + 30*time.Second:         "86430 seconds",
		90*time.Minute + 500*time.Millisecond: "1h30m0.5s",
	} {
		if got := durationText(d); got != want {
			t.Errorf("durationText(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestKeyRingFromEnvEmpty: an empty variable (a command substitution that
// failed) is not reported as unset.
func TestKeyRingFromEnvEmpty(t *testing.T) {
	const name = "COOKIESESSION_TEST_KEYS"
	t.Setenv(name, "")
	if _, err := KeyRingFromEnv(name); !errors.Is(err, ErrConfig) || !strings.HasSuffix(err.Error(), name+" is empty") {
		t.Errorf("empty: %v", err)
	}
	t.Setenv(name, " \n")
	if _, err := KeyRingFromEnv(name); !errors.Is(err, ErrConfig) || !strings.HasSuffix(err.Error(), name+" is empty") {
		t.Errorf("blank: %v", err)
	}
	if _, err := KeyRingFromEnv(name + "_UNSET"); !errors.Is(err, ErrConfig) || !strings.HasSuffix(err.Error(), "_UNSET is not set") {
		t.Errorf("unset: %v", err)
	}
}
