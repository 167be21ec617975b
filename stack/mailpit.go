package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// MailpitVersion is the SMTP test server, built from its Go module.
const MailpitVersion = "v1.27.11"

// Mailpit's ports: SMTP (config.LocalSMTPPort) and its web UI and HTTP API.
var (
	MailpitSMTPPort = 1025
	MailpitHTTPPort = 8025
)

// MailpitAPI is the local Mailpit's HTTP API address.
func MailpitAPI() string { return "http://127.0.0.1:" + strconv.Itoa(MailpitHTTPPort) }

// MailpitBin is the Mailpit binary the stack runs (tests start their own
// instances of it, e.g. with TLS).
func (s *Stack) MailpitBin() string { return filepath.Join(s.cacheDir(), "bin", "mailpit") }

func (s *Stack) mailpitDir() string { return filepath.Join(s.Dir, "mailpit") }

func (s *Stack) mailpitProc() *proc {
	dir := s.mailpitDir()
	return &proc{
		name:    "mailpit",
		dir:     dir,
		logFile: filepath.Join(dir, "mailpit.log"),
		marker:  s.MailpitBin(),
		ports:   []int{MailpitSMTPPort, MailpitHTTPPort},
		argv: []string{s.MailpitBin(),
			"--smtp", "127.0.0.1:" + strconv.Itoa(MailpitSMTPPort),
			"--listen", "127.0.0.1:" + strconv.Itoa(MailpitHTTPPort),
			// Kept across a restart (the "SMTP down, then up" tests).
			"--database", filepath.Join(dir, "mailpit.db"),
			"--max", "100000",
			"--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
			"--smtp-disable-rdns", "--disable-version-check",
		},
		uid: -1, gid: -1,
	}
}

// FetchMailpit builds Mailpit from its Go module into the cache unless it is
// there (`go install`, about 35 s on two cores with an empty module cache).
func (s *Stack) FetchMailpit(ctx context.Context) error {
	if exists(s.MailpitBin()) {
		return nil
	}
	if _, err := exec.LookPath("go"); err != nil {
		return fmt.Errorf("fetch mailpit: go not found on PATH: %w", err)
	}
	start := time.Now()
	s.Log.Info("building mailpit from its Go module (first start only)", "version", MailpitVersion, "into", filepath.Dir(s.MailpitBin()))
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/axllent/mailpit@"+MailpitVersion)
	cmd.Dir = s.cacheDir()
	cmd.Env = append(os.Environ(), "GOBIN="+filepath.Dir(s.MailpitBin()), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("fetch mailpit: go install: %w\n%s", err, tail(string(out), 2000))
	}
	s.Log.Info("built mailpit", "seconds", time.Since(start).Round(100*time.Millisecond).Seconds())
	return nil
}

// StartMailpit starts the SMTP test server (building it first if needed).
func (s *Stack) StartMailpit() error {
	if err := os.MkdirAll(s.mailpitDir(), 0o755); err != nil {
		return fmt.Errorf("mailpit: %w", err)
	}
	if err := s.FetchMailpit(context.Background()); err != nil {
		return err
	}
	return s.mailpitProc().start(s.Log)
}

// StopMailpit stops the SMTP test server (an outage, for tests).
func (s *Stack) StopMailpit(ctx context.Context) error { return s.mailpitProc().stop(ctx, s.Log) }

// WaitMailpit returns once Mailpit's SMTP port is open and its API answers.
func (s *Stack) WaitMailpit(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	var last error
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if last = MailpitHealth(ctx, MailpitAPI()); last == nil && portOpen(MailpitSMTPPort) {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("mailpit not ready after a minute: %v (log: %s)", last, s.mailpitProc().logFile)
}

// MailpitHealth checks Mailpit's API at url.
func MailpitHealth(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/v1/info", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /api/v1/info: %s", resp.Status)
	}
	var info struct{ Version string }
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return fmt.Errorf("GET /api/v1/info: %w", err)
	}
	return nil
}
