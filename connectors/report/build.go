// Package report builds and sends the daily report (`logmon report`): for
// one day, in the report time zone, the day's final metrics-daily document
// (every field, the top lists, a per-hour chart) and a summary of the day's
// alerts, as one mail with an HTML and a plain-text part. A Runner sends it
// on a cron-like schedule ("0 9 * * *" in Asia/Seoul by default) for the day
// before, retries once, mails the failure otherwise, and remembers the last
// day it handled so a restart neither skips nor repeats a report.
package report

import (
	"bytes"
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/log-monitor/log_monitor/connectors/mail"
	"github.com/log-monitor/log_monitor/contracts"
)

// Count is a name and how often it occurred.
type Count struct {
	Name string
	N    int
}

// AlertSummary is the day's alerts in numbers.
type AlertSummary struct {
	Total      int
	ByRule     []Count // every rule, most alerts first
	BySeverity []Count // critical to low
	TopKeys    []Count // the IPs (or users) with most alerts, at most 10
}

// Summarize counts alerts by rule, severity and key.
func Summarize(alerts []contracts.Alert) AlertSummary {
	rules, sev, keys := map[string]int{}, map[string]int{}, map[string]int{}
	for _, a := range alerts {
		rules[a.Rule]++
		sev[a.Severity]++
		k := a.IP
		if k == "" {
			k = "user " + a.User
		}
		keys[k]++
	}
	s := AlertSummary{Total: len(alerts), ByRule: sorted(rules, 0), TopKeys: sorted(keys, 10)}
	for _, name := range []string{"critical", "high", "medium", "low"} {
		if n := sev[name]; n > 0 {
			s.BySeverity = append(s.BySeverity, Count{name, n})
		}
	}
	return s
}

// sorted lists m by count descending, then name; at most limit (0: all).
func sorted(m map[string]int, limit int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{k, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Name < out[j].Name
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// Report is one day's report, ready to mail or to write to a file.
type Report struct {
	Day     string
	Subject string
	Text    string
	HTML    string
}

// Message is the report as a mail to to.
func (r Report) Message(to []string) mail.Message {
	return mail.Message{To: to, Subject: r.Subject, Text: r.Text, HTML: r.HTML}
}

// field is one line of the metrics table: the document's field name, its
// meaning, its value.
type field struct{ Name, Label, Value string }

func fields(d contracts.DailyMetrics, loc *time.Location) []field {
	list := func(l []contracts.IPCount) string {
		parts := make([]string, len(l))
		for i, e := range l {
			parts[i] = fmt.Sprintf("%s (%d)", e.IP, e.Cnt)
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, ", ")
	}
	return []field{
		{"metric_date", "Day", d.MetricDate},
		{"total_logs", "Log events", fmt.Sprint(d.TotalLogs)},
		{"error_count", "Errors (log_level ERROR)", fmt.Sprint(d.ErrorCount)},
		{"unique_ips", "Distinct IPs", fmt.Sprint(d.UniqueIPs)},
		{"peak_hour", "Peak hour", fmt.Sprintf("%02d", d.PeakHour)},
		{"peak_hour_logs", "Events in the peak hour", fmt.Sprint(d.PeakHourLogs)},
		{"brute_force_ips", "IPs with 10+ failed logins", fmt.Sprint(d.BruteForceIPs)},
		{"top_ip_list", "Top IPs by events", list(d.TopIPList)},
		{"top_brute_list", "Top IPs by failed logins", list(d.TopBruteList)},
		{"final", "Day closed", fmt.Sprint(d.Final)},
		{"created_at", "Document produced", d.CreatedAt.In(loc).Format("2006-01-02 15:04:05 MST")},
	}
}

// hourBar is one row of the per-hour chart.
type hourBar struct {
	Hour   string
	N      int64
	Width  int // percent of the widest bar, at least 1 when N > 0
	Rest   int
	IsPeak bool
}

func bars(d contracts.DailyMetrics) []hourBar {
	var peak int64
	for _, n := range d.HourlyLogs {
		peak = max(peak, n)
	}
	out := make([]hourBar, 24)
	for h := range out {
		var n int64
		if h < len(d.HourlyLogs) {
			n = d.HourlyLogs[h]
		}
		w := 0
		if peak > 0 {
			w = int(n * 100 / peak)
			if n > 0 && w == 0 {
				w = 1
			}
		}
		out[h] = hourBar{Hour: fmt.Sprintf("%02d", h), N: n, Width: w, Rest: 100 - w, IsPeak: n > 0 && h == d.PeakHour}
	}
	return out
}

var reportHTML = template.Must(template.New("report").Funcs(template.FuncMap{
	"inc":  func(i int) int { return i + 1 },
	"join": func(s []string) string { return strings.Join(s, ", ") },
}).Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222;margin:0;padding:16px">
<h2 style="margin:0 0 4px 0">SSH daily report {{.Day}}</h2>
<p style="margin:0 0 16px 0;color:#666">Day {{.Day}} in {{.Zone}}, from the final metrics-daily document.</p>

<h3 style="margin:16px 0 6px 0">Incidents</h3>
<p data-field="incidents_total">{{len .Incidents}} incidents{{if .Compromised}}, <b style="color:#b00020">{{.Compromised}} with a successful login</b>{{end}}</p>
{{if .Incidents}}<table cellpadding="4" cellspacing="0" border="1" style="border-collapse:collapse;border-color:#ddd">
<tr style="background:#f0f0f0"><th align="left">severity</th><th align="left">key</th><th align="left">rules</th><th align="right">failed</th><th align="right">logins</th><th align="left">first event</th><th align="left">last event</th><th align="left">status</th></tr>
{{range .Incidents}}<tr data-incident="{{.ID}}"><td>{{.Severity}}</td><td>{{.Key}}</td><td>{{join .Rules}}</td><td align="right">{{.FailedAttempts}}</td><td align="right">{{.SuccessfulLogins}}</td><td>{{.FirstEventTime.Format "01-02 15:04"}}</td><td>{{.LastEventTime.Format "01-02 15:04"}}</td><td>{{.Status}}</td></tr>
{{end}}</table>{{end}}

<h3 style="margin:16px 0 6px 0">Metrics</h3>
<table cellpadding="4" cellspacing="0" border="1" style="border-collapse:collapse;border-color:#ddd">
<tr style="background:#f0f0f0"><th align="left">Field</th><th align="left">Meaning</th><th align="left">Value</th></tr>
{{range .Fields}}<tr><td><code>{{.Name}}</code></td><td>{{.Label}}</td><td data-field="{{.Name}}">{{.Value}}</td></tr>
{{end}}</table>

<h3 style="margin:16px 0 6px 0">Top IPs</h3>
<table cellpadding="0" cellspacing="0" border="0"><tr valign="top"><td style="padding-right:24px">
<table cellpadding="4" cellspacing="0" border="1" style="border-collapse:collapse;border-color:#ddd">
<tr style="background:#f0f0f0"><th>#</th><th align="left">IP (top_ip_list)</th><th align="right">events</th></tr>
{{range $i, $e := .Doc.TopIPList}}<tr><td>{{inc $i}}</td><td>{{$e.IP}}</td><td align="right">{{$e.Cnt}}</td></tr>
{{else}}<tr><td colspan="3">none</td></tr>{{end}}</table>
</td><td>
<table cellpadding="4" cellspacing="0" border="1" style="border-collapse:collapse;border-color:#ddd">
<tr style="background:#f0f0f0"><th>#</th><th align="left">IP (top_brute_list)</th><th align="right">failed logins</th></tr>
{{range $i, $e := .Doc.TopBruteList}}<tr><td>{{inc $i}}</td><td>{{$e.IP}}</td><td align="right">{{$e.Cnt}}</td></tr>
{{else}}<tr><td colspan="3">none</td></tr>{{end}}</table>
</td></tr></table>

<h3 style="margin:16px 0 6px 0">Events per hour (hourly_logs)</h3>
<table cellpadding="0" cellspacing="0" border="0" width="560" style="width:560px">
{{range .Bars}}<tr><td width="32" style="font-family:monospace;font-size:12px;padding:1px 4px 1px 0">{{.Hour}}</td>
<td width="440" style="padding:1px 0"><table cellpadding="0" cellspacing="0" border="0" width="100%"><tr>
{{if .Width}}<td width="{{.Width}}%" height="12" bgcolor="{{if .IsPeak}}#c0392b{{else}}#2e86c1{{end}}" style="background:{{if .IsPeak}}#c0392b{{else}}#2e86c1{{end}};font-size:1px;line-height:12px">&nbsp;</td>{{end}}
{{if .Rest}}<td width="{{.Rest}}%" style="font-size:1px;line-height:12px">&nbsp;</td>{{end}}
</tr></table></td>
<td width="88" align="right" style="font-family:monospace;font-size:12px;padding:1px 0 1px 6px" data-hour="{{.Hour}}">{{.N}}</td></tr>
{{end}}</table>

<h3 style="margin:16px 0 6px 0">Alerts by rule</h3>
<p data-field="alerts_total">{{.Alerts.Total}} alerts</p>
{{if .Alerts.Total}}
<table cellpadding="0" cellspacing="0" border="0"><tr valign="top"><td style="padding-right:24px">
<table cellpadding="4" cellspacing="0" border="1" style="border-collapse:collapse;border-color:#ddd">
<tr style="background:#f0f0f0"><th align="left">rule</th><th align="right">alerts</th></tr>
{{range .Alerts.ByRule}}<tr><td>{{.Name}}</td><td align="right" data-rule="{{.Name}}">{{.N}}</td></tr>
{{end}}</table></td><td style="padding-right:24px">
<table cellpadding="4" cellspacing="0" border="1" style="border-collapse:collapse;border-color:#ddd">
<tr style="background:#f0f0f0"><th align="left">severity</th><th align="right">alerts</th></tr>
{{range .Alerts.BySeverity}}<tr><td>{{.Name}}</td><td align="right" data-severity="{{.Name}}">{{.N}}</td></tr>
{{end}}</table></td><td>
<table cellpadding="4" cellspacing="0" border="1" style="border-collapse:collapse;border-color:#ddd">
<tr style="background:#f0f0f0"><th align="left">top sources</th><th align="right">alerts</th></tr>
{{range .Alerts.TopKeys}}<tr><td>{{.Name}}</td><td align="right">{{.N}}</td></tr>
{{end}}</table></td></tr></table>
{{end}}
<p style="color:#888;font-size:12px;margin-top:24px">log_monitor daily report, generated {{.Generated}}.</p>
</body></html>`))

// Build renders the report of doc's day: the day's incidents first
// (compromises on top), then the metrics, then the alerts by rule.
func Build(doc contracts.DailyMetrics, alerts []contracts.Alert, incidents []contracts.Incident, loc *time.Location, generated time.Time) (Report, error) {
	sum := Summarize(alerts)
	fs := fields(doc, loc)
	bs := bars(doc)
	incs := sortIncidents(incidents)
	compromised := 0
	for i := range incs {
		incs[i].FirstEventTime, incs[i].LastEventTime = incs[i].FirstEventTime.In(loc), incs[i].LastEventTime.In(loc)
		if incs[i].SuccessfulLogins > 0 {
			compromised++
		}
	}
	subject := fmt.Sprintf("[logmon] SSH daily report %s: %d incidents, %d events, %d IPs", doc.MetricDate, len(incs), doc.TotalLogs, doc.UniqueIPs)
	if compromised > 0 {
		subject += fmt.Sprintf(", %d COMPROMISED", compromised)
	}

	var t strings.Builder
	fmt.Fprintf(&t, "SSH daily report %s (%s)\n\n", doc.MetricDate, loc)
	fmt.Fprintf(&t, "Incidents: %d (%d with a successful login)\n", len(incs), compromised)
	for _, inc := range incs {
		fmt.Fprintf(&t, "  %-8s %-18s %-40s failed %-6d logins %-3d %s to %s  %s\n", inc.Severity, inc.Key, strings.Join(inc.Rules, ","),
			inc.FailedAttempts, inc.SuccessfulLogins, inc.FirstEventTime.In(loc).Format("15:04"), inc.LastEventTime.In(loc).Format("01-02 15:04"), inc.Status)
	}
	fmt.Fprintln(&t, "\nMetrics (metrics-daily)")
	for _, f := range fs {
		fmt.Fprintf(&t, "  %-16s %-28s %s\n", f.Name+":", f.Label, f.Value)
	}
	fmt.Fprintln(&t, "\nEvents per hour (hourly_logs)")
	for _, b := range bs {
		mark := ""
		if b.IsPeak {
			mark = "  <- peak"
		}
		fmt.Fprintf(&t, "  %s %-25s %d%s\n", b.Hour, strings.Repeat("#", (b.Width+3)/4), b.N, mark)
	}
	fmt.Fprintf(&t, "\nAlerts by rule: %d\n", sum.Total)
	for _, c := range sum.ByRule {
		fmt.Fprintf(&t, "  rule %-22s %d\n", c.Name, c.N)
	}
	for _, c := range sum.BySeverity {
		fmt.Fprintf(&t, "  severity %-18s %d\n", c.Name, c.N)
	}
	for _, c := range sum.TopKeys {
		fmt.Fprintf(&t, "  source %-20s %d\n", c.Name, c.N)
	}

	var h bytes.Buffer
	err := reportHTML.Execute(&h, map[string]any{"Subject": subject, "Day": doc.MetricDate, "Zone": loc.String(),
		"Fields": fs, "Doc": doc, "Bars": bs, "Alerts": sum, "Generated": generated.In(loc).Format("2006-01-02 15:04:05 MST"),
		"Incidents": incs, "Compromised": compromised})
	if err != nil {
		return Report{}, fmt.Errorf("report %s: html: %w", doc.MetricDate, err)
	}
	return Report{Day: doc.MetricDate, Subject: subject, Text: t.String(), HTML: h.String()}, nil
}

// sortIncidents orders a report's incidents: a successful login first,
// then by severity, then by last event (newest first).
func sortIncidents(in []contracts.Incident) []contracts.Incident {
	out := append([]contracts.Incident(nil), in...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.SuccessfulLogins > 0) != (b.SuccessfulLogins > 0) {
			return a.SuccessfulLogins > 0
		}
		if ra, rb := contracts.SeverityRank(a.Severity), contracts.SeverityRank(b.Severity); ra != rb {
			return ra > rb
		}
		if !a.LastEventTime.Equal(b.LastEventTime) {
			return a.LastEventTime.After(b.LastEventTime)
		}
		return a.ID < b.ID
	})
	return out
}

// FailureMessage is the mail sent when a day's report could not be made.
func FailureMessage(day string, attempts int, err error, to []string) mail.Message {
	subject := fmt.Sprintf("[logmon] SSH daily report %s FAILED", day)
	text := fmt.Sprintf("The daily report for %s could not be produced after %d attempts.\n\nError:\n  %v\n\n"+
		"Check that `logmon process` runs and that the day's metrics-daily document is final, then send it by hand:\n"+
		"  logmon report --date %s --send\n", day, attempts, err, day)
	var h bytes.Buffer
	_ = failureHTML.Execute(&h, map[string]any{"Subject": subject, "Day": day, "Attempts": attempts, "Err": err.Error()})
	return mail.Message{To: to, Subject: subject, Text: text, HTML: h.String()}
}

var failureHTML = template.Must(template.New("failure").Parse(`<!DOCTYPE html>
<html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">
<h2 style="color:#b00020">{{.Subject}}</h2>
<p>The daily report for {{.Day}} could not be produced after {{.Attempts}} attempts.</p>
<pre style="background:#f6f6f6;padding:8px">{{.Err}}</pre>
<p>Check that <code>logmon process</code> runs and that the day's metrics-daily document is final, then send it by hand:
<code>logmon report --date {{.Day}} --send</code></p>
</body></html>`))
