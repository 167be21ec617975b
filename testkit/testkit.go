// Package testkit connects integration tests to the real services.
//
// `make test` brings up the local stack and sets LOGMON_INTEGRATION=1: then
// an integration test whose service is unreachable FAILS. A plain `go test`
// without that variable skips integration tests with a message, so unit tests
// stay runnable anywhere.
package testkit

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/stack"
	"github.com/log-monitor/log_monitor/topics"
)

// EnvIntegration turns integration tests on (and makes a missing service an error).
const EnvIntegration = "LOGMON_INTEGRATION"

// Integration skips t unless integration tests are on.
func Integration(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvIntegration) == "" {
		t.Skipf("integration test: run `make test` (or `logmon stack up` and set %s=1)", EnvIntegration)
	}
}

// Config returns the configuration the tests use: the environment's, which
// is the local stack's unless KAFKA_BROKERS / ELASTICSEARCH_URLS say otherwise.
func Config(t testing.TB) config.Config {
	t.Helper()
	c, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var printOnce sync.Once

// Kafka returns the cluster's configuration after checking that it answers
// with three brokers.
func Kafka(t testing.TB) config.Kafka {
	t.Helper()
	Integration(t)
	k := Config(t).Kafka
	cfg := kafkaconfig.Sarama("logmon-test")
	client, err := sarama.NewClient(k.Brokers, cfg)
	if err != nil {
		t.Fatalf("Kafka at %v: %v (is the stack up? `logmon stack up`)", k.Brokers, err)
	}
	defer client.Close()
	if n := len(client.Brokers()); n < 3 {
		t.Fatalf("Kafka at %v: %d brokers, the integration tests need 3", k.Brokers, n)
	}
	printOnce.Do(func() {
		fmt.Fprintf(os.Stderr, "integration: Kafka %s (3 KRaft brokers at %s), Elasticsearch %s at %s\n",
			stack.KafkaVersion, strings.Join(k.Brokers, ","), stack.ElasticVersion, strings.Join(Config(t).Elastic.URLs, ","))
	})
	return k
}

// Elastic returns the Elasticsearch configuration after checking its health.
func Elastic(t testing.TB) config.Elastic {
	t.Helper()
	Integration(t)
	e := Config(t).Elastic
	status, err := stack.ElasticHealth(context.Background(), e.URLs[0])
	if err != nil || (status != "green" && status != "yellow") {
		t.Fatalf("Elasticsearch at %v: status %q, %v (is the stack up? `logmon stack up`)", e.URLs, status, err)
	}
	return e
}

// Stack returns the local stack, for tests that stop or kill its services.
// It fails when KAFKA_BROKERS points elsewhere: such tests need processes
// they own.
func Stack(t testing.TB) *stack.Stack {
	t.Helper()
	Integration(t)
	if config.KafkaConfigured(os.Getenv) && os.Getenv(config.EnvKafkaBrokers) != config.LocalKafkaBrokers {
		t.Skip("needs the local stack (KAFKA_BROKERS points to another cluster)")
	}
	st, err := stack.New(Config(t).StackDir, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// UniqueName returns a topic or index name no earlier run used.
func UniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
}

// RepoRoot is the directory holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// SharedData is a file under ../shared/data beside the repository; the test
// fails (integration) or skips (unit run) when it is missing.
func SharedData(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv(EnvIntegration) != "" {
			t.Fatalf("shared data %s: %v", rel, err)
		}
		t.Skipf("shared data %s not present", rel)
	}
	return p
}

// Context returns a context cancelled at the test's end or after d.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// ReadAll returns every record of topic up to the end offsets taken at the
// call, partition by partition in offset order.
func ReadAll(t testing.TB, k config.Kafka, topic string) []*sarama.ConsumerMessage {
	t.Helper()
	var out []*sarama.ConsumerMessage
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := topics.ReadAll(ctx, k, topic, func(m *sarama.ConsumerMessage) error {
		out = append(out, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// KillBrokers SIGKILLs the local stack's brokers ns (1 and 2 of 0..2 take
// min.insync.replicas away: every acks=all send fails) and returns the
// function that starts them again and waits until all three answer. A test
// that ends before calling it gets them started at its cleanup.
func KillBrokers(t testing.TB, st *stack.Stack, ns ...int) (restart func()) {
	t.Helper()
	restarted := false
	start := func() {
		for _, n := range ns {
			if err := st.StartKafka(n); err != nil {
				t.Errorf("start broker %d: %v", n, err)
			}
		}
	}
	t.Cleanup(func() {
		if !restarted {
			start()
		}
	})
	for _, n := range ns {
		if err := st.KillKafka(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		t.Helper()
		restarted = true
		start()
		if err := st.WaitKafka(Context(t, 2*time.Minute), 3); err != nil {
			t.Fatal(err)
		}
	}
}

// ReadCommitted returns every record of topic once at least want of them
// are readable, or what is readable when limit has passed (the caller's
// exact check then fails). A producer's Commit returns when the transaction
// coordinator has decided; the commit markers reach the partitions a moment
// later (much later after a broker outage), and until then a
// read_committed reader ends before the last transaction's records.
func ReadCommitted(t testing.TB, k config.Kafka, topic string, want int, limit time.Duration) []*sarama.ConsumerMessage {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		out := ReadAll(t, k, topic)
		if len(out) >= want || time.Now().After(deadline) {
			return out
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// BuildLogmon builds cmd/logmon into a temporary directory and returns the
// binary's path, for tests that run a component as its own process.
func BuildLogmon(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "logmon")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/logmon")
	cmd.Dir = RepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build logmon: %v\n%s", err, out)
	}
	return bin
}

// Replica decompresses the 655,147-line replica into dir once per test
// binary run and returns its path.
func Replica(t testing.TB, dir string) string {
	t.Helper()
	src := SharedData(t, "ssh-replica/SSH.log.gz")
	dst := filepath.Join(dir, "ssh-replica.log")
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	gz, err := gzip.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, gz); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// FreeAddr returns a loopback address with a port nobody listens on.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// DeleteTopicsAtEnd deletes, when the test ends and passed, every topic
// whose name starts with prefix (a test's unique name): the local stack
// then does not fill its disk with the replicas of earlier runs. A failed
// test keeps its topics for a look.
func DeleteTopicsAtEnd(t testing.TB, k config.Kafka, prefix string) {
	t.Cleanup(func() {
		if t.Failed() || prefix == "" {
			return
		}
		admin, err := sarama.NewClusterAdmin(k.Brokers, kafkaconfig.Sarama("logmon-test-cleanup"))
		if err != nil {
			t.Logf("topics of %s left: %v", prefix, err)
			return
		}
		defer admin.Close()
		all, err := admin.ListTopics()
		if err != nil {
			t.Logf("topics of %s left: %v", prefix, err)
			return
		}
		for name := range all {
			if strings.HasPrefix(name, prefix) {
				if err := admin.DeleteTopic(name); err != nil {
					t.Logf("topic %s left: %v", name, err)
				}
			}
		}
	})
}

// DeleteIndices deletes the Elasticsearch indices matching pattern (a
// test's suffix) at base; a failure is left for the next run's pattern.
func DeleteIndices(base, pattern string) {
	req, err := http.NewRequest(http.MethodDelete, strings.TrimRight(base, "/")+"/"+pattern, nil)
	if err != nil {
		return
	}
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
}

// StartLogmon starts `bin cmd args...` with env added to this process's
// environment, its output on the test's stderr; the test's end kills it.
func StartLogmon(t testing.TB, bin string, env []string, cmd string, args ...string) *exec.Cmd {
	t.Helper()
	c := exec.Command(bin, append([]string{cmd}, args...)...)
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	c.Env = append(os.Environ(), env...)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = c.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = c.Process.Kill()
		<-done
	})
	return c
}
