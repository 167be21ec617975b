package notify

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

// Mail threading: every mail of an incident refers to the opening mail's
// Message-ID, so mail clients show one thread.
func threadID(inc *contracts.Incident) string { return "<incident-" + inc.ID + "@logmon>" }

// threadSubject is the part of the subject every mail of an incident shares.
func threadSubject(inc *contracts.Incident) string {
	what := "from " + inc.Key
	if inc.KeyType == contracts.KeyTypeUser {
		what = "against user " + inc.Key
	}
	return "[logmon] incident " + what
}

// IncidentOpened is an incident's first mail.
func IncidentOpened(inc *contracts.Incident, to []string, loc *time.Location, links Links) mail.Message {
	subject := fmt.Sprintf("%s: %s, %s", threadSubject(inc), strings.ToUpper(inc.Severity), strings.Join(inc.Rules, ", "))
	m := incidentMessage(inc, subject, "A new incident.", to, loc, links)
	m.Headers["Message-ID"] = threadID(inc)
	return m
}

// IncidentReply is a reply in an incident's thread: it turned critical, a
// login succeeded, or (closing summary) it closed.
func IncidentReply(inc *contracts.Incident, kind string, to []string, loc *time.Location, links Links) mail.Message {
	what := map[string]string{
		mailCritical: "The incident is now critical.",
		mailLogin:    fmt.Sprintf("A login succeeded: %d successful login(s) after failures. Check the account now.", inc.SuccessfulLogins),
		mailClosed:   "The incident is closed: its source has been quiet for the gap.",
	}[kind]
	subject := fmt.Sprintf("Re: %s: %s", threadSubject(inc), strings.TrimSuffix(what, "."))
	if kind == mailLogin {
		subject = fmt.Sprintf("Re: %s: LOGIN SUCCEEDED", threadSubject(inc))
	}
	m := incidentMessage(inc, subject, what, to, loc, links)
	m.Headers["Message-ID"] = "<incident-" + inc.ID + "-" + kind + "@logmon>"
	m.Headers["In-Reply-To"] = threadID(inc)
	m.Headers["References"] = threadID(inc)
	return m
}

var incidentHTML = template.Must(template.New("incident").Parse(`<!DOCTYPE html>
<html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">
<h2 style="margin:0 0 8px 0;color:{{.Color}}">{{.Subject}}</h2>
<p>{{.Lead}}</p>
<table cellpadding="4" cellspacing="0" border="0" style="border-collapse:collapse">
{{range .Facts}}<tr><td style="color:#666;vertical-align:top;white-space:nowrap">{{.Label}}</td><td>{{if .Link}}<a href="{{.Link}}">{{.Value}}</a>{{else}}{{.Value}}{{end}}</td></tr>
{{end}}</table>
<p style="color:#888;font-size:12px">log_monitor incident mail: one thread per incident; a reply when it turns critical or a login succeeds.</p>
</body></html>`))

func incidentFacts(inc *contracts.Incident, loc *time.Location, links Links) []fact {
	ts := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05 MST") }
	ip := ""
	if inc.KeyType == contracts.KeyTypeIP {
		ip = inc.Key
	}
	f := []fact{
		{Label: "Key", Value: inc.Key + " (" + inc.KeyType + ")", Link: links.IP(ip)},
		{Label: "Severity", Value: inc.Severity},
		{Label: "Status", Value: fmt.Sprintf("%s (version %d)", inc.Status, inc.Version)},
		{Label: "Rules", Value: strings.Join(inc.Rules, ", ")},
		{Label: "Failed attempts", Value: fmt.Sprint(inc.FailedAttempts)},
		{Label: "Successful logins", Value: fmt.Sprint(inc.SuccessfulLogins)},
		{Label: "Users tried", Value: strings.Join(inc.UsersTried, ", ")},
		{Label: "Hosts", Value: strings.Join(inc.Hosts, ", ")},
		{Label: "Attacking IPs", Value: strings.Join(inc.IPs, ", ")},
		{Label: "First event", Value: ts(inc.FirstEventTime)},
		{Label: "Last event", Value: ts(inc.LastEventTime)},
		{Label: "Alerts", Value: fmt.Sprint(inc.AlertCount)},
		{Label: "Incident id", Value: inc.ID},
	}
	out := f[:0]
	for _, x := range f {
		if x.Value != "" {
			out = append(out, x)
		}
	}
	return out
}

func incidentMessage(inc *contracts.Incident, subject, lead string, to []string, loc *time.Location, links Links) mail.Message {
	fs := incidentFacts(inc, loc, links)
	var text strings.Builder
	fmt.Fprintf(&text, "%s\n\n%s\n\n", subject, lead)
	for _, f := range fs {
		fmt.Fprintf(&text, "%-18s %s\n", f.Label+":", f.Value)
	}
	var html bytes.Buffer
	if err := incidentHTML.Execute(&html, map[string]any{"Subject": subject, "Lead": lead, "Color": color(inc.Severity), "Facts": fs}); err != nil {
		html.Reset() // the text part carries it all
	}
	return mail.Message{To: to, Subject: subject, Text: text.String(), HTML: html.String(),
		Headers: map[string]string{"X-Logmon-Incident-Id": inc.ID}}
}

var incidentListHTML = template.Must(template.New("incidents").Parse(`<!DOCTYPE html>
<html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">
<h2 style="margin:0 0 8px 0">{{.Subject}}</h2>
<p>{{.Intro}}</p>
<table cellpadding="4" cellspacing="0" border="1" style="border-collapse:collapse;border-color:#ddd">
<tr style="background:#f0f0f0"><th>Severity</th><th>Key</th><th>Rules</th><th>Failed</th><th>Logins</th><th>First event</th><th>Last event</th></tr>
{{range .Rows}}<tr><td style="color:{{.Color}}">{{.Severity}}</td><td>{{.Key}}</td><td>{{.Rules}}</td><td align="right">{{.Failed}}</td><td align="right">{{.Logins}}</td><td>{{.First}}</td><td>{{.Last}}</td></tr>
{{end}}</table>
</body></html>`))

// incidentList is a mail listing incidents: compromises first, then by
// severity, then by last event.
func incidentList(incs []*contracts.Incident, subject, intro string, to []string, loc *time.Location) mail.Message {
	sorted := append([]*contracts.Incident(nil), incs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if (a.SuccessfulLogins > 0) != (b.SuccessfulLogins > 0) {
			return a.SuccessfulLogins > 0
		}
		if ra, rb := contracts.SeverityRank(a.Severity), contracts.SeverityRank(b.Severity); ra != rb {
			return ra > rb
		}
		return a.LastEventTime.After(b.LastEventTime)
	})
	type row struct{ Severity, Color, Key, Rules, Failed, Logins, First, Last string }
	var text strings.Builder
	fmt.Fprintf(&text, "%s\n\n%s\n\n", subject, intro)
	rows := make([]row, 0, len(sorted))
	for _, inc := range sorted {
		r := row{Severity: inc.Severity, Color: color(inc.Severity), Key: inc.Key, Rules: strings.Join(inc.Rules, ", "),
			Failed: fmt.Sprint(inc.FailedAttempts), Logins: fmt.Sprint(inc.SuccessfulLogins),
			First: inc.FirstEventTime.In(loc).Format("2006-01-02 15:04"), Last: inc.LastEventTime.In(loc).Format("2006-01-02 15:04")}
		rows = append(rows, r)
		fmt.Fprintf(&text, "- %-8s %-18s %-40s failed %-6s logins %-3s %s to %s  incident %s\n", r.Severity, r.Key, r.Rules, r.Failed, r.Logins, r.First, r.Last, inc.ID)
	}
	var html bytes.Buffer
	if err := incidentListHTML.Execute(&html, map[string]any{"Subject": subject, "Intro": intro, "Rows": rows}); err != nil {
		html.Reset()
	}
	return mail.Message{To: to, Subject: subject, Text: text.String(), HTML: html.String()}
}

// IncidentDigest is one mail for many incidents that opened together.
func IncidentDigest(incs []*contracts.Incident, to []string, loc *time.Location, _ Links) mail.Message {
	subject := fmt.Sprintf("[logmon] %d new incidents", len(incs))
	m := incidentList(incs, subject, fmt.Sprintf("%d incidents opened together; one mail carries them all. Each incident's later replies (critical, a successful login) come as their own mails.", len(incs)), to, loc)
	return m
}

// BackfillMessage summarises the incidents of a catch-up (a replay, or
// the pipeline catching up after an outage): their activity lies far
// behind the clock, so they are not mailed one by one.
func BackfillMessage(incs []*contracts.Incident, to []string, loc *time.Location, _ Links) mail.Message {
	var first, last time.Time
	logins := 0
	for _, inc := range incs {
		if first.IsZero() || inc.FirstEventTime.Before(first) {
			first = inc.FirstEventTime
		}
		if inc.LastEventTime.After(last) {
			last = inc.LastEventTime
		}
		if inc.SuccessfulLogins > 0 {
			logins++
		}
	}
	subject := fmt.Sprintf("[logmon] backfill: %d incidents from %s to %s", len(incs), first.In(loc).Format("2006-01-02"), last.In(loc).Format("2006-01-02"))
	if logins > 0 {
		subject += fmt.Sprintf(" (%d with a successful login)", logins)
	}
	intro := "These incidents happened in the past: events that arrived late (a replay, or a catch-up after an outage). They are summarised here instead of being mailed one by one; the daily report lists them too."
	return incidentList(incs, subject, intro, to, loc)
}
