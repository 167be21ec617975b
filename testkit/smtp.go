package testkit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/stack"
)

// SMTP returns the SMTP settings of the tests (the local stack's Mailpit on
// config.LocalSMTPPort unless SMTP_HOST / SMTP_PORT say otherwise) after
// checking that Mailpit's API answers; in integration mode an unreachable
// Mailpit fails the test.
func SMTP(t testing.TB) config.SMTP {
	t.Helper()
	Integration(t)
	s := Config(t).SMTP
	s.Timeout = 10 * time.Second
	if err := stack.MailpitHealth(context.Background(), stack.MailpitAPI()); err != nil {
		t.Fatalf("Mailpit at %s: %v (is the stack up? `logmon stack up`)", stack.MailpitAPI(), err)
	}
	return s
}

// Mail is one message as Mailpit received it.
type Mail struct {
	ID      string
	Subject string
	From    string
	To      []string
	Text    string
	HTML    string
	Created time.Time
}

type mailpitAddr struct{ Name, Address string }

type mailpitSummary struct {
	ID      string
	Subject string
	From    mailpitAddr
	To      []mailpitAddr
	Created time.Time
}

// MailsTo returns every message Mailpit holds with addr among its
// recipients, oldest first, with their plain and HTML parts. Tests use
// addresses of their own (UniqueName) so they never see another test's mail.
func MailsTo(t testing.TB, addr string) []Mail {
	t.Helper()
	found := mailsFor(t, addr)
	var out []Mail
	for i := len(found) - 1; i >= 0; i-- { // the API lists newest first
		s := found[i]
		m := Mail{ID: s.ID, Subject: s.Subject, From: s.From.Address, Created: s.Created}
		for _, a := range s.To {
			m.To = append(m.To, a.Address)
		}
		out = append(out, m)
	}
	// The parts, four requests at a time.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	errs := make([]error, len(out))
	for i := range out {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var full struct{ Text, HTML string }
			errs[i] = mailpitFetch("/api/v1/message/"+url.PathEscape(out[i].ID), &full)
			out[i].Text, out[i].HTML = full.Text, full.HTML
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// MailCount is how many messages Mailpit holds for addr (cheaper than
// MailsTo: the parts are not fetched).
func MailCount(t testing.TB, addr string) int {
	t.Helper()
	return len(mailsFor(t, addr))
}

// mailsFor lists the messages Mailpit holds with addr among their
// recipients, newest first, without their parts.
func mailsFor(t testing.TB, addr string) []mailpitSummary {
	t.Helper()
	var list struct{ Messages []mailpitSummary }
	q := url.Values{"query": {"to:" + addr}, "limit": {"10000"}}
	mailpitGet(t, "/api/v1/search?"+q.Encode(), &list)
	out := list.Messages[:0]
	for _, s := range list.Messages {
		for _, a := range s.To {
			if strings.EqualFold(a.Address, addr) { // the search matches substrings
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// WaitMails polls Mailpit until addr has at least n messages or d passed,
// then returns what arrived.
func WaitMails(t testing.TB, addr string, n int, d time.Duration) []Mail {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		got := MailsTo(t, addr)
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func mailpitGet(t testing.TB, path string, v any) {
	t.Helper()
	if err := mailpitFetch(path, v); err != nil {
		t.Fatal(err)
	}
}

func mailpitFetch(path string, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, stack.MailpitAPI()+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("mailpit GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mailpit GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("mailpit GET %s: decode: %w", path, err)
	}
	return nil
}

// MailHeaders returns the headers of the Mailpit message id (Mail.ID).
func MailHeaders(t testing.TB, id string) map[string][]string {
	t.Helper()
	var h map[string][]string
	mailpitGet(t, "/api/v1/message/"+url.PathEscape(id)+"/headers", &h)
	return h
}
