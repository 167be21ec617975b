// Package deploy holds what docker-compose.yml needs besides itself, and the
// test that keeps docker-compose.yml and the Dockerfile in agreement with the
// code. No Docker is needed: the files are parsed, nothing is started.
package deploy

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/stack"
)

// pendingCommands are logmon subcommands that docker-compose.yml runs but
// cmd/logmon does not have yet (they are being written). The command check
// skips a service whose subcommand is listed here instead of failing; remove
// each name as its subcommand lands in cmd/logmon's commands map.
var pendingCommands = []string{}

// wantLogmonServices are the compose services that run the logmon image, and
// the subcommand each runs.
var wantLogmonServices = map[string]string{
	"setup":    "setup",
	"ingest":   "ingest",
	"process":  "process",
	"index":    "index",
	"api":      "api",
	"notify":   "notify",
	"watchdog": "watchdog",
}

// stateless are the subcommands that keep no local state (the watchdog
// keeps its open episodes in Kafka): they need no volume.
var stateless = map[string]bool{"watchdog": true}

// Files checked, relative to this package's directory (go test's working
// directory).
const (
	composePath    = "../docker-compose.yml"
	dockerfilePath = "../Dockerfile"
	goModPath      = "../go.mod"
	stackKafkaPath = "../stack/kafka.go"
	cmdLogmonDir   = "../cmd/logmon"
)

// Images, without their tags.
const (
	kafkaImage   = "apache/kafka"
	esImage      = "docker.elastic.co/elasticsearch/elasticsearch"
	kibanaImage  = "docker.elastic.co/kibana/kibana"
	mailpitImage = "axllent/mailpit"
)

const (
	setupService   = "setup"
	healthInterval = 30 * time.Second
	// Container-side ports of the services (their images' defaults).
	esHTTPPort     = 9200
	kibanaPort     = 5601
	mailpitUIPort  = 8025
	mailpitSMTP    = 1025
	apiRESTPort    = 8080
	apiGRPCPort    = 9090
	esDataDir      = "/usr/share/elasticsearch/data"
	logmonBinary   = "/usr/local/bin/logmon"
	logmonCmdBuild = "./cmd/logmon"
)

// minKafkaImage is the oldest apache/kafka image the compose file may use.
var minKafkaImage = [3]int{4, 1, 0}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

// checks are every check of the compose file and the Dockerfile but the
// subcommand check (TestComposeCommands, which may skip pending commands).
var checks = []struct {
	name string
	fn   func(p *project) []string
}{
	{"kafka-quorum", checkKafkaQuorum},
	{"kafka-settings-mirror-stack", checkKafkaSettings},
	{"kafka-listeners", checkKafkaListeners},
	{"logmon-services", checkLogmonServices},
	{"logmon-env-names", checkEnvNames},
	{"logmon-env-values", checkEnvValues},
	{"images", checkImages},
	{"healthchecks", checkHealthchecks},
	{"ports", checkPorts},
	{"setup-job", checkSetupJob},
	{"volumes", checkVolumes},
	{"dockerfile", checkDockerfile},
}

func TestCompose(t *testing.T) {
	p := loadProject(t)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			for _, e := range c.fn(p) {
				t.Error(e)
			}
		})
	}
}

// TestComposeCommands checks that every logmon service runs a subcommand that
// cmd/logmon has. A subcommand listed in pendingCommands is skipped.
func TestComposeCommands(t *testing.T) {
	p := loadProject(t)
	if len(p.commands) == 0 {
		t.Fatalf("found no subcommands in %s: the check reads the `commands` map of its Go files", cmdLogmonDir)
	}
	for _, name := range sortedKeys(p.compose.Services) {
		s := p.compose.Services[name]
		if !s.isLogmon() {
			continue
		}
		t.Run(name, func(t *testing.T) {
			msg, pending := commandProblem(s, p.commands)
			switch {
			case msg == "":
			case pending:
				t.Skipf("%s (listed in pendingCommands)", msg)
			default:
				t.Error(msg)
			}
		})
	}
	for _, c := range pendingCommands {
		if p.commands[c] {
			t.Logf("pendingCommands: %q is in cmd/logmon now; remove it from the list", c)
		}
	}
}

// TestChecksCanFail breaks the parsed files one way at a time and expects the
// check responsible to notice, so no check passes vacuously.
func TestChecksCanFail(t *testing.T) {
	byName := map[string]func(*project) []string{}
	for _, c := range checks {
		byName[c.name] = c.fn
	}
	byName["commands"] = func(p *project) []string {
		var errs []string
		for _, name := range sortedKeys(p.compose.Services) {
			if s := p.compose.Services[name]; s.isLogmon() {
				if msg, pending := commandProblem(s, p.commands); msg != "" && !pending {
					errs = append(errs, msg)
				}
			}
		}
		return errs
	}
	env := func(p *project, svc, key, value string) {
		t.Helper()
		s := p.svc(t, svc)
		if value == "" {
			delete(s.Env, key)
		} else {
			s.Env[key] = value
		}
	}
	allLogmonEnv := func(p *project, key, value string) {
		for _, s := range p.compose.Services {
			if s.isLogmon() {
				s.Env[key] = value
			}
		}
	}
	mutations := []struct {
		check, what string
		mutate      func(p *project)
	}{
		{"kafka-quorum", "two brokers share node id 1", func(p *project) { env(p, "kafka-2", "KAFKA_NODE_ID", "1") }},
		{"kafka-quorum", "a broker is missing", func(p *project) { delete(p.compose.Services, "kafka-3") }},
		{"kafka-quorum", "a 2-voter quorum", func(p *project) {
			for _, n := range []string{"kafka-1", "kafka-2", "kafka-3"} {
				env(p, n, "KAFKA_CONTROLLER_QUORUM_VOTERS", "1@kafka-1:9093,2@kafka-2:9093")
			}
		}},
		{"kafka-quorum", "a voter at the wrong port", func(p *project) {
			for _, n := range []string{"kafka-1", "kafka-2", "kafka-3"} {
				env(p, n, "KAFKA_CONTROLLER_QUORUM_VOTERS", "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9092")
			}
		}},
		{"kafka-quorum", "broker-only node", func(p *project) { env(p, "kafka-1", "KAFKA_PROCESS_ROLES", "broker") }},
		{"kafka-quorum", "cluster ids differ", func(p *project) { env(p, "kafka-2", "CLUSTER_ID", "AAAAAAAAAAAAAAAAAAAAAA") }},
		{"kafka-settings-mirror-stack", "min ISR 1", func(p *project) { env(p, "kafka-1", "KAFKA_MIN_INSYNC_REPLICAS", "1") }},
		{"kafka-settings-mirror-stack", "default replication 2", func(p *project) { env(p, "kafka-3", "KAFKA_DEFAULT_REPLICATION_FACTOR", "2") }},
		{"kafka-settings-mirror-stack", "auto topic creation setting dropped", func(p *project) { env(p, "kafka-2", "KAFKA_AUTO_CREATE_TOPICS_ENABLE", "") }},
		{"kafka-settings-mirror-stack", "share coordinator min ISR 1", func(p *project) {
			env(p, "kafka-2", "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR", "1")
		}},
		{"kafka-settings-mirror-stack", "stack gains a setting compose lacks", func(p *project) {
			p.stackProps = append(p.stackProps, prop{"unclean.leader.election.enable", "false"})
		}},
		{"kafka-settings-mirror-stack", "stack's properties unreadable", func(p *project) { p.stackProps = nil }},
		{"kafka-listeners", "broker 3 advertises the wrong host port", func(p *project) {
			env(p, "kafka-3", "KAFKA_ADVERTISED_LISTENERS", "PLAINTEXT://kafka-3:9092,EXTERNAL://localhost:9095")
		}},
		{"kafka-listeners", "broker 1 publishes the wrong port", func(p *project) { p.svc(t, "kafka-1").Ports[0].Host = 19092 }},
		{"kafka-listeners", "broker 2 advertises another host internally", func(p *project) {
			env(p, "kafka-2", "KAFKA_ADVERTISED_LISTENERS", "PLAINTEXT://kafka-1:9092,EXTERNAL://localhost:9093")
		}},
		{"logmon-services", "no api service", func(p *project) { delete(p.compose.Services, "api") }},
		{"logmon-services", "process runs ingest", func(p *project) { p.svc(t, "process").Command = []string{"ingest"} }},
		{"logmon-env-names", "a variable config does not read", func(p *project) { env(p, "ingest", "KAFKA_BROKER", "kafka-1:9092") }},
		{"logmon-env-values", "two brokers in KAFKA_BROKERS", func(p *project) { allLogmonEnv(p, "KAFKA_BROKERS", "kafka-1:9092,kafka-2:9092") }},
		{"logmon-env-values", "a broker at its controller port", func(p *project) {
			allLogmonEnv(p, "KAFKA_BROKERS", "kafka-1:9092,kafka-2:9093,kafka-3:9092")
		}},
		{"logmon-env-values", "one service's environment differs", func(p *project) { env(p, "notify", "SMTP_HOST", "smtp") }},
		{"logmon-env-values", "SMTP host is not mailpit", func(p *project) { allLogmonEnv(p, "SMTP_HOST", "smtp") }},
		{"logmon-env-values", "SMTP port is mailpit's UI", func(p *project) { allLogmonEnv(p, "SMTP_PORT", "8025") }},
		{"logmon-env-values", "Elasticsearch at the wrong host", func(p *project) { allLogmonEnv(p, "ELASTICSEARCH_URLS", "http://es:9200") }},
		{"logmon-env-values", "unknown time zone", func(p *project) { allLogmonEnv(p, "SOURCE_TZ", "Asia/Seol") }},
		{"logmon-env-values", "replication 1 without the dev override", func(p *project) { allLogmonEnv(p, "KAFKA_REPLICATION", "1") }},
		{"logmon-env-values", "no data dir", func(p *project) {
			for _, s := range p.compose.Services {
				if s.isLogmon() {
					delete(s.Env, config.EnvDataDir)
				}
			}
		}},
		{"commands", "a subcommand that does not exist", func(p *project) { p.svc(t, "api").Command = []string{"apii"} }},
		{"commands", "no command at all", func(p *project) { p.svc(t, "index").Command = nil }},
		{"images", "Elasticsearch of another version", func(p *project) { p.svc(t, "elasticsearch").Image = esImage + ":8.19.20" }},
		{"images", "Kibana of another version", func(p *project) { p.svc(t, "kibana").Image = kibanaImage + ":8.18.0" }},
		{"images", "Kafka 3", func(p *project) { p.svc(t, "kafka-2").Image = kafkaImage + ":3.9.0" }},
		{"images", "Kafka older than 4.1.0", func(p *project) { p.svc(t, "kafka-1").Image = kafkaImage + ":4.0.0" }},
		{"images", "no Kibana", func(p *project) { delete(p.compose.Services, "kibana") }},
		{"healthchecks", "10s interval", func(p *project) { p.svc(t, "process").Health.Interval = 10 * time.Second }},
		{"healthchecks", "no healthcheck", func(p *project) { p.svc(t, "mailpit").Health = nil }},
		{"healthchecks", "healthcheck disabled", func(p *project) { p.svc(t, "kafka-2").Health.Disabled = true }},
		{"healthchecks", "logmon healthcheck on another port", func(p *project) {
			p.svc(t, "api").Health.Test = []string{"CMD", "curl", "-f", "http://127.0.0.1:9465/healthz"}
		}},
		{"healthchecks", "Elasticsearch checked with GET /", func(p *project) {
			p.svc(t, "elasticsearch").Health.Test = []string{"CMD-SHELL", "curl -f http://localhost:9200/"}
		}},
		{"ports", "Elasticsearch on another host port", func(p *project) { p.svc(t, "elasticsearch").Ports[0].Host = 9201 }},
		{"ports", "Kibana not published", func(p *project) { p.svc(t, "kibana").Ports = nil }},
		{"ports", "API REST on 8081", func(p *project) { p.svc(t, "api").Ports[0].Host = 8081 }},
		{"ports", "no mailpit SMTP", func(p *project) { p.svc(t, "mailpit").Ports = p.svc(t, "mailpit").Ports[:1] }},
		{"ports", "two services on one host port", func(p *project) {
			p.svc(t, "notify").Ports = []port{{Host: 8080, Container: 8080, Raw: "8080:8080"}}
		}},
		{"setup-job", "no setup job", func(p *project) { delete(p.compose.Services, setupService) }},
		{"setup-job", "index only waits for setup to start", func(p *project) { p.svc(t, "index").DependsOn[setupService] = "service_started" }},
		{"setup-job", "ingest does not wait for setup", func(p *project) { delete(p.svc(t, "ingest").DependsOn, setupService) }},
		{"setup-job", "setup does not wait for a broker", func(p *project) { delete(p.svc(t, setupService).DependsOn, "kafka-2") }},
		{"setup-job", "setup restarts forever", func(p *project) { p.svc(t, setupService).Restart = "unless-stopped" }},
		{"setup-job", "depends on a service that does not exist", func(p *project) { p.svc(t, "api").DependsOn["views"] = "service_started" }},
		{"volumes", "process keeps no state", func(p *project) { p.svc(t, "process").Mounts = nil }},
		{"volumes", "an undeclared named volume", func(p *project) { delete(p.compose.Volumes, "es-data") }},
		{"volumes", "two services share a state volume", func(p *project) { p.svc(t, "notify").Mounts[0].Source = "api-state" }},
		{"volumes", "Kafka data not on a volume", func(p *project) { p.svc(t, "kafka-1").Mounts = nil }},
		{"volumes", "ingest globs outside its mounts", func(p *project) { allLogmonEnv(p, "INGEST_GLOBS", "/var/log/auth.log") }},
		{"dockerfile", "build stage Go 1.25", func(p *project) { p.dockerfile.Stages[0].Image = "golang:1.25-bookworm" }},
		{"dockerfile", "go.mod moves to Go 1.27", func(p *project) { p.goVersion = "1.27.0" }},
		{"dockerfile", "builds another package", func(p *project) {
			replaceRun(p, "go build", func(s string) string { return strings.ReplaceAll(s, logmonCmdBuild, "./cmd/other") })
		}},
		{"dockerfile", "no -trimpath", func(p *project) {
			replaceRun(p, "go build", func(s string) string { return strings.ReplaceAll(s, "-trimpath", "") })
		}},
		{"dockerfile", "cgo on", func(p *project) {
			replaceRun(p, "go build", func(s string) string { return strings.ReplaceAll(s, "CGO_ENABLED=0", "CGO_ENABLED=1") })
		}},
		{"dockerfile", "runs as root", func(p *project) { setInstr(p, "USER", "root") }},
		{"dockerfile", "another entrypoint", func(p *project) { setInstr(p, "ENTRYPOINT", `["/bin/sh"]`) }},
		{"dockerfile", "no curl for the healthchecks", func(p *project) {
			replaceRun(p, "apt-get", func(s string) string { return strings.ReplaceAll(s, " curl", "") })
		}},
	}
	for _, m := range mutations {
		t.Run(m.check+"/"+m.what, func(t *testing.T) {
			fn, ok := byName[m.check]
			if !ok {
				t.Fatalf("no check named %q", m.check)
			}
			p := loadProject(t)
			m.mutate(p)
			if errs := fn(p); len(errs) == 0 {
				t.Errorf("check %s did not notice: %s", m.check, m.what)
			} else {
				t.Logf("noticed: %s", errs[0])
			}
		})
	}
}

// ---------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------

// checkKafkaQuorum: three combined nodes with ids 1..3 and a 3-voter quorum
// of exactly those nodes at their controller listeners.
func checkKafkaQuorum(p *project) []string {
	var errs []string
	brokers := p.kafkaBrokers()
	if len(brokers) != len(stack.KafkaPorts) {
		errs = append(errs, fmt.Sprintf("%d Kafka services (image %s), want %d", len(brokers), kafkaImage, len(stack.KafkaPorts)))
	}
	ids := map[int]string{}
	for _, b := range brokers {
		id, err := strconv.Atoi(b.Env["KAFKA_NODE_ID"])
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: KAFKA_NODE_ID %q: %v", b.Name, b.Env["KAFKA_NODE_ID"], err))
			continue
		}
		if other, dup := ids[id]; dup {
			errs = append(errs, fmt.Sprintf("%s and %s both have node id %d", other, b.Name, id))
		}
		ids[id] = b.Name
		if roles := splitSet(b.Env["KAFKA_PROCESS_ROLES"]); !equalSets(roles, []string{"broker", "controller"}) {
			errs = append(errs, fmt.Sprintf("%s: KAFKA_PROCESS_ROLES %q, want broker,controller (combined nodes)", b.Name, b.Env["KAFKA_PROCESS_ROLES"]))
		}
	}
	for i := range stack.KafkaPorts {
		if _, ok := ids[i+1]; !ok {
			errs = append(errs, fmt.Sprintf("no Kafka node with id %d (want ids 1..%d)", i+1, len(stack.KafkaPorts)))
		}
	}
	if len(brokers) == 0 {
		return errs
	}
	first := brokers[0]
	for _, b := range brokers[1:] {
		for _, k := range []string{"KAFKA_CONTROLLER_QUORUM_VOTERS", "CLUSTER_ID"} {
			if b.Env[k] != first.Env[k] {
				errs = append(errs, fmt.Sprintf("%s: %s %q differs from %s's %q", b.Name, k, b.Env[k], first.Name, first.Env[k]))
			}
		}
	}
	if first.Env["CLUSTER_ID"] == "" {
		errs = append(errs, "no CLUSTER_ID on the Kafka services (the image formats KRaft storage with it)")
	}
	voters := config.SplitList(first.Env["KAFKA_CONTROLLER_QUORUM_VOTERS"])
	if len(voters) != len(stack.KafkaPorts) {
		errs = append(errs, fmt.Sprintf("KAFKA_CONTROLLER_QUORUM_VOTERS has %d voters, want %d", len(voters), len(stack.KafkaPorts)))
	}
	seen := map[int]bool{}
	for _, v := range voters {
		idStr, addr, ok := strings.Cut(v, "@")
		id, err := strconv.Atoi(idStr)
		host, portStr, herr := net.SplitHostPort(addr)
		if !ok || err != nil || herr != nil {
			errs = append(errs, fmt.Sprintf("voter %q: want id@host:port", v))
			continue
		}
		seen[id] = true
		name, ok := ids[id]
		if !ok {
			errs = append(errs, fmt.Sprintf("voter %q: no Kafka service has node id %d", v, id))
			continue
		}
		b := p.compose.Services[name]
		if host != b.Name {
			errs = append(errs, fmt.Sprintf("voter %q: node %d is service %s", v, id, b.Name))
		}
		ctrl := b.Env["KAFKA_CONTROLLER_LISTENER_NAMES"]
		if want, ok := listenerPorts(b.Env["KAFKA_LISTENERS"])[ctrl]; !ok || strconv.Itoa(want) != portStr {
			errs = append(errs, fmt.Sprintf("voter %q: %s's %s listener is on port %d", v, b.Name, ctrl, want))
		}
	}
	if len(seen) != len(voters) {
		errs = append(errs, fmt.Sprintf("KAFKA_CONTROLLER_QUORUM_VOTERS %q names a node twice", first.Env["KAFKA_CONTROLLER_QUORUM_VOTERS"]))
	}
	return errs
}

// checkKafkaSettings: every broker sets every property of stack/kafka.go's
// server.properties, with the same value unless it is an address (the local
// stack listens on 127.0.0.1 ports, compose on its network).
func checkKafkaSettings(p *project) []string {
	var errs []string
	byKey := map[string]string{}
	for _, pr := range p.stackProps {
		byKey[pr.key] = pr.value
	}
	for _, k := range []string{"default.replication.factor", "min.insync.replicas", "process.roles", "controller.quorum.voters"} {
		if _, ok := byKey[k]; !ok {
			errs = append(errs, fmt.Sprintf("%s: found no %s in kafkaProperties' template; the check parses it and needs updating", stackKafkaPath, k))
		}
	}
	// The code's own numbers: the replication the components ask for and the
	// min ISR they expect must be what the brokers default to.
	def := config.Default().Kafka
	for k, want := range map[string]int{"default.replication.factor": def.Replication, "min.insync.replicas": def.MinInsyncReplicas()} {
		if v, ok := byKey[k]; ok && v != strconv.Itoa(want) {
			errs = append(errs, fmt.Sprintf("%s sets %s=%s but config wants %d", stackKafkaPath, k, v, want))
		}
	}
	for _, b := range p.kafkaBrokers() {
		for _, pr := range p.stackProps {
			name := kafkaEnvName(pr.key)
			got, ok := b.Env[name]
			switch {
			case !ok:
				errs = append(errs, fmt.Sprintf("%s: %s missing (stack/kafka.go sets %s=%s)", b.Name, name, pr.key, pr.value))
			case pr.key == "listener.security.protocol.map":
				for _, pair := range config.SplitList(pr.value) {
					if !slices.Contains(config.SplitList(got), pair) {
						errs = append(errs, fmt.Sprintf("%s: %s %q lacks %s", b.Name, name, got, pair))
					}
				}
			case strings.Contains(pr.value, "%"):
				// per node or an address: checked by the quorum and listener checks
			case strings.TrimSpace(got) != pr.value:
				errs = append(errs, fmt.Sprintf("%s: %s=%q, stack/kafka.go has %s=%s", b.Name, name, got, pr.key, pr.value))
			}
		}
	}
	return errs
}

// checkKafkaListeners: each broker advertises itself on the compose network
// (what KAFKA_BROKERS uses) and, for the host, localhost at the port the
// local stack uses (stack.KafkaPorts), which it publishes.
func checkKafkaListeners(p *project) []string {
	var errs []string
	for i, b := range p.kafkaBrokers() {
		listeners := listenerPorts(b.Env["KAFKA_LISTENERS"])
		adv, err := advertised(b.Env["KAFKA_ADVERTISED_LISTENERS"])
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", b.Name, err))
			continue
		}
		protocols := map[string]bool{}
		for _, pair := range config.SplitList(b.Env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]) {
			name, _, _ := strings.Cut(pair, ":")
			protocols[name] = true
		}
		inter := b.Env["KAFKA_INTER_BROKER_LISTENER_NAME"]
		if a, ok := adv[inter]; !ok {
			errs = append(errs, fmt.Sprintf("%s: advertises no %s (inter-broker) listener", b.Name, inter))
		} else if a.host != b.Name || a.port != listeners[inter] {
			errs = append(errs, fmt.Sprintf("%s: advertises %s as %s:%d, want %s:%d", b.Name, inter, a.host, a.port, b.Name, listeners[inter]))
		}
		if i >= len(stack.KafkaPorts) {
			continue
		}
		hostPort := stack.KafkaPorts[i]
		found := false
		for name, a := range adv {
			if !protocols[name] {
				errs = append(errs, fmt.Sprintf("%s: listener %s has no security protocol mapping", b.Name, name))
			}
			if _, ok := listeners[name]; !ok {
				errs = append(errs, fmt.Sprintf("%s: advertised listener %s is not in KAFKA_LISTENERS", b.Name, name))
			}
			if name == inter || (a.host != "localhost" && a.host != "127.0.0.1") {
				continue
			}
			if a.port != hostPort {
				errs = append(errs, fmt.Sprintf("%s: advertises %s as %s:%d, the host port of node %d is %d (stack.KafkaPorts)", b.Name, name, a.host, a.port, i+1, hostPort))
				continue
			}
			if !b.publishes(hostPort, listeners[name]) {
				errs = append(errs, fmt.Sprintf("%s: advertises %s:%d but does not publish %d:%d", b.Name, a.host, hostPort, hostPort, listeners[name]))
				continue
			}
			found = true
		}
		if !found {
			errs = append(errs, fmt.Sprintf("%s: no listener advertised and published on the host as localhost:%d", b.Name, hostPort))
		}
	}
	return errs
}

// checkLogmonServices: the components exist, run the image built from the
// Dockerfile and each runs its subcommand.
func checkLogmonServices(p *project) []string {
	var errs []string
	for _, name := range sortedKeys(wantLogmonServices) {
		s, ok := p.compose.Services[name]
		switch {
		case !ok:
			errs = append(errs, fmt.Sprintf("no %s service (logmon %s)", name, wantLogmonServices[name]))
		case !s.isLogmon():
			errs = append(errs, fmt.Sprintf("%s: not built from the Dockerfile at the repository root (build: %+v)", name, s.Build))
		case len(s.Command) == 0 || s.Command[0] != wantLogmonServices[name]:
			errs = append(errs, fmt.Sprintf("%s: command %q, want [%s ...]", name, s.Command, wantLogmonServices[name]))
		}
	}
	return errs
}

// checkEnvNames: a logmon service sets only variables that config reads.
func checkEnvNames(p *project) []string {
	var errs []string
	for _, s := range p.logmonServices() {
		for _, k := range sortedKeys(s.Env) {
			if !slices.Contains(config.EnvNames, k) {
				errs = append(errs, fmt.Sprintf("%s: environment %s is not in config.EnvNames", s.Name, k))
			}
		}
	}
	return errs
}

// checkEnvValues: the shared environment is the same everywhere and points at
// the services of this file; config accepts it.
func checkEnvValues(p *project) []string {
	var errs []string
	svcs := p.logmonServices()
	if len(svcs) == 0 {
		return []string{"no logmon services"}
	}
	ref := svcs[0]
	for _, s := range svcs[1:] {
		for _, k := range sortedKeys(mergeKeys(ref.Env, s.Env)) {
			if ref.Env[k] != s.Env[k] {
				errs = append(errs, fmt.Sprintf("%s: %s=%q but %s has %q (every component takes the shared environment)", s.Name, k, s.Env[k], ref.Name, ref.Env[k]))
			}
		}
	}
	env := ref.Env
	for _, k := range []string{config.EnvKafkaBrokers, config.EnvElasticURLs, config.EnvSMTPHost, config.EnvSMTPPort,
		config.EnvDataDir, config.EnvMetricsAddr, config.EnvIngestGlobs, config.EnvSourceTZ,
		config.EnvReportRecipients, config.EnvAlertRecipients} {
		if env[k] == "" {
			errs = append(errs, fmt.Sprintf("%s: %s not set", ref.Name, k))
		}
	}

	// KAFKA_BROKERS: the three brokers, each at its in-network listener.
	brokers := config.SplitList(env[config.EnvKafkaBrokers])
	if len(brokers) != len(stack.KafkaPorts) {
		errs = append(errs, fmt.Sprintf("%s=%q lists %d brokers, want %d", config.EnvKafkaBrokers, env[config.EnvKafkaBrokers], len(brokers), len(stack.KafkaPorts)))
	}
	covered := map[string]bool{}
	for _, addr := range brokers {
		host, portStr, err := net.SplitHostPort(addr)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %q: %v", config.EnvKafkaBrokers, addr, err))
			continue
		}
		b, ok := p.compose.Services[host]
		if !ok || !b.isKafka() {
			errs = append(errs, fmt.Sprintf("%s: %q is not a Kafka service of this file", config.EnvKafkaBrokers, addr))
			continue
		}
		covered[host] = true
		a, err := advertised(b.Env["KAFKA_ADVERTISED_LISTENERS"])
		inter := a[b.Env["KAFKA_INTER_BROKER_LISTENER_NAME"]]
		if err != nil || inter.host != host || strconv.Itoa(inter.port) != portStr {
			errs = append(errs, fmt.Sprintf("%s: %q is not %s's in-network listener (%s:%d)", config.EnvKafkaBrokers, addr, host, inter.host, inter.port))
		}
	}
	if len(covered) != len(p.kafkaBrokers()) {
		errs = append(errs, fmt.Sprintf("%s=%q does not name each of the %d brokers once", config.EnvKafkaBrokers, env[config.EnvKafkaBrokers], len(p.kafkaBrokers())))
	}

	// ELASTICSEARCH_URLS: the Elasticsearch service.
	for _, raw := range config.SplitList(env[config.EnvElasticURLs]) {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "http" || u.Port() != strconv.Itoa(esHTTPPort) || !p.hasImage(u.Hostname(), esImage) {
			errs = append(errs, fmt.Sprintf("%s: %q is not http://<the elasticsearch service>:%d", config.EnvElasticURLs, raw, esHTTPPort))
		}
	}

	// SMTP: mailpit's SMTP port.
	if !p.hasImage(env[config.EnvSMTPHost], mailpitImage) {
		errs = append(errs, fmt.Sprintf("%s=%q is not the mailpit service", config.EnvSMTPHost, env[config.EnvSMTPHost]))
	}
	if env[config.EnvSMTPPort] != strconv.Itoa(mailpitSMTP) {
		errs = append(errs, fmt.Sprintf("%s=%q, mailpit's SMTP port is %d", config.EnvSMTPPort, env[config.EnvSMTPPort], mailpitSMTP))
	}

	// Metrics and /healthz reachable from outside the process's loopback.
	if addr := env[config.EnvMetricsAddr]; addr != "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s=%q: %v", config.EnvMetricsAddr, addr, err))
		} else if host != "" && host != "0.0.0.0" && host != "::" {
			errs = append(errs, fmt.Sprintf("%s=%q listens on %s only; use 0.0.0.0 in a container", config.EnvMetricsAddr, addr, host))
		}
	}
	if tz := env[config.EnvSourceTZ]; tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			errs = append(errs, fmt.Sprintf("%s=%q: %v", config.EnvSourceTZ, tz, err))
		}
	}
	for _, k := range []string{config.EnvReportRecipients, config.EnvAlertRecipients} {
		for _, r := range config.SplitList(env[k]) {
			if !strings.Contains(r, "@") {
				errs = append(errs, fmt.Sprintf("%s: %q is not a mail address", k, r))
			}
		}
	}
	if d := env[config.EnvDataDir]; d != "" && !filepath.IsAbs(d) {
		errs = append(errs, fmt.Sprintf("%s=%q: want an absolute path (a volume is mounted there)", config.EnvDataDir, d))
	}

	// What the components will do with it.
	cfg := config.Default()
	if err := cfg.LoadEnv(func(k string) string { return env[k] }); err != nil {
		errs = append(errs, err.Error())
	} else if err := cfg.Validate(); err != nil {
		errs = append(errs, err.Error())
	} else if cfg.Kafka.Replication > len(p.kafkaBrokers()) {
		errs = append(errs, fmt.Sprintf("replication %d with %d brokers", cfg.Kafka.Replication, len(p.kafkaBrokers())))
	}
	return errs
}

// commandProblem reports a logmon service whose command is not a subcommand
// of cmd/logmon; pending says the subcommand is listed in pendingCommands.
func commandProblem(s *service, known map[string]bool) (msg string, pending bool) {
	if len(s.Command) == 0 {
		return fmt.Sprintf("%s: no command (want a logmon subcommand)", s.Name), false
	}
	c := s.Command[0]
	if known[c] {
		return "", false
	}
	return fmt.Sprintf("%s: `logmon %s`: cmd/logmon has no subcommand %q (it has %s)", s.Name, c, c, strings.Join(sortedKeys(known), ", ")),
		slices.Contains(pendingCommands, c)
}

// checkImages: Kafka of stack.KafkaVersion's major (and at least 4.1.0),
// Elasticsearch and Kibana exactly stack.ElasticVersion.
func checkImages(p *project) []string {
	var errs []string
	count := map[string]int{}
	wantMajor, _, _ := strings.Cut(stack.KafkaVersion, ".")
	for _, name := range sortedKeys(p.compose.Services) {
		s := p.compose.Services[name]
		repo, tag := splitImage(s.Image)
		count[repo]++
		switch repo {
		case kafkaImage:
			v, ok := parseVersion(tag)
			switch {
			case !ok:
				errs = append(errs, fmt.Sprintf("%s: image %s: want a version tag", name, s.Image))
			case strconv.Itoa(v[0]) != wantMajor:
				errs = append(errs, fmt.Sprintf("%s: image %s: Kafka %d.x, the local stack runs %s", name, s.Image, v[0], stack.KafkaVersion))
			case versionLess(v, minKafkaImage):
				errs = append(errs, fmt.Sprintf("%s: image %s is older than %d.%d.%d", name, s.Image, minKafkaImage[0], minKafkaImage[1], minKafkaImage[2]))
			}
		case esImage, kibanaImage:
			if tag != stack.ElasticVersion {
				errs = append(errs, fmt.Sprintf("%s: image %s, want tag %s (stack.ElasticVersion)", name, s.Image, stack.ElasticVersion))
			}
		}
	}
	for _, repo := range []string{esImage, kibanaImage, mailpitImage} {
		if count[repo] != 1 {
			errs = append(errs, fmt.Sprintf("%d services run %s, want 1", count[repo], repo))
		}
	}
	return errs
}

// checkHealthchecks: every long-running service has a healthcheck every 30s;
// the components' check their /readyz on LOGMON_METRICS_ADDR's port.
func checkHealthchecks(p *project) []string {
	var errs []string
	oneShot := p.oneShots()
	for _, name := range sortedKeys(p.compose.Services) {
		s := p.compose.Services[name]
		if oneShot[name] {
			continue
		}
		h := s.Health
		if h == nil || h.Disabled || len(h.Test) == 0 || h.Test[0] == "NONE" {
			errs = append(errs, fmt.Sprintf("%s: long-running service without a healthcheck", name))
			continue
		}
		if h.Interval != healthInterval {
			errs = append(errs, fmt.Sprintf("%s: healthcheck interval %v, want %v", name, h.Interval, healthInterval))
		}
		test := strings.Join(h.Test, " ")
		repo, _ := splitImage(s.Image)
		switch {
		case s.isLogmon():
			_, port, _ := net.SplitHostPort(s.Env[config.EnvMetricsAddr])
			if port == "" || !strings.Contains(test, ":"+port+"/readyz") {
				errs = append(errs, fmt.Sprintf("%s: healthcheck %q does not ask /readyz on port %q (%s)", name, test, port, config.EnvMetricsAddr))
			}
		case repo == esImage:
			if !strings.Contains(test, "_cluster/health") {
				errs = append(errs, fmt.Sprintf("%s: healthcheck %q: ask _cluster/health", name, test))
			}
		case repo == kibanaImage:
			if !strings.Contains(test, "api/status") {
				errs = append(errs, fmt.Sprintf("%s: healthcheck %q: ask api/status", name, test))
			}
		}
	}
	return errs
}

// checkPorts: what the file promises on the host, and no host port twice.
func checkPorts(p *project) []string {
	var errs []string
	want := []struct {
		image, service string
		host, cont     int
	}{
		{esImage, "", stack.ElasticPort, esHTTPPort},
		{kibanaImage, "", kibanaPort, kibanaPort},
		{mailpitImage, "", mailpitUIPort, mailpitUIPort},
		{mailpitImage, "", config.LocalSMTPPort, mailpitSMTP},
		{"", "api", apiRESTPort, apiRESTPort},
		{"", "api", apiGRPCPort, apiGRPCPort},
	}
	for _, w := range want {
		var s *service
		for _, c := range p.compose.Services {
			if repo, _ := splitImage(c.Image); (w.image != "" && repo == w.image) || c.Name == w.service {
				s = c
			}
		}
		who := w.service + w.image
		if s == nil {
			errs = append(errs, fmt.Sprintf("no service %s", who))
			continue
		}
		if !s.publishes(w.host, w.cont) {
			errs = append(errs, fmt.Sprintf("%s: does not publish %d:%d", s.Name, w.host, w.cont))
		}
	}
	used := map[int]string{}
	for _, name := range sortedKeys(p.compose.Services) {
		for _, pt := range p.compose.Services[name].Ports {
			if pt.Host == 0 {
				continue
			}
			if other, dup := used[pt.Host]; dup {
				errs = append(errs, fmt.Sprintf("host port %d published by %s and %s", pt.Host, other, name))
			}
			used[pt.Host] = name
		}
	}
	return errs
}

// checkSetupJob: the one-shot `logmon setup` runs once the brokers,
// Elasticsearch and Kibana are healthy, and every component waits for it to
// finish successfully.
func checkSetupJob(p *project) []string {
	var errs []string
	for _, name := range sortedKeys(p.compose.Services) {
		s := p.compose.Services[name]
		for _, dep := range sortedKeys(s.DependsOn) {
			d, ok := p.compose.Services[dep]
			switch {
			case !ok:
				errs = append(errs, fmt.Sprintf("%s depends on %s, which does not exist", name, dep))
			case s.DependsOn[dep] == "service_healthy" && d.Health == nil:
				errs = append(errs, fmt.Sprintf("%s waits for %s to be healthy, which has no healthcheck", name, dep))
			}
		}
	}
	setup, ok := p.compose.Services[setupService]
	if !ok {
		return append(errs, fmt.Sprintf("no %s service (the one-shot `logmon setup`)", setupService))
	}
	if len(setup.Command) != 1 || setup.Command[0] != "setup" {
		errs = append(errs, fmt.Sprintf("%s: command %q, want [setup]", setupService, setup.Command))
	}
	if setup.Restart != "" && setup.Restart != "no" {
		errs = append(errs, fmt.Sprintf("%s: restart %q: a one-shot job must not restart", setupService, setup.Restart))
	}
	for _, s := range p.compose.Services {
		repo, _ := splitImage(s.Image)
		if s.isKafka() || repo == esImage || repo == kibanaImage {
			if setup.DependsOn[s.Name] != "service_healthy" {
				errs = append(errs, fmt.Sprintf("%s: does not wait for %s to be healthy (condition %q)", setupService, s.Name, setup.DependsOn[s.Name]))
			}
		}
	}
	for _, s := range p.logmonServices() {
		if s.Name == setupService {
			continue
		}
		if c := s.DependsOn[setupService]; c != "service_completed_successfully" {
			errs = append(errs, fmt.Sprintf("%s: depends on %s with condition %q, want service_completed_successfully", s.Name, setupService, c))
		}
	}
	return errs
}

// checkVolumes: state lives on named volumes, one per service, all declared.
func checkVolumes(p *project) []string {
	var errs []string
	owner := map[string]string{}
	for _, name := range sortedKeys(p.compose.Services) {
		s := p.compose.Services[name]
		for _, m := range s.Mounts {
			if !m.Named {
				continue
			}
			if !p.compose.Volumes[m.Source] {
				errs = append(errs, fmt.Sprintf("%s: named volume %s is not declared under volumes:", name, m.Source))
			}
			if other, dup := owner[m.Source]; dup {
				errs = append(errs, fmt.Sprintf("volume %s is used by %s and %s: each keeps its own state", m.Source, other, name))
			}
			owner[m.Source] = name
		}
	}
	oneShot := p.oneShots()
	for _, s := range p.logmonServices() {
		if oneShot[s.Name] || len(s.Command) > 0 && stateless[s.Command[0]] {
			continue
		}
		if d := s.Env[config.EnvDataDir]; !s.mountsVolumeAt(d) {
			errs = append(errs, fmt.Sprintf("%s: no named volume at %s=%s: its state would not survive the container", s.Name, config.EnvDataDir, d))
		}
	}
	for _, b := range p.kafkaBrokers() {
		if d := b.Env["KAFKA_LOG_DIRS"]; !b.mountsVolumeAt(d) {
			errs = append(errs, fmt.Sprintf("%s: no named volume at KAFKA_LOG_DIRS=%s", b.Name, d))
		}
	}
	for _, s := range p.compose.Services {
		if repo, _ := splitImage(s.Image); repo == esImage && !s.mountsVolumeAt(esDataDir) {
			errs = append(errs, fmt.Sprintf("%s: no named volume at %s", s.Name, esDataDir))
		}
	}
	if ingest, ok := p.compose.Services["ingest"]; ok {
		for _, g := range config.SplitList(ingest.Env[config.EnvIngestGlobs]) {
			under := false
			for _, m := range ingest.Mounts {
				if strings.HasPrefix(g, strings.TrimSuffix(m.Target, "/")+"/") {
					under = true
				}
			}
			if !under {
				errs = append(errs, fmt.Sprintf("ingest: %s glob %q lies under none of its mounts", config.EnvIngestGlobs, g))
			}
		}
	}
	return errs
}

// checkDockerfile: the build stage compiles ./cmd/logmon statically with the
// Go of go.mod; the runtime stage runs it as a non-root user, with curl for
// the compose healthchecks.
func checkDockerfile(p *project) []string {
	var errs []string
	df := p.dockerfile
	if len(df.Stages) < 2 {
		return []string{fmt.Sprintf("%s: %d stages, want a build and a runtime stage", dockerfilePath, len(df.Stages))}
	}
	goMM := majorMinor(p.goVersion)
	if goMM == "" {
		errs = append(errs, fmt.Sprintf("%s: no go directive", goModPath))
	}
	buildIdx, buildRun := -1, ""
	for i, st := range df.Stages {
		for _, in := range st.Instrs {
			if in.Cmd == "RUN" && strings.Contains(in.Args, "go build") {
				buildIdx, buildRun = i, in.Args
			}
		}
	}
	if buildIdx < 0 {
		return append(errs, fmt.Sprintf("%s: no RUN with go build", dockerfilePath))
	}
	build := df.Stages[buildIdx]
	repo, tag := splitImage(build.Image)
	if repo != "golang" {
		errs = append(errs, fmt.Sprintf("%s: build stage FROM %s, want golang:%s", dockerfilePath, build.Image, goMM))
	} else if tag != goMM && !strings.HasPrefix(tag, goMM+".") && !strings.HasPrefix(tag, goMM+"-") {
		errs = append(errs, fmt.Sprintf("%s: build stage FROM %s, go.mod says go %s", dockerfilePath, build.Image, p.goVersion))
	}
	for _, want := range []string{logmonCmdBuild, "-trimpath", "CGO_ENABLED=0"} {
		if !slices.Contains(strings.Fields(buildRun), want) {
			errs = append(errs, fmt.Sprintf("%s: go build without %s: %s", dockerfilePath, want, buildRun))
		}
	}
	final := df.Stages[len(df.Stages)-1]
	if buildIdx == len(df.Stages)-1 {
		errs = append(errs, fmt.Sprintf("%s: the last stage builds; want a separate runtime stage", dockerfilePath))
	}
	copied, user, entry, curl := false, "", "", false
	for _, in := range final.Instrs {
		switch in.Cmd {
		case "COPY":
			f := strings.Fields(in.Args)
			from := ""
			for _, a := range f {
				if v, ok := strings.CutPrefix(a, "--from="); ok {
					from = v
				}
			}
			if (from == build.Name || from == strconv.Itoa(buildIdx)) && len(f) > 0 && f[len(f)-1] == logmonBinary {
				copied = true
			}
		case "USER":
			user = in.Args
		case "ENTRYPOINT":
			entry = in.Args
		case "RUN":
			if strings.Contains(in.Args, " curl") && (strings.Contains(in.Args, "apt-get install") || strings.Contains(in.Args, "apk add")) {
				curl = true
			}
		}
	}
	if !copied {
		errs = append(errs, fmt.Sprintf("%s: the runtime stage does not copy the binary from stage %q to %s", dockerfilePath, build.Name, logmonBinary))
	}
	if u, _, _ := strings.Cut(strings.TrimSpace(user), ":"); u == "" || u == "root" || u == "0" {
		errs = append(errs, fmt.Sprintf("%s: runtime stage runs as %q, want a non-root USER", dockerfilePath, user))
	}
	var ep []string
	if err := json.Unmarshal([]byte(entry), &ep); err != nil || len(ep) != 1 || (ep[0] != "logmon" && ep[0] != logmonBinary) {
		errs = append(errs, fmt.Sprintf("%s: ENTRYPOINT %s, want [\"logmon\"]", dockerfilePath, entry))
	}
	usesCurl := false
	for _, s := range p.logmonServices() {
		if s.Health != nil && strings.Contains(strings.Join(s.Health.Test, " "), "curl") {
			usesCurl = true
		}
	}
	if usesCurl && !curl {
		errs = append(errs, fmt.Sprintf("%s: the compose healthchecks run curl but the runtime stage (FROM %s) does not install it", dockerfilePath, final.Image))
	}
	return errs
}

// ---------------------------------------------------------------------------
// The project as parsed
// ---------------------------------------------------------------------------

type project struct {
	compose    *composeFile
	dockerfile *dockerfile
	goVersion  string          // go.mod's go directive
	commands   map[string]bool // cmd/logmon's subcommands
	stackProps []prop          // stack/kafka.go's server.properties template
}

func loadProject(t *testing.T) *project {
	t.Helper()
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	c, err := parseCompose([]byte(read(composePath)))
	if err != nil {
		t.Fatalf("%s: %v", composePath, err)
	}
	props, err := parseStackProps(read(stackKafkaPath))
	if err != nil {
		t.Fatalf("%s: %v", stackKafkaPath, err)
	}
	cmds, err := logmonCommands(cmdLogmonDir)
	if err != nil {
		t.Fatalf("%s: %v", cmdLogmonDir, err)
	}
	m := regexp.MustCompile(`(?m)^go\s+(\S+)`).FindStringSubmatch(read(goModPath))
	if m == nil {
		t.Fatalf("%s: no go directive", goModPath)
	}
	return &project{
		compose:    c,
		dockerfile: parseDockerfile(read(dockerfilePath)),
		goVersion:  m[1],
		commands:   cmds,
		stackProps: props,
	}
}

func (p *project) svc(t *testing.T, name string) *service {
	t.Helper()
	s, ok := p.compose.Services[name]
	if !ok {
		t.Fatalf("no service %s in %s", name, composePath)
	}
	return s
}

// kafkaBrokers are the Kafka services, by node id.
func (p *project) kafkaBrokers() []*service {
	var bs []*service
	for _, s := range p.compose.Services {
		if s.isKafka() {
			bs = append(bs, s)
		}
	}
	sort.Slice(bs, func(i, j int) bool {
		a, _ := strconv.Atoi(bs[i].Env["KAFKA_NODE_ID"])
		b, _ := strconv.Atoi(bs[j].Env["KAFKA_NODE_ID"])
		if a != b {
			return a < b
		}
		return bs[i].Name < bs[j].Name
	})
	return bs
}

func (p *project) logmonServices() []*service {
	var out []*service
	for _, name := range sortedKeys(p.compose.Services) {
		if s := p.compose.Services[name]; s.isLogmon() {
			out = append(out, s)
		}
	}
	return out
}

// oneShots are the services another waits for to complete.
func (p *project) oneShots() map[string]bool {
	out := map[string]bool{}
	for _, s := range p.compose.Services {
		for dep, cond := range s.DependsOn {
			if cond == "service_completed_successfully" {
				out[dep] = true
			}
		}
	}
	return out
}

func (p *project) hasImage(service, repo string) bool {
	s, ok := p.compose.Services[service]
	if !ok {
		return false
	}
	r, _ := splitImage(s.Image)
	return r == repo
}

// replaceRun rewrites the first RUN containing sub (for TestChecksCanFail).
func replaceRun(p *project, sub string, f func(string) string) {
	for _, st := range p.dockerfile.Stages {
		for i, in := range st.Instrs {
			if in.Cmd == "RUN" && strings.Contains(in.Args, sub) {
				st.Instrs[i].Args = f(in.Args)
				return
			}
		}
	}
}

// setInstr sets (or adds) an instruction of the last stage.
func setInstr(p *project, cmd, args string) {
	st := p.dockerfile.Stages[len(p.dockerfile.Stages)-1]
	for i, in := range st.Instrs {
		if in.Cmd == cmd {
			st.Instrs[i].Args = args
			return
		}
	}
	st.Instrs = append(st.Instrs, instr{cmd, args})
}

// ---------------------------------------------------------------------------
// docker-compose.yml
// ---------------------------------------------------------------------------

type composeFile struct {
	Services map[string]*service
	Volumes  map[string]bool // declared named volumes
}

type service struct {
	Name      string
	Image     string
	Build     *build
	Command   []string
	Env       map[string]string // interpolated as with an empty environment
	Ports     []port
	Health    *health
	DependsOn map[string]string // service -> condition
	Mounts    []mount
	Restart   string
}

type build struct{ Context, Dockerfile string }

type port struct {
	Host, Container int // Host 0: not published on a fixed port
	Raw             string
}

type health struct {
	Test     []string
	Interval time.Duration
	Disabled bool
}

type mount struct {
	Source, Target string
	Named          bool
}

func (s *service) isKafka() bool {
	r, _ := splitImage(s.Image)
	return r == kafkaImage
}

// isLogmon: built from the Dockerfile at the repository root.
func (s *service) isLogmon() bool {
	if s.Build == nil {
		return false
	}
	ctx := filepath.Clean(s.Build.Context)
	df := s.Build.Dockerfile
	return ctx == "." && (df == "" || df == "Dockerfile")
}

func (s *service) publishes(host, container int) bool {
	for _, pt := range s.Ports {
		if pt.Host == host && pt.Container == container {
			return true
		}
	}
	return false
}

func (s *service) mountsVolumeAt(target string) bool {
	for _, m := range s.Mounts {
		if m.Named && target != "" && filepath.Clean(m.Target) == filepath.Clean(target) {
			return true
		}
	}
	return false
}

type rawCompose struct {
	Services map[string]rawService `yaml:"services"`
	Volumes  map[string]any        `yaml:"volumes"`
}

type rawService struct {
	Image       string     `yaml:"image"`
	Build       any        `yaml:"build"`
	Command     any        `yaml:"command"`
	Environment any        `yaml:"environment"`
	Ports       []any      `yaml:"ports"`
	Healthcheck *rawHealth `yaml:"healthcheck"`
	DependsOn   any        `yaml:"depends_on"`
	Volumes     []any      `yaml:"volumes"`
	Restart     string     `yaml:"restart"`
}

type rawHealth struct {
	Test     any    `yaml:"test"`
	Interval string `yaml:"interval"`
	Disable  bool   `yaml:"disable"`
}

func parseCompose(b []byte) (*composeFile, error) {
	var raw rawCompose
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	if len(raw.Services) == 0 {
		return nil, fmt.Errorf("no services")
	}
	c := &composeFile{Services: map[string]*service{}, Volumes: map[string]bool{}}
	for name := range raw.Volumes {
		c.Volumes[name] = true
	}
	for name, r := range raw.Services {
		s := &service{Name: name, Image: interpolate(r.Image), Restart: r.Restart, Env: map[string]string{}, DependsOn: map[string]string{}}
		var err error
		if s.Build, err = parseBuild(r.Build); err != nil {
			return nil, fmt.Errorf("%s: build: %w", name, err)
		}
		if s.Command, err = stringList(r.Command, true); err != nil {
			return nil, fmt.Errorf("%s: command: %w", name, err)
		}
		if err := parseEnv(r.Environment, s.Env); err != nil {
			return nil, fmt.Errorf("%s: environment: %w", name, err)
		}
		for _, p := range r.Ports {
			pt, err := parsePort(p)
			if err != nil {
				return nil, fmt.Errorf("%s: ports: %w", name, err)
			}
			s.Ports = append(s.Ports, pt)
		}
		if h := r.Healthcheck; h != nil {
			s.Health = &health{Disabled: h.Disable}
			if s.Health.Test, err = stringList(h.Test, false); err != nil {
				return nil, fmt.Errorf("%s: healthcheck test: %w", name, err)
			}
			if h.Interval != "" {
				if s.Health.Interval, err = time.ParseDuration(h.Interval); err != nil {
					return nil, fmt.Errorf("%s: healthcheck interval: %w", name, err)
				}
			}
		}
		if err := parseDependsOn(r.DependsOn, s.DependsOn); err != nil {
			return nil, fmt.Errorf("%s: depends_on: %w", name, err)
		}
		for _, v := range r.Volumes {
			m, err := parseMount(v)
			if err != nil {
				return nil, fmt.Errorf("%s: volumes: %w", name, err)
			}
			s.Mounts = append(s.Mounts, m)
		}
		c.Services[name] = s
	}
	return c, nil
}

var interpRe = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// interpolate resolves compose's ${VAR:-default} forms as `docker compose`
// does when none of the variables is set.
func interpolate(s string) string {
	return interpRe.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sub := interpRe.FindStringSubmatch(m)
		if op := sub[2]; op == ":-" || op == "-" {
			return sub[3]
		}
		return ""
	})
}

func scalar(v any) string {
	if v == nil {
		return ""
	}
	return interpolate(fmt.Sprint(v))
}

func stringList(v any, shellSplit bool) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if shellSplit {
			return strings.Fields(x), nil
		}
		return []string{"CMD-SHELL", x}, nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = scalar(e)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected %T", v)
}

func parseBuild(v any) (*build, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return &build{Context: x}, nil
	case map[string]any:
		b := &build{Context: scalar(x["context"]), Dockerfile: scalar(x["dockerfile"])}
		if b.Context == "" {
			b.Context = "."
		}
		return b, nil
	}
	return nil, fmt.Errorf("unexpected %T", v)
}

func parseEnv(v any, dst map[string]string) error {
	switch x := v.(type) {
	case nil:
	case map[string]any:
		for k, val := range x {
			dst[k] = scalar(val)
		}
	case []any:
		for _, e := range x {
			k, val, _ := strings.Cut(scalar(e), "=")
			dst[k] = val
		}
	default:
		return fmt.Errorf("unexpected %T", v)
	}
	return nil
}

func parsePort(v any) (port, error) {
	if m, ok := v.(map[string]any); ok {
		host, _ := strconv.Atoi(scalar(m["published"]))
		cont, err := strconv.Atoi(scalar(m["target"]))
		return port{Host: host, Container: cont, Raw: fmt.Sprint(m)}, err
	}
	raw := scalar(v)
	spec, _, _ := strings.Cut(raw, "/")
	f := strings.Split(spec, ":")
	var p port
	var err error
	p.Raw = raw
	if p.Container, err = strconv.Atoi(f[len(f)-1]); err != nil {
		return p, fmt.Errorf("%q: %w", raw, err)
	}
	if len(f) >= 2 && f[len(f)-2] != "" {
		if p.Host, err = strconv.Atoi(f[len(f)-2]); err != nil {
			return p, fmt.Errorf("%q: %w", raw, err)
		}
	}
	return p, nil
}

func parseDependsOn(v any, dst map[string]string) error {
	switch x := v.(type) {
	case nil:
	case []any:
		for _, e := range x {
			dst[scalar(e)] = "service_started"
		}
	case map[string]any:
		for k, val := range x {
			cond := "service_started"
			if m, ok := val.(map[string]any); ok && m["condition"] != nil {
				cond = scalar(m["condition"])
			}
			dst[k] = cond
		}
	default:
		return fmt.Errorf("unexpected %T", v)
	}
	return nil
}

func parseMount(v any) (mount, error) {
	var m mount
	switch x := v.(type) {
	case map[string]any:
		m.Source, m.Target = scalar(x["source"]), scalar(x["target"])
		m.Named = scalar(x["type"]) == "volume" && m.Source != ""
		return m, nil
	case string:
		f := strings.Split(interpolate(x), ":")
		switch len(f) {
		case 1:
			m.Target = f[0] // anonymous volume
			return m, nil
		case 2, 3:
			m.Source, m.Target = f[0], f[1]
		default:
			return m, fmt.Errorf("%q: unexpected form", x)
		}
		m.Named = !strings.HasPrefix(m.Source, ".") && !strings.HasPrefix(m.Source, "/") && !strings.HasPrefix(m.Source, "~")
		return m, nil
	}
	return m, fmt.Errorf("unexpected %T", v)
}

type listener struct {
	host string
	port int
}

// listenerPorts maps a listeners list ("NAME://host:port,...") to the ports.
func listenerPorts(s string) map[string]int {
	out := map[string]int{}
	a, _ := advertised(s)
	for name, l := range a {
		out[name] = l.port
	}
	return out
}

func advertised(s string) (map[string]listener, error) {
	out := map[string]listener{}
	for _, e := range config.SplitList(s) {
		name, addr, ok := strings.Cut(e, "://")
		host, portStr, err := net.SplitHostPort(addr)
		pt, perr := strconv.Atoi(portStr)
		if !ok || err != nil || perr != nil {
			return out, fmt.Errorf("listener %q: want NAME://host:port", e)
		}
		out[name] = listener{host, pt}
	}
	return out, nil
}

// kafkaEnvName is the apache/kafka image's variable for a broker property:
// KAFKA_ and the property upper-cased with '.' as '_', '_' as '__', '-' as '___'.
func kafkaEnvName(prop string) string {
	return "KAFKA_" + strings.ToUpper(strings.NewReplacer("-", "___", "_", "__", ".", "_").Replace(prop))
}

// ---------------------------------------------------------------------------
// The code's side: stack/kafka.go, cmd/logmon, the Dockerfile
// ---------------------------------------------------------------------------

type prop struct{ key, value string }

// parseStackProps reads the server.properties template of kafkaProperties in
// stack/kafka.go (unexported, so read as source).
func parseStackProps(src string) ([]prop, error) {
	i := strings.Index(src, "func kafkaProperties(")
	if i < 0 {
		return nil, fmt.Errorf("no func kafkaProperties")
	}
	body := src[i:]
	open := strings.Index(body, "`")
	if open < 0 {
		return nil, fmt.Errorf("kafkaProperties has no raw-string template")
	}
	body = body[open+1:]
	end := strings.Index(body, "`")
	if end < 0 {
		return nil, fmt.Errorf("kafkaProperties' template does not end")
	}
	var props []prop
	for _, line := range strings.Split(body[:end], "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("template line %q is not key=value", line)
		}
		props = append(props, prop{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	if len(props) == 0 {
		return nil, fmt.Errorf("kafkaProperties' template has no properties")
	}
	return props, nil
}

// logmonCommands reads the keys of cmd/logmon's `commands` map: the literal
// and any commands["x"] = ... assignment, in every non-test file.
func logmonCommands(dir string) (map[string]bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	fset := token.NewFileSet()
	key := func(e ast.Expr) {
		if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil {
				out[s] = true
			}
		}
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			return nil, err
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.ValueSpec:
				for i, name := range x.Names {
					if name.Name != "commands" || i >= len(x.Values) {
						continue
					}
					if cl, ok := x.Values[i].(*ast.CompositeLit); ok {
						for _, el := range cl.Elts {
							if kv, ok := el.(*ast.KeyValueExpr); ok {
								key(kv.Key)
							}
						}
					}
				}
			case *ast.AssignStmt:
				for _, lhs := range x.Lhs {
					if ix, ok := lhs.(*ast.IndexExpr); ok {
						if id, ok := ix.X.(*ast.Ident); ok && id.Name == "commands" {
							key(ix.Index)
						}
					}
				}
			}
			return true
		})
	}
	return out, nil
}

type dockerfile struct{ Stages []*stage }

type stage struct {
	Name, Image string // Image with the global ARGs' defaults substituted
	Instrs      []instr
}

type instr struct{ Cmd, Args string }

func parseDockerfile(src string) *dockerfile {
	df := &dockerfile{}
	args := map[string]string{}
	var lines []string
	cur := ""
	for _, l := range strings.Split(src, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "#") {
			continue // comments (and parser directives), also inside continuations
		}
		if strings.HasSuffix(t, "\\") {
			cur += strings.TrimSuffix(t, "\\") + " "
			continue
		}
		cur += t
		if strings.TrimSpace(cur) != "" {
			lines = append(lines, strings.TrimSpace(cur))
		}
		cur = ""
	}
	subst := regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)
	for _, l := range lines {
		cmd, rest, _ := strings.Cut(l, " ")
		cmd = strings.ToUpper(cmd)
		rest = strings.TrimSpace(rest)
		switch {
		case cmd == "ARG" && len(df.Stages) == 0:
			k, v, _ := strings.Cut(rest, "=")
			args[k] = strings.Trim(v, `"`)
		case cmd == "FROM":
			st := &stage{}
			f := strings.Fields(rest)
			for i := 0; i < len(f); i++ {
				switch {
				case strings.HasPrefix(f[i], "--"):
				case strings.EqualFold(f[i], "AS") && i+1 < len(f):
					st.Name = f[i+1]
					i++
				case st.Image == "":
					st.Image = subst.ReplaceAllStringFunc(f[i], func(m string) string {
						return args[subst.FindStringSubmatch(m)[1]]
					})
				}
			}
			df.Stages = append(df.Stages, st)
		case len(df.Stages) > 0:
			st := df.Stages[len(df.Stages)-1]
			st.Instrs = append(st.Instrs, instr{cmd, rest})
		}
	}
	return df
}

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

// splitImage splits "repo:tag" (a registry port is part of repo).
func splitImage(image string) (repo, tag string) {
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return image, ""
	}
	return image[:i], image[i+1:]
}

func parseVersion(s string) ([3]int, bool) {
	var v [3]int
	f := strings.Split(s, ".")
	if len(f) != 3 {
		return v, false
	}
	for i, x := range f {
		n, err := strconv.Atoi(x)
		if err != nil {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

func versionLess(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// majorMinor: "1.26.8" -> "1.26".
func majorMinor(v string) string {
	f := strings.SplitN(v, ".", 3)
	if len(f) < 2 {
		return ""
	}
	return f[0] + "." + f[1]
}

func splitSet(s string) []string { return config.SplitList(s) }

func equalSets(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

func mergeKeys(a, b map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
