package reference

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
)

// streamingKeys runs the streaming rule engine (whose equality with a naive
// per-window scan is detect's TestStreamingEqualsBatch) over evs in order.
func streamingKeys(evs []detect.Event, r *detect.Rules) map[string]bool {
	ips, users := map[string]*detect.IPState{}, map[string]*detect.UserState{}
	out := map[string]bool{}
	emit := func(a contracts.Alert) { out[a.Rule+" "+a.Key()] = true }
	for _, e := range evs {
		if e.IP != "" {
			if ips[e.IP] == nil {
				ips[e.IP] = &detect.IPState{}
			}
			ips[e.IP].Apply(r, e, emit)
		}
		if e.Failed > 0 && e.User != "" {
			if users[e.User] == nil {
				users[e.User] = &detect.UserState{}
			}
			users[e.User].Apply(r, e, emit)
		}
	}
	return out
}

// randomEvents is an in-order stream with bursts and quiet spells, so that
// every rule both fires and nearly fires.
func randomEvents(seed uint64, n int) []detect.Event {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	t := int64(1449964800)
	nIPs, nUsers := 2+int(seed%5), 3+int(seed%12)
	var evs []detect.Event
	for i := range n {
		switch x := rng.IntN(100); {
		case x < 2:
			t += int64(rng.IntN(30000))
		case x < 30:
			t += int64(rng.IntN(60))
		default:
			t += int64(rng.IntN(4))
		}
		ip := fmt.Sprintf("10.0.0.%d", rng.IntN(nIPs))
		user := fmt.Sprintf("u%d", min(rng.IntN(nUsers), rng.IntN(nUsers)))
		if user == "u0" {
			user = detect.RootUser
		}
		e := detect.Event{Time: t, Offset: int64(i), IP: ip, User: user, Host: "web1", RowHash: fmt.Sprintf("%032x", i)}
		switch x := rng.IntN(100); {
		case x < 50:
			e.Type, e.ErrorType, e.Failed = contracts.TypeAuthFailure, contracts.ErrAuthFailed, 1
		case x < 55:
			e.Type, e.ErrorType, e.Failed = contracts.TypeAuthFailureRepeated, contracts.ErrAuthFailed, 2+rng.IntN(5)
		case x < 65:
			e.Type, e.ErrorType, e.Failed = contracts.TypeAuthFailure, contracts.ErrInvalidUserAuthFailed, 1
		case x < 75:
			e.Type, e.ErrorType = contracts.TypeInvalidUser, contracts.ErrInvalidUser
		case x < 80:
			e.Type = contracts.TypeAuthSuccess
		default:
			e.Type, e.User = contracts.TypeDisconnect, ""
		}
		evs = append(evs, e)
	}
	return evs
}

func smallRules() detect.Rules {
	r := detect.DefaultRules()
	r.BruteForce = detect.Threshold{N: 6, Window: 30 * time.Second}
	r.SlowBruteForce = detect.Threshold{N: 15, Window: 20 * time.Minute}
	r.UserEnumeration = detect.Threshold{N: 3, Window: 40 * time.Second}
	r.PasswordSpraying = detect.Spray{Users: 4, Failures: 8, Window: time.Minute}
	r.DistributedAttack = detect.Distributed{IPs: 3, Failures: 6, Window: 45 * time.Second}
	r.Compromise = detect.Threshold{N: 4, Window: time.Hour}
	r.RootAttempts = detect.Threshold{N: 3, Window: 2 * time.Minute}
	return r
}

// On in-order streams the reference finds exactly the streaming engine's
// (rule, key) pairs, for the default and for small thresholds.
func TestEqualsStreamingEngine(t *testing.T) {
	perRule := map[string]int{}
	for name, r := range map[string]detect.Rules{"default": detect.DefaultRules(), "small": smallRules()} {
		for seed := uint64(1); seed <= 80; seed++ {
			evs := randomEvents(seed, 2000)
			want := streamingKeys(evs, &r)
			got := map[string]bool{}
			for rule, ks := range AlertKeys(evs, &r) {
				for k := range ks {
					got[rule+" "+k] = true
					perRule[name+" "+rule]++
				}
			}
			if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
				t.Fatalf("rules %s seed %d:\nreference %v\nstreaming %v", name, seed, sorted(got), sorted(want))
			}
		}
	}
	for _, rule := range contracts.RuleNames {
		if perRule["small "+rule] == 0 {
			t.Errorf("%s never fired: the comparison proves nothing for it", rule)
		}
	}
	t.Logf("(rule, key) pairs per rule set: %v", perRule)
}

// A threshold is met at exactly N, not at N-1.
func TestThresholdEdge(t *testing.T) {
	r := detect.DefaultRules()
	n := r.BruteForce.N
	mk := func(k int) []detect.Event {
		var evs []detect.Event
		for i := range k {
			evs = append(evs, detect.Event{Time: 1000 + int64(i), IP: "192.0.2.1", User: "bob", Type: contracts.TypeAuthFailure, ErrorType: contracts.ErrAuthFailed, Failed: 1})
		}
		return evs
	}
	if AlertKeys(mk(n-1), &r)[contracts.RuleBruteForce]["192.0.2.1"] {
		t.Errorf("brute_force at %d failures", n-1)
	}
	if !AlertKeys(mk(n), &r)[contracts.RuleBruteForce]["192.0.2.1"] {
		t.Errorf("no brute_force at %d failures", n)
	}
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
