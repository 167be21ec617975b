package stack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// kafkaHeap is each node's JVM heap: three nodes share a 2-core, small machine.
const kafkaHeap = "-Xmx512m"

func (s *Stack) kafkaProc(i int) *proc {
	dir := s.kafkaDir(i)
	props := filepath.Join(dir, "server.properties")
	return &proc{
		name:    fmt.Sprintf("kafka-%d", i),
		dir:     dir,
		logFile: filepath.Join(dir, "server.log"),
		marker:  props,
		ports:   []int{KafkaPorts[i], ControllerPorts[i]},
		argv: append(s.javaArgs(dir, "-Xms256m", kafkaHeap, "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"),
			"kafka.Kafka", props),
		uid: -1, gid: -1,
	}
}

func (s *Stack) javaArgs(dir string, jvm ...string) []string {
	args := []string{"java"}
	args = append(args, jvm...)
	return append(args,
		"-Djava.awt.headless=true",
		"-Dlog4j2.configurationFile="+filepath.Join(dir, "log4j2.properties"),
		"-cp", filepath.Join(s.kafkaLibs(), "*"))
}

// StartKafka configures, formats (first time) and starts node i.
func (s *Stack) StartKafka(i int) error {
	dir := s.kafkaDir(i)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("kafka-%d: %w", i, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "server.properties"), []byte(kafkaProperties(i, dir)), 0o644); err != nil {
		return fmt.Errorf("kafka-%d: %w", i, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "log4j2.properties"), []byte(log4j2Properties), 0o644); err != nil {
		return fmt.Errorf("kafka-%d: %w", i, err)
	}
	if err := s.formatKafka(i); err != nil {
		return err
	}
	return s.kafkaProc(i).start(s.Log)
}

// KillKafka stops node i with SIGKILL, as a crash would.
func (s *Stack) KillKafka(ctx context.Context, i int) error { return s.kafkaProc(i).kill(ctx) }

var formatMu sync.Mutex

// formatKafka writes the node's KRaft metadata once, with the stack's cluster id.
func (s *Stack) formatKafka(i int) error {
	dir := s.kafkaDir(i)
	if exists(filepath.Join(dir, "data", "meta.properties")) {
		return nil
	}
	id, err := s.clusterID()
	if err != nil {
		return err
	}
	args := append(s.javaArgs(dir, "-Xmx256m"), "kafka.tools.StorageTool", "format", "-t", id, "-c", filepath.Join(dir, "server.properties"))
	cmd := exec.Command(args[0], args[1:]...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("kafka-%d: format storage: %w\n%s", i, err, tail(string(out), 2000))
	}
	return nil
}

// clusterID returns the stack's Kafka cluster id, made on first use.
func (s *Stack) clusterID() (string, error) {
	formatMu.Lock()
	defer formatMu.Unlock()
	path := filepath.Join(s.Dir, "kafka-cluster.id")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", err
	}
	u[6] = (u[6] & 0x0f) | 0x40 // a version-4 UUID, as Kafka's random-uuid makes
	u[8] = (u[8] & 0x3f) | 0x80
	id := base64.RawURLEncoding.EncodeToString(u[:])
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return "", err
	}
	return id, writeFileAtomic(path, []byte(id+"\n"))
}

func kafkaProperties(i int, dir string) string {
	var voters []string
	for j, p := range ControllerPorts {
		voters = append(voters, fmt.Sprintf("%d@127.0.0.1:%d", j+1, p))
	}
	return fmt.Sprintf(`# Written by logmon stack; edits are overwritten at the next start.
process.roles=broker,controller
node.id=%d
controller.quorum.voters=%s
listeners=PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d
advertised.listeners=PLAINTEXT://127.0.0.1:%d
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=%s
num.partitions=3
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# The stack stops all three nodes together; a controlled shutdown would wait
# for a controller quorum that is going away with them.
controlled.shutdown.enable=false
num.network.threads=2
num.io.threads=4
log.segment.bytes=268435456
log.retention.check.interval.ms=300000
`, i+1, strings.Join(voters, ","), KafkaPorts[i], ControllerPorts[i], KafkaPorts[i], filepath.Join(dir, "data"))
}

const log4j2Properties = `status = error
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRefs = stdout
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.kafkaapache.name = org.apache.kafka
logger.kafkaapache.level = WARN
`

// KafkaBrokers are the local stack's bootstrap addresses.
func KafkaBrokers() []string {
	b := make([]string, len(KafkaPorts))
	for i, p := range KafkaPorts {
		b[i] = fmt.Sprintf("127.0.0.1:%d", p)
	}
	return b
}

// WaitKafka returns once each of the first n nodes answers a Metadata
// request itself, lists n brokers, and every partition it knows has a
// leader. Asking each node matters after a restart: a node whose peers died
// with the controller quorum still lists them (nobody fenced them), and a
// restarted node replicates before its client port accepts connections.
func (s *Stack) WaitKafka(ctx context.Context, n int) error {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.Net.DialTimeout = 2 * time.Second
	deadline := time.Now().Add(2 * time.Minute)
	var last error
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return err
		}
		last = kafkaReady(cfg, n)
		if last == nil {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("kafka: %d brokers not ready after 2 minutes: %v (logs: %s/kafka-*/server.log)", n, last, s.Dir)
}

func kafkaReady(cfg *sarama.Config, n int) error {
	for _, addr := range KafkaBrokers()[:n] {
		if err := nodeReady(cfg, addr, n); err != nil {
			return fmt.Errorf("%s: %w", addr, err)
		}
	}
	return nil
}

func nodeReady(cfg *sarama.Config, addr string, n int) error {
	b := sarama.NewBroker(addr)
	if err := b.Open(cfg); err != nil {
		return err
	}
	defer b.Close()
	md, err := b.GetMetadata(&sarama.MetadataRequest{Version: 5, AllowAutoTopicCreation: false})
	if err != nil {
		return err
	}
	if got := len(md.Brokers); got < n {
		return fmt.Errorf("%d of %d brokers in metadata", got, n)
	}
	for _, t := range md.Topics {
		for _, p := range t.Partitions {
			if p.Err != sarama.ErrNoError || p.Leader < 0 {
				return fmt.Errorf("%s/%d has no leader (%v)", t.Name, p.ID, p.Err)
			}
		}
	}
	return nil
}
