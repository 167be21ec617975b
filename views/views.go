// Package views reads the processors' tables through Goka views: the API
// and the metrics emitter look things up here, never in Kafka directly.
package views

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/lovoo/goka"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/processors/exactly"
	"github.com/log-monitor/log_monitor/processors/tracker"
)

// ErrNotReady is returned while the view is still recovering its table.
var ErrNotReady = errors.New("views: table not recovered yet")

// Tracker is a view over the tracker's state: the IP stage's table of IP
// records (view) and its topic of per-day aggregates (days).
type Tracker struct {
	// view is nil for a view of the days only (NewDayView).
	view *goka.View
	days *goka.View
	log  *slog.Logger
	// partitions of ssh-log, for the closing rule of Document
	partitions int
}

// NewTracker opens a view over group's IP records, whose local copy lives
// in dir, and its day aggregates.
func NewTracker(k config.Kafka, group, dir string, log *slog.Logger) (*Tracker, error) {
	if group == "" {
		group = tracker.DefaultGroup
	}
	t, err := NewDayView(k, group, log)
	if err != nil {
		return nil, err
	}
	opts := append(kafkaconfig.ViewOptions(k), goka.WithViewStorageBuilder(exactly.StorageBuilder(dir)), goka.WithViewAutoReconnect())
	t.view, err = goka.NewView(k.Brokers, goka.GroupTable(goka.Group(group)), tracker.TableCodec{}, opts...)
	if err != nil {
		return nil, fmt.Errorf("tracker view: %w", err)
	}
	return t, nil
}

// Run keeps the views up to date until ctx ends.
func (t *Tracker) Run(ctx context.Context) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	errs := make(chan error, 2)
	run := func(what string, v *goka.View) {
		err := v.Run(ctx)
		if err != nil && ctx.Err() == nil {
			err = fmt.Errorf("%s: %w", what, err)
		} else {
			err = nil
		}
		stop()
		errs <- err
	}
	n := 1
	go run("day view", t.days)
	if t.view != nil {
		n++
		go run("tracker view", t.view)
	}
	var all []error
	for range n {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// Ready reports whether the views have recovered.
func (t *Tracker) Ready() bool {
	return t.days.Recovered() && (t.view == nil || t.view.Recovered())
}

// WaitReady blocks until the view has recovered or ctx ends.
func (t *Tracker) WaitReady(ctx context.Context) error { return waitReady(ctx, t.Ready) }

// waitReady polls ready until it holds or ctx ends.
func waitReady(ctx context.Context, ready func() bool) error {
	for !ready() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %v", ErrNotReady, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// IP returns what the tracker knows of ip (nil when nothing).
func (t *Tracker) IP(ip string) (*tracker.IPRecord, error) {
	if t.view == nil {
		return nil, errors.New("views: a day view holds no IP records")
	}
	if !t.Ready() {
		return nil, ErrNotReady
	}
	v, err := t.view.Get(ip)
	if err != nil {
		return nil, fmt.Errorf("view get %s: %w", ip, err)
	}
	r, _ := v.(*tracker.IPRecord)
	return r, nil
}

// DayParts returns the per-partition aggregates of every day, by day.
func (t *Tracker) DayParts() (map[string][]*tracker.DayState, error) {
	if !t.Ready() {
		return nil, ErrNotReady
	}
	it, err := t.days.Iterator()
	if err != nil {
		return nil, fmt.Errorf("view iterate days: %w", err)
	}
	defer it.Release()
	out := map[string][]*tracker.DayState{}
	for it.Next() {
		v, err := it.Value()
		if err != nil {
			return nil, fmt.Errorf("view day %s: %w", it.Key(), err)
		}
		if s, ok := v.(*tracker.DayState); ok {
			out[s.Day] = append(out[s.Day], s)
		}
	}
	return out, nil
}

// Days lists the days that have events, oldest first.
func (t *Tracker) Days() ([]string, error) {
	parts, err := t.DayParts()
	if err != nil {
		return nil, err
	}
	days := make([]string, 0, len(parts))
	for d := range parts {
		days = append(days, d)
	}
	sort.Strings(days)
	return days, nil
}

// Document returns day's metrics-daily document as it stands, with Final
// set by the emitter's closing rule with its defaults (tracker.DayClose).
// ok is false when the day has no events.
func (t *Tracker) Document(day string, loc *time.Location, now time.Time) (contracts.DailyMetrics, bool, error) {
	parts, err := t.DayParts()
	if err != nil {
		return contracts.DailyMetrics{}, false, err
	}
	p, ok := parts[day]
	if !ok {
		return contracts.DailyMetrics{}, false, nil
	}
	m := tracker.Merge(day, p, now)
	m.Final = tracker.DefaultDayClose(loc, t.partitions).Closed(day, parts, 0, now)
	return m, true, nil
}

// TopLists are a day's top IPs by events and by failed attempts.
type TopLists struct {
	ByEvents, ByFailures []contracts.IPCount
	// Complete: the lists are the day's exact top n, from every IP's own
	// counts of the day. Otherwise some IP no longer keeps that day (an IP
	// keeps tracker.KeepDays days) and the lists are the metrics' exact top
	// contracts.DailyTopN.
	Complete bool
}

// TopIPs returns day's n IPs with the most events and with the most failed
// attempts, ties by IP ascending; ok is false when the day has no events.
func (t *Tracker) TopIPs(day string, n int) (TopLists, bool, error) {
	parts, err := t.DayParts()
	if err != nil {
		return TopLists{}, false, err
	}
	p, ok := parts[day]
	if !ok {
		return TopLists{}, false, nil
	}
	m := tracker.Merge(day, p, time.Time{})
	if n <= contracts.DailyTopN {
		// The metrics' own lists are exact up to TopN: no scan.
		return TopLists{ByEvents: cut(m.TopIPList, n), ByFailures: cut(m.TopBruteList, n), Complete: true}, true, nil
	}
	// Longer lists come from every IP's own counts of the day: a scan of
	// the table (a few hundred ms on the replica's IPs).
	if t.view == nil {
		return TopLists{ByEvents: cut(m.TopIPList, n), ByFailures: cut(m.TopBruteList, n)}, true, nil
	}
	it, err := t.view.Iterator()
	if err != nil {
		return TopLists{}, false, fmt.Errorf("view iterate: %w", err)
	}
	defer it.Release()
	var events, failures []contracts.IPCount
	for it.Next() {
		v, err := it.Value()
		if err != nil {
			return TopLists{}, false, fmt.Errorf("view ip %s: %w", it.Key(), err)
		}
		r, ok := v.(*tracker.IPRecord)
		if !ok {
			continue
		}
		for _, d := range r.Days {
			if d.Day == day && d.Events > 0 {
				events = append(events, contracts.IPCount{IP: it.Key(), Cnt: d.Events})
				if d.Failed > 0 {
					failures = append(failures, contracts.IPCount{IP: it.Key(), Cnt: d.Failed})
				}
			}
		}
	}
	if int64(len(events)) != m.UniqueIPs {
		return TopLists{ByEvents: cut(m.TopIPList, n), ByFailures: cut(m.TopBruteList, n)}, true, nil
	}
	return TopLists{ByEvents: top(events, n), ByFailures: top(failures, n), Complete: true}, true, nil
}

// top sorts l by count descending, IP ascending, and keeps n.
func top(l []contracts.IPCount, n int) []contracts.IPCount {
	sort.Slice(l, func(i, j int) bool {
		if l[i].Cnt != l[j].Cnt {
			return l[i].Cnt > l[j].Cnt
		}
		return l[i].IP < l[j].IP
	})
	return cut(l, n)
}

func cut(l []contracts.IPCount, n int) []contracts.IPCount {
	if len(l) > n {
		l = l[:n]
	}
	if l == nil {
		l = []contracts.IPCount{}
	}
	return l
}
