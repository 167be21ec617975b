// Command indexbench measures the Elasticsearch sink on the local stack:
//
//	rate: the replica (published once to a bench topic with the real ingest
//	      pipeline) indexed by the sink (esindex, a fresh group and indices per
//	      round), against a plain sequential _bulk loop with the same client
//	      and batch size over the same records held in memory (the ceiling);
//	lag:  with the sink running and background events flowing at -rate/s,
//	      probe events are produced one by one and the time from the
//	      producer's acknowledgement until a search finds the document is
//	      measured (end-to-end lag ssh-log -> searchable).
//
// Every topic, group and index it makes is named bench-<run>-..., and the
// indices are deleted after each round.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/elastic/go-elasticsearch/v8"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/elastic"
	"github.com/log-monitor/log_monitor/connectors/esindex"
	"github.com/log-monitor/log_monitor/connectors/ingest"
	"github.com/log-monitor/log_monitor/connectors/tail"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/topics"
)

var log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

func main() {
	replica := flag.String("replica", "", "decompressed replica file")
	rounds := flag.Int("rounds", 3, "rounds of sink vs plain loop")
	batch := flag.Int("batch", 5000, "documents per bulk request (both)")
	probes := flag.Int("probes", 40, "lag probes (0 = skip the lag test)")
	rate := flag.Int("rate", 1000, "background events per second during the lag test")
	work := flag.String("work", os.TempDir(), "scratch directory")
	flag.Parse()
	if *replica == "" {
		fmt.Fprintln(os.Stderr, "indexbench: -replica FILE is required")
		os.Exit(2)
	}
	cfg, err := config.Load()
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	run := fmt.Sprintf("bench-%d", time.Now().Unix())
	topic := run + "-ssh-log"
	if _, err := topics.Ensure(ctx, cfg.Kafka, []topics.Spec{{Name: topic}}, log); err != nil {
		fail(err)
	}
	defer deleteTopics(cfg.Kafka, topic)
	loc, _ := time.LoadLocation("Asia/Seoul")
	p, err := ingest.New(ingest.Config{Kafka: cfg.Kafka, Topic: topic, Year: 2015, Loc: loc, Once: true,
		Tail: tail.Config{Globs: []string{*replica}, RegistryPath: filepath.Join(*work, run+"-registry.json"), FromStart: true}}, nil, log)
	if err != nil {
		fail(err)
	}
	if err := p.Run(ctx); err != nil {
		fail(err)
	}
	var values [][]byte
	if err := topics.ReadAll(ctx, cfg.Kafka, topic, func(m *sarama.ConsumerMessage) error {
		values = append(values, m.Value)
		return nil
	}); err != nil {
		fail(err)
	}
	es, err := elastic.NewClient(cfg.Elastic)
	if err != nil {
		fail(err)
	}
	fmt.Printf("records\t%d\nbatch\t%d\n", len(values), *batch)
	var sinkRates, plainRates []float64
	for r := 1; r <= *rounds; r++ {
		sr := sinkRound(ctx, cfg, es, topic, fmt.Sprintf("%s-r%d", run, r), len(values), *batch)
		pr := plainRound(ctx, es, values, fmt.Sprintf("%s-p%d", run, r), *batch)
		fmt.Printf("round\t%d\tsink_docs_per_s\t%.0f\tplain_docs_per_s\t%.0f\n", r, sr, pr)
		sinkRates, plainRates = append(sinkRates, sr), append(plainRates, pr)
	}
	if *rounds > 0 {
		fmt.Printf("median\tsink_docs_per_s\t%.0f\tplain_docs_per_s\t%.0f\tsink_over_plain\t%.2f\n", median(sinkRates), median(plainRates), median(sinkRates)/median(plainRates))
	}
	if *probes > 0 {
		lagTest(ctx, cfg, es, run, values, *probes, *rate)
	}
}

// sinkRound runs the sink on a fresh group and index until it has
// acknowledged n documents; docs/s from its start.
func sinkRound(ctx context.Context, cfg config.Config, es *elasticsearch.Client, topic, name string, n, batch int) float64 {
	reg := prometheus.NewRegistry()
	m := esindex.NewMetrics(reg)
	extra := name + "-x"
	if _, err := topics.Ensure(ctx, cfg.Kafka, []topics.Spec{{Name: extra + "-alerts"}, {Name: extra + "-metrics", Partitions: 1, Compacted: true}, {Name: extra + "-dlq", Partitions: 1}}, log); err != nil {
		fail(err)
	}
	defer deleteTopics(cfg.Kafka, extra+"-alerts", extra+"-metrics", extra+"-dlq")
	s, err := esindex.New(esindex.Config{Kafka: cfg.Kafka, Elastic: cfg.Elastic, Group: name, EventsTopic: topic,
		AlertsTopic: extra + "-alerts", MetricsTopic: extra + "-metrics", DLQTopic: extra + "-dlq", IndexSuffix: name, BatchDocs: batch}, m, log)
	if err != nil {
		fail(err)
	}
	defer deleteIndex(es, contracts.IndexSSHLog+"-"+name)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- s.Run(rctx) }()
	for counter(reg, "logmon_index_docs_total") < float64(n) {
		time.Sleep(50 * time.Millisecond)
	}
	el := time.Since(start)
	cancel()
	<-done
	return float64(n) / el.Seconds()
}

// plainRound sends values with a sequential bulk loop, same client and batch.
func plainRound(ctx context.Context, es *elasticsearch.Client, values [][]byte, name string, batch int) float64 {
	index := contracts.IndexSSHLog + "-" + name
	defer deleteIndex(es, index)
	if err := elastic.EnsureTemplates(ctx, es); err != nil {
		fail(err)
	}
	var buf bytes.Buffer
	start := time.Now()
	for i := 0; i < len(values); i += batch {
		buf.Reset()
		for _, v := range values[i:min(i+batch, len(values))] {
			var m struct {
				RowHash string `json:"row_hash"`
			}
			_ = json.Unmarshal(v, &m)
			fmt.Fprintf(&buf, `{"index":{"_index":%q,"_id":%q}}`+"\n", index, m.RowHash)
			buf.Write(v)
			buf.WriteByte('\n')
		}
		res, err := es.Bulk(bytes.NewReader(buf.Bytes()), es.Bulk.WithContext(ctx))
		if err != nil {
			fail(err)
		}
		var br struct {
			Errors bool `json:"errors"`
		}
		_ = json.NewDecoder(res.Body).Decode(&br)
		res.Body.Close()
		if res.IsError() || br.Errors {
			fail(fmt.Errorf("plain bulk: %s errors=%v", res.Status(), br.Errors))
		}
	}
	return float64(len(values)) / time.Since(start).Seconds()
}

// lagTest: probes produced one at a time among background events.
func lagTest(ctx context.Context, cfg config.Config, es *elasticsearch.Client, run string, values [][]byte, probes, rate int) {
	name := run + "-lag"
	specs := []topics.Spec{{Name: name + "-ssh-log"}, {Name: name + "-alerts"}, {Name: name + "-metrics", Partitions: 1, Compacted: true}, {Name: name + "-dlq", Partitions: 1}}
	if _, err := topics.Ensure(ctx, cfg.Kafka, specs, log); err != nil {
		fail(err)
	}
	defer deleteTopics(cfg.Kafka, name+"-ssh-log", name+"-alerts", name+"-metrics", name+"-dlq")
	index := contracts.IndexSSHLog + "-" + name
	defer deleteIndex(es, index)
	s, err := esindex.New(esindex.Config{Kafka: cfg.Kafka, Elastic: cfg.Elastic, Group: name, EventsTopic: name + "-ssh-log",
		AlertsTopic: name + "-alerts", MetricsTopic: name + "-metrics", DLQTopic: name + "-dlq", IndexSuffix: name}, nil, log)
	if err != nil {
		fail(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = s.Run(sctx) }()
	prod, err := sarama.NewSyncProducer(cfg.Kafka.Brokers, kafkaconfig.Sarama("indexbench"))
	if err != nil {
		fail(err)
	}
	defer prod.Close()
	async, err := sarama.NewAsyncProducer(cfg.Kafka.Brokers, kafkaconfig.Sarama("indexbench-bg"))
	if err != nil {
		fail(err)
	}
	defer async.Close()
	go func() {
		for range async.Successes() {
		}
	}()
	go func() {
		for e := range async.Errors() {
			log.Warn("background", "err", e.Err)
		}
	}()
	bgDone := make(chan struct{})
	defer func() { cancel(); <-bgDone }() // before the producers close
	go func() {                           // background load
		defer close(bgDone)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		i := 0
		for sctx.Err() == nil {
			<-tick.C
			for k := 0; k < rate/100 && i < len(values); k++ {
				async.Input() <- &sarama.ProducerMessage{Topic: name + "-ssh-log", Key: sarama.StringEncoder(fmt.Sprint(i)), Value: sarama.ByteEncoder(values[i])}
				i++
			}
		}
	}()
	time.Sleep(5 * time.Second) // the group joins and the load settles
	var lags []float64
	for i := 0; i < probes; i++ {
		id := fmt.Sprintf("%s-probe-%d", name, i)
		doc := fmt.Sprintf(`{"@timestamp":%q,"event_time":%q,"row_hash":%q,"log_level":"INFO","log_type":"ssh","message":"probe"}`,
			time.Now().UTC().Format(time.RFC3339Nano), time.Now().UTC().Format(time.RFC3339Nano), id)
		if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: name + "-ssh-log", Key: sarama.StringEncoder(id), Value: sarama.StringEncoder(doc)}); err != nil {
			fail(err)
		}
		acked := time.Now()
		for !found(es, index, id) {
			if time.Since(acked) > time.Minute {
				fail(fmt.Errorf("probe %s not searchable after a minute", id))
			}
			time.Sleep(20 * time.Millisecond)
		}
		lags = append(lags, time.Since(acked).Seconds())
		time.Sleep(200 * time.Millisecond)
	}
	sort.Float64s(lags)
	fmt.Printf("lag_probes\t%d\tbackground_per_s\t%d\tlag_median_s\t%.3f\tlag_p90_s\t%.3f\tlag_max_s\t%.3f\n",
		len(lags), rate, median(lags), lags[len(lags)*9/10], lags[len(lags)-1])
}

func found(es *elasticsearch.Client, index, id string) bool {
	res, err := es.Search(es.Search.WithIndex(index), es.Search.WithBody(strings.NewReader(fmt.Sprintf(`{"size":0,"query":{"ids":{"values":[%q]}}}`, id))))
	if err != nil {
		return false
	}
	defer res.Body.Close()
	var r struct {
		Hits struct {
			Total struct {
				Value int `json:"value"`
			} `json:"total"`
		} `json:"hits"`
	}
	return !res.IsError() && json.NewDecoder(res.Body).Decode(&r) == nil && r.Hits.Total.Value == 1
}

// counter sums the series of the counter name over every label set.
func counter(reg *prometheus.Registry, name string) float64 {
	mfs, _ := reg.Gather()
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

func deleteIndex(es *elasticsearch.Client, index string) {
	if res, err := es.Indices.Delete([]string{index}); err == nil {
		res.Body.Close()
	}
}

func deleteTopics(k config.Kafka, names ...string) {
	admin, err := sarama.NewClusterAdmin(k.Brokers, kafkaconfig.Sarama("indexbench-cleanup"))
	if err != nil {
		return
	}
	defer admin.Close()
	for _, n := range names {
		_ = admin.DeleteTopic(n)
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "indexbench:", err)
	os.Exit(1)
}
