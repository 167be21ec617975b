package esindex_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/log-monitor/log_monitor/connectors/elastic"
	"github.com/log-monitor/log_monitor/connectors/esindex"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/testkit/pipeline"
	"github.com/log-monitor/log_monitor/topics"
)

var logger = pipeline.Logger

// env is one test's topics, group and index suffix, so tests never share
// state: the run's topics (testkit/pipeline), a dead-letter topic, the
// sink's configuration and the indices' aliases.
type env struct {
	*pipeline.Run
	es                             *elasticsearch.Client
	name                           string // group, topic prefix and index suffix
	dlq                            string
	sinkCfg                        esindex.Config
	eventsAlias, alertsAlias, mAli string
	hostsAlias, incidentsAlias     string
}

func newEnv(t *testing.T, prefix, layout string) *env {
	t.Helper()
	ec := testkit.Elastic(t)
	ec.IndexLayout = layout
	es, err := elastic.NewClient(ec)
	if err != nil {
		t.Fatal(err)
	}
	r := pipeline.New(t, prefix) // its topics are deleted after a passed test
	name := r.Group
	e := &env{Run: r, es: es, name: name, dlq: name + "-dlq"}
	e.sinkCfg = esindex.Config{Kafka: r.K, Elastic: ec, Group: name + "-index", EventsTopic: r.Input, AlertsTopic: r.Alerts,
		MetricsTopic: r.Metrics, HostsTopic: name + "-system-metrics", IncidentsTopic: name + "-incidents", DLQTopic: e.dlq, IndexSuffix: name}
	e.eventsAlias = contracts.IndexSSHLog + "-" + name
	e.alertsAlias = contracts.IndexSSHAlerts + "-" + name
	e.mAli = contracts.IndexMetricsDaily + "-" + name
	e.hostsAlias = contracts.IndexSystemMetrics + "-" + name
	e.incidentsAlias = contracts.IndexSSHIncidents + "-" + name
	if _, err := topics.Ensure(testkit.Context(t, time.Minute), r.K, []topics.Spec{{Name: e.dlq, Partitions: 1}}, logger); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.cleanup(t) })
	return e
}

// cleanup deletes the test's indices (by exact name: wildcard deletes are
// refused by default).
func (e *env) cleanup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, alias := range []string{e.eventsAlias, e.alertsAlias, e.mAli, e.hostsAlias, e.incidentsAlias} {
		names, err := elastic.ListIndices(ctx, e.es, alias+"*")
		if err != nil {
			t.Logf("cleanup: %v", err)
			continue
		}
		for _, n := range names {
			if res, err := e.es.Indices.Delete([]string{n}, e.es.Indices.Delete.WithContext(ctx)); err == nil {
				res.Body.Close()
			}
		}
	}
}

// publish sends file to the events topic with the real ingest pipeline.
func (e *env) publish(t *testing.T, file string) {
	t.Helper()
	e.PublishWithin(t, file, 4*time.Minute)
}

// sink runs the connector in this process until the returned stop.
func (e *env) sink(t *testing.T) (stop func()) {
	t.Helper()
	s, err := esindex.New(e.sinkCfg, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	return pipeline.Background(t, "sink", s.Run)
}

// lines copies lines [from, to) of src into a new file and returns its path.
func lines(t *testing.T, src, name string, from, to int) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(filepath.Dir(src), name)
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReaderSize(in, 1<<20)
	bw := bufio.NewWriterSize(out, 1<<20)
	for i := 0; i < to; i++ {
		line, err := br.ReadString('\n')
		if i >= from {
			bw.WriteString(line)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// count is the number of documents searchable under name, after a refresh.
// It returns -1 when Elasticsearch does not answer.
func (e *env) count(name string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if res, err := e.es.Indices.Refresh(e.es.Indices.Refresh.WithIndex(name), e.es.Indices.Refresh.WithContext(ctx)); err == nil {
		res.Body.Close()
	}
	res, err := e.es.Count(e.es.Count.WithIndex(name), e.es.Count.WithContext(ctx))
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	if res.IsError() {
		return -1
	}
	var c struct {
		Count int `json:"count"`
	}
	if json.NewDecoder(res.Body).Decode(&c) != nil {
		return -1
	}
	return c.Count
}

// waitCount waits until name holds want documents; it fails on more.
func (e *env) waitCount(t *testing.T, name string, want int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	last := -1
	for time.Now().Before(deadline) {
		last = e.count(name)
		if last == want {
			return
		}
		if last > want {
			t.Fatalf("%s holds %d documents, want %d", name, last, want)
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("%s holds %d documents after %v, want %d", name, last, limit, want)
}

// waitAtLeast waits until name holds at least n documents.
func (e *env) waitAtLeast(t *testing.T, name string, n int, limit time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if c := e.count(name); c >= n {
			return c
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s did not reach %d documents in %v", name, n, limit)
	return 0
}

// sinkTopics are the topics the sink consumes.
func (e *env) sinkTopics() []string {
	return []string{e.Input, e.Alerts, e.Metrics, e.sinkCfg.HostsTopic}
}

// waitCommitted waits until the sink's group has committed every record.
func (e *env) waitCommitted(t *testing.T, limit time.Duration) {
	t.Helper()
	waitLag(t, e, e.sinkCfg.Group, e.sinkTopics(), limit)
}

// search refreshes name, runs query on it and returns the raw answer.
func (e *env) search(t *testing.T, name, query string) []byte {
	t.Helper()
	if res, err := e.es.Indices.Refresh(e.es.Indices.Refresh.WithIndex(name)); err == nil {
		res.Body.Close()
	}
	res, err := e.es.Search(e.es.Search.WithIndex(name), e.es.Search.WithBody(strings.NewReader(query)), e.es.Search.WithTrackTotalHits(true))
	if err != nil {
		t.Fatalf("search %s: %v", name, err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(res.Body); err != nil {
		t.Fatal(err)
	}
	if res.IsError() {
		t.Fatalf("search %s: %s: %s", name, res.Status(), buf.String())
	}
	return buf.Bytes()
}

// checkIDs fails unless every id in sample is a document of name.
func (e *env) checkIDs(t *testing.T, name string, sample []string) {
	t.Helper()
	for i := 0; i < len(sample); i += 500 {
		end := min(i+500, len(sample))
		ids, _ := json.Marshal(sample[i:end])
		var r struct {
			Hits struct {
				Total struct {
					Value int `json:"value"`
				} `json:"total"`
			} `json:"hits"`
		}
		if err := json.Unmarshal(e.search(t, name, fmt.Sprintf(`{"size":0,"query":{"ids":{"values":%s}}}`, ids)), &r); err != nil {
			t.Fatal(err)
		}
		if r.Hits.Total.Value != end-i {
			t.Fatalf("%s: %d of %d sampled ids found", name, r.Hits.Total.Value, end-i)
		}
	}
}

// rowHashes returns every row_hash under name with its number of documents
// (a composite aggregation, so duplicates across time-based indices show).
func (e *env) rowHashes(t *testing.T, name string) map[string]int {
	t.Helper()
	out := map[string]int{}
	after := ""
	for {
		q := `{"size":0,"aggs":{"h":{"composite":{"size":10000,"sources":[{"h":{"terms":{"field":"row_hash"}}}]` + after + `}}}}`
		var r struct {
			Aggregations struct {
				H struct {
					AfterKey json.RawMessage `json:"after_key"`
					Buckets  []struct {
						Key struct {
							H string `json:"h"`
						} `json:"key"`
						DocCount int `json:"doc_count"`
					} `json:"buckets"`
				} `json:"h"`
			} `json:"aggregations"`
		}
		if err := json.Unmarshal(e.search(t, name, q), &r); err != nil {
			t.Fatal(err)
		}
		for _, b := range r.Aggregations.H.Buckets {
			out[b.Key.H] += b.DocCount
		}
		if len(r.Aggregations.H.Buckets) == 0 || len(r.Aggregations.H.AfterKey) == 0 {
			return out
		}
		after = `,"after":` + string(r.Aggregations.H.AfterKey)
	}
}

// exactly fails unless name holds each of want exactly once and nothing else.
func (e *env) exactly(t *testing.T, name string, want []string) {
	t.Helper()
	got := e.rowHashes(t, name)
	var missing, dups, extra int
	for _, h := range want {
		switch n := got[h]; {
		case n == 0:
			missing++
		case n > 1:
			dups++
		}
	}
	wantSet := make(map[string]bool, len(want))
	for _, h := range want {
		wantSet[h] = true
	}
	for h := range got {
		if !wantSet[h] {
			extra++
		}
	}
	if missing+dups+extra > 0 {
		t.Fatalf("%s: %d row hashes missing, %d duplicated, %d unexpected (of %d)", name, missing, dups, extra, len(want))
	}
	t.Logf("%s: all %d row hashes present exactly once", name, len(want))
}
