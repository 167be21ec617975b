package detect

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// v1State is one line of testdata/states-v1.txt.
type v1State struct {
	kind, key string
	after     int // events applied when it was encoded
	episodes  int
	data      []byte
}

func readV1States(t testing.TB) []v1State {
	t.Helper()
	f, err := os.Open("testdata/states-v1.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []v1State
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) != 5 {
			t.Fatalf("bad line %q", sc.Text())
		}
		after, err1 := strconv.Atoi(f[1])
		eps, err2 := strconv.Atoi(f[3])
		data, err3 := hex.DecodeString(f[4])
		if err1 != nil || err2 != nil || err3 != nil || data[0] != 1 {
			t.Fatalf("bad line %q", sc.Text())
		}
		out = append(out, v1State{kind: f[0], after: after, key: f[2], episodes: eps, data: data})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDecodeVersion1: states written by codec version 1 (episodes as a mask
// of rule positions) decode to the states the same events give today.
func TestDecodeVersion1(t *testing.T) {
	states := readV1States(t)
	evs := randomStream(11, 3000, 4, 10, true)
	r := smallRules()
	g := newEngine(t, r)
	applied, withEpisodes := 0, 0
	for _, v := range states {
		for applied < v.after {
			g.apply(evs[applied])
			applied++
		}
		var got, want []byte
		switch v.kind {
		case "ip":
			var x IPState
			if err := x.UnmarshalBinary(v.data); err != nil {
				t.Fatalf("ip %s after %d: %v", v.key, v.after, err)
			}
			if len(x.eps) != v.episodes {
				t.Fatalf("ip %s after %d: %d episodes, the file says %d", v.key, v.after, len(x.eps), v.episodes)
			}
			if !reflect.DeepEqual(x.Summary(&r, 0), g.ips[v.key].Summary(&r, 0)) {
				t.Fatalf("ip %s after %d: summaries differ", v.key, v.after)
			}
			got, _ = x.MarshalBinary()
			want, _ = g.ips[v.key].MarshalBinary()
		case "user":
			var x UserState
			if err := x.UnmarshalBinary(v.data); err != nil {
				t.Fatalf("user %s after %d: %v", v.key, v.after, err)
			}
			got, _ = x.MarshalBinary()
			want, _ = g.users[v.key].MarshalBinary()
		default:
			t.Fatalf("kind %q", v.kind)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s %s after %d: the decoded version 1 state differs from the state of the same events", v.kind, v.key, v.after)
		}
		if got[0] != 2 {
			t.Fatalf("re-encoded as version %d", got[0])
		}
		if v.episodes > 0 {
			withEpisodes++
		}
	}
	if withEpisodes < 5 {
		t.Fatalf("only %d states with episodes in the file", withEpisodes)
	}
}

// stateWithEpisodes returns a version 2 IP state with running episodes.
func stateWithEpisodes(t *testing.T) *IPState {
	t.Helper()
	for _, v := range readV1States(t) {
		if v.kind == "ip" && v.episodes >= 2 {
			var x IPState
			if err := x.UnmarshalBinary(v.data); err != nil {
				t.Fatal(err)
			}
			return &x
		}
	}
	t.Fatal("no state with two episodes")
	return nil
}

func activeRules(s *IPState) []string {
	var out []string
	for _, a := range s.ActiveAlerts(nil, 0) {
		out = append(out, a.Rule)
	}
	slices.Sort(out)
	return out
}

// TestEpisodesStoredByName: version 2 names each episode's rule, so the
// order of the rule list does not change what stored state means.
func TestEpisodesStoredByName(t *testing.T) {
	s := stateWithEpisodes(t)
	b, _ := s.MarshalBinary()
	for _, e := range s.eps {
		if !bytes.Contains(b, []byte(ipRuleNames[e.k])) {
			t.Fatalf("rule %s not named in %x", ipRuleNames[e.k], b)
		}
	}
	want := activeRules(s)

	saved := ipRuleNames
	defer func() { ipRuleNames = saved }()
	slices.Reverse(ipRuleNames[:])
	var x IPState
	if err := x.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got := activeRules(&x); !reflect.DeepEqual(got, want) {
		t.Fatalf("rules reordered: active %v, want %v", got, want)
	}
	if !slices.IsSortedFunc(x.eps, func(a, b ruleEpisode) int { return a.k - b.k }) {
		t.Fatalf("episodes not in rule order: %+v", x.eps)
	}
}

// TestUnknownRuleEpisodeDropped: an episode of a rule the code does not
// know is dropped, the rest of the state decodes.
func TestUnknownRuleEpisodeDropped(t *testing.T) {
	s := stateWithEpisodes(t)
	b, _ := s.MarshalBinary()
	want := activeRules(s)
	victim := want[0]
	i := bytes.Index(b, []byte(victim))
	bad := append([]byte{}, b...)
	bad[i+len(victim)-1] = '~' // same length, a name no rule has
	var x IPState
	if err := x.UnmarshalBinary(bad); err != nil {
		t.Fatal(err)
	}
	if got := activeRules(&x); !reflect.DeepEqual(got, want[1:]) {
		t.Fatalf("active %v, want %v", got, want[1:])
	}
	if x.Events() != s.Events() || x.Failures() != s.Failures() {
		t.Fatal("the rest of the state changed")
	}
	// the same rule twice is garbage
	s.eps = append(s.eps, s.eps[0])
	dup, _ := s.MarshalBinary()
	if x.UnmarshalBinary(dup) == nil {
		t.Error("two episodes of one rule accepted")
	}
}
