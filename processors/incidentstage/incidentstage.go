// Package incidentstage is log_monitor's incident stage, a goka group keyed
// like the alerts (the IP, or the user for distributed_attack) that reads
// ssh-alerts and gathers each key's alerts into incidents: the alerts whose
// activity overlaps or follows within a gap (default 1 h) are one
// incident, emitted to ssh-incidents at each change as its next version
// (docs/processors.md, "The incident stage").
//
//	ssh-alerts (key IP or user) -> alert handler: KeyState.Apply
//	<group>-checks (key)        -> check handler: KeyState.Close
//	                            -> ssh-incidents; table <group>-table
//
// An incident closes when its key's next alert starts beyond the gap (in
// event time, so a replay decides the same), or when its key stayed quiet
// for the gap of wall-clock time: the checker (run.go) sends a check for
// such keys, and the handler closes what is still due.
//
// Exactness: commits are in order (processors/exactly); a message at or
// below the offset its record last applied is a replay after a crash,
// whose versions are emitted again (same id and version: consumers keep
// the newest); an alert applied before (the same id, re-sent upstream)
// changes nothing.
package incidentstage

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/contracts"
)

// DefaultGroup is the incident stage's goka group beside the tracker's
// default group.
const DefaultGroup = "logmon-tracker-incidents"

// DefaultGap is how long a key may stay quiet and its next alert still
// join its incident.
const DefaultGap = time.Hour

// Group is the incident stage's group beside the tracker group trackerGroup.
func Group(trackerGroup string) string { return trackerGroup + "-incidents" }

// ChecksTopic is the topic of the group's close checks.
func ChecksTopic(group string) string { return group + "-checks" }

// TableTopic is the group's table topic.
func TableTopic(group string) string { return string(goka.GroupTable(goka.Group(group))) }

// Stage is the group's processing logic (the goka callbacks).
type Stage struct {
	group, alerts, incidents string
	gap                      time.Duration
	clock                    func() time.Time
	log                      *slog.Logger
	m                        *Metrics
}

// Graph defines the goka group.
func (s *Stage) Graph() *goka.GroupGraph {
	return goka.DefineGroup(goka.Group(s.group),
		goka.Input(goka.Stream(s.alerts), new(codec.Bytes), s.handleAlert),
		goka.Input(goka.Stream(ChecksTopic(s.group)), new(codec.Bytes), s.handleCheck),
		goka.Output(goka.Stream(s.incidents), IncidentCodec{}),
		goka.Persist(Codec{}),
	)
}

func (s *Stage) record(ctx goka.Context) *KeyState {
	if v := ctx.Value(); v != nil {
		return v.(*KeyState)
	}
	return NewKeyState()
}

func (s *Stage) handleAlert(ctx goka.Context, msg interface{}) {
	var a contracts.Alert
	if err := json.Unmarshal(msg.([]byte), &a); err != nil || a.ID == "" {
		s.m.Bad.Inc()
		s.log.Warn("undecodable alert skipped", "partition", ctx.Partition(), "offset", ctx.Offset(), "key", ctx.Key(), "err", err)
		return
	}
	if !SSHRule(a.Rule) {
		return // host and pipeline rules: their own episodes
	}
	if a.Key() != ctx.Key() {
		s.m.Bad.Inc()
		s.log.Warn("alert under another key skipped", "key", ctx.Key(), "alert_key", a.Key(), "offset", ctx.Offset())
		return
	}
	k := s.record(ctx)
	if again, ok := k.Replayed(FromAlert, ctx.Offset()); ok {
		s.emit(ctx, again)
		return
	}
	out := k.Apply(&a, ctx.Offset(), s.clock(), s.gap)
	ctx.SetValue(k)
	s.m.Alerts.Inc()
	s.emit(ctx, out)
}

func (s *Stage) handleCheck(ctx goka.Context, msg interface{}) {
	b := msg.([]byte)
	if len(b) != 8 {
		s.log.Warn("undecodable close check skipped", "partition", ctx.Partition(), "offset", ctx.Offset())
		return
	}
	v := ctx.Value()
	if v == nil {
		return
	}
	k := v.(*KeyState)
	if again, ok := k.Replayed(FromCheck, ctx.Offset()); ok {
		s.emit(ctx, again)
		return
	}
	due := time.UnixMilli(int64(binary.BigEndian.Uint64(b)))
	out := k.Close(ctx.Offset(), due)
	ctx.SetValue(k)
	s.emit(ctx, out)
}

func (s *Stage) emit(ctx goka.Context, out []*contracts.Incident) {
	for _, inc := range out {
		ctx.Emit(goka.Stream(s.incidents), inc.Key, inc)
		s.m.Versions.WithLabelValues(inc.Status).Inc()
	}
}

// EncodeCheck is a close check's value: the moment before which the key
// must have been quiet (the checker's clock minus the gap).
func EncodeCheck(due time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(due.UnixMilli()))
}

// Codec encodes the table's *KeyState (JSON).
type Codec struct{}

// Encode implements goka.Codec.
func (Codec) Encode(v interface{}) ([]byte, error) {
	k, ok := v.(*KeyState)
	if !ok {
		return nil, fmt.Errorf("incident codec: cannot encode %T", v)
	}
	return json.Marshal(k)
}

// Decode implements goka.Codec.
func (Codec) Decode(b []byte) (interface{}, error) {
	k := NewKeyState()
	if err := json.Unmarshal(b, k); err != nil {
		return nil, fmt.Errorf("incident codec: %w", err)
	}
	return k, nil
}

// IncidentCodec encodes the ssh-incidents values (JSON, contracts.Incident).
type IncidentCodec struct{}

// Encode implements goka.Codec.
func (IncidentCodec) Encode(v interface{}) ([]byte, error) {
	inc, ok := v.(*contracts.Incident)
	if !ok {
		return nil, fmt.Errorf("incident codec: cannot encode %T", v)
	}
	return json.Marshal(inc)
}

// Decode implements goka.Codec.
func (IncidentCodec) Decode(b []byte) (interface{}, error) {
	inc := &contracts.Incident{}
	if err := json.Unmarshal(b, inc); err != nil {
		return nil, fmt.Errorf("incident codec: %w", err)
	}
	return inc, nil
}

// Metrics are the stage's Prometheus metrics.
type Metrics struct {
	Alerts   prometheus.Counter
	Bad      prometheus.Counter
	Versions *prometheus.CounterVec
	Checks   prometheus.Counter
}

// NewMetrics registers the metrics with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Alerts:   prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_incidents_alerts_total", Help: "SSH alerts applied to incidents."}),
		Bad:      prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_incidents_bad_alerts_total", Help: "Alert records skipped: undecodable or under another key."}),
		Versions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logmon_incidents_versions_total", Help: "Incident versions emitted (replays included), by status."}, []string{"status"}),
		Checks:   prometheus.NewCounter(prometheus.CounterOpts{Name: "logmon_incidents_checks_sent_total", Help: "Close checks sent by this instance's checker."}),
	}
	if reg != nil {
		reg.MustRegister(m.Alerts, m.Bad, m.Versions, m.Checks)
	}
	return m
}
