package esindex_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/connectors/elastic"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/topics"
)

// TestIncidentVersionsNewestWins: versions 1, 3 and 2 of one incident (a
// replay put an older one last) through the real sink into a daily index:
// one document, version 3's, in the index of the day it opened.
func TestIncidentVersionsNewestWins(t *testing.T) {
	e := newEnv(t, "it-index-incidents", elastic.LayoutDaily)
	topic := e.sinkCfg.IncidentsTopic
	if _, err := topics.Ensure(testkit.Context(t, time.Minute), e.K, []topics.Spec{{Name: topic}}, logger); err != nil {
		t.Fatal(err)
	}
	opened := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	version := func(v int64, status string, alerts int) []byte {
		inc := contracts.Incident{ID: "inc-" + e.name, Key: "203.0.113.77", KeyType: contracts.KeyTypeIP, Status: status, Version: v,
			Severity: "high", Rules: []string{"brute_force"}, AlertCount: alerts, FirstEventTime: opened, LastEventTime: opened.Add(time.Duration(v) * time.Minute),
			OpenedAt: opened, UpdatedAt: opened.Add(time.Duration(v) * time.Minute)}
		inc.Timestamp = inc.LastEventTime
		b, _ := json.Marshal(inc)
		return b
	}
	prod, err := sarama.NewSyncProducer(e.K.Brokers, kafkaconfig.Sarama("it-incidents"))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for _, v := range [][]byte{version(1, "open", 1), version(3, "closed", 3), version(2, "updated", 2)} {
		if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder("203.0.113.77"), Value: sarama.ByteEncoder(v)}); err != nil {
			t.Fatal(err)
		}
	}
	stop := e.sink(t)
	defer stop()
	e.waitCount(t, e.incidentsAlias, 1, 2*time.Minute)
	waitLag(t, e, e.sinkCfg.Group, []string{topic}, time.Minute)
	var r struct {
		Hits struct {
			Hits []struct {
				Index  string             `json:"_index"`
				ID     string             `json:"_id"`
				Source contracts.Incident `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(e.search(t, e.incidentsAlias, `{"query":{"match_all":{}}}`), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Hits.Hits) != 1 {
		t.Fatalf("%d documents, want 1", len(r.Hits.Hits))
	}
	h := r.Hits.Hits[0]
	if h.ID != "inc-"+e.name || h.Source.Version != 3 || h.Source.Status != "closed" {
		t.Errorf("document %s in %s: version %d %s, want version 3 closed", h.ID, h.Index, h.Source.Version, h.Source.Status)
	}
	if want := contracts.IndexSSHIncidents + "-" + e.name + "-" + opened.Format("2006.01.02"); h.Index != want {
		t.Errorf("index %s, want the opening day's %s", h.Index, want)
	}
}
