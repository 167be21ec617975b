package sshlog

import (
	"testing"
	"time"
)

// A parser that resumes a file after a restart, from the year inference
// the previous one left, dates a new year's lines as an uninterrupted
// parser does; one without it takes the start year again.
func TestResumeYearAcrossNewYear(t *testing.T) {
	src := Source{Path: "/var/log/auth.log", Year: 2015, Loc: time.UTC}
	before := NewParser(src, nil)
	before.Parse("Dec 31 23:59:58 LabSZ sshd[1]: Failed password for root from 10.0.0.1 port 22 ssh2", 0, time.Now())
	state := before.YearState()
	if state.Year != 2015 {
		t.Fatalf("year state %+v", state)
	}
	jan := "Jan  1 00:00:03 LabSZ sshd[1]: Failed password for root from 10.0.0.1 port 22 ssh2"
	resumed := NewParser(src, nil)
	resumed.ResumeYear(state)
	if got := resumed.Parse(jan, 100, time.Now()).EventTime.Year(); got != 2016 {
		t.Errorf("resumed parser dates January %d, want 2016", got)
	}
	if got := resumed.YearState().Year; got != 2016 {
		t.Errorf("resumed parser's year state %d, want 2016", got)
	}
	fresh := NewParser(src, nil)
	if got := fresh.Parse(jan, 100, time.Now()).EventTime.Year(); got != 2015 {
		t.Errorf("a parser without the state dates January %d: the test no longer shows what resuming changes", got)
	}
	live := NewParser(Source{Path: "/var/log/auth.log", Loc: time.UTC}, nil)
	live.Parse(jan, 0, time.Now())
	if s := live.YearState(); s != (YearState{}) {
		t.Errorf("a live parser has year state %+v, want none", s)
	}
}
