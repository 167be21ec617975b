package detect

import (
	"fmt"
	"math/bits"
	"slices"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
)

// The rules an IPState runs, as indexes of ipRuleNames. The index is an
// in-memory handle only: stored state names each episode's rule (codec
// version 2), so the order here may change and rules may be added.
const (
	ipBrute = iota
	ipSlow
	ipEnum
	ipSpray
	ipComp
	ipRoot
	nIPRules
)

var ipRuleNames = [nIPRules]string{
	contracts.RuleBruteForce, contracts.RuleSlowBruteForce, contracts.RuleUserEnumeration, contracts.RulePasswordSpraying, contracts.RuleCompromise, contracts.RuleRootAttempts,
}

// ipRulesV1 is the rule of each bit of codec version 1's episode mask: the
// order of ipRuleNames when version 1 was written. Frozen: version 1 states
// mean exactly this.
var ipRulesV1 = [...]string{
	contracts.RuleBruteForce, contracts.RuleSlowBruteForce, contracts.RuleUserEnumeration, contracts.RulePasswordSpraying, contracts.RuleCompromise, contracts.RuleRootAttempts,
}

// ipRuleIndex is the index of the IP rule named name, or -1.
func ipRuleIndex(name string) int {
	for k, n := range ipRuleNames {
		if n == name {
			return k
		}
	}
	return -1
}

// IPState is the rule state of one source IP (the processor's key). Its size
// is bounded by the rules' thresholds, never by the number of events: with the
// default rules it holds at most 30 (time, count) pairs of failed attempts, 5
// of failures on root, 10 user names, 10 invalid user names, 5 hosts, 5 row
// hashes and one small record per rule with a running episode.
//
// The zero value is an empty state. Events must all carry the same IP.
type IPState struct {
	first, last int64 // oldest and newest event time seen; last is the key's "now"
	events      int64 // events applied
	failures    int64 // failed attempts (all, including late ones)
	successes   int64 // auth_success events
	invalids    int64 // invalid-user events
	late        int64 // events too late (Rules.Lateness) to take part in the rules

	// Lists, stored in tc and en while they fit (see vec): a benign IP's
	// state is one flat value, and decoding it allocates only its names.
	fv      vec[tc]  // failed attempts: ring
	rv      vec[tc]  // failed attempts on root: ring
	uv      vec[ent] // users with failed attempts, by last failure: lru
	iv      vec[ent] // invalid user names, by last attempt: lru
	hv      vec[ent] // hosts, by last event: lru
	samples samples  // row hashes of the latest relevant events

	eps []ruleEpisode // running episodes, by rule index (none for most IPs)

	tc [ipFailsInline + ipRootInline]tc
	en [3 * namesInline]ent
}

// ruleEpisode is rule k's running episode.
type ruleEpisode struct {
	k int
	episode
}

// ep returns rule k's running episode, or nil.
func (s *IPState) ep(k int) *episode {
	for i := range s.eps {
		if s.eps[i].k == k {
			return &s.eps[i].episode
		}
	}
	return nil
}

// accrue adds an event's contribution to rule k's running episode.
func (s *IPState) accrue(r *Rules, k int, t, add int64) {
	if e := s.ep(k); e != nil {
		e.accrue(r, t, add)
	}
}

// Inline capacities: enough for a benign IP (a few failures, a user or two,
// one host), so that its decoded state needs no list allocation. Longer lists
// (an attacker's) live on the heap.
const (
	ipFailsInline = 6
	ipRootInline  = 2
	namesInline   = 2
)

func (s *IPState) fails() ring { return ring(s.fv.get(s.tc[:ipFailsInline:ipFailsInline])) }
func (s *IPState) root() ring  { return ring(s.rv.get(s.tc[ipFailsInline:])) }
func (s *IPState) users() lru  { return lru(s.uv.get(s.en[:namesInline:namesInline])) }
func (s *IPState) inval() lru {
	return lru(s.iv.get(s.en[namesInline : 2*namesInline : 2*namesInline]))
}
func (s *IPState) hosts() lru      { return lru(s.hv.get(s.en[2*namesInline:])) }
func (s *IPState) setFails(r ring) { s.fv.put(s.tc[:ipFailsInline:ipFailsInline], r) }
func (s *IPState) setRoot(r ring)  { s.rv.put(s.tc[ipFailsInline:], r) }
func (s *IPState) setUsers(l lru)  { s.uv.put(s.en[:namesInline:namesInline], l) }
func (s *IPState) setInval(l lru)  { s.iv.put(s.en[namesInline:2*namesInline:2*namesInline], l) }
func (s *IPState) setHosts(l lru)  { s.hv.put(s.en[2*namesInline:], l) }

// Apply runs one event through the IP's rules and calls emit (when not nil)
// for each alert it raises. It never fails: an event of another kind only
// updates the counters. Apply is not idempotent: the processor must not apply
// a replayed input twice (it keeps the last applied offset per partition).
func (s *IPState) Apply(r *Rules, ev Event, emit func(contracts.Alert)) {
	if r == nil {
		r = &defaultRules
	}
	t := ev.Time
	f := ev.failed()
	inv := ev.invalidUser()
	succ := ev.success()
	late := s.events > 0 && t < s.last-secs(r.Lateness)
	if s.events == 0 || t < s.first {
		s.first = t
	}
	if s.events == 0 || t > s.last {
		s.last = t
	}
	s.events++
	s.failures = min(s.failures+f, maxRepeat)
	if succ {
		s.successes++
	}
	if inv {
		s.invalids++
	}
	if ev.Host != "" {
		h := s.hosts()
		h.touch(clip(ev.Host), t, maxHosts)
		s.setHosts(h)
	}
	if late {
		s.late++
		return
	}
	if f > 0 || inv || succ {
		s.rules(r, &ev, t, f, inv, succ, emit)
	}
	s.housekeep(r)
}

func (s *IPState) rules(r *Rules, ev *Event, t, f int64, inv, succ bool, emit func(contracts.Alert)) {
	user := clip(ev.User)
	fails, root, users, inval := s.fails(), s.root(), s.users(), s.inval()
	if f > 0 {
		fails.add(t, f)
		s.setFails(fails)
		if user != "" {
			users.touch(user, t, max(r.PasswordSpraying.Users, maxUsers))
			s.setUsers(users)
		}
		if ev.User == RootUser {
			root.add(t, f)
			s.setRoot(root)
		}
	}
	var newInv int64
	if inv {
		if inval.touch(user, t, max(r.UserEnumeration.N, maxUsers)) {
			newInv = 1
		}
		s.setInval(inval)
	}
	s.samples.push(ev.RowHash)

	// Running episodes count every contribution, then the rules are evaluated.
	if f > 0 {
		s.accrue(r, ipBrute, t, f)
		s.accrue(r, ipSlow, t, f)
		s.accrue(r, ipSpray, t, f)
		if ev.User == RootUser {
			s.accrue(r, ipRoot, t, f)
		}
	}
	if newInv > 0 {
		s.accrue(r, ipEnum, t, newInv)
	}

	if f > 0 {
		if th := r.BruteForce; th.on() {
			if a, ok := threshold(fails, t, th); ok {
				s.alert(r, ipBrute, a, int64(th.N), th.Window, ev, emit)
			}
		}
		if th := r.SlowBruteForce; th.on() {
			if a, ok := threshold(fails, t, th); ok {
				s.alert(r, ipSlow, a, int64(th.N), th.Window, ev, emit)
			}
		}
		if th := r.RootAttempts; th.on() && ev.User == RootUser {
			if a, ok := threshold(root, t, th); ok {
				s.alert(r, ipRoot, a, int64(th.N), th.Window, ev, emit)
			}
		}
		if sp := r.PasswordSpraying; sp.on() {
			if a, ok := both(fails, users, t, int64(sp.Failures), int64(sp.Users), secs(sp.Window)); ok {
				s.alert(r, ipSpray, a, int64(sp.Failures), sp.Window, ev, emit)
			}
		}
	}
	if th := r.UserEnumeration; inv && th.on() {
		if a, ok := distinct(inval, t, th); ok {
			s.alert(r, ipEnum, a, int64(th.N), th.Window, ev, emit)
		}
	}
	if th := r.Compromise; succ && th.on() {
		w := secs(th.Window)
		if c := fails.sumIn(t-w, t); c >= int64(th.N) {
			a := activity{end: t, start: fails.kth(int64(th.N), t), count: c}
			s.alert(r, ipComp, a, 0, th.Window, ev, emit)
		}
	}
}

// threshold evaluates "N attempts within W" for an event at t: it
// finds the first window end among the kept times in [t, t+W) (just t for an
// event in time order) whose window (end-W, end] holds >= N attempts.
func threshold(fs ring, t int64, th Threshold) (activity, bool) {
	w, n := secs(th.Window), int64(th.N)
	for i := fs.from(t); i < len(fs) && fs[i].t < t+w; i++ {
		end := fs[i].t
		if c := fs.sumIn(end-w, end); c >= n {
			return activity{end: end, start: fs.kth(n, end), count: c}, true
		}
	}
	return activity{}, false
}

// distinct evaluates "N distinct names within W" like threshold.
func distinct(l lru, t int64, th Threshold) (activity, bool) {
	w, n := secs(th.Window), int64(th.N)
	for i := l.from(t); i < len(l) && l[i].t < t+w; i++ {
		end := l[i].t
		if c := l.countIn(end-w, end); c >= n {
			return activity{end: end, start: l.kth(n, end), count: c}, true
		}
	}
	return activity{}, false
}

// both evaluates ">= n attempts and >= u distinct names within w" (the count is
// the attempts).
func both(fs ring, l lru, t, n, u, w int64) (activity, bool) {
	for i := fs.from(t); i < len(fs) && fs[i].t < t+w; i++ {
		end := fs[i].t
		c := fs.sumIn(end-w, end)
		if c < n || l.countIn(end-w, end) < u {
			continue
		}
		return activity{end: end, start: min(fs.kth(n, end), l.kth(u, end)), count: c}, true
	}
	return activity{}, false
}

// alert steps rule k's episode and emits its alert when it fires.
func (s *IPState) alert(r *Rules, k int, a activity, thr int64, window time.Duration, ev *Event, emit func(contracts.Alert)) {
	ep := s.ep(k)
	if ep == nil {
		i := 0
		for i < len(s.eps) && s.eps[i].k < k {
			i++
		}
		s.eps = append(s.eps, ruleEpisode{})
		copy(s.eps[i+1:], s.eps[i:])
		s.eps[i] = ruleEpisode{k: k}
		ep = &s.eps[i].episode
	}
	if !ep.step(r, a, thr) || emit == nil {
		return
	}
	name := ipRuleNames[k]
	al := newAlert(name, ev.IP, ep, a, window, ev.Offset)
	al.IP = ev.IP
	al.Hosts = s.hosts().newest(maxHosts)
	al.SampleRowHashes = s.samples.newest()
	var thresh string
	switch k {
	case ipEnum:
		al.Users = s.inval().newest(maxUsers)
		thresh = fmt.Sprintf("%d in %s", r.UserEnumeration.N, fmtDur(window))
	case ipRoot:
		al.User = RootUser
		thresh = fmt.Sprintf("%d in %s", r.RootAttempts.N, fmtDur(window))
	case ipSpray:
		al.Users = s.users().newest(maxUsers)
		thresh = fmt.Sprintf("%d users and %d failures in %s", r.PasswordSpraying.Users, r.PasswordSpraying.Failures, fmtDur(window))
	case ipComp:
		al.User = ev.User
		al.Users = s.users().newest(maxUsers)
		al.SameUser = s.users().has(clip(ev.User), ev.Time-secs(window), ev.Time)
		thresh = fmt.Sprintf("%d failures in the %s before a login", r.Compromise.N, fmtDur(window))
	default:
		al.Users = s.users().newest(maxUsers)
		thresh = fmt.Sprintf("%d in %s", thr, fmtDur(window))
	}
	al.Message = message(&al, thresh)
	emit(al)
}

// newAlert fills the fields every rule shares.
func newAlert(rule, key string, ep *episode, a activity, window time.Duration, offset int64) contracts.Alert {
	al := contracts.Alert{
		Rule: rule, Level: int(ep.level), Seq: int(ep.seq),
		Severity:      Severity(rule, int(ep.level)),
		ID:            AlertID(rule, key, ep.start, int(ep.level), int(ep.seq)),
		Count:         ep.count,
		WindowSeconds: secs(window),
		WindowStart:   unixTime(a.start), FirstEventTime: unixTime(ep.first),
		LastEventTime: unixTime(a.end), EpisodeStart: unixTime(ep.start),
		Offset: offset,
	}
	al.Timestamp = al.LastEventTime
	return al
}

// housekeep drops what no rule can use any more and ends quiet episodes.
func (s *IPState) housekeep(r *Rules) {
	fails := s.fails()
	fails.trim(r.failRetain(), s.last-r.failHorizon())
	s.setFails(fails)
	root := s.root()
	if th := r.RootAttempts; !th.on() {
		root = root[:0]
	} else {
		root.trim(int64(th.N), s.last-secs(th.Window)-secs(r.Lateness))
	}
	s.setRoot(root)
	keep := s.eps[:0]
	for _, e := range s.eps {
		if !e.ended(r, s.last) {
			keep = append(keep, e)
		}
	}
	clear(s.eps[len(keep):])
	s.eps = keep
}

// The first byte of IPState's binary encoding. Version 2 stores each
// running episode under its rule's name; version 1 stored a one-byte mask of
// the rules' positions in a list (reordering the list changed the meaning of
// stored state, and an eighth rule did not fit). AppendBinary writes version
// 2; UnmarshalBinary reads both.
const (
	ipVersion1 = 1
	ipVersion  = 2
)

// AppendBinary appends the state's compact binary encoding to b.
func (s *IPState) AppendBinary(b []byte) ([]byte, error) {
	w := enc{b: append(b, ipVersion)}
	if s.events == 0 {
		w.uvarint(0)
		return w.b, nil
	}
	w.uvarint(uint64(s.events))
	w.varint(s.last)
	w.varint(s.last - s.first)
	w.uvarint(uint64(s.failures))
	w.uvarint(uint64(s.successes))
	w.uvarint(uint64(s.invalids))
	w.uvarint(uint64(s.late))
	fails, root, users, inval, hosts := s.fails(), s.root(), s.users(), s.inval(), s.hosts()
	for _, n := range [...]int{len(fails), len(root), len(users), len(inval), len(hosts), int(s.samples.n)} {
		w.uvarint(uint64(n))
	}
	w.ring(fails, s.last)
	w.ring(root, s.last)
	w.lru(users, s.last)
	w.lru(inval, s.last)
	w.lru(hosts, s.last)
	for _, v := range s.samples.v[:s.samples.n] {
		w.str(v)
	}
	w.uvarint(uint64(len(s.eps)))
	for i := range s.eps {
		w.namedEpisode(ipRuleNames[s.eps[i].k], &s.eps[i].episode, s.last)
	}
	return w.b, nil
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (s *IPState) MarshalBinary() ([]byte, error) {
	return s.AppendBinary(make([]byte, 0, 64+4*int(s.fv.n+s.rv.n)+16*int(s.uv.n+s.iv.n+s.hv.n)+34*int(s.samples.n)+32*len(s.eps)))
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler. It rejects (without
// panicking) anything AppendBinary did not write, and then leaves an empty
// state. Names are substrings of one copy of data.
func (s *IPState) UnmarshalBinary(data []byte) error {
	*s = IPState{}
	d := &dec{s: string(data)}
	v := d.byte()
	if v != ipVersion && v != ipVersion1 {
		return fmt.Errorf("detect: IP state encoding version %d unknown", v)
	}
	if s.events = d.small(1 << 62); s.events > 0 {
		s.last = d.varint()
		s.first = s.last - d.varint()
		s.failures = d.small(1 << 62)
		s.successes = d.small(1 << 62)
		s.invalids = d.small(1 << 62)
		s.late = d.small(1 << 62)
		var ns [6]int
		d.lengths(ns[:], MaxCountThreshold+MaxDistinctThreshold)
		if ns[5] > maxSamples {
			d.fail(fmt.Errorf("%d samples", ns[5]))
		}
		if d.err == nil {
			var tcs [2][]tc
			var ens [3][]ent
			carve([][]tc{s.tc[:ipFailsInline:ipFailsInline], s.tc[ipFailsInline:]}, ns[0:2], tcs[:])
			carve([][]ent{s.en[:namesInline:namesInline], s.en[namesInline : 2*namesInline : 2*namesInline], s.en[2*namesInline:]}, ns[2:5], ens[:])
			fails, root, users, inval, hosts := ring(tcs[0]), ring(tcs[1]), lru(ens[0]), lru(ens[1]), lru(ens[2])
			d.ring(fails, s.last)
			d.ring(root, s.last)
			d.lru(users, s.last)
			d.lru(inval, s.last)
			d.lru(hosts, s.last)
			s.setFails(fails)
			s.setRoot(root)
			s.setUsers(users)
			s.setInval(inval)
			s.setHosts(hosts)
			s.samples.n = int32(ns[5])
			for i := range ns[5] {
				s.samples.v[i] = d.str(maxStr)
			}
		}
		if v == ipVersion1 {
			s.readEpisodesV1(d)
		} else {
			s.readEpisodes(d)
		}
	}
	if err := d.finish(); err != nil {
		*s = IPState{}
		return fmt.Errorf("detect: IP state: %w", err)
	}
	return nil
}

// readEpisodes reads version 2's episodes: a count, then each episode under
// its rule's name. An episode of a rule this code does not know (a rule
// removed, or state written by a newer version) is dropped: no rule runs it.
func (s *IPState) readEpisodes(d *dec) {
	n := d.count(maxStoredEpisodes)
	if n == 0 || d.err != nil {
		return
	}
	s.eps = make([]ruleEpisode, 0, min(n, nIPRules)+1)
	for range n {
		name, ep := d.namedEpisode(s.last)
		if d.err != nil {
			return
		}
		k := ipRuleIndex(name)
		if k < 0 {
			continue
		}
		if s.ep(k) != nil {
			d.fail(fmt.Errorf("two episodes of rule %s", name))
			return
		}
		s.eps = append(s.eps, ruleEpisode{k: k, episode: ep})
	}
	// in memory the episodes are ordered by rule index (IPState.alert)
	slices.SortFunc(s.eps, func(a, b ruleEpisode) int { return a.k - b.k })
}

// readEpisodesV1 reads version 1's episodes: a mask of ipRulesV1 positions,
// then the episodes in that order.
func (s *IPState) readEpisodesV1(d *dec) {
	mask := d.byte()
	if mask >= 1<<len(ipRulesV1) {
		d.fail(fmt.Errorf("episode mask %#x", mask))
	}
	n := bits.OnesCount8(mask)
	if n == 0 || d.err != nil {
		return
	}
	s.eps = make([]ruleEpisode, 0, n+1)
	for bit, name := range ipRulesV1 {
		if mask&(1<<bit) != 0 {
			ep := d.episode(s.last)
			if k := ipRuleIndex(name); k >= 0 {
				s.eps = append(s.eps, ruleEpisode{k: k, episode: ep})
			}
		}
	}
	slices.SortFunc(s.eps, func(a, b ruleEpisode) int { return a.k - b.k })
}

// Accessors for views and the API. Times are unix seconds (event time).

// Events is the number of events applied.
func (s *IPState) Events() int64 { return s.events }

// FirstSeen and LastSeen are the oldest and newest event times seen.
func (s *IPState) FirstSeen() int64 { return s.first }

// LastSeen is the newest event time seen: the state's "now".
func (s *IPState) LastSeen() int64 { return s.last }

// Failures is the number of failed attempts (all time).
func (s *IPState) Failures() int64 { return s.failures }

// Successes is the number of successful logins (all time).
func (s *IPState) Successes() int64 { return s.successes }

// InvalidUsers is the number of invalid-user events (all time).
func (s *IPState) InvalidUsers() int64 { return s.invalids }

// LateEvents is the number of events too late to take part in the rules.
func (s *IPState) LateEvents() int64 { return s.late }

// Hosts are up to 5 hosts the IP was seen on, most recent first.
func (s *IPState) Hosts() []string { return s.hosts().newest(maxHosts) }

// UsersTried are the most recent users with failures, most recent first.
func (s *IPState) UsersTried() []string { u := s.users(); return u.newest(len(u)) }

// InvalidUserNames are the most recent invalid user names, most recent first.
func (s *IPState) InvalidUserNames() []string { l := s.inval(); return l.newest(len(l)) }

// SampleRowHashes are the row hashes of the latest relevant events, most recent first.
func (s *IPState) SampleRowHashes() []string { return s.samples.newest() }

// FailuresIn is the number of failed attempts within (now-window, now]. The
// state keeps only the most recent attempts the rules need (the largest count
// threshold), so a larger count may be cut: atLeast then says the true count
// may be higher. now = 0 means LastSeen.
func (s *IPState) FailuresIn(r *Rules, window time.Duration, now int64) (n int64, atLeast bool) {
	if r == nil {
		r = &defaultRules
	}
	if now == 0 {
		now = s.last
	}
	w := secs(window)
	fails := s.fails()
	n = fails.sumIn(now-w, now)
	atLeast = len(fails) > 0 && fails[0].t > now-w && fails.total() >= r.failRetain() && s.failures > fails.total()
	return n, atLeast
}

// BruteForce is the brute-force verdict at now (0 = LastSeen): the rule's
// condition holds in the window ending at now, or its episode is running.
func (s *IPState) BruteForce(r *Rules, now int64) bool {
	if r == nil {
		r = &defaultRules
	}
	if !r.BruteForce.on() {
		return false
	}
	if now == 0 {
		now = s.last
	}
	if n, _ := s.FailuresIn(r, r.BruteForce.Window, now); n >= int64(r.BruteForce.N) {
		return true
	}
	e := s.ep(ipBrute)
	return e != nil && !e.ended(r, now)
}

// ActiveAlert is a rule with a running episode: its last alert's summary.
type ActiveAlert struct {
	Rule     string
	Severity string
	Level    int
	Seq      int // alerts so far in the episode
	Count    int64
	// EpisodeStart, FirstEventTime, LastAlert and LastActive are unix seconds.
	EpisodeStart, FirstEventTime, LastAlert, LastActive int64
}

// ID is the id of the episode's last alert for the state's key.
func (a ActiveAlert) ID(key string) string {
	return AlertID(a.Rule, key, a.EpisodeStart, a.Level, a.Seq)
}

func activeOf(rule string, e *episode) ActiveAlert {
	return ActiveAlert{
		Rule: rule, Severity: Severity(rule, int(e.level)), Level: int(e.level), Seq: int(e.seq), Count: e.count,
		EpisodeStart: e.start, FirstEventTime: e.first, LastAlert: e.lastAlert, LastActive: e.lastActive,
	}
}

// ActiveAlerts lists the rules with a running episode at now (0 = LastSeen).
func (s *IPState) ActiveAlerts(r *Rules, now int64) []ActiveAlert {
	if r == nil {
		r = &defaultRules
	}
	if now == 0 {
		now = s.last
	}
	var out []ActiveAlert
	for i := range s.eps {
		if !s.eps[i].ended(r, now) {
			out = append(out, activeOf(ipRuleNames[s.eps[i].k], &s.eps[i].episode))
		}
	}
	return out
}

// WindowCount is a failure rule's count in its window.
type WindowCount struct {
	Rule      string
	Window    time.Duration
	Threshold int
	Count     int64
	AtLeast   bool // the count may be higher (see FailuresIn)
}

// IPSummary is what the API shows of an IP.
type IPSummary struct {
	FirstSeen, LastSeen                                   int64 // unix seconds
	Events, Failures, Successes, InvalidUsers, LateEvents int64
	Hosts, UsersTried, InvalidUserNames, SampleRowHashes  []string
	Windows                                               []WindowCount // the failure-count rules' windows ending at now
	BruteForce                                            bool
	Active                                                []ActiveAlert
}

// Summary is the state as the API shows it, at now (0 = LastSeen).
func (s *IPState) Summary(r *Rules, now int64) IPSummary {
	if r == nil {
		r = &defaultRules
	}
	if now == 0 {
		now = s.last
	}
	out := IPSummary{
		FirstSeen: s.first, LastSeen: s.last,
		Events: s.events, Failures: s.failures, Successes: s.successes, InvalidUsers: s.invalids, LateEvents: s.late,
		Hosts: s.Hosts(), UsersTried: s.UsersTried(), InvalidUserNames: s.InvalidUserNames(), SampleRowHashes: s.SampleRowHashes(),
		BruteForce: s.BruteForce(r, now),
		Active:     s.ActiveAlerts(r, now),
	}
	for _, x := range []struct {
		rule string
		th   Threshold
	}{
		{contracts.RuleBruteForce, r.BruteForce}, {contracts.RuleSlowBruteForce, r.SlowBruteForce},
		{contracts.RulePasswordSpraying, Threshold{Disabled: r.PasswordSpraying.Disabled, N: r.PasswordSpraying.Failures, Window: r.PasswordSpraying.Window}},
		{contracts.RuleCompromise, r.Compromise},
	} {
		if !x.th.on() {
			continue
		}
		n, atLeast := s.FailuresIn(r, x.th.Window, now)
		out.Windows = append(out.Windows, WindowCount{Rule: x.rule, Window: x.th.Window, Threshold: x.th.N, Count: n, AtLeast: atLeast})
	}
	if th := r.RootAttempts; th.on() {
		w := secs(th.Window)
		out.Windows = append(out.Windows, WindowCount{Rule: contracts.RuleRootAttempts, Window: th.Window, Threshold: th.N, Count: s.root().sumIn(now-w, now)})
	}
	return out
}
