package esindex_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/connectors/elastic"
	"github.com/log-monitor/log_monitor/connectors/esindex"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/testkit/pipeline"
	"github.com/log-monitor/log_monitor/topics"
)

// TestPoisonDocumentsGoToDLQ sends 60 events, three of them unindexable (an
// ip field with a host name, a port that is not a number, a value that is
// not JSON): those three land in the dead-letter topic with the reason and
// their source topic, partition and offset; the 57 around them are indexed
// and every offset is committed.
func TestPoisonDocumentsGoToDLQ(t *testing.T) {
	e := newEnv(t, "it-index-poison", elastic.LayoutSingle)
	prod, err := sarama.NewSyncProducer(e.K.Brokers, kafkaconfig.Sarama("it-index-poison"))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	poison := map[int]string{
		20: "failed to parse field [ip] of type [ip]",        // document_parsing_exception (mapper_parsing_exception before 8.x)
		30: "failed to parse field [port] of type [integer]", // not a number
		40: "not indexable",                                  // not JSON
	}
	var msgs []*sarama.ProducerMessage
	for i := 0; i < 60; i++ {
		id := fmt.Sprintf("poison-%02d", i)
		ip, port := fmt.Sprintf(`"10.0.0.%d"`, i), "22"
		switch i {
		case 20:
			ip = `"host.example.com"`
		case 30:
			port = `"twenty-two"`
		}
		v := fmt.Sprintf(`{"@timestamp":"2026-11-25T10:00:00Z","event_time":"2015-12-10T06:55:%02d+09:00","host_name":"LabSZ","ip":%s,"port":%s,"log_level":"ERROR","log_type":"ssh","message":"m %d","row_hash":%q}`,
			i, ip, port, i, id)
		if i == 40 {
			v = "Dec 10 06:55:46 LabSZ sshd[24200]: not json"
		}
		// One key: one partition, so "around it" is offset order.
		msgs = append(msgs, &sarama.ProducerMessage{Topic: e.Input, Key: sarama.StringEncoder("k"), Value: sarama.StringEncoder(v)})
	}
	if err := prod.SendMessages(msgs); err != nil {
		t.Fatal(err)
	}
	byOffset := map[int64]int{}
	for i, m := range msgs {
		byOffset[m.Offset] = i
	}
	e.sinkCfg.BatchDocs = 7 // poison in the middle of several batches
	e.sink(t)
	e.waitCount(t, e.eventsAlias, 57, 2*time.Minute)
	e.waitCommitted(t, time.Minute)

	var want []string
	for i := 0; i < 60; i++ {
		if _, bad := poison[i]; !bad {
			want = append(want, fmt.Sprintf("poison-%02d", i))
		}
	}
	e.checkIDs(t, e.eventsAlias, want)

	dead := testkit.ReadAll(t, e.K, e.dlq)
	if len(dead) != len(poison) {
		t.Fatalf("dead-letter topic holds %d records, want %d", len(dead), len(poison))
	}
	for _, m := range dead {
		var d esindex.DeadLetter
		if err := json.Unmarshal(m.Value, &d); err != nil {
			t.Fatalf("dead letter %s: %v", m.Value, err)
		}
		i, found := byOffset[d.Offset]
		wantReason, ok := poison[i]
		ok = ok && found
		if !ok || d.Topic != e.Input || d.Partition != msgs[i].Partition || !strings.Contains(d.Reason, wantReason) {
			t.Errorf("dead letter %+v: want the record at offset %d with reason %q", d, i, wantReason)
		}
		if i != 40 && !strings.Contains(string(d.Document), fmt.Sprintf("poison-%02d", i)) {
			t.Errorf("dead letter at offset %d lacks its document: %s", i, d.Document)
		}
		if i == 40 && !strings.Contains(d.Raw, "not json") {
			t.Errorf("dead letter at offset 40 lacks the raw record: %+v", d)
		}
		t.Logf("offset %d -> DLQ: %s", i, d.Reason)
	}
}

// TestReplicaEndToEnd pushes the 655,147-line replica through ingest, the
// real tracker and metrics emitter, and the sink: the events index holds
// exactly one document per parsed line (count and a sample of ids), the
// alerts index one per distinct alert_id, and metrics-daily one document per
// day equal to the last (final) record of the metrics topic, although every
// day was sent several times.
func TestReplicaEndToEnd(t *testing.T) {
	e := newEnv(t, "it-index-replica", elastic.LayoutSingle)
	replica := testkit.Replica(t, e.Dir)
	want := pipeline.RowHashes(t, replica)
	if len(want) != 655147 {
		t.Fatalf("replica has %d lines, want 655147", len(want))
	}
	start := time.Now()
	e.sink(t)
	e.publish(t, replica)
	t.Logf("replica published in %v", time.Since(start).Round(time.Second))

	e.StartTracker(t)
	view, _ := e.DayView(t)
	em := e.Emitter(t, view)
	if err := view.WaitReady(testkit.Context(t, 2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// The emitter sends each day while it fills, as `logmon process` does,
	// so the topic holds partial documents before the final ones.
	stopTicks := pipeline.Background(t, "emitter", func(ctx context.Context) error {
		for ctx.Err() == nil {
			if err := em.Tick(); err != nil {
				return err
			}
			_ = sleepCtx(ctx, time.Second)
		}
		return nil
	})
	e.WaitCaughtUp(t, 8*time.Minute)
	stopTicks()
	if docs := pipeline.TickUntil(t, em, 4*time.Minute, pipeline.AllFinal(1)); !pipeline.AllFinal(1)(docs) {
		t.Fatalf("metrics-daily: the days did not all close in time (%d days)", len(docs))
	}
	t.Logf("tracker caught up and every day closed after %v", time.Since(start).Round(time.Second))

	e.waitCount(t, e.eventsAlias, len(want), 8*time.Minute)
	t.Logf("all %d events searchable after %v", len(want), time.Since(start).Round(time.Second))
	var sample []string
	for i := 0; i < len(want); i += 997 {
		sample = append(sample, want[i])
	}
	e.checkIDs(t, e.eventsAlias, sample)

	// metrics-daily: the last record per day, several records per day sent.
	records := testkit.ReadAll(t, e.K, e.Metrics)
	last := map[string][]byte{}
	for _, m := range records {
		last[string(m.Key)] = m.Value
	}
	if len(records) <= len(last) {
		t.Fatalf("the metrics topic holds %d records for %d days: no day was updated, the latest-wins check proves nothing", len(records), len(last))
	}
	e.waitCount(t, e.mAli, len(last), 2*time.Minute)
	e.waitCommitted(t, 2*time.Minute)
	var got struct {
		Hits struct {
			Hits []struct {
				ID     string         `json:"_id"`
				Source map[string]any `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(e.search(t, e.mAli, `{"size":1000,"query":{"match_all":{}}}`), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Hits.Hits) != len(last) {
		t.Fatalf("metrics-daily holds %d documents, %d days", len(got.Hits.Hits), len(last))
	}
	for _, h := range got.Hits.Hits {
		var w map[string]any
		if err := json.Unmarshal(last[h.ID], &w); err != nil {
			t.Fatalf("day %s: %v", h.ID, err)
		}
		if w["final"] != true {
			t.Errorf("day %s: the topic's last record is not final", h.ID)
		}
		if !reflect.DeepEqual(h.Source, w) {
			t.Errorf("day %s: Elasticsearch holds\n%v\nthe topic's last record is\n%v", h.ID, h.Source, w)
		}
	}
	t.Logf("metrics-daily: %d days equal to the topic's last record (%d records sent)", len(last), len(records))

	// A replay of the whole metrics topic (a new group) sends every older
	// version again: none may replace the final documents.
	replay := e.sinkCfg
	replay.Group = e.name + "-replay"
	replay.EventsTopic, replay.AlertsTopic = e.name+"-empty-events", e.name+"-empty-alerts"
	if _, err := topics.Ensure(testkit.Context(t, time.Minute), e.K, []topics.Spec{{Name: replay.EventsTopic}, {Name: replay.AlertsTopic}}, logger); err != nil {
		t.Fatal(err)
	}
	rs, err := esindex.New(replay, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	stopReplay := pipeline.Background(t, "replay sink", rs.Run)
	waitLag(t, e, replay.Group, []string{e.Metrics}, 2*time.Minute)
	stopReplay()
	if err := json.Unmarshal(e.search(t, e.mAli, `{"size":1000,"query":{"match_all":{}}}`), &got); err != nil {
		t.Fatal(err)
	}
	for _, h := range got.Hits.Hits {
		var w map[string]any
		_ = json.Unmarshal(last[h.ID], &w)
		if !reflect.DeepEqual(h.Source, w) {
			t.Errorf("after the replay, day %s: Elasticsearch holds\n%v\nthe topic's last record is\n%v", h.ID, h.Source, w)
		}
	}
	t.Logf("a replay of the %d metrics records left the %d final documents unchanged", len(records), len(got.Hits.Hits))

	// alerts: one document per distinct alert_id (re-emissions share the id)
	ids := map[string]bool{}
	alerts := e.ReadAlerts(t)
	for _, a := range alerts {
		ids[a.ID] = true
	}
	if n := e.count(e.alertsAlias); n != len(ids) {
		t.Fatalf("alerts index holds %d documents, %d distinct alert ids in %d records", n, len(ids), len(alerts))
	}
	t.Logf("alerts: %d documents for %d records", len(ids), len(alerts))
}

// TestElasticOutage stops Elasticsearch for more than 60 s while the sink
// works through 150,000 events and another 100,000 arrive, then starts it
// again: the sink catches up, every event is in the daily indices behind
// the alias exactly once, and every offset is committed.
func TestElasticOutage(t *testing.T) {
	e := newEnv(t, "it-index-outage", elastic.LayoutDaily)
	st := testkit.Stack(t)
	replica := testkit.Replica(t, e.Dir)
	first := lines(t, replica, "first.log", 0, 150000)
	second := lines(t, replica, "second.log", 150000, 250000)
	want := append(pipeline.RowHashes(t, first), pipeline.RowHashes(t, second)...)

	e.publish(t, first)
	e.sinkCfg.BatchDocs = 1000 // many small batches: the stop comes mid-stream
	e.sink(t)
	at := e.waitAtLeast(t, e.eventsAlias, 20000, 3*time.Minute)

	t.Cleanup(func() { // whatever happens, Elasticsearch runs again after the test
		if _, err := elastic.Health(context.Background(), e.es); err != nil {
			_ = st.StartElastic()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			if err := st.WaitElastic(ctx); err != nil {
				t.Errorf("restarting Elasticsearch after the test: %v", err)
			}
		}
	})
	stopped := time.Now()
	if err := st.StopElastic(testkit.Context(t, 2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	t.Logf("Elasticsearch stopped with about %d documents indexed", at)
	e.publish(t, second) // events keep flowing into Kafka
	if d := 65*time.Second - time.Since(stopped); d > 0 {
		time.Sleep(d)
	}
	lag, err := groupLag(e)
	if err != nil {
		t.Fatal(err)
	}
	if lag == 0 {
		t.Fatal("the sink committed everything while Elasticsearch was down")
	}
	if err := st.StartElastic(); err != nil {
		t.Fatal(err)
	}
	if err := st.WaitElastic(testkit.Context(t, 3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	t.Logf("Elasticsearch back after %v; %d records not committed", time.Since(stopped).Round(time.Second), lag)
	restarted := time.Now()
	e.waitCount(t, e.eventsAlias, len(want), 10*time.Minute)
	t.Logf("caught up %v after the restart", time.Since(restarted).Round(time.Second))
	e.waitCommitted(t, time.Minute)
	e.exactly(t, e.eventsAlias, want)
	names, err := elastic.ListIndices(context.Background(), e.es, e.eventsAlias+"-*")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 2 {
		t.Fatalf("daily layout made %d indices: %v", len(names), names)
	}
	t.Logf("%d daily indices behind %s", len(names), e.eventsAlias)
}

// TestSIGKILLSink kills `logmon index` with SIGKILL while it indexes
// 200,000 events and starts it again: every event is indexed exactly once
// and every offset committed.
func TestSIGKILLSink(t *testing.T) {
	e := newEnv(t, "it-index-kill", elastic.LayoutSingle)
	bin := testkit.BuildLogmon(t)
	replica := testkit.Replica(t, e.Dir)
	part := lines(t, replica, "part.log", 0, 200000)
	want := pipeline.RowHashes(t, part)
	e.publish(t, part)

	args := []string{"index", "-group", e.sinkCfg.Group, "-events-topic", e.Input, "-alerts-topic", e.Alerts,
		"-metrics-topic", e.Metrics, "-hosts-topic", e.sinkCfg.HostsTopic, "-dlq-topic", e.dlq, "-index-suffix", e.name, "-index-layout", "single",
		"-batch-docs", "1000", "-metrics-addr", "", "-log-level", "warn"}
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	cmd := start()
	at := e.waitAtLeast(t, e.eventsAlias, 40000, 3*time.Minute)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("logmon index had exited by itself (%v)", cmd.ProcessState)
	}
	lag, err := groupLag(e)
	if err != nil {
		t.Fatal(err)
	}
	if lag == 0 || e.count(e.eventsAlias) >= len(want) {
		t.Fatal("the sink had finished before the kill: the kill proves nothing")
	}
	t.Logf("SIGKILL with about %d documents indexed, %d records not committed", at, lag)
	cmd = start()
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	e.waitCount(t, e.eventsAlias, len(want), 5*time.Minute)
	e.waitCommitted(t, time.Minute)
	e.exactly(t, e.eventsAlias, want)
}

func groupLag(e *env) (int64, error) {
	return topics.GroupLag(context.Background(), e.K, e.sinkCfg.Group, e.sinkTopics())
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// waitLag waits until group has committed every record of names.
func waitLag(t *testing.T, e *env, group string, names []string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		lag, err := topics.GroupLag(context.Background(), e.K, group, names)
		if err == nil && lag == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s: lag %d after %v (%v)", group, lag, limit, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
