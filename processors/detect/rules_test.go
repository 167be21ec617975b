package detect

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
)

func TestDefaultRulesValid(t *testing.T) {
	r := DefaultRules()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, name := range contracts.RuleNames {
		if !r.Enabled(name) {
			t.Errorf("%s disabled by default", name)
		}
	}
	if r.BruteForce.N != 10 || r.BruteForce.Window != 5*time.Minute || r.SlowBruteForce.N != 30 ||
		r.UserEnumeration.N != 5 || r.PasswordSpraying.Users != 10 || r.PasswordSpraying.Failures != 30 ||
		r.DistributedAttack.IPs != 5 || r.DistributedAttack.Failures != 20 || r.Compromise.N != 5 ||
		r.Compromise.Window != 24*time.Hour || r.RootAttempts.N != 5 || r.Cooldown != time.Hour {
		t.Errorf("defaults differ from docs/contracts.md: %+v", r)
	}
}

func TestParseRules(t *testing.T) {
	y := `
brute_force: {n: 8, window: 2m}
user_enumeration:
  disabled: true
password_spraying: {users: 12}
cooldown: 30m
lateness: 90s
`
	r, err := ParseRules([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultRules()
	want.BruteForce = Threshold{N: 8, Window: 2 * time.Minute}
	want.UserEnumeration.Disabled = true
	want.PasswordSpraying.Users = 12
	want.Cooldown = 30 * time.Minute
	want.Lateness = 90 * time.Second
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got %+v\nwant %+v", r, want)
	}

	j := `{"slow_brute_force": {"n": 40, "window": "48h"}, "max_escalations": 2, "escalation_factor": 4}`
	r, err = ParseRules([]byte(j))
	if err != nil {
		t.Fatal(err)
	}
	if r.SlowBruteForce.N != 40 || r.SlowBruteForce.Window != 48*time.Hour || r.MaxEscalations != 2 || r.EscalationFactor != 4 {
		t.Errorf("JSON: %+v", r)
	}

	if r, err := ParseRules(nil); err != nil || !reflect.DeepEqual(r, DefaultRules()) {
		t.Errorf("empty: %v %+v", err, r)
	}

	for _, bad := range []string{
		"brute_force: {n: 0}",
		"brute_force: {window: 0s}",
		"brute_force: {nn: 3}",
		"cooldown: -1h",
		"lateness: 48h",
		"escalation_factor: 1",
		"password_spraying: {users: 100000}",
		"brute_force: {window: five}",
	} {
		if _, err := ParseRules([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// a disabled rule is not checked
	if _, err := ParseRules([]byte("root_attempts: {disabled: true, n: 0}")); err != nil {
		t.Error(err)
	}
}

func TestLoadRules(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(p, []byte("root_attempts: {n: 3, window: 1m}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := LoadRules(p)
	if err != nil || r.RootAttempts.N != 3 || r.RootAttempts.Window != time.Minute {
		t.Fatalf("%v %+v", err, r)
	}
	if _, err := LoadRules(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file accepted")
	}
	if err := os.WriteFile(p, []byte("bogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadRules(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("error %v should name the file", err)
	}
}

func TestRegisterFlags(t *testing.T) {
	r := DefaultRules()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	r.RegisterFlags(fs)
	if err := fs.Parse([]string{"-detect.brute_force.n=12", "-detect.password_spraying.window=7m", "-detect.cooldown=2h", "-detect.root_attempts.disabled"}); err != nil {
		t.Fatal(err)
	}
	if r.BruteForce.N != 12 || r.PasswordSpraying.Window != 7*time.Minute || r.Cooldown != 2*time.Hour || !r.RootAttempts.Disabled {
		t.Errorf("%+v", r)
	}
	if err := r.Validate(); err != nil {
		t.Error(err)
	}
}
