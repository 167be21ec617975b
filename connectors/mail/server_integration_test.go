package mail_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/mail"
	"github.com/log-monitor/log_monitor/stack"
	"github.com/log-monitor/log_monitor/testkit"
)

// selfSigned writes a certificate for 127.0.0.1 (its own CA) and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "logmon test SMTP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// ownMailpit starts a Mailpit of the test's own with extra flags and returns
// its SMTP port and API address.
func ownMailpit(t *testing.T, extra ...string) (int, string) {
	t.Helper()
	bin := testkit.Stack(t).MailpitBin()
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("mailpit binary: %v (the stack builds it at `logmon stack up`)", err)
	}
	smtpPort, httpPort := port(testkit.FreeAddr(t)), port(testkit.FreeAddr(t))
	args := append([]string{"--smtp", fmt.Sprintf("127.0.0.1:%d", smtpPort), "--listen", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--database", filepath.Join(t.TempDir(), "mailpit.db"), "--smtp-disable-rdns", "--disable-version-check", "--quiet"}, extra...)
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	api := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", smtpPort), 200*time.Millisecond)
		if err == nil {
			c.Close()
			if stack.MailpitHealth(context.Background(), api) == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit %v did not start", extra)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return smtpPort, api
}

// tlsMailpit starts a Mailpit that requires TLS (mode "starttls" or "tls")
// and authentication.
func tlsMailpit(t *testing.T, mode, certFile, keyFile, authFile string) (int, string) {
	t.Helper()
	require := "--smtp-require-starttls"
	if mode == "tls" {
		require = "--smtp-require-tls"
	}
	return ownMailpit(t, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, require, "--smtp-auth-file", authFile)
}

func subjectsAt(t *testing.T, api string) []string {
	t.Helper()
	var out []string
	for _, m := range messagesAt(t, api) {
		out = append(out, m.Subject)
	}
	return out
}

type received struct {
	Subject string
	To      []struct{ Address string }
}

func messagesAt(t *testing.T, api string) []received {
	t.Helper()
	resp, err := http.Get(api + "/api/v1/messages")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct{ Messages []received }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	return list.Messages
}

// TestServerRefusesOneRecipient: the SMTP server refuses one recipient for
// good (a 550 to RCPT TO): the others still get the mail, and the error
// names the refused one and wraps ErrRecipientsRejected.
func TestServerRefusesOneRecipient(t *testing.T) {
	testkit.SMTP(t)
	port, api := ownMailpit(t, "--smtp-allowed-recipients", "^ok-")
	s, err := mail.New(config.SMTP{Host: "127.0.0.1", Port: port, From: "logmon@example.test", TLS: "none", Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), mail.Message{To: []string{"ok-a@example.test", "refused-b@example.test", "ok-c@example.test"},
		Subject: "partly refused", Text: "t"})
	if !errors.Is(err, mail.ErrRecipientsRejected) || !strings.Contains(err.Error(), "refused-b@example.test") {
		t.Fatalf("err = %v, want ErrRecipientsRejected naming refused-b", err)
	}
	t.Log(err)
	got := map[string]int{}
	for _, m := range messagesAt(t, api) {
		for _, a := range m.To {
			got[a.Address]++
		}
	}
	if got["ok-a@example.test"] != 1 || got["ok-c@example.test"] != 1 || got["refused-b@example.test"] != 0 {
		t.Errorf("delivered %v, want ok-a and ok-c once each", got)
	}
	err = s.Send(context.Background(), mail.Message{To: []string{"refused-d@example.test"}, Subject: "refused", Text: "t"})
	if !errors.Is(err, mail.ErrRecipientsRejected) {
		t.Errorf("a lone refused recipient: err %v, want ErrRecipientsRejected", err)
	}
}

// TestTLSModesAndAuth: against Mailpit instances that require STARTTLS or
// implicit TLS and a password, the matching mode with the CA file and the
// right password delivers; plain text, an unknown CA and a wrong password
// are refused, and no error shows the password.
func TestTLSModesAndAuth(t *testing.T) {
	testkit.SMTP(t)
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	authFile := filepath.Join(dir, "auth")
	if err := os.WriteFile(authFile, []byte("ops:right-pw-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"starttls", "tls"} {
		t.Run(mode, func(t *testing.T) {
			port, api := tlsMailpit(t, mode, certFile, keyFile, authFile)
			base := config.SMTP{Host: "127.0.0.1", Port: port, User: "ops", Password: "right-pw-123", From: "logmon@example.test",
				TLS: mode, CAFile: certFile, Timeout: 5 * time.Second}
			send := func(c config.SMTP, subject string) error {
				s, err := mail.New(c, nil)
				if err != nil {
					t.Fatal(err)
				}
				return s.Send(context.Background(), mail.Message{To: []string{"x@example.test"}, Subject: subject, Text: "t", HTML: "<p>t</p>"})
			}
			if err := send(base, "ok-"+mode); err != nil {
				t.Fatalf("%s with the CA and the password: %v", mode, err)
			}
			refused := map[string]config.SMTP{}
			c := base
			c.TLS = "none"
			refused["plain text"] = c
			c = base
			c.CAFile = ""
			refused["unknown CA"] = c
			c = base
			c.Password = "wrong-pw-456"
			refused["wrong password"] = c
			if mode == "tls" {
				c = base
				c.TLS = "starttls"
				refused["starttls to an implicit-TLS port"] = c
			}
			for what, c := range refused {
				err := send(c, "refused-"+what)
				if err == nil {
					t.Errorf("%s: delivered", what)
					continue
				}
				if strings.Contains(err.Error(), "pw-") {
					t.Errorf("%s: the error shows the password: %v", what, err)
				}
				t.Logf("%s: %v", what, err)
			}
			got := subjectsAt(t, api)
			if len(got) != 1 || got[0] != "ok-"+mode {
				t.Errorf("mailpit (%s) holds %v, want only ok-%s", mode, got, mode)
			}
		})
	}
}

// port is the port of a host:port address.
func port(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}
