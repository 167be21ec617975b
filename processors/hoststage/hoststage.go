// Package hoststage is log_monitor's host stage, a goka group keyed by host
// name that reads the agents' samples (topic system-metrics) and keeps, per
// host, the latest sample, its state (ok, warning, critical, silent) and the
// host rules: host_cpu_high, host_memory_high, host_disk_full and
// host_silent, each alerting on ssh-alerts with the SSH alerts' schema and
// recovering with a recovery alert (docs/processors.md, "Host stage").
//
//	system-metrics (key host) -> sample handler: HostState.Observe
//	<group>-checks (key host) -> check handler:  HostState.Check (host_silent)
//	                          -> ssh-alerts; table <group>-table
//
// Silence is the absence of input, which no input handler sees: a checker
// (checker.go) sends a check, carrying its clock, for every host whose
// latest sample is too old. The decision is the handler's, from the record
// and the check, so a replay of the same messages decides the same.
//
// Exactness: commits are in order (processors/exactly); a message at or
// below the offset its record last applied is a replay after a crash,
// whose alerts are emitted again (same ids) from the record; a sample not
// newer than the latest (an agent's re-send) is ignored.
package hoststage

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/processors/detect"
	"github.com/log-monitor/log_monitor/processors/stage"
)

// DefaultGroup is the host stage's goka group beside the tracker's
// default group; its table is DefaultGroup+"-table".
const DefaultGroup = "logmon-tracker-hosts"

// Group is the host stage's group beside the tracker group trackerGroup
// (tests and benchmarks run groups of their own).
func Group(trackerGroup string) string { return trackerGroup + "-hosts" }

// ChecksTopic is the topic of the group's silence checks.
func ChecksTopic(group string) string { return group + "-checks" }

// TableTopic is the group's table topic.
func TableTopic(group string) string { return string(goka.GroupTable(goka.Group(group))) }

// Stage is the group's processing logic (the goka callbacks).
type Stage struct {
	group, input, alerts string
	activity             string // the ssh-log's host activity topic
	rules                detect.Rules
	log                  *slog.Logger
	m                    *Metrics
	// applied is the last input offset handled, by partition: the checker
	// checks a partition only once it handled all its input.
	applied sync.Map // int32 -> int64
}

// NewStage returns the callbacks of group, reading input (samples) and
// activity (the SSH activity ingest writes) and writing alerts.
func NewStage(group, input, activity, alerts string, rules detect.Rules, m *Metrics, log *slog.Logger) *Stage {
	return &Stage{group: group, input: input, activity: activity, alerts: alerts, rules: rules, m: m, log: log}
}

// Graph defines the goka group.
func (s *Stage) Graph() *goka.GroupGraph {
	return goka.DefineGroup(goka.Group(s.group),
		goka.Input(goka.Stream(s.input), new(codec.Bytes), s.handleSample),
		goka.Input(goka.Stream(ChecksTopic(s.group)), new(codec.Bytes), s.handleCheck),
		goka.Input(goka.Stream(s.activity), new(codec.Bytes), s.handleActivity),
		goka.Output(goka.Stream(s.alerts), stage.AlertCodec{}),
		goka.Persist(Codec{}),
	)
}

func (s *Stage) record(ctx goka.Context) *HostState {
	if v := ctx.Value(); v != nil {
		return v.(*HostState)
	}
	return NewHostState(ctx.Key())
}

func (s *Stage) handleSample(ctx goka.Context, msg interface{}) {
	defer s.applied.Store(ctx.Partition(), ctx.Offset())
	var sample contracts.HostSample
	if err := json.Unmarshal(msg.([]byte), &sample); err != nil || sample.Timestamp.IsZero() {
		s.m.Bad.Inc()
		s.log.Warn("undecodable host sample skipped", "partition", ctx.Partition(), "offset", ctx.Offset(), "key", ctx.Key(), "err", err)
		return
	}
	if sample.HostName != ctx.Key() {
		// The record's key places it: a sample under another key would
		// fork the host's state.
		s.m.Bad.Inc()
		s.log.Warn("host sample under another host's key skipped", "key", ctx.Key(), "host_name", sample.HostName, "offset", ctx.Offset())
		return
	}
	h := s.record(ctx)
	if again, ok := h.Replayed(FromSample, ctx.Offset()); ok {
		s.emit(ctx, again)
		return
	}
	alerts := h.Observe(&sample, ctx.Offset(), &s.rules)
	s.m.Samples.Inc()
	ctx.SetValue(h)
	s.emit(ctx, alerts)
}

func (s *Stage) handleCheck(ctx goka.Context, msg interface{}) {
	b := msg.([]byte)
	if len(b) != 8 {
		s.log.Warn("undecodable silence check skipped", "partition", ctx.Partition(), "offset", ctx.Offset())
		return
	}
	now := time.UnixMilli(int64(binary.BigEndian.Uint64(b)))
	v := ctx.Value()
	if v == nil {
		return // a host the table does not know (yet): nothing to be silent about
	}
	h := v.(*HostState)
	if again, ok := h.Replayed(FromCheck, ctx.Offset()); ok {
		s.emit(ctx, again)
		return
	}
	alerts := h.Check(now, ctx.Offset(), &s.rules)
	ctx.SetValue(h)
	s.emit(ctx, alerts)
}

// handleActivity adds a host's SSH activity (ingest's per-transaction
// counts) to its record: host alerts carry it.
func (s *Stage) handleActivity(ctx goka.Context, msg interface{}) {
	var act contracts.HostActivity
	if err := json.Unmarshal(msg.([]byte), &act); err != nil || act.HostName != ctx.Key() {
		s.log.Warn("undecodable host activity skipped", "partition", ctx.Partition(), "offset", ctx.Offset(), "key", ctx.Key(), "err", err)
		return
	}
	h := s.record(ctx)
	if _, ok := h.Replayed(FromActivity, ctx.Offset()); ok {
		return
	}
	h.AddActivity(&act, ctx.Offset())
	ctx.SetValue(h)
}

func (s *Stage) emit(ctx goka.Context, alerts []*contracts.Alert) {
	for _, a := range alerts {
		ctx.Emit(goka.Stream(s.alerts), a.Key(), a)
		s.m.Alerts.WithLabelValues(a.Rule, fmt.Sprint(a.Recovery)).Inc()
	}
}

// Applied is the last input offset handled in partition p (-1: none).
func (s *Stage) Applied(p int32) int64 {
	if v, ok := s.applied.Load(p); ok {
		return v.(int64)
	}
	return -1
}

// EncodeCheck is a silence check's value: the checker's clock.
func EncodeCheck(now time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(now.UnixMilli()))
}

// Codec encodes the table's *HostState (JSON: a few records per host,
// written once per sample).
type Codec struct{}

// Encode implements goka.Codec.
func (Codec) Encode(v interface{}) ([]byte, error) {
	h, ok := v.(*HostState)
	if !ok {
		return nil, fmt.Errorf("host codec: cannot encode %T", v)
	}
	return json.Marshal(h)
}

// Decode implements goka.Codec.
func (Codec) Decode(b []byte) (interface{}, error) {
	h := &HostState{}
	if err := json.Unmarshal(b, h); err != nil {
		return nil, fmt.Errorf("host codec: %w", err)
	}
	return h, nil
}

// Metrics are the stage's Prometheus metrics.
type Metrics struct {
	Samples prometheus.Counter
	Bad     prometheus.Counter
	Alerts  *prometheus.CounterVec
	Checks  prometheus.Counter
	// Hosts counts the hosts of the owned partitions by state (ok,
	// warning, critical, silent), as of the checker's last round.
	Hosts *prometheus.GaugeVec
}

// NewMetrics registers the metrics with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Samples: prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_hosts_samples_total", Help: "Host samples applied."}),
		Bad:     prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_hosts_bad_samples_total", Help: "Host samples skipped: undecodable or under another host's key."}),
		Alerts:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_hosts_alerts_total", Help: "Host alerts raised, by rule and recovery."}, []string{"rule", "recovery"}),
		Checks:  prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_hosts_checks_sent_total", Help: "Silence checks sent by this instance's checker."}),
		Hosts:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logmon_hosts", Help: "Hosts of this instance's partitions by state, as of the last silence check."}, []string{"state"}),
	}
	if reg != nil {
		reg.MustRegister(m.Samples, m.Bad, m.Alerts, m.Checks, m.Hosts)
	}
	return m
}
