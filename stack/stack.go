// Package stack runs the local Kafka and Elasticsearch that the demo and the
// integration tests use, without Docker: three KRaft Kafka 4.4.0 nodes and
// one Elasticsearch 8.19.21 node on 127.0.0.1, fetched through Maven (the
// pom.xml beside this file) into a cache that later starts reuse offline,
// and Mailpit (SMTP on 1025, its API on 8025), built from its Go module
// into the same cache (mailpit.go).
//
// Processes are started detached and recorded in PID files under the stack
// directory, so `logmon stack down` in another process stops exactly what
// `logmon stack up` started.
package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Versions of the services, as fetched by pom.xml.
const (
	KafkaVersion   = "4.4.0"
	ElasticVersion = "8.19.21"
)

// Ports of the local stack. Kafka clients use config.LocalKafkaBrokers.
var (
	KafkaPorts       = [3]int{9092, 9093, 9094}
	ControllerPorts  = [3]int{9192, 9193, 9194}
	ElasticPort      = 9200
	ElasticTransport = 9300
)

// Stack is one local stack rooted at Dir.
type Stack struct {
	// Dir holds downloads (Dir/cache), node data (Dir/kafka-N, Dir/es) and
	// logs. It must lie outside /root: Elasticsearch runs as an unprivileged
	// user when the stack is started by root.
	Dir string
	// Pom is the stack's pom.xml (found next to the source when empty).
	Pom string
	Log *slog.Logger
}

// New returns the stack rooted at dir.
func New(dir string, log *slog.Logger) (*Stack, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("stack dir %s: %w", dir, err)
	}
	if os.Geteuid() == 0 && (abs == "/root" || strings.HasPrefix(abs, "/root/")) {
		return nil, fmt.Errorf("stack dir %s: Elasticsearch runs as an unprivileged user and cannot reach /root; choose a directory outside it", abs)
	}
	return &Stack{Dir: abs, Log: log}, nil
}

func (s *Stack) cacheDir() string    { return filepath.Join(s.Dir, "cache") }
func (s *Stack) kafkaLibs() string   { return filepath.Join(s.cacheDir(), "kafka-"+KafkaVersion, "libs") }
func (s *Stack) elasticHome() string { return filepath.Join(s.Dir, "elasticsearch-"+ElasticVersion) }
func (s *Stack) elasticZip() string {
	return filepath.Join(s.cacheDir(), "elasticsearch-"+ElasticVersion+".zip")
}
func (s *Stack) kafkaDir(i int) string { return filepath.Join(s.Dir, fmt.Sprintf("kafka-%d", i)) }
func (s *Stack) elasticDir() string    { return filepath.Join(s.Dir, "es") }

// Up fetches what is missing, starts every service that is not running and
// waits until Kafka has three brokers and Elasticsearch is yellow or green.
func (s *Stack) Up(ctx context.Context) error {
	start := time.Now()
	if err := s.Fetch(ctx); err != nil {
		return err
	}
	if err := s.FetchMailpit(ctx); err != nil {
		return err
	}
	// Format and start the nodes side by side: each is a JVM start.
	errs := make([]error, len(KafkaPorts)+2)
	var wg sync.WaitGroup
	for i := range KafkaPorts {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.StartKafka(i) }()
	}
	errs[len(KafkaPorts)] = s.StartElastic()
	errs[len(KafkaPorts)+1] = s.StartMailpit()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := s.WaitKafka(ctx, len(KafkaPorts)); err != nil {
		return err
	}
	if err := s.WaitElastic(ctx); err != nil {
		return err
	}
	if err := s.WaitMailpit(ctx); err != nil {
		return err
	}
	s.Log.Info("stack is up", "seconds", time.Since(start).Round(100*time.Millisecond).Seconds(),
		"kafka", KafkaVersion, "elasticsearch", ElasticVersion, "dir", s.Dir)
	return nil
}

// Down stops every service the stack started and waits for their ports.
func (s *Stack) Down(ctx context.Context) error {
	// All at once: Kafka nodes stopped one by one lose their controller
	// quorum and the last one hangs.
	procs := s.procs()
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.stop(ctx, s.Log)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Reset stops the stack and deletes its data (downloads stay).
func (s *Stack) Reset(ctx context.Context) error {
	if err := s.Down(ctx); err != nil {
		return err
	}
	for i := range KafkaPorts {
		if err := os.RemoveAll(s.kafkaDir(i)); err != nil {
			return fmt.Errorf("reset: %w", err)
		}
	}
	if err := os.RemoveAll(s.elasticDir()); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	return nil
}

// Status describes one service.
type Status struct {
	Name    string
	PID     int
	Running bool
	RSSKiB  int64
	Ports   []int
	LogFile string
}

// Status reports every service of the stack.
func (s *Stack) Status() []Status {
	var out []Status
	for _, p := range s.procs() {
		pid, running := p.running()
		st := Status{Name: p.name, PID: pid, Running: running, Ports: p.ports, LogFile: p.logFile}
		if running {
			st.RSSKiB = rssKiB(pid)
		}
		out = append(out, st)
	}
	return out
}

// procs lists the stack's processes in start order.
func (s *Stack) procs() []*proc {
	ps := make([]*proc, 0, len(KafkaPorts)+2)
	for i := range KafkaPorts {
		ps = append(ps, s.kafkaProc(i))
	}
	return append(ps, s.elasticProc(), s.mailpitProc())
}
