package mail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/mail"
	"github.com/log-monitor/log_monitor/testkit"
)

func TestParseRecipients(t *testing.T) {
	// As REPORT_RECIPIENTS="  a@example.com,b@example.com ;  not-an-address,, <c@example.com>  "
	// arrives after config.SplitList.
	list := config.SplitList("  a@example.com,b@example.com ;  not-an-address,, <c@example.com>\tA@example.com  ")
	got, err := mail.ParseRecipients(list)
	want := []string{"a@example.com", "b@example.com", "c@example.com"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("valid = %v, want %v", got, want)
	}
	if !errors.Is(err, mail.ErrInvalidRecipients) || !strings.Contains(err.Error(), `"not-an-address"`) {
		t.Errorf("err = %v, want ErrInvalidRecipients naming not-an-address", err)
	}
	if got, err := mail.ParseRecipients([]string{"x@y.org"}); err != nil || len(got) != 1 {
		t.Errorf("one address: %v %v", got, err)
	}
	for _, bad := range []string{"@y.org", "x@", "a b", "x@y@z"} {
		if _, err := mail.ParseRecipients([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNewChecksSettings(t *testing.T) {
	base := config.Default().SMTP
	for name, mod := range map[string]func(*config.SMTP){
		"tls mode": func(s *config.SMTP) { s.TLS = "ssl3" },
		"port":     func(s *config.SMTP) { s.Port = 0 },
		"from":     func(s *config.SMTP) { s.From = "nobody" },
	} {
		c := base
		mod(&c)
		if _, err := mail.New(c, nil); err == nil {
			t.Errorf("%s: accepted %+v", name, c)
		}
	}
}

// TestPasswordNeverLogged: the sender's description, logs and errors carry
// no password, also when the server cannot be reached.
func TestPasswordNeverLogged(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	c := config.SMTP{Host: "127.0.0.1", Port: port(testkit.FreeAddr(t)), User: "ops", Password: "s3cret-pw", From: "a@b.org", TLS: "starttls", Timeout: 2 * time.Second}
	s, err := mail.New(c, log)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("sender", "smtp", s)
	err = s.Send(context.Background(), mail.Message{To: []string{"x@y.org"}, Subject: "s", Text: "t"})
	if err == nil {
		t.Fatal("send to a closed port succeeded")
	}
	out := buf.String() + err.Error() + s.String()
	if strings.Contains(out, "s3cret-pw") {
		t.Errorf("password leaked: %s", out)
	}
	if !strings.Contains(buf.String(), "ops:***@") {
		t.Errorf("log does not describe the server: %s", buf.String())
	}
}

// TestSendToMailpit sends a plain+HTML mail to several recipients through
// the real SMTP server and reads it back through Mailpit's API.
func TestSendToMailpit(t *testing.T) {
	smtp := testkit.SMTP(t)
	s, err := mail.New(smtp, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := testkit.UniqueName("mailtest")
	a, b := "ops-"+id+"@example.test", "sec-"+id+"@example.test"
	rcpts, perr := mail.ParseRecipients(config.SplitList(" " + a + " ,, bad-address ;" + b + " "))
	if perr == nil {
		t.Fatal("invalid address not reported")
	}
	err = s.Send(context.Background(), mail.Message{To: rcpts, Subject: "hello " + id,
		Text: "plain body " + id, HTML: "<p>html <b>body</b> " + id + "</p>"})
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{a, b} {
		got := testkit.WaitMails(t, addr, 1, 10*time.Second)
		if len(got) != 1 {
			t.Fatalf("%s: %d mails, want 1", addr, len(got))
		}
		m := got[0]
		if m.Subject != "hello "+id || !strings.Contains(m.Text, "plain body "+id) || !strings.Contains(m.HTML, "<b>body</b>") || len(m.To) != 2 {
			t.Errorf("%s: got %+v", addr, m)
		}
	}
}

// TestTLSAgainstPlainServer: a TLS mode the server cannot do fails clearly
// instead of sending in the clear.
func TestTLSAgainstPlainServer(t *testing.T) {
	smtp := testkit.SMTP(t)
	for _, mode := range []string{"starttls", "tls"} {
		c := smtp
		c.TLS = mode
		c.Timeout = 3 * time.Second
		s, err := mail.New(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		addr := testkit.UniqueName("tls") + "@example.test"
		if err := s.Send(context.Background(), mail.Message{To: []string{addr}, Subject: "x", Text: "x"}); err == nil {
			t.Errorf("tls %s: sent to a server without TLS", mode)
		} else {
			t.Logf("tls %s: %v", mode, err)
		}
		if n := len(testkit.MailsTo(t, addr)); n != 0 {
			t.Errorf("tls %s: %d mails arrived", mode, n)
		}
	}
}
