package sshlog

import (
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"
)

// loghub2k maps each EventId of OpenSSH_2k.log_templates.csv to its event_type and
// to the positions of user, ip (or rhost) and port among the template's wildcards.
var loghub2k = map[string]fieldSpec{
	"E1":  spec("auth_success").withUser(0).withIP(1).withPort(2).withMethod("password"),
	"E2":  spec("disconnect").withIP(0),
	"E3":  spec("no_identification").withIP(0),
	"E4":  spec("too_many_failures").withUserConst("admin"),
	"E5":  spec("too_many_failures").withUserConst("root"),
	"E6":  spec("disconnect_error").withIP(0),
	"E7":  spec("disconnect_error").withIP(0),
	"E8":  spec("auth_failure").withUser(0).withIP(1).withPort(2).withMethod("none").withError("invalid_user_auth_failed"),
	"E9":  spec("auth_failure").withUser(0).withIP(1).withPort(2).withMethod("password"),
	"E10": spec("auth_failure").withUser(0).withIP(1).withPort(2).withMethod("password").withError("invalid_user_auth_failed"),
	"E11": spec("connection_reset"),
	"E12": spec("invalid_user").withUser(0),
	"E13": spec("invalid_user").withUser(0).withIP(1),
	"E14": spec("auth_failure_repeated").withRepeat(0).withUserConst("root").withIP(1).withPort(2).withMethod("password"),
	"E15": spec("pam_auth_failure").withHost(3),
	"E16": spec("pam_auth_failure").withHost(3),
	"E17": spec("pam_auth_failure").withHost(3).withUserConst("root"),
	"E18": spec("pam_other"),
	"E19": spec("pam_auth_failure").withHost(2),
	"E20": spec("pam_auth_failure").withHost(2).withUser(3),
	"E21": spec("pam_other"),
	"E22": spec("session_closed").withUser(0),
	"E23": spec("session_opened").withUser(0),
	"E24": spec("disconnect").withIP(0),
	"E25": spec("disconnect").withIP(0),
	"E26": spec("disconnect").withIP(0),
	"E27": spec("break_in_attempt").withRHost(0).withIP(1),
}

// TestLoghub2k parses the real loghub sample (CRLF, no final newline) and checks every
// line against its labelled EventId and the wildcard values of its template.
func TestLoghub2k(t *testing.T) {
	raw := readShared(t, "data/loghub-openssh/OpenSSH_2k.log")
	lines := splitLines(raw)
	if len(lines) != 2000 {
		t.Fatalf("got %d records, want 2000", len(lines))
	}

	// the template list must be exactly the table's keys
	tr := csv.NewReader(strings.NewReader(readShared(t, "data/loghub-openssh/OpenSSH_2k.log_templates.csv")))
	trows, err := tr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	templates := map[string]logTemplate{}
	for _, r := range trows[1:] {
		if _, ok := loghub2k[r[0]]; !ok {
			t.Errorf("template %s (%s) has no row in the test table", r[0], r[1])
		}
		templates[r[0]] = newTemplate(r[1])
	}
	if len(templates) != len(loghub2k) {
		t.Errorf("templates csv has %d ids, table %d", len(templates), len(loghub2k))
	}

	sr := csv.NewReader(strings.NewReader(readShared(t, "data/loghub-openssh/OpenSSH_2k.log_structured.csv")))
	rows, err := sr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := map[string]int{}
	for i, h := range rows[0] {
		head[h] = i
	}
	rows = rows[1:]
	if len(rows) != len(lines) {
		t.Fatalf("structured csv has %d rows, log %d records", len(rows), len(lines))
	}

	loc := seoul(t)
	p := NewParser(Source{Path: "/data/OpenSSH_2k.log", Year: 2015, Loc: loc}, nil)
	collected := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	counts := map[string]int{}
	failures := 0
	for i, l := range lines {
		row := rows[i]
		id := row[head["EventId"]]
		content := row[head["Content"]]
		e := p.Parse(l.text, l.offset, collected)
		counts[e.EventType]++

		var bad []string
		sp, ok := loghub2k[id]
		if !ok {
			t.Fatalf("line %d: EventId %s not in table", i+1, id)
		}
		params, ok := templates[id].match(content)
		if !ok {
			t.Fatalf("line %d: content %q does not match its template %q", i+1, content, templates[id].text)
		}
		bad = append(bad, checkFields(e, sp, params)...)

		// the prefix columns
		if e.HostName != row[head["Component"]] {
			bad = append(bad, "host_name "+e.HostName)
		}
		if strconv.Itoa(e.PID) != row[head["Pid"]] {
			bad = append(bad, "pid "+strconv.Itoa(e.PID))
		}
		day, _ := strconv.Atoi(row[head["Day"]])
		hms, _ := time.Parse("15:04:05", row[head["Time"]])
		wantTime := time.Date(2015, time.December, day, hms.Hour(), hms.Minute(), hms.Second(), 0, loc)
		if row[head["Date"]] != "Dec" || !e.EventTime.Equal(wantTime) || e.EventTime.Format(time.RFC3339) != wantTime.Format(time.RFC3339) {
			bad = append(bad, "event_time "+e.EventTime.Format(time.RFC3339))
		}
		// Content lost the raw line's trailing space in 118 rows
		if e.Message != content && e.Message != content+" " {
			bad = append(bad, "message "+strconv.Quote(e.Message))
		}
		if e.Program != "sshd" || e.LogType != "ssh" || e.SourceFile != "OpenSSH_2k.log" || e.Offset != l.offset || e.Truncated {
			bad = append(bad, "program/log_type/source_file/offset/truncated")
		}
		if strings.HasSuffix(e.Message, "\r") {
			bad = append(bad, "CR kept in message")
		}
		if len(bad) > 0 {
			failures++
			if failures <= 20 {
				t.Errorf("line %d (%s) %q:\n\t%s", i+1, id, l.text, strings.Join(bad, "\n\t"))
			}
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d lines disagree with the labels", failures, len(lines))
	}
	if counts["unknown"] != 0 {
		t.Errorf("%d unknown lines", counts["unknown"])
	}
	t.Logf("event types: %v", counts)
}
