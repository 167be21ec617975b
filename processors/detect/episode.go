package detect

// episode is one (key, rule)'s alerting episode.
type episode struct {
	seq        int64 // alerts emitted in the episode; 0 = no episode
	level      int64 // escalation level reached
	start      int64 // window end of the episode's first alert (part of the alert ids)
	first      int64 // window start of the episode's first alert
	lastAlert  int64 // window end of the latest alert
	lastActive int64 // latest window end at which the rule's condition held
	count      int64 // the episode's count (see the package documentation)
}

// activity is one evaluation of a rule that found its condition true.
type activity struct {
	end   int64 // the window's end (the event's time, or a later kept one)
	start int64 // the shortest window ending at end that meets the threshold starts here
	count int64 // the count within the window
}

// step records an activity in the episode and reports whether it alerts:
// a new episode (none running, or Cooldown since its last activity) alerts at
// the level its count reached; a running one alerts when its count reaches a
// higher level (its count is accrued beforehand, see accrue), or as a reminder
// Cooldown after its last alert. thr is the threshold the levels multiply;
// thr <= 0 means no escalation, and the count is replaced by each activity's
// count.
func (e *episode) step(r *Rules, a activity, thr int64) bool {
	cd := secs(r.Cooldown)
	if e.seq == 0 || a.end-e.lastActive >= cd {
		*e = episode{seq: 1, start: a.end, first: a.start, lastAlert: a.end, lastActive: a.end, count: a.count}
		if thr > 0 {
			e.level = levelFor(r, e.count, thr)
		}
		return true
	}
	e.lastActive = max(e.lastActive, a.end)
	lvl := e.level
	if thr > 0 {
		lvl = max(lvl, levelFor(r, e.count, thr))
	} else {
		e.count = a.count
	}
	if lvl > e.level || a.end-e.lastAlert >= cd {
		e.level = lvl
		e.seq++
		e.lastAlert = max(e.lastAlert, a.end)
		return true
	}
	return false
}

// accrue adds an event's contribution (at time t) to a running episode's
// count, whether or not the rule's condition holds at that event. It is called
// before the rule is evaluated; an ended episode takes nothing (the evaluation
// starts a new one from its window's count).
func (e *episode) accrue(r *Rules, t, add int64) {
	if add > 0 && !e.ended(r, t) {
		e.count = min(e.count+add, maxRepeat)
	}
}

// ended reports whether the episode is over at time now (Cooldown without
// activity): the next activity starts a new one.
func (e *episode) ended(r *Rules, now int64) bool {
	return e.seq == 0 || now-e.lastActive >= secs(r.Cooldown)
}

// levelFor is the highest k <= MaxEscalations with count >= thr*factor^k.
func levelFor(r *Rules, count, thr int64) int64 {
	var lvl int64
	step := thr
	for lvl < int64(r.MaxEscalations) {
		if step > maxRepeat/int64(max(r.EscalationFactor, 2)) {
			break
		}
		step *= int64(max(r.EscalationFactor, 2))
		if count < step {
			break
		}
		lvl++
	}
	return lvl
}
