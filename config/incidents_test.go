package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestIncidentSettingsFileThenEnvironment(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte("brute_force: {n: 20}\nincidents:\n  gap: 2h\n  settle: 10s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{EnvIncidentSettle: "45s", EnvIncidentClosingSummary: "true"}
	s, err := incidentSettings(file, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if s.Gap != 2*time.Hour || s.Settle != 45*time.Second || s.BackfillAfter != time.Hour || !s.ClosingSummary {
		t.Fatalf("settings %+v", s)
	}
	env[EnvIncidentGap] = "10s"
	if _, err := incidentSettings(file, func(k string) string { return env[k] }); err == nil {
		t.Fatal("a 10 s gap accepted")
	}
	env[EnvIncidentGap] = "soon"
	if _, err := incidentSettings("", func(k string) string { return env[k] }); err == nil {
		t.Fatal("INCIDENT_GAP=soon accepted")
	}
}
