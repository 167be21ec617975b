package views

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
)

// DefaultMaxIncidents is how many incidents the view keeps by default.
const DefaultMaxIncidents = 20_000

// Incidents is a view of the incident topic: it reads it from its oldest
// record and keeps the newest version of the newest MaxIncidents incidents
// (by last event) in memory. Lists filter and page them; Subscribe hands
// every new version to a watcher from the moment it subscribes.
type Incidents struct {
	k     config.Kafka
	topic string
	max   int
	log   *slog.Logger

	mu    sync.RWMutex
	byID  map[string]*contracts.Incident
	next  map[int32]int64
	ready bool
	subs  map[int]chan *contracts.Incident
	subID int
}

// IncidentsConfig sets the view's topic and memory bound.
type IncidentsConfig struct {
	Kafka config.Kafka
	// Topic is the incident topic (default ssh-incidents).
	Topic string
	// MaxIncidents is how many incidents are kept (default DefaultMaxIncidents).
	MaxIncidents int
}

// NewIncidents returns a view over the incident topic; Run fills it.
func NewIncidents(cfg IncidentsConfig, log *slog.Logger) *Incidents {
	if cfg.Topic == "" {
		cfg.Topic = contracts.TopicSSHIncidents
	}
	if cfg.MaxIncidents <= 0 {
		cfg.MaxIncidents = DefaultMaxIncidents
	}
	return &Incidents{k: cfg.Kafka, topic: cfg.Topic, max: cfg.MaxIncidents, log: log,
		byID: map[string]*contracts.Incident{}, next: map[int32]int64{}, subs: map[int]chan *contracts.Incident{}}
}

// Ready reports whether the view has read the topic up to where it stood
// at start.
func (v *Incidents) Ready() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.ready
}

// Run consumes the incident topic until ctx ends.
func (v *Incidents) Run(ctx context.Context) error {
	return follow(ctx, v.k, "incidents view", v.topic, v.log, func(p int32, oldest int64) {
		v.mu.Lock()
		v.next[p] = oldest
		v.mu.Unlock()
	}, v.add, v.checkReady)
}

func (v *Incidents) checkReady(ends map[int32]int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.ready {
		return
	}
	for p, end := range ends {
		if v.next[p] < end {
			return
		}
	}
	v.ready = true
	v.log.Info("incidents view ready", "topic", v.topic, "incidents", len(v.byID))
}

// add keeps the record's incident if it is newer than the one held, and
// hands it to the watchers.
func (v *Incidents) add(m *sarama.ConsumerMessage) {
	var inc contracts.Incident
	ok := m.Value != nil && json.Unmarshal(m.Value, &inc) == nil && inc.ID != "" && inc.Version > 0
	v.mu.Lock()
	defer v.mu.Unlock()
	v.next[m.Partition] = max(v.next[m.Partition], m.Offset+1)
	if !ok {
		return
	}
	if have := v.byID[inc.ID]; have != nil && have.Version >= inc.Version {
		return // a replayed or older version
	}
	v.byID[inc.ID] = &inc
	if len(v.byID) > v.max {
		v.dropOldest()
	}
	for _, ch := range v.subs {
		select {
		case ch <- &inc:
		default: // a watcher that does not keep up loses versions; the next one carries the state
		}
	}
}

// dropOldest forgets the tenth of the incidents whose last event is oldest.
func (v *Incidents) dropOldest() {
	all := make([]*contracts.Incident, 0, len(v.byID))
	for _, inc := range v.byID {
		all = append(all, inc)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].LastEventTime.Before(all[j].LastEventTime) })
	for _, inc := range all[:max(1, len(all)/10)] {
		delete(v.byID, inc.ID)
	}
}

// Get returns the newest version of incident id (nil: not held).
func (v *Incidents) Get(id string) (*contracts.Incident, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if !v.ready {
		return nil, ErrNotReady
	}
	return v.byID[id], nil
}

// IncidentFilter selects incidents; empty fields select all.
type IncidentFilter struct {
	Status, Severity, Rule, Key string
	// Since and Until bound the last event time.
	Since, Until time.Time
}

func (f IncidentFilter) match(inc *contracts.Incident) bool {
	switch {
	case f.Status != "" && inc.Status != f.Status,
		f.Severity != "" && inc.Severity != f.Severity,
		f.Rule != "" && !slices.Contains(inc.Rules, f.Rule),
		f.Key != "" && inc.Key != f.Key,
		!f.Since.IsZero() && inc.LastEventTime.Before(f.Since),
		!f.Until.IsZero() && !inc.LastEventTime.Before(f.Until):
		return false
	}
	return true
}

// List returns a page of the incidents f selects, newest last event
// first, and the token of the next page ("" on the last).
func (v *Incidents) List(f IncidentFilter, size int, token string) ([]contracts.Incident, string, error) {
	var after pageKey
	if token != "" {
		var err error
		if after, err = parsePageToken(token); err != nil {
			return nil, "", err
		}
	}
	v.mu.RLock()
	if !v.ready {
		v.mu.RUnlock()
		return nil, "", ErrNotReady
	}
	var all []contracts.Incident
	for _, inc := range v.byID {
		if f.match(inc) {
			all = append(all, *inc)
		}
	}
	v.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool { return incidentKey(&all[i]).before(incidentKey(&all[j])) })
	start := 0
	if token != "" {
		start = sort.Search(len(all), func(i int) bool { return after.before(incidentKey(&all[i])) })
	}
	end := min(start+size, len(all))
	page := all[start:end]
	next := ""
	if end < len(all) {
		next = incidentKey(&page[len(page)-1]).token()
	}
	return page, next, nil
}

// incidentKey orders incidents newest last event first, then by id.
func incidentKey(inc *contracts.Incident) pageKey {
	return pageKey{inc.LastEventTime.UnixNano(), inc.ID}
}

// Subscribe calls fn with every new incident version f selects, from now
// until ctx ends or fn fails. A watcher that falls far behind loses
// intermediate versions (never the latest state: the next version carries
// it).
func (v *Incidents) Subscribe(ctx context.Context, f IncidentFilter, fn func(*contracts.Incident) error) error {
	ch := make(chan *contracts.Incident, 256)
	v.mu.Lock()
	id := v.subID
	v.subID++
	v.subs[id] = ch
	v.mu.Unlock()
	defer func() {
		v.mu.Lock()
		delete(v.subs, id)
		v.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case inc := <-ch:
			if f.match(inc) {
				if err := fn(inc); err != nil {
					return err
				}
			}
		}
	}
}
