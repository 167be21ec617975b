package detect

import (
	"fmt"
	"time"
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

	fails   ring
	ips     lru // IPs with failures on the user, by last failure
	hosts   lru
	samples []string

	ep episode
}

// Apply runs one event through the user's rule and calls emit (when not nil)
// for the alert it raises, if any. Like IPState.Apply, it is not idempotent.
func (s *UserState) Apply(r *Rules, ev Event, emit func(Alert)) {
	if r == nil {
		r = &defaultRules
	}
	t := ev.Time
	f := ev.failed()
	late := s.events > 0 && t < s.last-secs(r.Lateness)
	if s.events == 0 || t < s.first {
		s.first = t
	}
	if s.events == 0 || t > s.last {
		s.last = t
	}
	s.events++
	s.failures = min(s.failures+f, maxRepeat)
	if ev.Host != "" {
		s.hosts.touch(clip(ev.Host), t, maxHosts)
	}
	if late {
		s.late++
		return
	}
	da := r.DistributedAttack
	if f > 0 {
		s.fails.add(t, f)
		if ev.IP != "" {
			s.ips.touch(clip(ev.IP), t, max(da.IPs, maxUsers))
		}
		s.samples = pushSample(s.samples, ev.RowHash)
		s.ep.accrue(r, t, f)
		if !da.Disabled {
			if a, ok := both(s.fails, s.ips, t, int64(da.Failures), int64(da.IPs), secs(da.Window)); ok {
				s.alert(r, a, &ev, emit)
			}
		}
	}
	s.housekeep(r)
}

func (s *UserState) alert(r *Rules, a activity, ev *Event, emit func(Alert)) {
	da := r.DistributedAttack
	if !s.ep.step(r, a, int64(da.Failures)) || emit == nil {
		return
	}
	al := newAlert(RuleDistributedAttack, ev.User, &s.ep, a, da.Window, ev.Offset)
	al.User = ev.User
	al.Users = []string{ev.User}
	al.IPs = s.ips.newest(maxUsers)
	al.Hosts = s.hosts.newest(maxHosts)
	al.SampleRowHashes = newestFirst(s.samples)
	al.Message = al.message(fmt.Sprintf("%d IPs and %d failures in %s", da.IPs, da.Failures, fmtDur(da.Window)))
	emit(al)
}

func (s *UserState) housekeep(r *Rules) {
	da := r.DistributedAttack
	if da.Disabled {
		s.fails = s.fails[:0]
	} else {
		s.fails.trim(int64(da.Failures), s.last-secs(da.Window)-secs(r.Lateness))
	}
	if s.ep.seq > 0 && s.ep.ended(r, s.last) {
		s.ep = episode{}
	}
}

const userVersion = 1

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
	w.ring(s.fails, s.last)
	w.lru(s.ips, s.last)
	w.lru(s.hosts, s.last)
	w.strs(s.samples)
	if s.ep.seq > 0 {
		w.byte(1)
		w.episode(&s.ep, s.last)
	} else {
		w.byte(0)
	}
	return w.b, nil
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (s *UserState) MarshalBinary() ([]byte, error) {
	return s.AppendBinary(make([]byte, 0, 48+16*len(s.fails)+24*(len(s.ips)+len(s.hosts))+36*len(s.samples)))
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (s *UserState) UnmarshalBinary(data []byte) error {
	d := newDec(data)
	if v := d.byte(); v != userVersion {
		return fmt.Errorf("detect: user state encoding version %d unknown", v)
	}
	var x UserState
	if x.events = d.small(1 << 62); x.events > 0 {
		x.last = d.varint()
		x.first = x.last - d.varint()
		x.failures = d.small(1 << 62)
		x.late = d.small(1 << 62)
		x.fails = d.ring(x.last)
		x.ips = d.lru(x.last)
		x.hosts = d.lru(x.last)
		x.samples = d.samples()
		switch d.byte() {
		case 0:
		case 1:
			x.ep = d.episode(x.last)
		default:
			d.fail(fmt.Errorf("bad episode flag"))
		}
	}
	if err := d.finish(); err != nil {
		return fmt.Errorf("detect: user state: %w", err)
	}
	*s = x
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
func (s *UserState) IPs() []string { return s.ips.newest(len(s.ips)) }

// Hosts are up to 5 hosts, most recent first.
func (s *UserState) Hosts() []string { return s.hosts.newest(maxHosts) }

// FailuresIn is the number of failed attempts within (now-window, now] (now =
// 0: LastSeen), cut at the rule's Failures threshold.
func (s *UserState) FailuresIn(window time.Duration, now int64) int64 {
	if now == 0 {
		now = s.last
	}
	w := secs(window)
	return s.fails.sumIn(now-w, now)
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
	return []ActiveAlert{activeOf(RuleDistributedAttack, &s.ep)}
}
