package esindex_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/connectors/elastic"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/testkit"
	"github.com/log-monitor/log_monitor/topics"
)

// TestHostSamplesBecomeMetricbeatDocuments: two host samples through the
// real sink into Elasticsearch: one document per metricset (and per core,
// filesystem, device, interface), searchable by Metricbeat's field names
// and through the host_name alias; delivered again, still one each.
func TestHostSamplesBecomeMetricbeatDocuments(t *testing.T) {
	e := newEnv(t, "it-index-hosts", elastic.LayoutDaily)
	topic := e.sinkCfg.HostsTopic
	if _, err := topics.Ensure(testkit.Context(t, time.Minute), e.K, []topics.Spec{{Name: topic}}, logger); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	var values [][]byte
	for i, cpu := range []float64{0.35, 0.92} {
		s := contracts.HostSample{Timestamp: now.Add(time.Duration(i) * 10 * time.Second), HostName: "web-1", IntervalSeconds: 10, Seq: int64(i + 1),
			CPU:         contracts.CPUSample{Cores: 2, Total: contracts.CPUTimes{User: 2 * cpu, Idle: 2 - 2*cpu}, Norm: contracts.CPUTimes{User: cpu, Idle: 1 - cpu}, PerCore: []contracts.CPUTimes{{User: cpu, Idle: 1 - cpu}, {User: cpu, Idle: 1 - cpu}}},
			Load:        contracts.LoadSample{Load1: 1.5, CoreCount: 2, Norm1: 0.75},
			Memory:      contracts.MemorySample{Total: 8 << 30, ActualUsedPct: 0.5, UsedPct: 0.8},
			Filesystems: []contracts.FilesystemStat{{MountPoint: "/", Type: "ext4", Total: 100, Used: 50, UsedPct: 0.5}},
			Network:     []contracts.NetworkStat{{Name: "eth0", InBytes: 1000}},
			DiskIO:      []contracts.DiskIOStat{{Name: "sda", ReadBytes: 10}},
			Processes:   contracts.ProcessSummary{Total: 100}}
		b, _ := json.Marshal(s)
		values = append(values, b)
	}
	send := func() {
		prod, err := sarama.NewSyncProducer(e.K.Brokers, kafkaconfig.Sarama("it-hosts"))
		if err != nil {
			t.Fatal(err)
		}
		defer prod.Close()
		for _, v := range values {
			if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder("web-1"), Value: sarama.ByteEncoder(v)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	send()
	stop := e.sink(t)
	defer stop()
	// cpu, 2 cores, load, memory, a filesystem, a device, an interface, process summary
	const perSample = 9
	e.waitCount(t, e.hostsAlias, 2*perSample, 2*time.Minute)

	hits := func(query string) int {
		var r struct {
			Hits struct {
				Total struct {
					Value int `json:"value"`
				} `json:"total"`
			} `json:"hits"`
		}
		if err := json.Unmarshal(e.search(t, e.hostsAlias, query), &r); err != nil {
			t.Fatal(err)
		}
		return r.Hits.Total.Value
	}
	if n := hits(`{"query":{"range":{"system.cpu.total.norm.pct":{"gte":0.9}}}}`); n != 1 {
		t.Errorf("system.cpu.total.norm.pct >= 0.9: %d documents, want 1", n)
	}
	if n := hits(`{"query":{"bool":{"filter":[{"term":{"host_name":"web-1"}},{"term":{"event.dataset":"system.memory"}}]}}}`); n != 2 {
		t.Errorf("host_name web-1, system.memory: %d documents, want 2", n)
	}
	if n := hits(`{"query":{"term":{"system.filesystem.mount_point":"/"}}}`); n != 2 {
		t.Errorf("mount point /: %d documents, want 2", n)
	}
	body := string(e.search(t, e.hostsAlias, `{"query":{"term":{"event.dataset":"system.load"}}}`))
	if !strings.Contains(body, `"metricset":{"name":"load","period":10000}`) {
		t.Errorf("load document: %s", body)
	}

	send() // delivered again
	e.waitCommitted(t, time.Minute)
	time.Sleep(time.Second)
	if n := e.count(e.hostsAlias); n != 2*perSample {
		t.Errorf("after a second delivery: %d documents, want %d", n, 2*perSample)
	}
}
