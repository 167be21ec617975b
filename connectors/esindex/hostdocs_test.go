package esindex

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/log-monitor/log_monitor/connectors/elastic"
	"github.com/log-monitor/log_monitor/contracts"
)

func testSample() contracts.HostSample {
	return contracts.HostSample{Timestamp: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC), HostName: "web-1", IntervalSeconds: 10,
		Agent: contracts.AgentInfo{ID: "web-1-1", Version: "dev"},
		CPU: contracts.CPUSample{Cores: 2, Total: contracts.CPUTimes{User: 0.5, Idle: 1.5}, Norm: contracts.CPUTimes{User: 0.25, Idle: 0.75},
			PerCore: []contracts.CPUTimes{{User: 0.3, Idle: 0.7}, {User: 0.2, Idle: 0.8}}},
		Load:        contracts.LoadSample{Load1: 1, CoreCount: 2, Norm1: 0.5},
		Memory:      contracts.MemorySample{Total: 100, Used: 70, ActualUsed: 40, ActualUsedPct: 0.4},
		Filesystems: []contracts.FilesystemStat{{MountPoint: "/", Total: 10, Used: 5, UsedPct: 0.5}, {MountPoint: "/data", Total: 10, Used: 9, UsedPct: 0.9}},
		DiskIO:      []contracts.DiskIOStat{{Name: "sda", ReadBytes: 1}},
		Network:     []contracts.NetworkStat{{Name: "eth0", InBytes: 2}},
		Processes:   contracts.ProcessSummary{Total: 3},
	}
}

// fixture reads the Metricbeat field list: field -> type.
func fixture(t *testing.T) map[string]string {
	f, err := os.Open("testdata/metricbeat_system_fields.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) == 2 && !strings.HasPrefix(fs[0], "#") {
			out[fs[0]] = fs[1]
		}
	}
	return out
}

// leaves flattens a JSON object into dotted paths.
func leaves(prefix string, v any, out map[string]any) {
	if o, ok := v.(map[string]any); ok {
		for k, x := range o {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			leaves(p, x, out)
		}
		return
	}
	out[prefix] = v
}

// mappedType is the type the template gives a dotted field ("" unmapped).
func mappedType(props map[string]any, field string) string {
	parts := strings.Split(field, ".")
	for i, p := range parts {
		f, ok := props[p].(map[string]any)
		if !ok {
			return ""
		}
		if i == len(parts)-1 {
			typ, _ := f["type"].(string)
			return typ
		}
		props, _ = f["properties"].(map[string]any)
	}
	return ""
}

func TestHostDocsCarryMetricbeatFieldsAsTheTemplateMapsThem(t *testing.T) {
	s := testSample()
	b, _ := json.Marshal(s)
	docs, ts, err := hostDocs(b)
	if err != nil {
		t.Fatal(err)
	}
	if !ts.Equal(s.Timestamp) {
		t.Fatalf("time %v", ts)
	}
	// cpu, 2 cores, load, memory, 2 filesystems, diskio, network, process summary
	if len(docs) != 10 {
		t.Fatalf("%d documents, want 10", len(docs))
	}
	tpls, err := elastic.Templates()
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Template struct {
			Mappings struct {
				Properties map[string]any `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(tpls[contracts.IndexSystemMetrics], &tpl); err != nil {
		t.Fatal(err)
	}
	props := tpl.Template.Mappings.Properties
	seen := map[string]any{}
	datasets := map[string]int{}
	ids := map[string]bool{}
	for _, d := range docs {
		var doc map[string]any
		if err := json.Unmarshal(d.body, &doc); err != nil {
			t.Fatal(err)
		}
		flat := map[string]any{}
		leaves("", doc, flat)
		for k, v := range flat {
			seen[k] = v
			if mappedType(props, k) == "" {
				t.Errorf("field %s of %s is not mapped", k, flat["event.dataset"])
			}
		}
		datasets[flat["event.dataset"].(string)]++
		if flat["host.name"] != "web-1" || flat["metricset.period"] != 10000.0 || flat["event.module"] != "system" {
			t.Errorf("common fields: %v", flat)
		}
		ids[d.id] = true
	}
	if len(ids) != len(docs) {
		t.Errorf("%d ids for %d documents", len(ids), len(docs))
	}
	for field, typ := range fixture(t) {
		if got := mappedType(props, field); got != typ {
			t.Errorf("%s mapped %q, Metricbeat has %q", field, got, typ)
		}
		if _, ok := seen[field]; !ok {
			t.Errorf("no document carries %s", field)
		}
	}
	if datasets["system.filesystem"] != 2 || datasets["system.core"] != 2 || datasets["system.process.summary"] != 1 {
		t.Errorf("datasets %v", datasets)
	}
	if got := mappedType(props, "host_name"); got != "alias" {
		t.Errorf("host_name is %q, want an alias", got)
	}
	// The same sample again: the same ids.
	again, _, _ := hostDocs(b)
	for i := range again {
		if again[i].id != docs[i].id {
			t.Fatalf("document %d: id %s then %s", i, docs[i].id, again[i].id)
		}
	}
	if _, _, err := hostDocs([]byte(`{"host_name":""}`)); err == nil {
		t.Error("a sample without host or time was accepted")
	}
}
