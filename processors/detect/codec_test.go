package detect

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/log-monitor/log_monitor/contracts"
)

// statesAfter runs evs and returns the engine (its states).
func statesAfter(tb testing.TB, r Rules, evs []Event) *engine {
	g := newEngine(tb, r)
	g.run(evs)
	return g
}

func TestCodecRoundTrip(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		evs := randomStream(seed, 2000, 3, 12, seed%2 == 0)
		r := DefaultRules()
		if seed%3 == 0 {
			r = smallRules()
		}
		g := statesAfter(t, r, evs)
		for ip, s := range g.ips {
			b1, _ := s.MarshalBinary()
			var x IPState
			if err := x.UnmarshalBinary(b1); err != nil {
				t.Fatalf("ip %s: %v", ip, err)
			}
			b2, _ := x.MarshalBinary()
			if !bytes.Equal(b1, b2) {
				t.Fatalf("ip %s: re-encoding differs", ip)
			}
			if !reflect.DeepEqual(s.Summary(&r, 0), x.Summary(&r, 0)) {
				t.Fatalf("ip %s: summaries differ", ip)
			}
		}
		for u, s := range g.users {
			b1, _ := s.MarshalBinary()
			var x UserState
			if err := x.UnmarshalBinary(b1); err != nil {
				t.Fatalf("user %s: %v", u, err)
			}
			b2, _ := x.MarshalBinary()
			if !bytes.Equal(b1, b2) {
				t.Fatalf("user %s: re-encoding differs", u)
			}
		}
	}
	// A decoded state goes on exactly like the original.
	evs := randomStream(99, 4000, 4, 10, true)
	a1 := newEngine(t, smallRules()).run(evs)
	g := newEngine(t, smallRules())
	g.roundTrip = true
	if a2 := g.run(evs); !reflect.DeepEqual(a1, a2) {
		t.Fatalf("alerts differ with a codec round trip at every event")
	}
	// Empty states.
	for _, s := range []interface {
		MarshalBinary() ([]byte, error)
		UnmarshalBinary([]byte) error
	}{&IPState{}, &UserState{}} {
		b, _ := s.MarshalBinary()
		if len(b) != 2 || s.UnmarshalBinary(b) != nil {
			t.Errorf("%T empty: %x", s, b)
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	g := statesAfter(t, DefaultRules(), randomStream(3, 500, 1, 5, false))
	var good []byte
	for _, s := range g.ips {
		good, _ = s.MarshalBinary()
	}
	for i := 0; i < len(good); i++ {
		var x IPState
		if x.UnmarshalBinary(good[:i]) == nil {
			t.Errorf("truncated at %d of %d accepted", i, len(good))
		}
	}
	var x IPState
	if x.UnmarshalBinary(append(append([]byte{}, good...), 0)) == nil {
		t.Error("trailing byte accepted")
	}
	bad := append([]byte{}, good...)
	bad[0] = 9
	if err := x.UnmarshalBinary(bad); err == nil {
		t.Error("unknown version accepted")
	}
	var a contracts.Alert
	if DecodeAlert(nil, &a) == nil || x.UnmarshalBinary(nil) == nil || (&UserState{}).UnmarshalBinary(nil) == nil {
		t.Error("empty input accepted")
	}
}

// FuzzUnmarshal: no panic on garbage, for every decoder; what decodes
// re-encodes canonically and can take further events.
func FuzzUnmarshal(f *testing.F) {
	for seed := uint64(1); seed <= 4; seed++ {
		g := statesAfter(f, smallRules(), randomStream(seed, 600, 2, 6, true))
		for _, s := range g.ips {
			b, _ := s.MarshalBinary()
			f.Add(b)
		}
		for _, s := range g.users {
			b, _ := s.MarshalBinary()
			f.Add(b)
		}
		for _, a := range g.alerts[:min(len(g.alerts), 2)] {
			f.Add(AppendAlert(nil, &a))
		}
	}
	f.Add([]byte{})
	f.Add([]byte{1, 0})
	f.Add([]byte{2, 0})
	for _, v := range readV1States(f) { // version 1 states with episodes
		if v.episodes > 0 {
			f.Add(v.data)
		}
	}
	r := smallRules()
	evs := randomStream(5, 60, 1, 4, true)
	f.Fuzz(func(t *testing.T, data []byte) {
		var s IPState
		if s.UnmarshalBinary(data) == nil {
			b1, _ := s.MarshalBinary()
			var x IPState
			if err := x.UnmarshalBinary(b1); err != nil {
				t.Fatalf("re-decode: %v", err)
			}
			if b2, _ := x.MarshalBinary(); !bytes.Equal(b1, b2) {
				t.Fatal("not canonical")
			}
			for _, e := range evs {
				s.Apply(&r, e, func(contracts.Alert) {})
			}
			_ = s.Summary(&r, 0)
			_, _ = s.MarshalBinary()
		}
		var u UserState
		if u.UnmarshalBinary(data) == nil {
			b1, _ := u.MarshalBinary()
			var x UserState
			if err := x.UnmarshalBinary(b1); err != nil {
				t.Fatalf("re-decode user: %v", err)
			}
			for _, e := range evs {
				u.Apply(&r, e, func(contracts.Alert) {})
			}
			_ = u.ActiveAlerts(&r, 0)
		}
		var a contracts.Alert
		if DecodeAlert(data, &a) == nil {
			b1 := AppendAlert(nil, &a)
			var x contracts.Alert
			if err := DecodeAlert(b1, &x); err != nil || !reflect.DeepEqual(a, x) {
				t.Fatalf("alert re-decode: %v", err)
			}
		}
	})
}

// The state does not grow with the attack: 100,000 failures from one IP, each
// on a new long user name, with invalid users, root attempts and successes
// mixed in, over about 28 hours.
func TestStateSizeBounded(t *testing.T) {
	r := DefaultRules()
	var s IPState
	var us UserState
	var maxIP, maxUser int
	alerts := map[string]int{}
	emit := func(a contracts.Alert) { alerts[a.Rule]++ }
	for i := range 100000 {
		tm := t0 + int64(i)
		user := fmt.Sprintf("attacker-dictionary-user-name-%08d-with-a-long-suffix", i)
		var e Event
		switch i % 10 {
		case 0:
			e = invalidFailEv(tm, "2001:db8:85a3::8a2e:370:7334", user)
		case 1:
			e = failEv(tm, "2001:db8:85a3::8a2e:370:7334", RootUser)
		case 2:
			e = repeatEv(tm, "2001:db8:85a3::8a2e:370:7334", user, 1000)
		default:
			e = failEv(tm, "2001:db8:85a3::8a2e:370:7334", user)
		}
		e.Host = fmt.Sprintf("host-%d.example.internal", i%7)
		e.RowHash = fmt.Sprintf("%032x", i)
		s.Apply(&r, e, emit)
		if i%1000 == 999 {
			s.Apply(&r, successEv(tm, "2001:db8:85a3::8a2e:370:7334", "admin"), emit)
		}
		ue := e
		ue.User = "admin"
		ue.IP = fmt.Sprintf("2001:db8::%x", i)
		us.Apply(&r, ue, emit)
		if i%97 == 0 || i == 99999 {
			b, _ := s.MarshalBinary()
			maxIP = max(maxIP, len(b))
			b, _ = us.MarshalBinary()
			maxUser = max(maxUser, len(b))
		}
	}
	t.Logf("100,000-failure attack: IP state max %d bytes, user state max %d bytes, alerts %v (%d failures counted)", maxIP, maxUser, alerts, s.Failures())
	if maxIP > 2048 || maxUser > 1024 {
		t.Errorf("state too big: IP %d, user %d bytes", maxIP, maxUser)
	}
	// per rule: the first alert, 3 escalations, then one reminder per hour
	hours := 100000 / 3600
	for rule, n := range alerts {
		if n > 1+r.MaxEscalations+hours {
			t.Errorf("%s: %d alerts over %d hours", rule, n, hours)
		}
	}
	// A benign IP: a few logins and a typo.
	var b IPState
	b.Apply(&r, failEv(t0, "192.0.2.10", "alice"), nil)
	b.Apply(&r, successEv(t0+5, "192.0.2.10", "alice"), nil)
	b.Apply(&r, otherEv(t0+900, "192.0.2.10"), nil)
	enc, _ := b.MarshalBinary()
	t.Logf("benign IP state: %d bytes", len(enc))
}
