package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// unprivileged is the uid and gid Elasticsearch runs as when the stack is
// started by root: Elasticsearch refuses to run as root.
const unprivileged = 65534

func (s *Stack) elasticProc() *proc {
	dir := s.elasticDir()
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		uid, gid = unprivileged, unprivileged
	}
	return &proc{
		name:    "elasticsearch",
		dir:     dir,
		logFile: filepath.Join(dir, "logs", "console.log"),
		marker:  s.elasticHome(),
		ports:   []int{ElasticPort, ElasticTransport},
		argv:    []string{filepath.Join(s.elasticHome(), "bin", "elasticsearch")},
		env: []string{
			"ES_JAVA_HOME=" + javaHome(),
			"ES_PATH_CONF=" + filepath.Join(dir, "config"),
			"ES_TMPDIR=" + filepath.Join(dir, "tmp"),
			"ES_JAVA_OPTS=-Xms512m -Xmx512m",
			"HOME=" + dir,
		},
		uid: uid, gid: gid,
	}
}

// StartElastic configures and starts the Elasticsearch node.
func (s *Stack) StartElastic() error {
	dir := s.elasticDir()
	for _, d := range []string{"config", "data", "logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("elasticsearch: %w", err)
		}
	}
	for _, f := range []string{"jvm.options", "log4j2.properties"} {
		b, err := os.ReadFile(filepath.Join(s.elasticHome(), "config", f))
		if err != nil {
			return fmt.Errorf("elasticsearch: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "config", f), b, 0o644); err != nil {
			return fmt.Errorf("elasticsearch: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "config", "jvm.options.d"), 0o755); err != nil {
		return fmt.Errorf("elasticsearch: %w", err)
	}
	yml := fmt.Sprintf(`# Written by logmon stack; edits are overwritten at the next start.
cluster.name: logmon
node.name: es-0
path.data: %s
path.logs: %s
network.host: 127.0.0.1
http.port: %d
transport.port: %d
discovery.type: single-node
xpack.security.enabled: false
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
`, filepath.Join(dir, "data"), filepath.Join(dir, "logs"), ElasticPort, ElasticTransport)
	if err := os.WriteFile(filepath.Join(dir, "config", "elasticsearch.yml"), []byte(yml), 0o644); err != nil {
		return fmt.Errorf("elasticsearch: %w", err)
	}
	p := s.elasticProc()
	if p.uid >= 0 {
		if err := chownTree(dir, p.uid, p.gid); err != nil {
			return fmt.Errorf("elasticsearch: %w", err)
		}
	}
	return p.start(s.Log)
}

func chownTree(root string, uid, gid int) error {
	return filepath.Walk(root, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
}

// javaHome is JAVA_HOME, or the home of the java on PATH.
func javaHome() string {
	if h := os.Getenv("JAVA_HOME"); h != "" {
		return h
	}
	p, err := exec.LookPath("java")
	if err != nil {
		return ""
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	return filepath.Dir(filepath.Dir(p))
}

// ElasticURL is the local stack's Elasticsearch address.
func ElasticURL() string { return fmt.Sprintf("http://127.0.0.1:%d", ElasticPort) }

// WaitElastic returns once GET /_cluster/health reports yellow or green.
// (The integ-test build answers GET / with 405, so Ping cannot be used.)
func (s *Stack) WaitElastic(ctx context.Context) error {
	deadline := time.Now().Add(3 * time.Minute)
	var last error
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return err
		}
		var status string
		status, last = ElasticHealth(ctx, ElasticURL())
		if last == nil && (status == "yellow" || status == "green") {
			return nil
		}
		if last == nil {
			last = fmt.Errorf("status %s", status)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("elasticsearch not ready after 3 minutes: %v (log: %s)", last, s.elasticProc().logFile)
}

// ElasticHealth returns the cluster health status at url.
func ElasticHealth(ctx context.Context, url string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(url, "/")+"/_cluster/health", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var h struct {
		Status string `json:"status"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET /_cluster/health: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return "", fmt.Errorf("GET /_cluster/health: %w", err)
	}
	return h.Status, nil
}

// StopElastic stops the Elasticsearch node (an outage, for tests); start it
// again with StartElastic and WaitElastic.
func (s *Stack) StopElastic(ctx context.Context) error { return s.elasticProc().stop(ctx, s.Log) }
