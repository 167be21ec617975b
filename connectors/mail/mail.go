// Package mail sends log_monitor's mails over SMTP: one message with a plain
// and an HTML part, to a list of recipients, with the TLS mode, credentials
// and timeout of config.SMTP. A Send returns nil only when the SMTP server
// accepted the message (its reply to DATA), so a caller may record a mail as
// sent exactly then.
//
// The password goes to the SMTP server only: it is never logged, and the
// Sender prints itself without it.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/log-monitor/log_monitor/config"
)

// Message is one mail.
type Message struct {
	To      []string
	Subject string
	Text    string
	HTML    string
	// Headers are extra headers (e.g. X-Logmon-Alert-Ids).
	Headers map[string]string
}

// ErrInvalidRecipients reports recipients that are not mail addresses.
var ErrInvalidRecipients = errors.New("invalid recipient address")

// ParseRecipients checks every entry of list (config.SplitList has split it
// on commas, semicolons and spaces) and returns the valid addresses, in
// order and without duplicates. The invalid ones come back in an error
// wrapping ErrInvalidRecipients; the valid ones are still usable.
func ParseRecipients(list []string) ([]string, error) {
	var ok, bad []string
	seen := map[string]bool{}
	for _, raw := range list {
		s := strings.TrimSpace(raw)
		if s == "" {
			continue
		}
		a, err := netmail.ParseAddress(s)
		if err != nil || !strings.Contains(a.Address, "@") || strings.HasPrefix(a.Address, "@") || strings.HasSuffix(a.Address, "@") {
			bad = append(bad, fmt.Sprintf("%q", s))
			continue
		}
		addr := strings.ToLower(a.Address)
		if !seen[addr] {
			seen[addr] = true
			ok = append(ok, a.Address)
		}
	}
	if len(bad) > 0 {
		return ok, fmt.Errorf("%w: %s", ErrInvalidRecipients, strings.Join(bad, ", "))
	}
	return ok, nil
}

// Sender sends mails through one SMTP server.
type Sender struct {
	cfg config.SMTP
	log *slog.Logger
	tls *tls.Config
}

// New checks cfg and returns its sender.
func New(cfg config.SMTP, log *slog.Logger) (*Sender, error) {
	switch cfg.TLS {
	case "none", "starttls", "tls":
	case "":
		cfg.TLS = "none"
	default:
		return nil, fmt.Errorf("smtp: TLS mode %q: want none, starttls or tls", cfg.TLS)
	}
	if cfg.Host == "" || cfg.Port <= 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("smtp: server %s:%d is not a host and port", cfg.Host, cfg.Port)
	}
	if _, err := netmail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("smtp: from address %q: %w", cfg.From, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	tc := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pool, err := config.CertPool(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("smtp: %w", err)
		}
		tc.RootCAs = pool
	}
	return &Sender{cfg: cfg, log: log, tls: tc}, nil
}

// String describes the server without the password.
func (s *Sender) String() string {
	user := ""
	if s.cfg.User != "" {
		user = s.cfg.User + ":***@"
	}
	return fmt.Sprintf("smtp://%s%s:%d (tls %s)", user, s.cfg.Host, s.cfg.Port, s.cfg.TLS)
}

// LogValue keeps the password out of structured logs.
func (s *Sender) LogValue() slog.Value { return slog.StringValue(s.String()) }

func (s *Sender) client() (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(s.cfg.Timeout), gomail.WithTLSConfig(s.tls)}
	switch s.cfg.TLS {
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case "starttls":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "tls":
		opts = append(opts, gomail.WithSSL())
	}
	if s.cfg.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.User), gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client %s: %w", s, err)
	}
	return c, nil
}

// build turns m into a go-mail message.
func (s *Sender) build(m Message) (*gomail.Msg, error) {
	if len(m.To) == 0 {
		return nil, errors.New("mail: no recipients")
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return nil, fmt.Errorf("mail from %q: %w", s.cfg.From, err)
	}
	if err := msg.To(m.To...); err != nil {
		return nil, fmt.Errorf("mail to %v: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	for k, v := range m.Headers {
		msg.SetGenHeader(gomail.Header(k), v)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// ErrRecipientsRejected reports recipients the SMTP server refused for good
// (a 5xx reply to RCPT TO) while it accepted the message for the others.
var ErrRecipientsRejected = errors.New("recipients rejected by the SMTP server")

// Send delivers m. It returns nil once the server accepted the message for
// every recipient. An error wrapping ErrRecipientsRejected means the server
// refused some recipients for good and took the message for the others (it
// names both): the mail is out, sending again would not help. Any other
// error (connection refused, timeout, a temporary rejection) means the
// server did not take the message and the caller may send it again.
func (s *Sender) Send(ctx context.Context, m Message) error {
	err := s.send(ctx, m)
	if err == nil || !rcptRefused(err) {
		return err
	}
	if len(m.To) == 1 {
		return fmt.Errorf("%w: %s (%v); mailed to nobody", ErrRecipientsRejected, m.To[0], err)
	}
	// The server refused a recipient for good, so it took the message for
	// nobody: send it to each recipient on its own.
	var ok, refused []string
	for _, to := range m.To {
		one := m
		one.To = []string{to}
		err := s.send(ctx, one)
		switch {
		case err == nil:
			ok = append(ok, to)
		case rcptRefused(err):
			refused = append(refused, fmt.Sprintf("%s (%v)", to, err))
		default:
			if len(ok) > 0 { // a retry would mail these twice
				return fmt.Errorf("smtp %s: %q: mailed to %v, then: %w", s, m.Subject, ok, err)
			}
			return err
		}
	}
	return fmt.Errorf("%w: %s; mailed to %v", ErrRecipientsRejected, strings.Join(refused, "; "), ok)
}

// rcptRefused reports a permanent (5xx) rejection of a recipient.
func rcptRefused(err error) bool {
	var se *gomail.SendError
	return errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && !se.IsTemp()
}

func (s *Sender) send(ctx context.Context, m Message) error {
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return fmt.Errorf("smtp %s: connect: %w", s, err)
	}
	if err := c.SendWithSMTPClient(sc, msg); err != nil {
		_ = c.CloseWithSMTPClient(sc)
		return fmt.Errorf("smtp %s: send %q: %w", s, m.Subject, err)
	}
	// The server accepted the message: a failing QUIT does not undo that.
	if err := c.CloseWithSMTPClient(sc); err != nil {
		s.log.Warn("smtp: closing the connection failed after the message was accepted", "server", s, "err", err)
	}
	return nil
}
