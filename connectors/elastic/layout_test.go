package elastic

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
)

func TestLayoutNames(t *testing.T) {
	ts := time.Date(2015, 12, 31, 23, 30, 0, 0, time.FixedZone("KST", 9*3600)) // 14:30 UTC
	cases := []struct {
		kind, suffix, want, alias string
	}{
		{LayoutSingle, "", "ssh-log", "ssh-log"},
		{LayoutDaily, "", "ssh-log-2015.12.31", "ssh-log"},
		{LayoutMonthly, "", "ssh-log-2015.12", "ssh-log"},
		{LayoutDaily, "it-1", "ssh-log-it-1-2015.12.31", "ssh-log-it-1"},
	}
	for _, c := range cases {
		l, err := NewLayout(c.kind, c.suffix, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.Index(contracts.IndexSSHLog, ts); got != c.want {
			t.Errorf("%s/%s: index %s, want %s", c.kind, c.suffix, got, c.want)
		}
		if got := l.Alias(contracts.IndexSSHLog); got != c.alias {
			t.Errorf("%s/%s: alias %s, want %s", c.kind, c.suffix, got, c.alias)
		}
	}
	for _, bad := range [][2]string{{"weekly", ""}, {"daily", "A"}, {"daily", "a*"}, {"daily", "a,b"}} {
		if _, err := NewLayout(bad[0], bad[1], 0); err == nil {
			t.Errorf("layout %q suffix %q accepted", bad[0], bad[1])
		}
	}
	if _, err := NewLayout("daily", "", -1); err == nil {
		t.Error("negative retention accepted")
	}
}

func TestLayoutRetention(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	d, _ := NewLayout(LayoutDaily, "", 7)
	// The period of 2026-11-17 ended 11-18 00:00, more than 7 days before now.
	for day, want := range map[string]bool{"2026.11.17": true, "2026.11.18": false, "2026.11.25": false} {
		tm, ok := d.indexTime(contracts.IndexSSHLog, "ssh-log-"+day)
		if !ok {
			t.Fatalf("ssh-log-%s not recognised", day)
		}
		if got := d.Expired(tm, now); got != want {
			t.Errorf("daily %s expired=%v, want %v", day, got, want)
		}
		if got := d.Expired(tm.Add(23*time.Hour), now); got != want {
			t.Errorf("a document late on %s expired=%v, want %v (same rule as its index)", day, got, want)
		}
	}
	m, _ := NewLayout(LayoutMonthly, "", 30)
	tm, _ := m.indexTime(contracts.IndexSSHLog, "ssh-log-2026.09")
	if !m.Expired(tm, now) {
		t.Error("monthly 2026.09 (ended 10-01) not expired after 30 days")
	}
	tm, _ = m.indexTime(contracts.IndexSSHLog, "ssh-log-2026.10")
	if m.Expired(tm, now) {
		t.Error("monthly 2026.10 (ended 11-01) expired after 30 days")
	}
	for _, other := range []string{"ssh-log", "ssh-log-it-123", "ssh-log-2026.11.1", "ssh-log-2026.11", "ssh-log-it-1-2026.11.17"} {
		if _, ok := d.indexTime(contracts.IndexSSHLog, other); ok {
			t.Errorf("%s taken for a daily index of ssh-log", other)
		}
	}
	keep, _ := NewLayout(LayoutDaily, "", 0)
	if keep.Expired(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), now) {
		t.Error("retention 0 expired a document")
	}
}

func TestWithoutScaledFloatKeepsAValidTemplate(t *testing.T) {
	tpls, err := Templates()
	if err != nil {
		t.Fatal(err)
	}
	tpl := tpls["system-metrics"]
	if !strings.Contains(string(tpl), "scaled_float") {
		t.Fatal("system-metrics maps no scaled_float")
	}
	out := WithoutScaledFloat(tpl)
	if strings.Contains(string(out), "scaled_float") || strings.Contains(string(out), "scaling_factor") || !json.Valid(out) {
		t.Fatalf("rewritten template: %.300s", out)
	}
}
