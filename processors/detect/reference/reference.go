// Package reference computes, straight from the rule definitions of
// docs/contracts.md and over a whole list of events at once, which keys each rule
// should alert. It keeps no streaming state: tests compare the processors'
// alerts with it. O(n log n) in the events, so it runs over the whole
// replica in a second or two.
package reference

import (
	"sort"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
)

// AlertKeys returns rule -> keys (IPs; users for distributed_attack) for
// which some window meets the rule's threshold. A window is (t-W, t] at the
// time t of an event of the rule's kind, over every event of the key with a
// time in it, wherever it is in the list; only compromise_suspected looks at
// list order (the failures before the success).
func AlertKeys(evs []detect.Event, r *detect.Rules) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	add := func(rule, key string) {
		if out[rule] == nil {
			out[rule] = map[string]bool{}
		}
		out[rule][key] = true
	}
	byIP := map[string][]int{}
	byUser := map[string][]int{}
	for i := range evs {
		e := &evs[i]
		if e.IP != "" {
			byIP[e.IP] = append(byIP[e.IP], i)
		}
		if e.Failed > 0 && e.User != "" {
			byUser[e.User] = append(byUser[e.User], i)
		}
	}
	pick := func(idx []int, keep func(*detect.Event) bool, val func(*detect.Event) string) []item {
		var its []item
		for _, j := range idx {
			if e := &evs[j]; keep(e) {
				its = append(its, item{t: e.Time, n: int64(max(e.Failed, 0)), v: val(e)})
			}
		}
		return its
	}
	failed := func(e *detect.Event) bool { return e.Failed > 0 }
	root := func(e *detect.Event) bool { return e.Failed > 0 && e.User == detect.RootUser }
	invalid := func(e *detect.Event) bool {
		return e.User != "" && (e.Type == contracts.TypeInvalidUser || (e.Failed > 0 && e.ErrorType == contracts.ErrInvalidUserAuthFailed))
	}
	user := func(e *detect.Event) string { return e.User }
	ip := func(e *detect.Event) string { return e.IP }
	none := func(*detect.Event) string { return "" }
	secs := func(th detect.Threshold) int64 { return int64(th.Window.Seconds()) }

	for key, idx := range byIP {
		fails := pick(idx, failed, user)
		if th := r.BruteForce; !th.Disabled && windowHit(fails, secs(th), int64(th.N), 0) {
			add(contracts.RuleBruteForce, key)
		}
		if th := r.SlowBruteForce; !th.Disabled && windowHit(fails, secs(th), int64(th.N), 0) {
			add(contracts.RuleSlowBruteForce, key)
		}
		if sp := r.PasswordSpraying; !sp.Disabled && windowHit(fails, int64(sp.Window.Seconds()), int64(sp.Failures), sp.Users) {
			add(contracts.RulePasswordSpraying, key)
		}
		if th := r.RootAttempts; !th.Disabled && windowHit(pick(idx, root, none), secs(th), int64(th.N), 0) {
			add(contracts.RuleRootAttempts, key)
		}
		if th := r.UserEnumeration; !th.Disabled && windowHit(pick(idx, invalid, user), secs(th), 0, th.N) {
			add(contracts.RuleUserEnumeration, key)
		}
		if th := r.Compromise; !th.Disabled && compromised(evs, idx, secs(th), int64(th.N)) {
			add(contracts.RuleCompromise, key)
		}
	}
	if da := r.DistributedAttack; !da.Disabled {
		for key, idx := range byUser {
			if windowHit(pick(idx, failed, ip), int64(da.Window.Seconds()), int64(da.Failures), da.IPs) {
				add(contracts.RuleDistributedAttack, key)
			}
		}
	}
	return out
}

// item is one event of a key as a window counts it: its time, its failed
// attempts and the value whose distinct count matters ("" = none).
type item struct {
	t int64
	n int64
	v string
}

// windowHit reports whether, at the time t of some item, the items with a
// time in (t-w, t] sum at least needN attempts and hold at least
// needDistinct distinct non-empty values.
func windowHit(its []item, w, needN int64, needDistinct int) bool {
	sort.SliceStable(its, func(i, j int) bool { return its[i].t < its[j].t })
	var sum int64
	distinct := map[string]int{}
	lo := 0
	for hi := 0; hi < len(its); {
		t := its[hi].t
		for ; hi < len(its) && its[hi].t == t; hi++ { // every item at time t
			sum += its[hi].n
			if v := its[hi].v; v != "" {
				distinct[v]++
			}
		}
		for ; its[lo].t <= t-w; lo++ { // out of (t-w, t]
			sum -= its[lo].n
			if v := its[lo].v; v != "" {
				if distinct[v]--; distinct[v] == 0 {
					delete(distinct, v)
				}
			}
		}
		if sum >= needN && len(distinct) >= needDistinct {
			return true
		}
	}
	return false
}

// compromised reports whether some success of the key follows (in list
// order) failures summing at least n with a time in (t-w, t].
func compromised(evs []detect.Event, idx []int, w, n int64) bool {
	// Failures' times, ranked, in a Fenwick tree filled in list order.
	var times []int64
	for _, j := range idx {
		if evs[j].Failed > 0 {
			times = append(times, evs[j].Time)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	tree := make([]int64, len(times)+1)
	rank := func(t int64) int { return sort.Search(len(times), func(i int) bool { return times[i] > t }) } // count of times <= t
	prefix := func(k int) int64 {
		var s int64
		for ; k > 0; k -= k & -k {
			s += tree[k]
		}
		return s
	}
	for _, j := range idx {
		e := &evs[j]
		switch {
		case e.Failed > 0:
			for k := sort.Search(len(times), func(i int) bool { return times[i] >= e.Time }) + 1; k < len(tree); k += k & -k {
				tree[k] += int64(e.Failed)
			}
		case e.Type == contracts.TypeAuthSuccess:
			if prefix(rank(e.Time))-prefix(rank(e.Time-w)) >= n {
				return true
			}
		}
	}
	return false
}
