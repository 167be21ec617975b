package tracker

import (
	"context"
	"io/fs"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/topics"
)

// RegisterLag adds, computed at each scrape, the records the group has not
// committed per topic partition (input and loopback) and the size of its
// local table storage.
func (t *Tracker) RegisterLag(reg prometheus.Registerer) {
	reg.MustRegister(&lagCollector{t: t,
		lag:  prometheus.NewDesc("logmon_process_lag_records", "Records of ssh-log and the loopbacks the two stages have not committed.", []string{"group", "topic", "partition"}, nil),
		disk: prometheus.NewDesc("logmon_process_storage_bytes", "Bytes of the group's local LevelDB table storage.", nil, nil),
	})
}

type lagCollector struct {
	t         *Tracker
	lag, disk *prometheus.Desc
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.lag; ch <- c.disk }

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, g := range c.t.stages() {
		parts, err := topics.GroupLagByPartition(ctx, c.t.cfg.Kafka, g.group, []string{c.t.cfg.Input, g.loop})
		if err != nil {
			continue
		}
		for _, p := range parts {
			ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(p.Lag), g.group, p.Topic, strconv.Itoa(int(p.Partition)))
		}
	}
	var size int64
	_ = filepath.WalkDir(c.t.cfg.StorageDir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
			}
		}
		return nil
	})
	ch <- prometheus.MustNewConstMetric(c.disk, prometheus.GaugeValue, float64(size))
}
