package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a daily time, from a cron-like "minute hour * * *".
type Schedule struct {
	Minute, Hour int
	Loc          *time.Location
}

// ParseSchedule reads "M H * * *" (the one form a daily report needs: day
// of month, month and weekday must be "*") in loc.
func ParseSchedule(spec string, loc *time.Location) (Schedule, error) {
	f := strings.Fields(spec)
	if len(f) != 5 {
		return Schedule{}, fmt.Errorf("schedule %q: want 5 fields \"minute hour * * *\"", spec)
	}
	for _, x := range f[2:] {
		if x != "*" {
			return Schedule{}, fmt.Errorf("schedule %q: only daily schedules (\"minute hour * * *\") are supported", spec)
		}
	}
	m, err := strconv.Atoi(f[0])
	if err != nil || m < 0 || m > 59 {
		return Schedule{}, fmt.Errorf("schedule %q: minute %q: want 0-59", spec, f[0])
	}
	h, err := strconv.Atoi(f[1])
	if err != nil || h < 0 || h > 23 {
		return Schedule{}, fmt.Errorf("schedule %q: hour %q: want 0-23", spec, f[1])
	}
	if loc == nil {
		return Schedule{}, fmt.Errorf("schedule %q: no time zone", spec)
	}
	return Schedule{Minute: m, Hour: h, Loc: loc}, nil
}

// at is the schedule's time on the calendar day of t (in Loc), moved by
// days.
func (s Schedule) at(t time.Time, days int) time.Time {
	t = t.In(s.Loc)
	return time.Date(t.Year(), t.Month(), t.Day()+days, s.Hour, s.Minute, 0, 0, s.Loc)
}

// Prev is the latest firing at or before t.
func (s Schedule) Prev(t time.Time) time.Time {
	if f := s.at(t, 0); !f.After(t) {
		return f
	}
	return s.at(t, -1)
}

// Next is the earliest firing after t.
func (s Schedule) Next(t time.Time) time.Time {
	if f := s.at(t, 0); f.After(t) {
		return f
	}
	return s.at(t, 1)
}

// ReportDay is the day a firing reports on: the calendar day before it.
func (s Schedule) ReportDay(fire time.Time) string {
	f := fire.In(s.Loc)
	return time.Date(f.Year(), f.Month(), f.Day()-1, 12, 0, 0, 0, s.Loc).Format(time.DateOnly)
}

// nextDay is the calendar day after day (YYYY-MM-DD).
func nextDay(day string) (string, error) {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return "", fmt.Errorf("day %q: %w", day, err)
	}
	return t.AddDate(0, 0, 1).Format(time.DateOnly), nil
}
