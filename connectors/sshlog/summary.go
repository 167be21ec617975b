package sshlog

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/log-monitor/log_monitor/contracts"
)

// Summary counts parsed events: per event_type, per log_level and per error_type,
// plus lines, unknown lines, truncated lines, failed attempts and the event_time
// range. Its renderings are deterministic (used by `logmon parse --summary` and the
// golden tests).
type Summary struct {
	Lines          int64            `json:"lines"`
	Unknown        int64            `json:"unknown"`
	Truncated      int64            `json:"truncated"`
	FailedAttempts int64            `json:"failed_attempts"`
	EventTypes     map[string]int64 `json:"event_types"`
	LogLevels      map[string]int64 `json:"log_levels"`
	ErrorTypes     map[string]int64 `json:"error_types"`
	FirstEventTime time.Time        `json:"first_event_time,omitzero"`
	LastEventTime  time.Time        `json:"last_event_time,omitzero"`
}

// NewSummary returns an empty summary.
func NewSummary() *Summary {
	return &Summary{EventTypes: map[string]int64{}, LogLevels: map[string]int64{}, ErrorTypes: map[string]int64{}}
}

// Add counts one event.
func (s *Summary) Add(e contracts.Event) {
	if s.EventTypes == nil {
		s.EventTypes = map[string]int64{}
	}
	if s.LogLevels == nil {
		s.LogLevels = map[string]int64{}
	}
	if s.ErrorTypes == nil {
		s.ErrorTypes = map[string]int64{}
	}
	s.Lines++
	s.EventTypes[e.EventType]++
	s.LogLevels[e.LogLevel]++
	if e.ErrorType != "" {
		s.ErrorTypes[e.ErrorType]++
	}
	if e.EventType == contracts.TypeUnknown {
		s.Unknown++
	}
	if e.Truncated {
		s.Truncated++
	}
	s.FailedAttempts += int64(e.FailedAttempts())
	if e.HostName != "" { // the time came from the line, not the collection time
		if s.FirstEventTime.IsZero() || e.EventTime.Before(s.FirstEventTime) {
			s.FirstEventTime = e.EventTime
		}
		if s.LastEventTime.IsZero() || e.EventTime.After(s.LastEventTime) {
			s.LastEventTime = e.EventTime
		}
	}
}

// MarshalJSONIndent renders the summary as indented JSON with sorted keys and a
// final newline.
func (s *Summary) MarshalJSONIndent() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

type kv struct {
	k string
	v int64
}

// sortedCounts returns the counts by descending count, then by name.
func sortedCounts(m map[string]int64) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].v != out[j].v {
			return out[i].v > out[j].v
		}
		return out[i].k < out[j].k
	})
	return out
}

// WriteText writes a plain-text table of the summary.
func (s *Summary) WriteText(w io.Writer) error {
	_, err := io.WriteString(w, s.String())
	return err
}

// String renders the summary as text: totals, then each count table by descending
// count and name.
func (s *Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "lines            %d\n", s.Lines)
	fmt.Fprintf(&b, "unknown          %d\n", s.Unknown)
	fmt.Fprintf(&b, "truncated        %d\n", s.Truncated)
	fmt.Fprintf(&b, "failed_attempts  %d\n", s.FailedAttempts)
	if !s.FirstEventTime.IsZero() {
		fmt.Fprintf(&b, "first_event_time %s\n", s.FirstEventTime.Format(time.RFC3339Nano))
		fmt.Fprintf(&b, "last_event_time  %s\n", s.LastEventTime.Format(time.RFC3339Nano))
	}
	for _, t := range []struct {
		name string
		m    map[string]int64
	}{{"event_type", s.EventTypes}, {"log_level", s.LogLevels}, {"error_type", s.ErrorTypes}} {
		fmt.Fprintf(&b, "\n%-24s %10s\n", t.name, "count")
		for _, c := range sortedCounts(t.m) {
			fmt.Fprintf(&b, "%-24s %10d\n", c.k, c.v)
		}
	}
	return b.String()
}
