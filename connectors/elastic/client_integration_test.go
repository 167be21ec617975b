package elastic_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"

	"github.com/log-monitor/log_monitor/connectors/elastic"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/testkit"
)

// TestIndexSearchBulk proves the path into the real Elasticsearch node with
// go-elasticsearch v8: readiness through cluster health, one document
// indexed and found by a search, 20,000 documents bulk-loaded and counted,
// and a terms aggregation over an ip field.
func TestIndexSearchBulk(t *testing.T) {
	ec := testkit.Elastic(t)
	ctx := testkit.Context(t, 2*time.Minute)
	es, err := elastic.NewClient(ec)
	if err != nil {
		t.Fatal(err)
	}
	if err := elastic.WaitReady(ctx, es); err != nil {
		t.Fatal(err)
	}
	index := testkit.UniqueName("it-skeleton")
	t.Cleanup(func() { _, _ = es.Indices.Delete([]string{index}) })

	mapping := `{"mappings":{"properties":{"ip":{"type":"ip"},"event_time":{"type":"date"},"user":{"type":"keyword"},"message":{"type":"text"}}}}`
	res, err := es.Indices.Create(index, es.Indices.Create.WithBody(strings.NewReader(mapping)), es.Indices.Create.WithContext(ctx))
	if err != nil || res.IsError() {
		t.Fatalf("create index: %v %v", err, res)
	}
	res.Body.Close()

	doc := `{"ip":"2001:db8::7","event_time":"2015-12-10T06:55:46+09:00","user":"root","message":"Failed password for root"}`
	res, err = es.Index(index, strings.NewReader(doc), es.Index.WithDocumentID("one"), es.Index.WithRefresh("true"), es.Index.WithContext(ctx))
	if err != nil || res.IsError() {
		t.Fatalf("index: %v %v", err, res)
	}
	res.Body.Close()
	if n := search(t, es, index, `{"query":{"term":{"ip":"2001:db8::/32"}}}`); n != 1 {
		t.Fatalf("search by CIDR found %d documents, want 1", n)
	}

	const n = 20000
	var failed atomic.Int64
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: es, Index: index, FlushBytes: 1 << 20, NumWorkers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		body := fmt.Sprintf(`{"ip":"10.0.%d.%d","event_time":"2015-12-10T06:55:46+09:00","user":"u%d","message":"m"}`, i%3, i%250, i%10)
		err := bi.Add(ctx, esutil.BulkIndexerItem{Action: "index", DocumentID: fmt.Sprintf("bulk-%d", i), Body: strings.NewReader(body),
			OnFailure: func(context.Context, esutil.BulkIndexerItem, esutil.BulkIndexerResponseItem, error) { failed.Add(1) }})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := bi.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if failed.Load() > 0 || bi.Stats().NumFailed > 0 {
		t.Fatalf("%d bulk items failed", bi.Stats().NumFailed)
	}
	res, err = es.Indices.Refresh(es.Indices.Refresh.WithIndex(index))
	if err != nil || res.IsError() {
		t.Fatalf("refresh: %v %v", err, res)
	}
	res.Body.Close()
	if got := search(t, es, index, `{"query":{"match_all":{}}}`); got != n+1 {
		t.Fatalf("index holds %d documents, want %d", got, n+1)
	}

	var agg struct {
		Aggregations struct {
			Users struct {
				Buckets []struct {
					Key   string `json:"key"`
					Count int    `json:"doc_count"`
				} `json:"buckets"`
			} `json:"users"`
		} `json:"aggregations"`
	}
	body := doSearch(t, es, index, `{"size":0,"aggs":{"users":{"terms":{"field":"user","size":20}}}}`)
	if err := json.Unmarshal(body, &agg); err != nil {
		t.Fatal(err)
	}
	if len(agg.Aggregations.Users.Buckets) != 11 || agg.Aggregations.Users.Buckets[0].Count != n/10 {
		t.Fatalf("terms aggregation: %+v", agg.Aggregations.Users.Buckets)
	}
}

func search(t *testing.T, es *elasticsearch.Client, index, query string) int {
	t.Helper()
	var r struct {
		Hits struct {
			Total struct {
				Value int `json:"value"`
			} `json:"total"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(doSearch(t, es, index, query), &r); err != nil {
		t.Fatal(err)
	}
	return r.Hits.Total.Value
}

func doSearch(t *testing.T, es *elasticsearch.Client, index, query string) []byte {
	t.Helper()
	res, err := es.Search(es.Search.WithIndex(index), es.Search.WithBody(strings.NewReader(query)), es.Search.WithTrackTotalHits(true))
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(res.Body); err != nil {
		t.Fatal(err)
	}
	if res.IsError() {
		t.Fatalf("search: %s: %s", res.Status(), buf.String())
	}
	return buf.Bytes()
}

// TestTemplatesApply puts the contract's index templates twice and checks an
// index created under each pattern takes their types: an ip field refuses a
// host name, metric lists are nested.
func TestTemplatesApply(t *testing.T) {
	ec := testkit.Elastic(t)
	ctx := testkit.Context(t, time.Minute)
	es, err := elastic.NewClient(ec)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := elastic.EnsureTemplates(ctx, es); err != nil {
			t.Fatal(err)
		}
	}
	suffix := testkit.UniqueName("it")
	for _, base := range []string{contracts.IndexSSHLog, contracts.IndexSSHAlerts, contracts.IndexMetricsDaily} {
		index := base + "-" + suffix
		t.Cleanup(func() { _, _ = es.Indices.Delete([]string{index}) })
		res, err := es.Indices.Create(index)
		if err != nil || res.IsError() {
			t.Fatalf("create %s: %v %v", index, err, res)
		}
		res.Body.Close()
		res, err = es.Indices.GetMapping(es.Indices.GetMapping.WithIndex(index))
		if err != nil || res.IsError() {
			t.Fatalf("mapping %s: %v %v", index, err, res)
		}
		var m map[string]struct {
			Mappings struct {
				Properties map[string]struct {
					Type string `json:"type"`
				} `json:"properties"`
			} `json:"mappings"`
		}
		if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		props := m[index].Mappings.Properties
		want := map[string]string{}
		switch base {
		case contracts.IndexSSHLog:
			want = map[string]string{"@timestamp": "date", "event_time": "date", "host_name": "keyword", "user": "keyword", "ip": "ip", "port": "integer",
				"log_level": "keyword", "log_type": "keyword", "error_type": "keyword", "message": "text", "row_hash": "keyword", "source_file": "keyword", "source_path": "keyword"}
		case contracts.IndexMetricsDaily:
			want = map[string]string{"metric_date": "date", "total_logs": "long", "error_count": "long", "unique_ips": "long", "peak_hour": "integer",
				"peak_hour_logs": "long", "top_ip_list": "nested", "brute_force_ips": "long", "top_brute_list": "nested", "created_at": "date"}
		case contracts.IndexSSHAlerts:
			want = map[string]string{"ip": "ip", "rule": "keyword", "alert_id": "keyword"}
		}
		for f, typ := range want {
			if props[f].Type != typ {
				t.Errorf("%s.%s: type %q, want %q", index, f, props[f].Type, typ)
			}
		}
	}
	res, err := es.Index(contracts.IndexSSHLog+"-"+suffix, strings.NewReader(`{"ip":"host.example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Fatalf("a host name in the ip field was accepted (%s)", res.Status())
	}
}

// TestDailyIndicesAndRetention creates daily indices behind an alias with
// EnsureIndex (twice: idempotent), then EnforceRetention deletes exactly the
// expired ones and leaves indices of other names alone.
func TestDailyIndicesAndRetention(t *testing.T) {
	ec := testkit.Elastic(t)
	ctx := testkit.Context(t, 2*time.Minute)
	es, err := elastic.NewClient(ec)
	if err != nil {
		t.Fatal(err)
	}
	if err := elastic.EnsureTemplates(ctx, es); err != nil {
		t.Fatal(err)
	}
	l, err := elastic.NewLayout(elastic.LayoutDaily, testkit.UniqueName("it-ret"), 7)
	if err != nil {
		t.Fatal(err)
	}
	alias := l.Alias(contracts.IndexSSHLog)
	now := time.Now().UTC()
	days := []time.Time{now.AddDate(0, 0, -30), now.AddDate(0, 0, -9), now.AddDate(0, 0, -3), now}
	other := alias + "-keep"
	t.Cleanup(func() {
		names, _ := elastic.ListIndices(context.Background(), es, alias+"*")
		for _, n := range names {
			if res, err := es.Indices.Delete([]string{n}); err == nil {
				res.Body.Close()
			}
		}
	})
	for _, d := range days {
		for i := 0; i < 2; i++ {
			if err := elastic.EnsureIndex(ctx, es, l.Index(contracts.IndexSSHLog, d), alias); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, err := es.Indices.Create(other)
	if err != nil || res.IsError() {
		t.Fatalf("create %s: %v %v", other, err, res)
	}
	res.Body.Close()
	res, err = es.Index(l.Index(contracts.IndexSSHLog, now), strings.NewReader(`{"ip":"10.1.2.3","row_hash":"x"}`), es.Index.WithRefresh("true"))
	if err != nil || res.IsError() {
		t.Fatalf("index: %v %v", err, res)
	}
	res.Body.Close()
	if n := search(t, es, alias, `{"query":{"term":{"ip":"10.0.0.0/8"}}}`); n != 1 {
		t.Fatalf("search through the alias found %d, want 1 (ip mapping from the template)", n)
	}
	deleted, err := elastic.EnforceRetention(ctx, es, l, []string{contracts.IndexSSHLog}, now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{l.Index(contracts.IndexSSHLog, days[0]), l.Index(contracts.IndexSSHLog, days[1])}
	sort.Strings(deleted)
	sort.Strings(want)
	if strings.Join(deleted, ",") != strings.Join(want, ",") {
		t.Fatalf("retention deleted %v, want %v", deleted, want)
	}
	left, err := elastic.ListIndices(ctx, es, alias+"*")
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 3 {
		t.Fatalf("left %v, want two recent daily indices and %s", left, other)
	}
}
