package detect

// tc is a number of failed attempts at one second.
type tc struct{ t, n int64 }

// ring is a bounded multiset of failed-attempt times, as (time, count) pairs in
// strictly ascending time: a "message repeated 1000 times" line is one pair.
// It keeps the most recent attempts only (see trim), which is all a rule
// "N attempts within W" needs to decide.
type ring []tc

// maxRepeat bounds one pair's count (keeps sums far from overflow).
const maxRepeat = 1 << 40

// add records n attempts at time t, in sorted position (merging equal times).
func (r *ring) add(t, n int64) {
	if n <= 0 {
		return
	}
	s := *r
	i := len(s)
	for i > 0 && s[i-1].t > t {
		i--
	}
	if i > 0 && s[i-1].t == t {
		s[i-1].n = min(s[i-1].n+n, maxRepeat)
		return
	}
	s = append(s, tc{})
	copy(s[i+1:], s[i:])
	s[i] = tc{t, min(n, maxRepeat)}
	*r = s
}

// trim drops the pairs no rule can use any more: those at or before minT, and
// the oldest ones while the rest still hold >= keep attempts (the keep most
// recent attempts decide whether keep or fewer fall within a window).
func (r *ring) trim(keep, minT int64) {
	s := *r
	var total int64
	for i := range s {
		total += s[i].n
	}
	drop := 0
	for drop < len(s) && (s[drop].t <= minT || total-s[drop].n >= keep) {
		total -= s[drop].n
		drop++
	}
	if drop > 0 {
		n := copy(s, s[drop:])
		*r = s[:n]
	}
}

// sumIn is the number of attempts with lo < t <= hi.
func (r ring) sumIn(lo, hi int64) int64 {
	var n int64
	for i := len(r) - 1; i >= 0 && r[i].t > lo; i-- {
		if r[i].t <= hi {
			n += r[i].n
		}
	}
	return n
}

// kth is the time of the k-th most recent attempt at or before hi (counted with
// multiplicity), or of the oldest kept one when fewer are kept.
func (r ring) kth(k, hi int64) int64 {
	var n int64
	t := hi
	for i := len(r) - 1; i >= 0; i-- {
		if r[i].t > hi {
			continue
		}
		t = r[i].t
		if n += r[i].n; n >= k {
			break
		}
	}
	return t
}

// from is the index of the first pair at or after t (the candidate window
// ends for an event at t: the event's own time and, for a late event, the kept
// times after it).
func (r ring) from(t int64) int {
	i := len(r)
	for i > 0 && r[i-1].t >= t {
		i--
	}
	return i
}

// total is the number of attempts kept.
func (r ring) total() int64 {
	var n int64
	for i := range r {
		n += r[i].n
	}
	return n
}

// ent is a name and the last time it was seen.
type ent struct {
	v string
	t int64
}

// lru keeps the most recent distinct names with their last time, in
// ascending time (ties in arrival order). With capacity >= U it decides
// exactly whether U distinct names fall within a window ending at the newest
// time: evicting the oldest name never drops one a newer window needs.
type lru []ent

// touch records v at time t, keeping at most capacity names. It reports
// whether v is new: not among the kept names before (and kept now).
func (l *lru) touch(v string, t int64, capacity int) bool {
	s := *l
	for j := range s {
		if s[j].v == v {
			if s[j].t >= t {
				return false
			}
			copy(s[j:], s[j+1:])
			s = s[:len(s)-1]
			s = s.insert(ent{v, t})
			*l = s
			return false
		}
	}
	s = s.insert(ent{v, t})
	added := true
	for len(s) > capacity && len(s) > 0 {
		if s[0].v == v && s[0].t == t {
			added = false
		}
		n := copy(s, s[1:])
		s = s[:n]
	}
	*l = s
	return added
}

// insert puts e after every entry at or before e.t.
func (l lru) insert(e ent) lru {
	i := len(l)
	for i > 0 && l[i-1].t > e.t {
		i--
	}
	l = append(l, ent{})
	copy(l[i+1:], l[i:])
	l[i] = e
	return l
}

// countIn is the number of names last seen with lo < t <= hi.
func (l lru) countIn(lo, hi int64) int64 {
	var n int64
	for i := len(l) - 1; i >= 0 && l[i].t > lo; i-- {
		if l[i].t <= hi {
			n++
		}
	}
	return n
}

// kth is the last time of the k-th most recent name at or before hi (or of
// the oldest such when fewer).
func (l lru) kth(k, hi int64) int64 {
	var n int64
	t := hi
	for i := len(l) - 1; i >= 0; i-- {
		if l[i].t > hi {
			continue
		}
		t = l[i].t
		if n++; n >= k {
			break
		}
	}
	return t
}

// from is the index of the first entry at or after t.
func (l lru) from(t int64) int {
	i := len(l)
	for i > 0 && l[i-1].t >= t {
		i--
	}
	return i
}

// has reports whether v was last seen with lo < t <= hi. A name seen in the
// window but again after hi is not found (callers ask with hi = newest).
func (l lru) has(v string, lo, hi int64) bool {
	for i := len(l) - 1; i >= 0 && l[i].t > lo; i-- {
		if l[i].v == v {
			return l[i].t <= hi
		}
	}
	return false
}

// newest returns up to n names, most recent first, in a new slice.
func (l lru) newest(n int) []string {
	if len(l) < n {
		n = len(l)
	}
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = l[len(l)-1-i].v
	}
	return out
}

// Sample bounds.
const (
	maxHosts   = 5  // hosts kept per state and named in an alert
	maxUsers   = 10 // users (or IPs) named in an alert; lists keep at least this many
	maxSamples = 5  // most recent row hashes kept and named in an alert
)

// vec is a list that lives in a fixed region of its state's inline array
// while it fits, and on the heap (ext) otherwise: a decoded state then needs
// no allocation for its lists. The region is passed in by the state.
type vec[T any] struct {
	n   int32
	ext []T // non-nil: the list lives here
}

// get returns the list: a slice of region (cap = the region's length, so
// appends that fit stay in place) or the heap slice.
func (v *vec[T]) get(region []T) []T {
	if v.ext != nil {
		return v.ext
	}
	return region[:v.n:len(region)]
}

// put stores the list after a change (which may have moved it to the heap).
func (v *vec[T]) put(region []T, s []T) {
	if cap(s) > 0 && len(region) > 0 && &s[:1][0] == &region[0] {
		v.n, v.ext = int32(len(s)), nil
		return
	}
	v.n, v.ext = 0, s
}

// carve hands out lists of given lengths for decoding: a list that fits its
// inline region lives there, the others share one heap array (with a spare
// slot each, so that the next insertion does not reallocate).
func carve[T any](regions [][]T, ns []int, out [][]T) {
	extra := 0
	for i, n := range ns {
		if n > len(regions[i]) {
			extra += n + 1
		}
	}
	var arena []T
	if extra > 0 {
		arena = make([]T, extra)
	}
	for i, n := range ns {
		if n <= len(regions[i]) {
			out[i] = regions[i][:n:len(regions[i])]
			continue
		}
		out[i] = arena[: n : n+1]
		arena = arena[n+1:]
	}
}

// samples are the row hashes of the latest relevant events, oldest first.
type samples struct {
	n int32
	v [maxSamples]string
}

func (s *samples) push(h string) {
	if h == "" {
		return
	}
	if int(s.n) == maxSamples {
		copy(s.v[:], s.v[1:])
		s.n--
	}
	s.v[s.n] = clip(h)
	s.n++
}

// newest returns a copy, most recent first.
func (s *samples) newest() []string {
	if s.n == 0 {
		return nil
	}
	out := make([]string, s.n)
	for i := range out {
		out[i] = s.v[int(s.n)-1-i]
	}
	return out
}
