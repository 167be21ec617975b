package ipstage

import (
	"math"
	"time"
)

// DayClose is the rule that makes a day's metrics-daily document final.
// The emitter (processors/daily) applies it when it sends documents and the
// API (views) when it answers for a day, so both say the same.
//
// A day closes when every partition's event time (of the IP deltas, see
// DayState.MaxTime) has passed the day's end plus Grace and the processors
// are not catching up (at most MaxBacklog records behind: a day's
// aggregate key can sit in a loopback partition that lags the others, so
// in a replay the event time of the other days ran ahead of its pending
// deltas and days were closed early), or, for the last days of a replay
// and for live days with no more traffic, when the wall clock is past that
// point, the processors have no input left and the day has not changed for
// Idle.
type DayClose struct {
	Grace time.Duration
	Idle  time.Duration
	// Partitions of ssh-log: a day closes by event time only once every
	// one of them has passed it.
	Partitions int
	// MaxBacklog is the most records the processors may be behind for the
	// event-time rule (live traffic keeps a few in flight).
	MaxBacklog int64
	Loc        *time.Location
}

// DefaultDayClose is the rule with its defaults: 10 minutes of grace, 30 s
// idle, days in loc, for an ssh-log of the given partitions
// (config.Kafka.PartitionCount).
func DefaultDayClose(loc *time.Location, partitions int) DayClose {
	return DayClose{Grace: 10 * time.Minute, Idle: 30 * time.Second, Partitions: partitions, MaxBacklog: 10_000, Loc: loc}
}

// Closed reports whether day is closed, given every day's per-partition
// aggregates (all) and the records the processors have not committed yet
// (lag; negative: unknown, counted as far behind).
func (c DayClose) Closed(day string, all map[string][]*DayState, lag int64, now time.Time) bool {
	return c.Closing(all, lag, now)(day)
}

// Closing is Closed for many days of the same state: the partitions'
// latest event time is taken once.
func (c DayClose) Closing(all map[string][]*DayState, lag int64, now time.Time) func(day string) bool {
	latest := map[int32]int64{}
	for _, ps := range all {
		for _, s := range ps {
			latest[s.Partition] = max(latest[s.Partition], s.MaxTime)
		}
	}
	// The event time every partition has passed (-1: the event-time rule
	// does not apply: a partition without events, or a backlog).
	passed := int64(-1)
	if len(latest) >= c.Partitions && lag >= 0 && lag <= c.MaxBacklog {
		passed = math.MaxInt64
		for _, t := range latest {
			passed = min(passed, t)
		}
	}
	return func(day string) bool {
		start, err := time.ParseInLocation("2006-01-02", day, c.Loc)
		if err != nil {
			return false
		}
		closeAt := start.AddDate(0, 0, 1).Add(c.Grace)
		if passed >= closeAt.Unix() {
			return true
		}
		var updated int64
		for _, s := range all[day] {
			updated = max(updated, s.Updated)
		}
		return lag == 0 && now.After(closeAt) && now.Sub(time.UnixMilli(updated)) >= c.Idle
	}
}
