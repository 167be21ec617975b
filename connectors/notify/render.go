package notify

import (
	"bytes"
	"fmt"
	"html/template"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/log-monitor/log_monitor/connectors/mail"
	"github.com/log-monitor/log_monitor/contracts"
)

// Links makes the API and Kibana addresses shown in mails.
type Links struct {
	// API is config.API.PublicURL; Kibana is config.KibanaURL.
	API, Kibana string
}

// IP is the REST API's page of ip.
func (l Links) IP(ip string) string {
	if ip == "" || l.API == "" {
		return ""
	}
	return strings.TrimRight(l.API, "/") + "/v1/ips/" + url.PathEscape(ip)
}

// Discover is Kibana's Discover filtered on the alert's key around its window.
func (l Links) Discover(a *contracts.Alert) string {
	if l.Kibana == "" {
		return ""
	}
	field, value := "ip", a.IP
	switch {
	case a.Component != "":
		field, value = "component", a.Component
	case a.Host != "" && a.IP == "" && a.User == "":
		field, value = "host_name", a.Host
	case a.IP == "":
		field, value = "user", a.User
	}
	from := a.WindowStart.Add(-time.Hour).UTC().Format(time.RFC3339)
	to := a.LastEventTime.Add(time.Hour).UTC().Format(time.RFC3339)
	q := fmt.Sprintf(`%s:"%s"`, field, value)
	return strings.TrimRight(l.Kibana, "/") + "/app/discover#/?_g=" +
		url.QueryEscape(fmt.Sprintf("(time:(from:'%s',to:'%s'))", from, to)) +
		"&_a=" + url.QueryEscape(fmt.Sprintf("(query:(language:kuery,query:'%s'))", strings.ReplaceAll(q, "'", "!'")))
}

// key names what the alert is about: "1.2.3.4", "user root", "host web-1"
// or, for a pipeline rule, the component ("group logmon-tracker").
func key(a *contracts.Alert) string {
	switch {
	case a.Component != "":
		return a.Component
	case a.IP != "":
		return a.IP
	case a.Host != "" && a.User == "":
		return "host " + a.Host
	}
	return "user " + a.User
}

// Subject is an alert mail's subject: severity, rule, what it is about
// ("from" an attacker, "on" a host; "recovered" for a host rule's end).
func Subject(a *contracts.Alert) string {
	if a.Component != "" {
		if a.Recovery {
			return fmt.Sprintf("[logmon] RECOVERED %s: %s", a.Rule, a.Component)
		}
		return fmt.Sprintf("[logmon] %s %s: %s", strings.ToUpper(a.Severity), a.Rule, a.Component)
	}
	if a.Host != "" && a.IP == "" && a.User == "" {
		if a.Recovery {
			return fmt.Sprintf("[logmon] RECOVERED %s on %s", a.Rule, a.Host)
		}
		return fmt.Sprintf("[logmon] %s %s on %s", strings.ToUpper(a.Severity), a.Rule, a.Host)
	}
	return fmt.Sprintf("[logmon] %s %s from %s", strings.ToUpper(a.Severity), a.Rule, key(a))
}

// measured is a host rule's value against its threshold ("" for others).
func measured(a *contracts.Alert) string {
	switch {
	case a.Host == "" || a.Threshold == 0:
		return ""
	case a.Rule == contracts.RuleHostSilent:
		return fmt.Sprintf("no sample for %.0f s (threshold %.0f s)", a.Value, a.Threshold)
	}
	return fmt.Sprintf("%.1f%% (threshold %.0f%%)", 100*a.Value, 100*a.Threshold)
}

// fact is one labelled line of an alert mail.
type fact struct {
	Label, Value, Link string
}

func facts(a *contracts.Alert, loc *time.Location, links Links) []fact {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04:05 MST")
	}
	f := []fact{
		{Label: "Rule", Value: a.Rule},
		{Label: "Severity", Value: a.Severity},
		{Label: "Escalation level", Value: fmt.Sprint(a.Level)},
		{Label: "IP", Value: a.IP, Link: links.IP(a.IP)},
		{Label: "User", Value: a.User},
		{Label: "Count", Value: fmt.Sprint(a.Count)},
		{Label: "Window", Value: (time.Duration(a.WindowSeconds) * time.Second).String()},
		{Label: "Window start", Value: ts(a.WindowStart)},
		{Label: "First event", Value: ts(a.FirstEventTime)},
		{Label: "Last event", Value: ts(a.LastEventTime)},
		{Label: "Episode start", Value: ts(a.EpisodeStart)},
		{Label: "Hosts", Value: strings.Join(a.Hosts, ", ")},
		{Label: "Users tried", Value: strings.Join(a.Users, ", ")},
		{Label: "Attacking IPs", Value: strings.Join(a.IPs, ", ")},
		{Label: "Sample row_hashes", Value: strings.Join(a.SampleRowHashes, ", ")},
		{Label: "Measured", Value: measured(a)},
		{Label: "Filesystem", Value: a.MountPoint},
		{Label: "Component", Value: a.Component},
		{Label: "Summary", Value: a.Message},
		{Label: "Alert id", Value: a.ID},
		{Label: "API", Value: links.IP(a.IP), Link: links.IP(a.IP)},
		{Label: "Kibana", Value: "Discover", Link: links.Discover(a)},
	}
	out := f[:0]
	for _, x := range f {
		if x.Value != "" && !(x.Label == "Kibana" && x.Link == "") {
			out = append(out, x)
		}
	}
	return out
}

var alertHTML = template.Must(template.New("alert").Parse(`<!DOCTYPE html>
<html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">
<h2 style="margin:0 0 8px 0;color:{{.Color}}">{{.Subject}}</h2>
<table cellpadding="4" cellspacing="0" border="0" style="border-collapse:collapse">
{{range .Facts}}<tr><td style="color:#666;vertical-align:top;white-space:nowrap">{{.Label}}</td><td>{{if .Link}}<a href="{{.Link}}">{{.Value}}</a>{{else}}{{.Value}}{{end}}</td></tr>
{{end}}</table>
<p style="color:#888;font-size:12px">log_monitor alert mail. The same (key, rule) is mailed again only after the cooldown or at the next escalation step.</p>
</body></html>`))

// severity colours, for the HTML parts.
func color(sev string) string {
	switch sev {
	case "critical":
		return "#b00020"
	case "high":
		return "#d35400"
	case "medium":
		return "#b7950b"
	}
	return "#555555"
}

// AlertMessage is the mail of one alert.
func AlertMessage(a *contracts.Alert, to []string, loc *time.Location, links Links) (mail.Message, error) {
	fs := facts(a, loc, links)
	var text strings.Builder
	fmt.Fprintf(&text, "%s\n\n", Subject(a))
	for _, f := range fs {
		fmt.Fprintf(&text, "%-18s %s\n", f.Label+":", f.Value)
		if f.Link != "" && f.Link != f.Value {
			fmt.Fprintf(&text, "%-18s %s\n", "", f.Link)
		}
	}
	var html bytes.Buffer
	err := alertHTML.Execute(&html, map[string]any{"Subject": Subject(a), "Color": color(a.Severity), "Facts": fs})
	if err != nil {
		return mail.Message{}, fmt.Errorf("alert %s: html: %w", a.ID, err)
	}
	return mail.Message{To: to, Subject: Subject(a), Text: text.String(), HTML: html.String(),
		Headers: map[string]string{"X-Logmon-Alert-Ids": a.ID}}, nil
}

var digestHTML = template.Must(template.New("digest").Parse(`<!DOCTYPE html>
<html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">
<h2 style="margin:0 0 8px 0">{{.Subject}}</h2>
<p>{{.Intro}}</p>
<table cellpadding="4" cellspacing="0" border="1" style="border-collapse:collapse;border-color:#ddd">
<tr style="background:#f0f0f0"><th>Severity</th><th>Rule</th><th>Key</th><th>Count</th><th>Last event</th><th>Hosts</th><th>Links</th></tr>
{{range .Rows}}<tr><td style="color:{{.Color}}">{{.Severity}}</td><td>{{.Rule}}</td><td>{{.Key}}</td><td align="right">{{.Count}}</td><td>{{.Last}}</td><td>{{.Hosts}}</td><td>{{if .API}}<a href="{{.API}}">API</a> {{end}}{{if .Kibana}}<a href="{{.Kibana}}">Kibana</a>{{end}}</td></tr>
{{end}}</table>
</body></html>`))

// DigestSubject is the subject of a digest of alerts.
func DigestSubject(alerts []*contracts.Alert) string {
	bySev := map[string]int{}
	keys := map[string]bool{}
	for _, a := range alerts {
		bySev[a.Severity]++
		keys[a.Key()] = true
	}
	var parts []string
	for _, s := range []string{"critical", "high", "medium", "low"} {
		if n := bySev[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	return fmt.Sprintf("[logmon] digest: %d alerts from %d sources (%s)", len(alerts), len(keys), strings.Join(parts, ", "))
}

// DigestMessage is one mail for many alerts, most severe first.
func DigestMessage(alerts []*contracts.Alert, to []string, loc *time.Location, links Links) (mail.Message, error) {
	sorted := append([]*contracts.Alert(nil), alerts...)
	rank := map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3}
	sort.SliceStable(sorted, func(i, j int) bool { return rank[sorted[i].Severity] < rank[sorted[j].Severity] })
	subject := DigestSubject(alerts)
	intro := fmt.Sprintf("%d alerts arrived together; one mail carries them all.", len(alerts))
	var text strings.Builder
	fmt.Fprintf(&text, "%s\n\n%s\n\n", subject, intro)
	type row struct{ Severity, Color, Rule, Key, Count, Last, Hosts, API, Kibana string }
	rows := make([]row, 0, len(sorted))
	for _, a := range sorted {
		r := row{Severity: a.Severity, Color: color(a.Severity), Rule: a.Rule, Key: key(a), Count: fmt.Sprint(a.Count),
			Last: a.LastEventTime.In(loc).Format("2006-01-02 15:04:05"), Hosts: strings.Join(a.Hosts, ", "),
			API: links.IP(a.IP), Kibana: links.Discover(a)}
		rows = append(rows, r)
		fmt.Fprintf(&text, "- %-8s %-20s %-18s count %-5s last %s  hosts %s  alert %s\n", r.Severity, r.Rule, r.Key, r.Count, r.Last, r.Hosts, a.ID)
		if r.API != "" {
			fmt.Fprintf(&text, "  %s\n", r.API)
		}
	}
	var html bytes.Buffer
	if err := digestHTML.Execute(&html, map[string]any{"Subject": subject, "Intro": intro, "Rows": rows}); err != nil {
		return mail.Message{}, fmt.Errorf("digest: html: %w", err)
	}
	return mail.Message{To: to, Subject: subject, Text: text.String(), HTML: html.String()}, nil
}
