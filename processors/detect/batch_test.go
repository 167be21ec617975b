package detect

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
)

// batchAlertKeys is the reference implementation: straight from the rule
// definitions, over the whole event list (in arrival order, times
// non-decreasing), without any streaming state. It returns rule -> keys for
// which some window meets the rule's threshold. With anyOrder, compromise
// counts every failure with a time in the window, wherever it is in the list
// (an upper bound for disordered streams).
func batchAlertKeys(evs []Event, r *Rules, anyOrder bool) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	add := func(rule, key string) {
		if out[rule] == nil {
			out[rule] = map[string]bool{}
		}
		out[rule][key] = true
	}
	byIP := map[string][]int{}
	byUser := map[string][]int{}
	for i, e := range evs {
		if e.IP != "" {
			byIP[e.IP] = append(byIP[e.IP], i)
		}
		if e.Failed > 0 && e.User != "" {
			byUser[e.User] = append(byUser[e.User], i)
		}
	}
	w := func(d time.Duration) int64 { return secs(d) }
	// sum of failures and distinct values (by f) among idx with time in (t-W, t]
	window := func(idx []int, t, W int64, keep func(e *Event) bool, val func(e *Event) string) (int64, int) {
		var n int64
		set := map[string]bool{}
		for _, j := range idx {
			e := &evs[j]
			if e.Time <= t-W || e.Time > t || !keep(e) {
				continue
			}
			n += int64(e.Failed)
			if v := val(e); v != "" {
				set[v] = true
			}
		}
		return n, len(set)
	}
	isFail := func(e *Event) bool { return e.Failed > 0 }
	isRoot := func(e *Event) bool { return e.Failed > 0 && e.User == RootUser }
	isInvalid := func(e *Event) bool {
		return e.User != "" && (e.Type == contracts.TypeInvalidUser || (e.Failed > 0 && e.ErrorType == contracts.ErrInvalidUserAuthFailed))
	}
	user := func(e *Event) string { return e.User }
	ip := func(e *Event) string { return e.IP }
	none := func(*Event) string { return "" }

	for key, idx := range byIP {
		for pos, j := range idx {
			e := &evs[j]
			t := e.Time
			if isFail(e) {
				if th := r.BruteForce; !th.Disabled {
					if n, _ := window(idx, t, w(th.Window), isFail, none); n >= int64(th.N) {
						add(contracts.RuleBruteForce, key)
					}
				}
				if th := r.SlowBruteForce; !th.Disabled {
					if n, _ := window(idx, t, w(th.Window), isFail, none); n >= int64(th.N) {
						add(contracts.RuleSlowBruteForce, key)
					}
				}
				if th := r.RootAttempts; !th.Disabled && isRoot(e) {
					if n, _ := window(idx, t, w(th.Window), isRoot, none); n >= int64(th.N) {
						add(contracts.RuleRootAttempts, key)
					}
				}
				if sp := r.PasswordSpraying; !sp.Disabled {
					if n, u := window(idx, t, w(sp.Window), isFail, user); n >= int64(sp.Failures) && u >= sp.Users {
						add(contracts.RulePasswordSpraying, key)
					}
				}
			}
			if th := r.UserEnumeration; !th.Disabled && isInvalid(e) {
				if _, u := window(idx, t, w(th.Window), isInvalid, user); u >= th.N {
					add(contracts.RuleUserEnumeration, key)
				}
			}
			if th := r.Compromise; !th.Disabled && e.Type == contracts.TypeAuthSuccess {
				before := idx[:pos]
				if anyOrder {
					before = idx
				}
				if n, _ := window(before, t, w(th.Window), isFail, none); n >= int64(th.N) {
					add(contracts.RuleCompromise, key)
				}
			}
		}
	}
	for key, idx := range byUser {
		da := r.DistributedAttack
		if da.Disabled {
			break
		}
		for _, j := range idx {
			if n, u := window(idx, evs[j].Time, w(da.Window), isFail, ip); n >= int64(da.Failures) && u >= da.IPs {
				add(contracts.RuleDistributedAttack, key)
			}
		}
	}
	return out
}

// flatten turns rule -> keys into "rule key" strings.
func flatten(m map[string]map[string]bool) map[string]bool {
	out := map[string]bool{}
	for rule, ks := range m {
		for k := range ks {
			out[rule+" "+k] = true
		}
	}
	return out
}

// randomStream makes n events over nIPs IPs and nUsers users, in time order
// (equal times allowed), with bursts and quiet gaps so that every rule both
// fires and nearly fires. With disorder, arrival order is perturbed by up to
// 100s (within the default 2m lateness).
func randomStream(seed uint64, n, nIPs, nUsers int, disorder bool) []Event {
	rng := rand.New(rand.NewPCG(seed, seed*7+1))
	ips := make([]string, nIPs)
	for i := range ips {
		ips[i] = fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), i)
	}
	users := make([]string, nUsers)
	for i := range users {
		users[i] = fmt.Sprintf("user%d", i)
	}
	users[0] = RootUser
	t := t0
	s := &stream{}
	for range n {
		switch x := rng.IntN(100); {
		case x < 2:
			t += int64(rng.IntN(30000)) // a quiet spell
		case x < 30:
			t += int64(rng.IntN(60))
		default:
			t += int64(rng.IntN(4))
		}
		ip := ips[rng.IntN(nIPs)]
		if rng.IntN(50) == 0 {
			ip = "" // lines without an IP
		}
		// users are skewed: a few are tried often
		u := users[min(rng.IntN(nUsers), rng.IntN(nUsers))]
		switch x := rng.IntN(100); {
		case x < 50:
			s.add(failEv(t, ip, u))
		case x < 55:
			s.add(repeatEv(t, ip, u, 2+rng.IntN(5)))
		case x < 65:
			s.add(invalidFailEv(t, ip, u))
		case x < 75:
			s.add(invalidEv(t, ip, u))
		case x < 80:
			s.add(successEv(t, ip, u))
		case x < 82:
			s.add(Event{Time: t, Type: contracts.TypeAuthFailure, ErrorType: contracts.ErrAuthFailed, IP: ip, Failed: 1}) // no user
		default:
			s.add(otherEv(t, ip))
		}
	}
	if disorder {
		type arr struct {
			at float64
			e  Event
		}
		a := make([]arr, len(s.evs))
		for i, e := range s.evs {
			a[i] = arr{float64(e.Time) + rng.Float64()*100, e}
		}
		sort.SliceStable(a, func(i, j int) bool { return a[i].at < a[j].at })
		for i := range a {
			s.evs[i] = a[i].e
			s.evs[i].Offset = int64(i)
		}
	}
	return s.evs
}

// smallRules make every rule fire often on random streams.
func smallRules() Rules {
	r := DefaultRules()
	r.BruteForce = Threshold{N: 6, Window: 30 * time.Second}
	r.SlowBruteForce = Threshold{N: 15, Window: 20 * time.Minute}
	r.UserEnumeration = Threshold{N: 3, Window: 40 * time.Second}
	r.PasswordSpraying = Spray{Users: 4, Failures: 8, Window: time.Minute}
	r.DistributedAttack = Distributed{IPs: 3, Failures: 6, Window: 45 * time.Second}
	r.Compromise = Threshold{N: 4, Window: time.Hour}
	r.RootAttempts = Threshold{N: 3, Window: 2 * time.Minute}
	r.Cooldown = 10 * time.Minute
	return r
}

func TestStreamingEqualsBatch(t *testing.T) {
	big := smallRules()
	big.BruteForce.N, big.PasswordSpraying.Users, big.UserEnumeration.N, big.DistributedAttack.IPs = 40, 12, 12, 6
	big.BruteForce.Window, big.UserEnumeration.Window = 10*time.Minute, 30*time.Minute
	ruleSets := map[string]Rules{"default": DefaultRules(), "small": smallRules(), "big": big}
	perRule := map[string]int{}
	for name, r := range ruleSets {
		for seed := uint64(1); seed <= 60; seed++ {
			nIPs := 2 + int(seed%5)
			evs := randomStream(seed, 1500, nIPs, 3+int(seed%15), false)
			want := flatten(batchAlertKeys(evs, &r, false))
			g := newEngine(t, r)
			g.roundTrip = seed%3 == 0
			got := fired(g.run(evs))
			if fmt.Sprint(keys(got)) != fmt.Sprint(keys(want)) {
				t.Fatalf("rules %s seed %d:\nstreaming %v\nbatch     %v", name, seed, keys(got), keys(want))
			}
			for k := range got {
				perRule[name+" "+k[:indexSpace(k)]]++
			}
		}
	}
	// every rule must have been exercised ("big" covers larger lists only)
	for _, name := range []string{"default", "small"} {
		for _, rule := range contracts.RuleNames {
			if perRule[name+" "+rule] == 0 {
				t.Errorf("rules %s: %s never fired in the property test", name, rule)
			}
		}
	}
	t.Logf("(rule, key) pairs fired per rule set: %v", perRule)
}

func indexSpace(s string) int {
	for i := range s {
		if s[i] == ' ' {
			return i
		}
	}
	return len(s)
}

// Disordered streams (within the lateness): every alert is sound (its pair is
// in the batch set), and nearly every batch pair fires.
func TestStreamingDisorderSound(t *testing.T) {
	r := smallRules()
	var want, got, missed int
	for seed := uint64(1); seed <= 60; seed++ {
		evs := randomStream(seed, 1500, 2+int(seed%5), 3+int(seed%15), true)
		sorted := append([]Event(nil), evs...)
		sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Time < sorted[j].Time })
		batch := flatten(batchAlertKeys(sorted, &r, true))
		stream := fired(newEngine(t, r).run(evs))
		for k := range stream {
			if !batch[k] {
				t.Errorf("seed %d: %s fired without a window meeting the rule", seed, k)
			}
		}
		for k := range batch {
			if !stream[k] {
				missed++
			}
		}
		want += len(batch)
		got += len(stream)
	}
	t.Logf("disordered streams: batch %d pairs, streaming %d, missed %d", want, got, missed)
	if missed*20 > want {
		t.Errorf("missed %d of %d", missed, want)
	}
}
