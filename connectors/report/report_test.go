package report_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/connectors/report"
	"github.com/log-monitor/log_monitor/contracts"
)

var seoul = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		panic(err)
	}
	return loc
}()

func TestParseSchedule(t *testing.T) {
	s, err := report.ParseSchedule("0 9 * * *", seoul)
	if err != nil || s.Hour != 9 || s.Minute != 0 {
		t.Fatalf("%+v %v", s, err)
	}
	for _, bad := range []string{"", "0 9", "60 9 * * *", "0 24 * * *", "0 9 1 * *", "0 9 * * 1-5", "x 9 * * *", "0 9 * * * *"} {
		if _, err := report.ParseSchedule(bad, seoul); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSchedulePrevNext(t *testing.T) {
	s, _ := report.ParseSchedule("30 9 * * *", seoul)
	at := func(d, hms string) time.Time {
		x, err := time.ParseInLocation("2006-01-02 15:04:05", d+" "+hms, seoul)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	cases := []struct {
		now              time.Time
		prev, next, rday string
	}{
		{at("2026-03-01", "09:29:59"), "2026-02-28 09:30", "2026-03-01 09:30", "2026-02-27"},
		{at("2026-03-01", "09:30:00"), "2026-03-01 09:30", "2026-03-02 09:30", "2026-02-28"},
		{at("2026-01-01", "00:00:00"), "2025-12-31 09:30", "2026-01-01 09:30", "2025-12-30"},
	}
	for _, c := range cases {
		p, n := s.Prev(c.now), s.Next(c.now)
		if got := p.Format("2006-01-02 15:04"); got != c.prev {
			t.Errorf("Prev(%v) = %s, want %s", c.now, got, c.prev)
		}
		if got := n.Format("2006-01-02 15:04"); got != c.next {
			t.Errorf("Next(%v) = %s, want %s", c.now, got, c.next)
		}
		if got := s.ReportDay(p); got != c.rday {
			t.Errorf("ReportDay(%v) = %s, want %s", p, got, c.rday)
		}
	}
	// The UTC instant of 09:30 KST is 00:30 UTC.
	if got := s.Next(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2026, 3, 1, 0, 30, 0, 0, time.UTC)) {
		t.Errorf("Next from UTC midnight = %v", got.UTC())
	}
}

func sampleDoc() contracts.DailyMetrics {
	d := contracts.DailyMetrics{MetricDate: "2015-12-11", TotalLogs: 15137, ErrorCount: 12, UniqueIPs: 234, PeakHour: 7, PeakHourLogs: 3001,
		TopIPList:     []contracts.IPCount{{IP: "1.1.1.1", Cnt: 900}, {IP: "2.2.2.2", Cnt: 800}, {IP: "3.3.3.3", Cnt: 700}},
		BruteForceIPs: 17, TopBruteList: []contracts.IPCount{{IP: "4.4.4.4", Cnt: 600}, {IP: "5.5.5.5", Cnt: 500}},
		HourlyLogs: make([]int64, 24), CreatedAt: time.Date(2015, 12, 11, 15, 10, 0, 0, time.UTC), Final: true}
	d.HourlyLogs[7] = 3001
	d.HourlyLogs[8] = 1500
	d.HourlyLogs[23] = 1
	return d
}

// TestBuildShowsEveryField: every metrics-daily field, both top lists, the
// 24 hours and the alert counts are in both parts.
func TestBuildShowsEveryField(t *testing.T) {
	doc := sampleDoc()
	alerts := []contracts.Alert{
		{ID: "a1", Rule: "brute_force", Severity: "high", IP: "4.4.4.4"},
		{ID: "a2", Rule: "brute_force", Severity: "critical", IP: "4.4.4.4"},
		{ID: "a3", Rule: "distributed_attack", Severity: "high", User: "root"},
	}
	incidents := []contracts.Incident{
		{ID: "i-high", Key: "10.0.0.9", Severity: "high", Rules: []string{"brute_force"}, FailedAttempts: 40, Status: "closed",
			FirstEventTime: time.Date(2015, 12, 10, 1, 0, 0, 0, time.UTC), LastEventTime: time.Date(2015, 12, 10, 2, 0, 0, 0, time.UTC)},
		{ID: "i-login", Key: "10.0.0.7", Severity: "critical", Rules: []string{"brute_force", "compromise_suspected"}, SuccessfulLogins: 1, Status: "updated",
			FirstEventTime: time.Date(2015, 12, 10, 0, 0, 0, 0, time.UTC), LastEventTime: time.Date(2015, 12, 10, 0, 30, 0, 0, time.UTC)},
	}
	r, err := report.Build(doc, alerts, incidents, seoul, time.Date(2015, 12, 12, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"metric_date": "2015-12-11", "total_logs": "15137", "error_count": "12", "unique_ips": "234",
		"peak_hour": "07", "peak_hour_logs": "3001", "brute_force_ips": "17",
		"top_ip_list": "1.1.1.1 (900), 2.2.2.2 (800), 3.3.3.3 (700)", "top_brute_list": "4.4.4.4 (600), 5.5.5.5 (500)",
		"final": "true", "created_at": "2015-12-12 00:10:00 KST"}
	for f, v := range want {
		if !strings.Contains(r.HTML, fmt.Sprintf(`data-field="%s">%s<`, f, v)) {
			t.Errorf("HTML: field %s is not %q", f, v)
		}
		if !strings.Contains(r.Text, f+":") || !strings.Contains(r.Text, v) {
			t.Errorf("text: field %s %q missing", f, v)
		}
	}
	for h, n := range doc.HourlyLogs {
		if !strings.Contains(r.HTML, fmt.Sprintf(`data-hour="%02d">%d<`, h, n)) {
			t.Errorf("HTML: hour %02d is not %d", h, n)
		}
	}
	if !strings.Contains(r.HTML, `width="100%" height="12" bgcolor="#c0392b"`) || !strings.Contains(r.HTML, `width="49%" height="12"`) ||
		!strings.Contains(r.HTML, `width="1%" height="12"`) {
		t.Errorf("hour bars not proportional:\n%s", r.HTML)
	}
	for _, s := range []string{`data-field="alerts_total">3 alerts<`, `data-rule="brute_force">2<`, `data-rule="distributed_attack">1<`,
		`data-severity="critical">1<`, `data-severity="high">2<`, "<td>user root</td>"} {
		if !strings.Contains(r.HTML, s) {
			t.Errorf("HTML lacks %s", s)
		}
	}
	if r.Subject != "[logmon] SSH daily report 2015-12-11: 2 incidents, 15137 events, 234 IPs, 1 COMPROMISED" {
		t.Errorf("subject %q", r.Subject)
	}
	// Incidents first, the compromise on top; the metrics after them; the
	// alerts by rule below.
	login, high := strings.Index(r.HTML, `data-incident="i-login"`), strings.Index(r.HTML, `data-incident="i-high"`)
	metrics, rules := strings.Index(r.HTML, ">Metrics<"), strings.Index(r.HTML, ">Alerts by rule<")
	if login < 0 || high < login || metrics < high || rules < metrics || !strings.Contains(r.HTML, `data-field="incidents_total">2 incidents`) {
		t.Errorf("sections out of order: incident with a login at %d, the other at %d, metrics at %d, alerts by rule at %d", login, high, metrics, rules)
	}
	if !strings.Contains(r.Text, "Incidents: 2 (1 with a successful login)") {
		t.Errorf("text lacks the incidents:\n%s", r.Text)
	}
	if !strings.Contains(r.Text, "07 #########################") || !strings.Contains(r.Text, "<- peak") {
		t.Errorf("text chart:\n%s", r.Text)
	}
}

func TestSummarize(t *testing.T) {
	var alerts []contracts.Alert
	for i := range 12 {
		alerts = append(alerts, contracts.Alert{ID: fmt.Sprint(i), Rule: "brute_force", Severity: "high", IP: fmt.Sprintf("10.0.0.%d", i%11)})
	}
	s := report.Summarize(alerts)
	if s.Total != 12 || len(s.TopKeys) != 10 || s.TopKeys[0] != (report.Count{Name: "10.0.0.0", N: 2}) || s.ByRule[0].N != 12 {
		t.Errorf("%+v", s)
	}
}
