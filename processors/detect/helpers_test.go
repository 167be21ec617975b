package detect

import (
	"fmt"
	"sort"
	"testing"

	"github.com/log-monitor/log_monitor/contracts"
)

// t0 is an arbitrary base time (2015-12-13 00:00:00 UTC).
const t0 = int64(1449964800)

// stream builds events with increasing offsets (their arrival order).
type stream struct {
	off int64
	evs []Event
}

func (s *stream) add(e Event) *stream {
	e.Offset = s.off
	if e.RowHash == "" {
		e.RowHash = fmt.Sprintf("%032x", s.off)
	}
	if e.Host == "" {
		e.Host = "web1"
	}
	s.off++
	s.evs = append(s.evs, e)
	return s
}

func failEv(t int64, ip, user string) Event {
	return Event{Time: t, Type: contracts.TypeAuthFailure, ErrorType: contracts.ErrAuthFailed, User: user, IP: ip, Failed: 1}
}

func invalidFailEv(t int64, ip, user string) Event {
	return Event{Time: t, Type: contracts.TypeAuthFailure, ErrorType: contracts.ErrInvalidUserAuthFailed, User: user, IP: ip, Failed: 1}
}

func repeatEv(t int64, ip, user string, n int) Event {
	return Event{Time: t, Type: contracts.TypeAuthFailureRepeated, ErrorType: contracts.ErrAuthFailed, User: user, IP: ip, Failed: n}
}

func invalidEv(t int64, ip, user string) Event {
	return Event{Time: t, Type: contracts.TypeInvalidUser, ErrorType: contracts.ErrInvalidUser, User: user, IP: ip}
}

func successEv(t int64, ip, user string) Event {
	return Event{Time: t, Type: contracts.TypeAuthSuccess, User: user, IP: ip}
}

func otherEv(t int64, ip string) Event {
	return Event{Time: t, Type: contracts.TypeDisconnect, IP: ip}
}

// engine routes events like the processors do: every event with an IP to its
// IP state, every failure with a user to its user state. With roundTrip, each
// state goes through MarshalBinary/UnmarshalBinary around every event.
type engine struct {
	r         *Rules
	roundTrip bool
	ips       map[string]*IPState
	users     map[string]*UserState
	alerts    []contracts.Alert
	tb        testing.TB
}

func newEngine(tb testing.TB, r Rules) *engine {
	return &engine{r: &r, ips: map[string]*IPState{}, users: map[string]*UserState{}, tb: tb}
}

func (g *engine) emit(a contracts.Alert) { g.alerts = append(g.alerts, a) }

func (g *engine) apply(e Event) {
	if e.IP != "" {
		s := g.ips[e.IP]
		if s == nil {
			s = &IPState{}
			g.ips[e.IP] = s
		}
		if g.roundTrip {
			s = roundTripIP(g.tb, s)
			g.ips[e.IP] = s
		}
		s.Apply(g.r, e, g.emit)
	}
	if e.Failed > 0 && e.User != "" {
		s := g.users[e.User]
		if s == nil {
			s = &UserState{}
			g.users[e.User] = s
		}
		if g.roundTrip {
			s = roundTripUser(g.tb, s)
			g.users[e.User] = s
		}
		s.Apply(g.r, e, g.emit)
	}
}

func (g *engine) run(evs []Event) []contracts.Alert {
	for _, e := range evs {
		g.apply(e)
	}
	return g.alerts
}

func roundTripIP(tb testing.TB, s *IPState) *IPState {
	b, err := s.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	var x IPState
	if err := x.UnmarshalBinary(b); err != nil {
		tb.Fatalf("unmarshal: %v", err)
	}
	return &x
}

func roundTripUser(tb testing.TB, s *UserState) *UserState {
	b, err := s.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	var x UserState
	if err := x.UnmarshalBinary(b); err != nil {
		tb.Fatalf("unmarshal: %v", err)
	}
	return &x
}

// fired is the set of "rule key" pairs in alerts.
func fired(alerts []contracts.Alert) map[string]bool {
	out := map[string]bool{}
	for _, a := range alerts {
		out[a.Rule+" "+a.Key()] = true
	}
	return out
}

func byRule(alerts []contracts.Alert, rule string) []contracts.Alert {
	var out []contracts.Alert
	for _, a := range alerts {
		if a.Rule == rule {
			out = append(out, a)
		}
	}
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
