package detect

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/connectors/sshlog"
	"github.com/log-monitor/log_monitor/contracts"
)

// sharedData is ../shared/data/<rel> next to the repository, or skips.
func sharedData(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "data", rel))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data %s not present", rel)
	}
	return p
}

// The replica's planted scenarios each raise their rule's alert; the states
// stay small over the whole month.
func TestReplicaScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	path := sharedData(t, "ssh-replica/SSH.log.gz")
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Skip(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	p := sshlog.NewParser(sshlog.Source{Path: "/data/SSH.log", Year: 2015, Loc: loc}, nil)
	g := newEngine(t, DefaultRules())
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var off int64
	n := 0
	start := time.Now()
	for sc.Scan() {
		line := sc.Text()
		e := p.Parse(line, off, time.Time{})
		off += int64(len(line)) + 1
		g.apply(FromSSHLog(&e, int64(n)))
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)

	perRule := map[string]int{}
	kinds := map[string]int{}
	for _, a := range g.alerts {
		perRule[a.Rule]++
		if a.Seq == 1 {
			kinds["episodes"]++
		} else {
			kinds["later alerts (escalations, reminders)"]++
		}
	}
	t.Logf("alerts: %v", kinds)
	var maxIP, maxUser, sumIP int
	for _, s := range g.ips {
		b, _ := s.MarshalBinary()
		maxIP = max(maxIP, len(b))
		sumIP += len(b)
	}
	for _, s := range g.users {
		b, _ := s.MarshalBinary()
		maxUser = max(maxUser, len(b))
	}
	t.Logf("%d lines in %v (parse + rules); %d IPs, %d users; alerts %v", n, elapsed.Round(time.Millisecond), len(g.ips), len(g.users), perRule)
	t.Logf("state sizes: IP max %d B, mean %d B; user max %d B", maxIP, sumIP/max(len(g.ips), 1), maxUser)
	if maxIP > 2048 || maxUser > 1024 {
		t.Errorf("states too big")
	}

	raw, err := os.ReadFile(sharedData(t, "ssh-replica/SSH.labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var labels struct {
		Scenarios []struct{ Scenario, IP, User, Start string } `json:"scenarios"`
	}
	if err := json.Unmarshal(raw, &labels); err != nil {
		t.Fatal(err)
	}
	for _, s := range labels.Scenarios {
		at, err := time.ParseInLocation("2006-01-02T15:04:05", s.Start, loc)
		if err != nil {
			t.Fatal(err)
		}
		want := s.IP
		if s.Scenario == contracts.RuleDistributedAttack {
			want = s.User
		}
		found := false
		for _, a := range g.alerts {
			if a.Rule == s.Scenario && a.Key() == want && !a.LastEventTime.Before(at) && a.FirstEventTime.Before(at.Add(24*time.Hour)) {
				found = true
				t.Logf("scenario %s: %s", s.Scenario, a.Message)
				if s.Scenario == contracts.RuleCompromise && (!a.SameUser || a.User != s.User) {
					t.Errorf("compromise: user %s same_user %v, want %s true", a.User, a.SameUser, s.User)
				}
				break
			}
		}
		if !found {
			t.Errorf("scenario %s (%s at %s): no alert", s.Scenario, want, s.Start)
		}
	}
}
