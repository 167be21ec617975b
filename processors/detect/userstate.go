package detect

import (
	"fmt"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
)

// UserState is the rule state of one user name (the processor's key) for
// distributed_attack: one account failing from many IPs. Bounded like IPState:
// at most Failures (time, count) pairs, max(IPs, 10) IPs, 5 hosts, 5 row
// hashes and one episode.
//
// The zero value is an empty state. Events must all carry the same user; only
// failed attempts matter (other events only count).
type UserState struct {
	first, last int64
	events      int64
	failures    int64
	late        int64

	fv      vec[tc]  // failed attempts: ring
	iv      vec[ent] // IPs with failures on the user, by last failure: lru
	hv      vec[ent] // hosts: lru
	samples samples

	ep episode

	tc [userFailsInline]tc
	en [2 * namesInline]ent
}

const userFailsInline = 6

func (s *UserState) fails() ring     { return ring(s.fv.get(s.tc[:])) }
func (s *UserState) ips() lru        { return lru(s.iv.get(s.en[:namesInline:namesInline])) }
func (s *UserState) hosts() lru      { return lru(s.hv.get(s.en[namesInline:])) }
func (s *UserState) setFails(r ring) { s.fv.put(s.tc[:], r) }
func (s *UserState) setIPs(l lru)    { s.iv.put(s.en[:namesInline:namesInline], l) }
func (s *UserState) setHosts(l lru)  { s.hv.put(s.en[namesInline:], l) }

// Apply runs one event through the user's rule and calls emit (when not nil)
// for the alert it raises, if any. Like IPState.Apply, it is not idempotent.
func (s *UserState) Apply(r *Rules, ev Event, emit func(contracts.Alert)) {
	if r == nil {
		r = &defaultRules
	}
	t := ev.Time
	f := ev.failed()
	late := s.events > 0 && t < s.last-secs(r.UserLateness())
	if s.events == 0 || t < s.first {
		s.first = t
	}
	if s.events == 0 || t > s.last {
		s.last = t
	}
	s.events++
	s.failures = min(s.failures+f, maxRepeat)
	if ev.Host != "" {
		h := s.hosts()
		h.touch(clip(ev.Host), t, maxHosts)
		s.setHosts(h)
	}
	if late {
		s.late++
		return
	}
	da := r.DistributedAttack
	if f > 0 {
		fails, ips := s.fails(), s.ips()
		fails.add(t, f)
		s.setFails(fails)
		if ev.IP != "" {
			ips.touch(clip(ev.IP), t, max(da.IPs, maxUsers))
			s.setIPs(ips)
		}
		s.samples.push(ev.RowHash)
		s.ep.accrue(r, t, f)
		if da.on() {
			if a, ok := both(fails, ips, t, int64(da.Failures), int64(da.IPs), secs(da.Window)); ok {
				s.alert(r, a, &ev, emit)
			}
		}
	}
	s.housekeep(r)
}

func (s *UserState) alert(r *Rules, a activity, ev *Event, emit func(contracts.Alert)) {
	da := r.DistributedAttack
	if !s.ep.step(r, a, int64(da.Failures)) || emit == nil {
		return
	}
	al := newAlert(contracts.RuleDistributedAttack, ev.User, &s.ep, a, da.Window, ev.Offset)
	al.User = ev.User
	al.Users = []string{ev.User}
	al.IPs = s.ips().newest(maxUsers)
	al.Hosts = s.hosts().newest(maxHosts)
	al.SampleRowHashes = s.samples.newest()
	al.Message = message(&al, fmt.Sprintf("%d IPs and %d failures in %s", da.IPs, da.Failures, fmtDur(da.Window)))
	emit(al)
}

func (s *UserState) housekeep(r *Rules) {
	da := r.DistributedAttack
	fails := s.fails()
	if !da.on() {
		fails = fails[:0]
	} else {
		fails.trim(int64(da.Failures), s.last-secs(da.Window)-secs(r.UserLateness()))
	}
	s.setFails(fails)
	if s.ep.seq > 0 && s.ep.ended(r, s.last) {
		s.ep = episode{}
	}
}

// The first byte of UserState's binary encoding. Version 2 stores the
// running episode under its rule's name (distributed_attack), as IPState
// does; version 1 stored a flag. AppendBinary writes version 2;
// UnmarshalBinary reads both.
const (
	userVersion1 = 1
	userVersion  = 2
)

// AppendBinary appends the state's compact binary encoding to b.
func (s *UserState) AppendBinary(b []byte) ([]byte, error) {
	w := enc{b: append(b, userVersion)}
	if s.events == 0 {
		w.uvarint(0)
		return w.b, nil
	}
	w.uvarint(uint64(s.events))
	w.varint(s.last)
	w.varint(s.last - s.first)
	w.uvarint(uint64(s.failures))
	w.uvarint(uint64(s.late))
	fails, ips, hosts := s.fails(), s.ips(), s.hosts()
	for _, n := range [...]int{len(fails), len(ips), len(hosts), int(s.samples.n)} {
		w.uvarint(uint64(n))
	}
	w.ring(fails, s.last)
	w.lru(ips, s.last)
	w.lru(hosts, s.last)
	for _, v := range s.samples.v[:s.samples.n] {
		w.str(v)
	}
	if s.ep.seq > 0 {
		w.uvarint(1)
		w.namedEpisode(contracts.RuleDistributedAttack, &s.ep, s.last)
	} else {
		w.uvarint(0)
	}
	return w.b, nil
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (s *UserState) MarshalBinary() ([]byte, error) {
	return s.AppendBinary(make([]byte, 0, 48+4*int(s.fv.n)+20*int(s.iv.n+s.hv.n)+34*int(s.samples.n)))
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler (see IPState's).
func (s *UserState) UnmarshalBinary(data []byte) error {
	*s = UserState{}
	d := &dec{s: string(data)}
	v := d.byte()
	if v != userVersion && v != userVersion1 {
		return fmt.Errorf("detect: user state encoding version %d unknown", v)
	}
	if s.events = d.small(1 << 62); s.events > 0 {
		s.last = d.varint()
		s.first = s.last - d.varint()
		s.failures = d.small(1 << 62)
		s.late = d.small(1 << 62)
		var ns [4]int
		d.lengths(ns[:], MaxCountThreshold+MaxDistinctThreshold)
		if ns[3] > maxSamples {
			d.fail(fmt.Errorf("%d samples", ns[3]))
		}
		if d.err == nil {
			var tcs [1][]tc
			var ens [2][]ent
			carve([][]tc{s.tc[:]}, ns[0:1], tcs[:])
			carve([][]ent{s.en[:namesInline:namesInline], s.en[namesInline:]}, ns[1:3], ens[:])
			fails, ips, hosts := ring(tcs[0]), lru(ens[0]), lru(ens[1])
			d.ring(fails, s.last)
			d.lru(ips, s.last)
			d.lru(hosts, s.last)
			s.setFails(fails)
			s.setIPs(ips)
			s.setHosts(hosts)
			s.samples.n = int32(ns[3])
			for i := range ns[3] {
				s.samples.v[i] = d.str(maxStr)
			}
		}
		if v == userVersion1 {
			switch d.byte() {
			case 0:
			case 1:
				s.ep = d.episode(s.last)
			default:
				d.fail(fmt.Errorf("bad episode flag"))
			}
		} else {
			s.readEpisodes(d)
		}
	}
	if err := d.finish(); err != nil {
		*s = UserState{}
		return fmt.Errorf("detect: user state: %w", err)
	}
	return nil
}

// Events is the number of events applied.
func (s *UserState) Events() int64 { return s.events }

// FirstSeen is the oldest event time seen (unix seconds).
func (s *UserState) FirstSeen() int64 { return s.first }

// LastSeen is the newest event time seen (unix seconds).
func (s *UserState) LastSeen() int64 { return s.last }

// Failures is the number of failed attempts on the user (all time).
func (s *UserState) Failures() int64 { return s.failures }

// LateEvents is the number of events too late to take part in the rule.
func (s *UserState) LateEvents() int64 { return s.late }

// IPs are the most recent IPs that failed on the user, most recent first.
func (s *UserState) IPs() []string { l := s.ips(); return l.newest(len(l)) }

// Hosts are up to 5 hosts, most recent first.
func (s *UserState) Hosts() []string { return s.hosts().newest(maxHosts) }

// FailuresIn is the number of failed attempts within (now-window, now] (now =
// 0: LastSeen), cut at the rule's Failures threshold.
func (s *UserState) FailuresIn(window time.Duration, now int64) int64 {
	if now == 0 {
		now = s.last
	}
	w := secs(window)
	return s.fails().sumIn(now-w, now)
}

// ActiveAlerts lists distributed_attack when its episode runs at now (0 = LastSeen).
func (s *UserState) ActiveAlerts(r *Rules, now int64) []ActiveAlert {
	if r == nil {
		r = &defaultRules
	}
	if now == 0 {
		now = s.last
	}
	if s.ep.ended(r, now) {
		return nil
	}
	return []ActiveAlert{activeOf(contracts.RuleDistributedAttack, &s.ep)}
}

// readEpisodes reads version 2's episodes: a count, then each under its
// rule's name. A user state runs distributed_attack only; an episode of
// another (unknown) rule is dropped, as IPState drops it.
func (s *UserState) readEpisodes(d *dec) {
	n := d.count(maxStoredEpisodes)
	seen := false
	for range n {
		name, ep := d.namedEpisode(s.last)
		if d.err != nil {
			return
		}
		if name != contracts.RuleDistributedAttack {
			continue
		}
		if seen {
			d.fail(fmt.Errorf("two episodes of rule %s", name))
			return
		}
		seen, s.ep = true, ep
	}
}
