package health

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/topics"
)

// WatchdogConfig configures the self-alerts.
type WatchdogConfig struct {
	Kafka config.Kafka
	// AlertsTopic receives the pipeline's alerts (default ssh-alerts);
	// StateTopic keeps the open episodes (default the heartbeats topic).
	AlertsTopic, StateTopic string
	Interval                time.Duration
	// Cooldown: an episode still open after this long is alerted again
	// (the next seq), as the other rules remind.
	Cooldown time.Duration
}

// Watchdog looks at the pipeline every interval and raises the pipeline
// rules on the alert stream: an alert when a condition starts, a reminder
// every cooldown while it lasts, a recovery when it ends. Its open
// episodes are kept in the heartbeats topic, so a restarted watchdog
// neither alerts twice for the same episode nor forgets to recover it.
type Watchdog struct {
	cfg       WatchdogConfig
	collector *Collector
	log       *slog.Logger

	mu       sync.Mutex
	episodes map[string]*episode // rule + "\x00" + component
	last     *contracts.Status
	// kafkaTrouble is when the watchdog last saw a broker down or a
	// partition offline: heartbeats missed since then prove nothing.
	kafkaTrouble time.Time
}

type episode struct {
	contracts.WatchdogEpisode
	Seq       int       `json:"seq"`
	LastAlert time.Time `json:"last_alert"`
}

// condition is one unhealthy thing a status shows.
type condition struct {
	rule, component, message string
	value, threshold         float64
	severity                 string
}

// NewWatchdog returns a watchdog over the collector's view of the pipeline.
func NewWatchdog(cfg WatchdogConfig, collector *Collector, log *slog.Logger) *Watchdog {
	if cfg.AlertsTopic == "" {
		cfg.AlertsTopic = contracts.TopicSSHAlerts
	}
	if cfg.StateTopic == "" {
		cfg.StateTopic = collector.cfg.HeartbeatsTopic
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = time.Hour
	}
	return &Watchdog{cfg: cfg, collector: collector, log: log, episodes: map[string]*episode{}}
}

// Run looks every interval until ctx ends.
func (w *Watchdog) Run(ctx context.Context) error {
	if _, err := topics.Ensure(ctx, w.cfg.Kafka, []topics.Spec{{Name: w.cfg.AlertsTopic}, HeartbeatsSpec(w.cfg.StateTopic)}, w.log); err != nil {
		return fmt.Errorf("watchdog: %w", err)
	}
	if err := w.restore(ctx); err != nil {
		return fmt.Errorf("watchdog: %w", err)
	}
	cfg := kafkaconfig.Sarama("logmon-watchdog")
	producer, err := sarama.NewSyncProducer(w.cfg.Kafka.Brokers, cfg)
	if err != nil {
		return fmt.Errorf("watchdog producer: %w", err)
	}
	defer producer.Close()
	tick := time.NewTicker(w.cfg.Interval)
	defer tick.Stop()
	// What could not be sent is sent again at the next look (the same
	// ids: consumers drop what they have applied).
	var pending []*contracts.Alert
	dirty := false
	for {
		st := w.collector.Collect(ctx)
		if ctx.Err() != nil {
			return nil
		}
		alerts, changed := w.evaluate(st, time.Now().UTC())
		pending, dirty = append(pending, alerts...), dirty || changed
		if err := w.send(producer, pending, dirty); err != nil {
			// Kafka itself may be what is broken: log, and look again.
			w.log.Warn("watchdog: alerts not sent, trying again at the next look", "err", err, "alerts", len(pending))
		} else {
			pending, dirty = nil, false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Last returns the newest status the watchdog looked at (nil before the first).
func (w *Watchdog) Last() *contracts.Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

// Episodes returns the open episodes.
func (w *Watchdog) Episodes() []contracts.WatchdogEpisode {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.openEpisodes()
}

func (w *Watchdog) openEpisodes() []contracts.WatchdogEpisode {
	out := make([]contracts.WatchdogEpisode, 0, len(w.episodes))
	for _, e := range w.episodes {
		out = append(out, e.WatchdogEpisode)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Rule+out[i].Component < out[j].Rule+out[j].Component
	})
	return out
}

// conditions lists what is unhealthy in st, one per rule and component.
func conditions(st *contracts.Status) []condition {
	var out []condition
	for _, g := range st.Groups {
		if g.Stalled {
			out = append(out, condition{rule: contracts.RulePipelineStalled, component: "group " + g.Group, severity: "high",
				value: float64(g.Lag), message: fmt.Sprintf("consumer group %s: lag %d, not shrinking for %.0f s", g.Group, g.Lag, g.StalledSeconds)})
		}
	}
	for _, c := range st.Components {
		if c.State == contracts.StateGone {
			out = append(out, condition{rule: contracts.RuleComponentDown, component: c.Key(), severity: "high",
				value: c.SinceSeconds, threshold: 3 * c.IntervalSeconds,
				message: fmt.Sprintf("%s on %s: no heartbeat for %.0f s (every %.0f s expected)", c.Key(), c.Host, c.SinceSeconds, c.IntervalSeconds)})
		}
	}
	if e := st.Elastic; e != nil && (!e.Up || e.Health == "red") {
		msg := "Elasticsearch " + e.URL + ": health " + e.Health
		if !e.Up {
			msg = "Elasticsearch " + e.URL + " does not answer: " + e.Error
		}
		out = append(out, condition{rule: contracts.RuleElasticsearchUnhealthy, component: "elasticsearch", severity: "high", message: msg})
	}
	down := 0
	for _, b := range st.Kafka.Brokers {
		if !b.Up {
			down++
		}
	}
	if k := st.Kafka; k.UnderReplicatedN > 0 || k.OfflineN > 0 || down > 0 {
		out = append(out, condition{rule: contracts.RuleKafkaUnderReplicated, component: "kafka", severity: "high",
			value:   float64(k.UnderReplicatedN + k.OfflineN),
			message: fmt.Sprintf("Kafka: %d partitions under-replicated, %d offline, %d of %d brokers down", k.UnderReplicatedN, k.OfflineN, down, len(k.Brokers))})
	}
	return out
}

// kafkaDisrupted tells whether st shows a broker down or a partition
// offline: producers, heartbeats included, stall then.
func kafkaDisrupted(st *contracts.Status) bool {
	for _, b := range st.Kafka.Brokers {
		if !b.Up {
			return true
		}
	}
	return st.Kafka.OfflineN > 0
}

// evaluate opens, reminds and closes episodes against st; it returns the
// alerts to send and whether the episodes changed.
func (w *Watchdog) evaluate(st *contracts.Status, now time.Time) ([]*contracts.Alert, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = st
	var alerts []*contracts.Alert
	changed := false
	seen := map[string]bool{}
	if kafkaDisrupted(st) {
		w.kafkaTrouble = now
	}
	for _, c := range conditions(st) {
		id := c.rule + "\x00" + c.component
		seen[id] = true
		e := w.episodes[id]
		if c.rule == contracts.RuleComponentDown && now.Sub(w.kafkaTrouble).Seconds() < c.threshold {
			// Silent while Kafka could not take its heartbeats: not
			// evidence either way, so an open episode stays open and no
			// new one starts until Kafka has worked for 3 intervals.
			continue
		}
		switch {
		case e == nil:
			e = &episode{WatchdogEpisode: contracts.WatchdogEpisode{Rule: c.rule, Component: c.component, Start: now, Value: c.value}, Seq: 1, LastAlert: now}
			w.episodes[id] = e
		case now.Sub(e.LastAlert) >= w.cfg.Cooldown:
			e.Seq++
			e.LastAlert = now
		default:
			continue
		}
		a := pipelineAlert(c, e, now, false)
		e.AlertID = a.ID
		alerts = append(alerts, a)
		changed = true
	}
	for id, e := range w.episodes {
		if seen[id] {
			continue
		}
		c := condition{rule: e.Rule, component: e.Component, severity: "low",
			message: fmt.Sprintf("%s recovered after %s", e.Component, now.Sub(e.Start).Round(time.Second))}
		alerts = append(alerts, pipelineAlert(c, e, now, true))
		delete(w.episodes, id)
		changed = true
	}
	st.Episodes = w.openEpisodes()
	return alerts, changed
}

// pipelineAlert is the alert of episode e: deterministic id from the rule,
// the component, the episode's start, its seq and whether it recovers.
func pipelineAlert(c condition, e *episode, now time.Time, recovery bool) *contracts.Alert {
	seq := e.Seq
	if recovery {
		seq++
	}
	return &contracts.Alert{
		Timestamp: now, ID: pipelineAlertID(c.rule, c.component, e.Start, seq, recovery),
		Rule: c.rule, Severity: c.severity, Seq: seq, Component: c.component, Recovery: recovery,
		Count: 1, WindowStart: e.Start, FirstEventTime: e.Start, LastEventTime: now, EpisodeStart: e.Start,
		WindowSeconds: int64(now.Sub(e.Start).Seconds()),
		Value:         c.value, Threshold: c.threshold, Message: c.message,
	}
}

func pipelineAlertID(rule, component string, start time.Time, seq int, recovery bool) string {
	h := sha256.New()
	h.Write([]byte(rule))
	h.Write([]byte{0})
	h.Write([]byte(component))
	var b [32]byte
	buf := binary.AppendVarint(b[:0], start.UnixNano())
	buf = binary.AppendUvarint(buf, uint64(seq))
	if recovery {
		buf = append(buf, 1)
	}
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// send publishes the alerts, then the open episodes when they changed.
func (w *Watchdog) send(producer sarama.SyncProducer, alerts []*contracts.Alert, changed bool) error {
	var msgs []*sarama.ProducerMessage
	for _, a := range alerts {
		v, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("alert %s: %w", a.ID, err)
		}
		msgs = append(msgs, &sarama.ProducerMessage{Topic: w.cfg.AlertsTopic, Key: sarama.StringEncoder(a.Key()), Value: sarama.ByteEncoder(v)})
	}
	if changed {
		w.mu.Lock()
		state := make([]*episode, 0, len(w.episodes))
		for _, e := range w.episodes {
			state = append(state, e)
		}
		w.mu.Unlock()
		v, err := json.Marshal(state)
		if err != nil {
			return fmt.Errorf("watchdog state: %w", err)
		}
		msgs = append(msgs, &sarama.ProducerMessage{Topic: w.cfg.StateTopic, Key: sarama.StringEncoder(contracts.WatchdogStateKey), Value: sarama.ByteEncoder(v)})
	}
	if len(msgs) == 0 {
		return nil
	}
	if err := producer.SendMessages(msgs); err != nil {
		return fmt.Errorf("send %d records: %w", len(msgs), err)
	}
	for _, a := range alerts {
		w.log.Warn("pipeline alert", "rule", a.Rule, "component", a.Component, "recovery", a.Recovery, "id", a.ID, "message", a.Message)
	}
	return nil
}

// restore reads the open episodes a previous watchdog left.
func (w *Watchdog) restore(ctx context.Context) error {
	var state []*episode
	err := topics.ReadAll(ctx, w.cfg.Kafka, w.cfg.StateTopic, func(m *sarama.ConsumerMessage) error {
		if string(m.Key) != contracts.WatchdogStateKey {
			return nil
		}
		state = nil
		if m.Value != nil {
			if err := json.Unmarshal(m.Value, &state); err != nil {
				return fmt.Errorf("watchdog state: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range state {
		w.episodes[e.Rule+"\x00"+e.Component] = e
	}
	if len(state) > 0 {
		w.log.Info("watchdog: open episodes restored", "episodes", len(state))
	}
	return nil
}
