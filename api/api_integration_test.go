package api_test

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/log-monitor/log_monitor/contracts"
	pb "github.com/log-monitor/log_monitor/proto/logmonitor/v1"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/views"
)

// Addresses of the synthetic log.
const (
	attacker = "203.0.113.7"
	benign   = "198.51.100.2"
	v6       = "2001:db8::5"
	day1     = "2015-01-10"
	day2     = "2015-01-11"
)

// line is one syslog line of the synthetic log and what it is.
type line struct {
	day, text, ip string
}

// synthetic is a small log: a brute-force attacker on root, a benign user,
// an IPv6 address trying an invalid user, over two days (Asia/Seoul, 2015).
func synthetic() []line {
	var ls []line
	add := func(day, stamp, host string, pid int, ip, msg string) {
		ls = append(ls, line{day: day, ip: ip, text: fmt.Sprintf("%s %s sshd[%d]: %s", stamp, host, pid, msg)})
	}
	add(day1, "Jan 10 09:00:00", "LabSZ", 100, benign, "Accepted password for alice from "+benign+" port 5000 ssh2")
	for i := 0; i < 12; i++ {
		add(day1, fmt.Sprintf("Jan 10 10:00:%02d", i*4), "web1", 200+i, attacker, fmt.Sprintf("Failed password for root from %s port %d ssh2", attacker, 40000+i))
	}
	add(day1, "Jan 10 10:01:00", "web2", 230, attacker, "Invalid user admin from "+attacker)
	for i := 0; i < 3; i++ {
		add(day1, fmt.Sprintf("Jan 10 11:00:%02d", i), "web2", 300+i, v6, fmt.Sprintf("Failed password for invalid user bob from %s port %d ssh2", v6, 6000+i))
	}
	add(day2, "Jan 11 08:00:00", "LabSZ", 400, benign, "Failed password for alice from "+benign+" port 5001 ssh2")
	add(day2, "Jan 11 08:00:05", "LabSZ", 401, "198.51.100.9", "Connection closed by 198.51.100.9 [preauth]")
	return ls
}

// text is the log file of ls.
func text(ls []line) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.text + "\n")
	}
	return b.String()
}

// TestEndpoints runs the synthetic log through ingest and the tracker on the
// real Kafka and asks every endpoint over real gRPC and real HTTP, with the
// error mappings (token off, plain transport).
func TestEndpoints(t *testing.T) {
	f := newFixture(t, "it-api-endpoints")
	ls := synthetic()
	f.PublishLines(t, "ssh-synthetic.log", text(ls))
	f.process(t, 2*time.Minute)
	av := f.alertsView(t, 0)
	s := startServer(t, f.config(), f.tv, av)
	c := s.client(t)
	ctx := testkit.Context(t, 2*time.Minute)

	events := map[string]int64{}
	dayTotal := map[string]int64{}
	for _, l := range ls {
		if l.day == day1 {
			events[l.ip]++
		}
		dayTotal[l.day]++
	}

	t.Run("ip status", func(t *testing.T) {
		st, err := c.GetIPStatus(ctx, &pb.GetIPStatusRequest{Ip: attacker})
		if err != nil {
			t.Fatal(err)
		}
		if st.Events != events[attacker] || st.Failures != 12 || !st.BruteForce {
			t.Errorf("attacker: events %d failures %d brute_force %v; want %d, 12, true", st.Events, st.Failures, st.BruteForce, events[attacker])
		}
		if !reflect.DeepEqual(st.UsersTried, []string{"root"}) || !reflect.DeepEqual(st.InvalidUserNames, []string{"admin"}) {
			t.Errorf("users tried %v, invalid names %v", st.UsersTried, st.InvalidUserNames)
		}
		if !reflect.DeepEqual(st.Hosts, []string{"web2", "web1"}) {
			t.Errorf("hosts %v, want [web2 web1] (most recent first)", st.Hosts)
		}
		if st.FirstSeen != "2015-01-10T01:00:00Z" || st.LastSeen != "2015-01-10T01:01:00Z" {
			t.Errorf("first/last seen %s %s", st.FirstSeen, st.LastSeen)
		}
		rules := map[string]bool{}
		for _, a := range st.ActiveAlerts {
			rules[a.Rule] = true
			if a.AlertId == "" {
				t.Errorf("active alert %s without id", a.Rule)
			}
		}
		if !rules[contracts.RuleBruteForce] || !rules[contracts.RuleRootAttempts] {
			t.Errorf("active alerts %v, want brute_force and root_attempts", rules)
		}
		var bf *pb.WindowCount
		for _, w := range st.Windows {
			if w.Rule == contracts.RuleBruteForce {
				bf = w
			}
		}
		if bf == nil || bf.Count != 12 || bf.WindowSeconds != 300 || bf.Threshold != 10 {
			t.Errorf("brute_force window %+v, want 12 of 10 in 300 s", bf)
		}
		if len(st.Days) != 1 || st.Days[0].MetricDate != day1 || st.Days[0].Failed != 12 {
			t.Errorf("days %+v", st.Days)
		}

		// REST: the same answer, proto names, numbers as numbers.
		code, m := s.rest(t, "/v1/ips/"+attacker, "")
		if code != http.StatusOK {
			t.Fatalf("REST ip status: %d %v", code, m)
		}
		if num(t, m, "failures") != 12 || num(t, m, "events") != st.Events || m["brute_force"] != true || m["first_seen"] != st.FirstSeen {
			t.Errorf("REST ip status %v differs from gRPC %v", m, st)
		}
		if _, ok := m["late_events"]; !ok {
			t.Error("REST omits the zero late_events: want every field present")
		}
		// An evaluation time after the attack: the window is empty.
		later, err := c.GetIPStatus(ctx, &pb.GetIPStatusRequest{Ip: attacker, At: "2015-01-11T00:00:00Z"})
		if err != nil {
			t.Fatal(err)
		}
		if later.BruteForce || later.Windows[0].Count != 0 {
			t.Errorf("a day later: brute_force %v, window %+v", later.BruteForce, later.Windows[0])
		}
		// IPv6, canonical and not.
		for _, ip := range []string{v6, "2001:0db8:0:0:0:0:0:5"} {
			st6, err := c.GetIPStatus(ctx, &pb.GetIPStatusRequest{Ip: ip})
			if err != nil {
				t.Fatalf("%s: %v", ip, err)
			}
			if st6.Ip != v6 || st6.Failures != 3 || st6.BruteForce || !reflect.DeepEqual(st6.InvalidUserNames, []string{"bob"}) {
				t.Errorf("%s: %+v", ip, st6)
			}
		}
		if code, m := s.rest(t, "/v1/ips/"+url.PathEscape(v6), ""); code != 200 || m["ip"] != v6 {
			t.Errorf("REST IPv6: %d %v", code, m)
		}
	})

	t.Run("ip status errors", func(t *testing.T) {
		for ip, want := range map[string]codes.Code{"not-an-ip": codes.InvalidArgument, "999.1.1.1": codes.InvalidArgument, "192.0.2.99": codes.NotFound} {
			_, err := c.GetIPStatus(ctx, &pb.GetIPStatusRequest{Ip: ip})
			if status.Code(err) != want {
				t.Errorf("gRPC %s: %v, want %v", ip, err, want)
			}
			code, m := s.rest(t, "/v1/ips/"+ip, "")
			wantHTTP := map[codes.Code]int{codes.InvalidArgument: 400, codes.NotFound: 404}[want]
			if code != wantHTTP || m["message"] == "" || m["message"] == nil {
				t.Errorf("REST %s: %d %v, want %d with a message", ip, code, m, wantHTTP)
			}
		}
		if _, err := c.GetIPStatus(ctx, &pb.GetIPStatusRequest{Ip: attacker, At: "yesterday"}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("bad at: %v", err)
		}
	})

	t.Run("daily metrics", func(t *testing.T) {
		for day, total := range dayTotal {
			d, err := c.GetDailyMetrics(ctx, &pb.GetDailyMetricsRequest{Date: day})
			if err != nil {
				t.Fatal(err)
			}
			if d.MetricDate != day || d.TotalLogs != total || len(d.HourlyLogs) != 24 {
				t.Errorf("%s: %+v, want total %d", day, d, total)
			}
			code, m := s.rest(t, "/v1/metrics/daily/"+day, "")
			if code != 200 || num(t, m, "total_logs") != total || m["metric_date"] != day {
				t.Errorf("REST %s: %d %v", day, code, m)
			}
		}
		d, err := c.GetDailyMetrics(ctx, &pb.GetDailyMetricsRequest{Date: day1})
		if err != nil {
			t.Fatal(err)
		}
		if d.ErrorCount != 15 || d.UniqueIps != 3 || d.BruteForceIps != 1 || d.PeakHour != 10 || d.PeakHourLogs != 13 {
			t.Errorf("%s: %+v", day1, d)
		}
		if len(d.TopBruteList) == 0 || d.TopBruteList[0].Ip != attacker || d.TopBruteList[0].Cnt != 12 {
			t.Errorf("top_brute_list %v", d.TopBruteList)
		}
		// today (no events in 2026's data): an empty document, not an error.
		today := time.Now().In(f.Loc).Format(time.DateOnly)
		code, m := s.rest(t, "/v1/metrics/daily/today", "")
		if code != 200 || m["metric_date"] != today || num(t, m, "total_logs") != 0 {
			t.Errorf("today: %d %v", code, m)
		}
		for date, want := range map[string]int{"2015-13-01": 400, "yesterday": 400, "2015-01-12": 404} {
			code, m := s.rest(t, "/v1/metrics/daily/"+date, "")
			if code != want {
				t.Errorf("REST %s: %d %v, want %d", date, code, m, want)
			}
		}
		if _, err := c.GetDailyMetrics(ctx, &pb.GetDailyMetricsRequest{Date: "10/01/2015"}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("gRPC bad date: %v", err)
		}
		days, err := c.ListDays(ctx, &pb.ListDaysRequest{})
		if err != nil || !reflect.DeepEqual(days.Days, []string{day1, day2}) {
			t.Errorf("days %v %v", days, err)
		}
	})

	t.Run("top ips", func(t *testing.T) {
		top, err := c.GetTopIPs(ctx, &pb.GetTopIPsRequest{Date: day1})
		if err != nil {
			t.Fatal(err)
		}
		if !top.Complete || len(top.ByEvents) != 3 || top.ByEvents[0].Ip != attacker || top.ByEvents[0].Cnt != events[attacker] ||
			top.ByEvents[1].Ip != v6 || top.ByEvents[2].Ip != benign || len(top.ByFailures) != 2 || top.ByFailures[1].Ip != v6 {
			t.Errorf("top %v", top)
		}
		// A longer limit scans every IP's counts: the same lists here (3 IPs).
		scanned, err := c.GetTopIPs(ctx, &pb.GetTopIPsRequest{Date: day1, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if !scanned.Complete || fmt.Sprint(scanned.ByEvents) != fmt.Sprint(top.ByEvents) || fmt.Sprint(scanned.ByFailures) != fmt.Sprint(top.ByFailures) {
			t.Errorf("limit 10: %v, limit 3: %v", scanned, top)
		}
		code, m := s.rest(t, "/v1/metrics/daily/"+day1+"/top-ips?limit=1", "")
		if code != 200 || len(m["by_events"].([]any)) != 1 {
			t.Errorf("REST top limit 1: %d %v", code, m)
		}
		if code, _ := s.rest(t, "/v1/metrics/daily/2015-01-12/top-ips", ""); code != 404 {
			t.Errorf("top of a day without events: %d", code)
		}
		if code, _ := s.rest(t, "/v1/metrics/daily/"+day1+"/top-ips?limit=-1", ""); code != 400 {
			t.Errorf("negative limit: %d", code)
		}
	})

	t.Run("alerts", func(t *testing.T) {
		all, err := c.ListAlerts(ctx, &pb.ListAlertsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, a := range f.ReadAlerts(t) {
			ids[a.ID] = true
		}
		if len(all.Alerts) != len(ids) || len(ids) == 0 {
			t.Fatalf("%d alerts listed, %d distinct ids in the topic", len(all.Alerts), len(ids))
		}
		for i, a := range all.Alerts {
			if !ids[a.AlertId] {
				t.Errorf("alert %s not in the topic", a.AlertId)
			}
			if i > 0 && a.Timestamp > all.Alerts[i-1].Timestamp {
				t.Errorf("alerts not newest first at %d", i)
			}
		}
		bf, err := c.ListAlerts(ctx, &pb.ListAlertsRequest{Rule: contracts.RuleBruteForce, Ip: attacker})
		if err != nil {
			t.Fatal(err)
		}
		if len(bf.Alerts) == 0 {
			t.Fatal("no brute_force alert for the attacker")
		}
		for _, a := range bf.Alerts {
			if a.Rule != contracts.RuleBruteForce || a.Ip != attacker || a.Count < 10 {
				t.Errorf("filtered list holds %+v", a)
			}
		}
		// Time range: nothing before the attack, everything in its minute.
		if r, _ := c.ListAlerts(ctx, &pb.ListAlertsRequest{Until: "2015-01-10T00:59:59Z"}); len(r.GetAlerts()) != 0 {
			t.Errorf("until before the attack: %d alerts", len(r.GetAlerts()))
		}
		if r, _ := c.ListAlerts(ctx, &pb.ListAlertsRequest{Since: "2015-01-10T01:00:00Z", Until: "2015-01-10T01:02:00Z"}); len(r.GetAlerts()) != len(ids) {
			t.Errorf("the attack's minute: %d alerts, want %d", len(r.GetAlerts()), len(ids))
		}
		// Paging one by one over REST gives the same list.
		var paged []string
		token := ""
		for range 100 {
			code, m := s.rest(t, "/v1/alerts?page_size=1&page_token="+url.QueryEscape(token), "")
			if code != 200 {
				t.Fatalf("page: %d %v", code, m)
			}
			for _, a := range m["alerts"].([]any) {
				a := a.(map[string]any)
				paged = append(paged, a["alert_id"].(string))
				num(t, a, "count")
			}
			token, _ = m["next_page_token"].(string)
			if token == "" {
				break
			}
		}
		var want []string
		for _, a := range all.Alerts {
			want = append(want, a.AlertId)
		}
		if !reflect.DeepEqual(paged, want) {
			t.Errorf("paged %v, want %v", paged, want)
		}
		for q, wantCode := range map[string]int{"page_token=garbage": 400, "rule=nope": 400, "ip=1.2.3": 400, "since=today": 400, "page_size=-2": 400} {
			if code, m := s.rest(t, "/v1/alerts?"+q, ""); code != wantCode {
				t.Errorf("%s: %d %v, want %d", q, code, m, wantCode)
			}
		}
	})

	t.Run("health, readiness, openapi", func(t *testing.T) {
		if h, err := c.Health(ctx, &pb.HealthRequest{}); err != nil || h.Status != "SERVING" {
			t.Errorf("health %v %v", h, err)
		}
		if code, m := s.rest(t, "/v1/ready", ""); code != 200 || m["tracker_view"] != true || m["alerts_view"] != true {
			t.Errorf("ready %d %v", code, m)
		}
		code, m := s.rest(t, "/openapi.json", "")
		paths, _ := m["paths"].(map[string]any)
		if code != 200 || m["swagger"] != "2.0" || paths["/v1/ips/{ip}"] == nil || paths["/v1/alerts/watch"] == nil {
			t.Errorf("openapi: %d, paths %v", code, slices.Sorted(maps.Keys(paths)))
		}
	})
}

// TestUnavailableUntilRecovered: views that have not recovered answer
// UNAVAILABLE / 503, health still answers.
func TestUnavailableUntilRecovered(t *testing.T) {
	f := newFixture(t, "it-api-unready")
	// Views that are never run stay unrecovered.
	tv, err := views.NewTracker(f.K, f.Group, filepath.Join(f.Dir, "idle-view"), logger)
	if err != nil {
		t.Fatal(err)
	}
	av := views.NewAlerts(views.AlertsConfig{Kafka: f.K, Topic: f.Alerts}, logger)
	s := startServer(t, f.config(), tv, av)
	c := s.client(t)
	ctx := testkit.Context(t, time.Minute)
	for name, call := range map[string]func() error{
		"ip":     func() error { _, err := c.GetIPStatus(ctx, &pb.GetIPStatusRequest{Ip: attacker}); return err },
		"daily":  func() error { _, err := c.GetDailyMetrics(ctx, &pb.GetDailyMetricsRequest{Date: day1}); return err },
		"days":   func() error { _, err := c.ListDays(ctx, &pb.ListDaysRequest{}); return err },
		"top":    func() error { _, err := c.GetTopIPs(ctx, &pb.GetTopIPsRequest{Date: day1}); return err },
		"alerts": func() error { _, err := c.ListAlerts(ctx, &pb.ListAlertsRequest{}); return err },
		"ready":  func() error { _, err := c.Ready(ctx, &pb.ReadyRequest{}); return err },
		"watch": func() error {
			st, err := c.WatchAlerts(ctx, &pb.WatchAlertsRequest{})
			if err != nil {
				return err
			}
			_, err = st.Recv()
			return err
		},
	} {
		if err := call(); status.Code(err) != codes.Unavailable {
			t.Errorf("%s: %v, want Unavailable", name, err)
		}
	}
	for _, p := range []string{"/v1/ips/" + attacker, "/v1/metrics/daily/" + day1, "/v1/alerts", "/v1/ready"} {
		if code, m := s.rest(t, p, ""); code != http.StatusServiceUnavailable {
			t.Errorf("REST %s: %d %v, want 503", p, code, m)
		}
	}
	if code, _ := s.rest(t, "/v1/health", ""); code != 200 {
		t.Errorf("health: %d", code)
	}
}
