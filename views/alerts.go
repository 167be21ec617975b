package views

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
)

// ErrBadCursor and ErrBadPageToken report a cursor or page token that this
// view did not make.
var (
	ErrBadCursor    = errors.New("views: malformed alert cursor")
	ErrBadPageToken = errors.New("views: malformed page token")
)

// DefaultMaxAlerts is how many recent alerts the view keeps by default.
const DefaultMaxAlerts = 20_000

// StoredAlert is an alert with its place in the alert topic.
type StoredAlert struct {
	Partition int32
	Offset    int64
	Alert     contracts.Alert
}

// Alerts is a view of the recent alerts of the ssh-alerts topic: it reads
// the topic from its oldest record and keeps the newest MaxAlerts alerts in
// memory, one per alert_id (a replayed alert is the same alert and is
// dropped). Lists filter and page them; Subscribe follows the topic from a
// cursor (the next offset of each partition), reading from Kafka what is no
// longer in memory, so a client that reconnects with its cursor misses
// nothing.
type Alerts struct {
	k     config.Kafka
	topic string
	max   int
	log   *slog.Logger

	mu    sync.RWMutex
	items []StoredAlert // arrival order; the oldest are dropped beyond max
	ids   *idSet        // alert_ids seen lately (4 max), to drop replays
	// dropped counts the items dropped from the front: items[i] is the
	// (dropped+i)-th alert kept since start, so a subscriber resumes by index.
	dropped int
	next    map[int32]int64 // next offset to consume, per partition
	floor   map[int32]int64 // every record of p at or after floor[p] is in items (or a duplicate)
	ready   bool
	wake    chan struct{} // closed and replaced when items change
}

// AlertsConfig sets the view's topic and memory bound.
type AlertsConfig struct {
	Kafka config.Kafka
	// Topic is the alert topic (default ssh-alerts).
	Topic string
	// MaxAlerts is how many alerts are kept in memory (default DefaultMaxAlerts).
	MaxAlerts int
}

// NewAlerts returns a view over the alert topic; Run fills it.
func NewAlerts(cfg AlertsConfig, log *slog.Logger) *Alerts {
	if cfg.Topic == "" {
		cfg.Topic = contracts.TopicSSHAlerts
	}
	if cfg.MaxAlerts <= 0 {
		cfg.MaxAlerts = DefaultMaxAlerts
	}
	return &Alerts{k: cfg.Kafka, topic: cfg.Topic, max: cfg.MaxAlerts, log: log,
		ids: newIDSet(4 * cfg.MaxAlerts), next: map[int32]int64{}, floor: map[int32]int64{}, wake: make(chan struct{})}
}

// Ready reports whether the view has read the topic up to its end at start.
func (a *Alerts) Ready() bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.ready
}

// WaitReady blocks until the view is ready or ctx ends.
func (a *Alerts) WaitReady(ctx context.Context) error { return waitReady(ctx, a.Ready) }

// Run consumes the alert topic until ctx ends.
func (a *Alerts) Run(ctx context.Context) error {
	return follow(ctx, a.k, "alerts view", a.topic, a.log, func(p int32, oldest int64) {
		a.mu.Lock()
		a.next[p], a.floor[p] = oldest, oldest
		a.mu.Unlock()
	}, a.add, a.checkReady)
}

func (a *Alerts) checkReady(ends map[int32]int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ready {
		return
	}
	for p, end := range ends {
		if a.next[p] < end {
			return
		}
	}
	a.ready = true
	a.log.Info("alerts view ready", "topic", a.topic, "alerts", len(a.items))
}

// decodeAlert reads one record of the alert topic.
func decodeAlert(m *sarama.ConsumerMessage) (contracts.Alert, bool) {
	var al contracts.Alert
	if m.Value == nil || json.Unmarshal(m.Value, &al) != nil || al.ID == "" {
		return al, false
	}
	return al, true
}

// add applies one record: a new alert is kept, a replayed one (same id) or
// a record that is not an alert only moves the partition's offset.
func (a *Alerts) add(m *sarama.ConsumerMessage) {
	al, ok := decodeAlert(m)
	a.mu.Lock()
	defer a.mu.Unlock()
	if m.Offset+1 > a.next[m.Partition] {
		a.next[m.Partition] = m.Offset + 1
	}
	if !ok {
		a.log.Warn("alert topic record is not an alert; skipped", "partition", m.Partition, "offset", m.Offset)
		return
	}
	if !a.ids.add(al.ID) {
		return
	}
	a.items = append(a.items, StoredAlert{Partition: m.Partition, Offset: m.Offset, Alert: al})
	// Trim in steps of a quarter, so that a full view does not copy itself
	// at every alert: memory holds at most 1.25 MaxAlerts.
	if len(a.items) > a.max+a.max/4 {
		over := len(a.items) - a.max
		for _, old := range a.items[:over] {
			if old.Offset+1 > a.floor[old.Partition] {
				a.floor[old.Partition] = old.Offset + 1
			}
		}
		// Copy rather than reslice, so the dropped alerts are freed.
		a.items = append(make([]StoredAlert, 0, a.max+a.max/4+1), a.items[over:]...)
		a.dropped += over
	}
	close(a.wake)
	a.wake = make(chan struct{})
}

// AlertFilter selects alerts; zero fields match everything.
type AlertFilter struct {
	Rule         string
	IP           string
	Since, Until time.Time // Since <= @timestamp < Until
}

func (f AlertFilter) match(al *contracts.Alert) bool {
	if f.Rule != "" && al.Rule != f.Rule {
		return false
	}
	if f.IP != "" && al.IP != f.IP {
		return false
	}
	if !f.Since.IsZero() && al.Timestamp.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !al.Timestamp.Before(f.Until) {
		return false
	}
	return true
}

// List returns up to size alerts matching f, newest first (by @timestamp,
// then alert_id), after the page token (from a previous List; "" = the
// first page), and the token of the next page ("" = none).
func (a *Alerts) List(f AlertFilter, size int, token string) ([]contracts.Alert, string, error) {
	var after *pageKey
	if token != "" {
		k, err := parsePageToken(token)
		if err != nil {
			return nil, "", err
		}
		after = &k
	}
	if !a.Ready() {
		return nil, "", ErrNotReady
	}
	// Sort pointers and copy only the page: items are never changed in
	// place (add appends, and trims into a new slice), so the pointers stay
	// valid after the lock.
	a.mu.RLock()
	var hits []*contracts.Alert
	for i := range a.items {
		al := &a.items[i].Alert
		if f.match(al) && (after == nil || after.before(keyOf(al))) {
			hits = append(hits, al)
		}
	}
	a.mu.RUnlock()
	sort.Slice(hits, func(i, j int) bool { return keyOf(hits[i]).before(keyOf(hits[j])) })
	next := ""
	if len(hits) > size {
		hits = hits[:size]
		next = keyOf(hits[size-1]).token()
	}
	var out []contracts.Alert
	for _, al := range hits {
		out = append(out, *al)
	}
	return out, next, nil
}

// pageKey orders alerts newest first: @timestamp descending, then alert_id.
type pageKey struct {
	ts int64
	id string
}

func keyOf(al *contracts.Alert) pageKey { return pageKey{al.Timestamp.UnixNano(), al.ID} }

func (k pageKey) before(o pageKey) bool {
	if k.ts != o.ts {
		return k.ts > o.ts
	}
	return k.id < o.id
}

func (k pageKey) token() string {
	return base64.RawURLEncoding.EncodeToString([]byte("p1|" + strconv.FormatInt(k.ts, 10) + "|" + k.id))
}

func parsePageToken(s string) (pageKey, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return pageKey{}, ErrBadPageToken
	}
	f := strings.SplitN(string(b), "|", 3)
	if len(f) != 3 || f[0] != "p1" || f[2] == "" {
		return pageKey{}, ErrBadPageToken
	}
	ts, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return pageKey{}, ErrBadPageToken
	}
	return pageKey{ts, f[2]}, nil
}

// Cursor is where a subscriber stands: the next offset of each partition.
type Cursor map[int32]int64

// String encodes the cursor for clients ("" for an empty cursor).
func (c Cursor) String() string {
	if len(c) == 0 {
		return ""
	}
	ps := make([]int32, 0, len(c))
	for p := range c {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	var b strings.Builder
	b.WriteString("c1")
	for _, p := range ps {
		fmt.Fprintf(&b, "|%d:%d", p, c[p])
	}
	return base64.RawURLEncoding.EncodeToString([]byte(b.String()))
}

// ParseCursor decodes a cursor made by String ("" is the empty cursor).
func ParseCursor(s string) (Cursor, error) {
	c := Cursor{}
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	f := strings.Split(string(b), "|")
	if f[0] != "c1" {
		return nil, ErrBadCursor
	}
	for _, kv := range f[1:] {
		ps, os, ok := strings.Cut(kv, ":")
		p, err1 := strconv.ParseInt(ps, 10, 32)
		o, err2 := strconv.ParseInt(os, 10, 64)
		if !ok || err1 != nil || err2 != nil || p < 0 || o < 0 {
			return nil, ErrBadCursor
		}
		c[int32(p)] = o
	}
	return c, nil
}

// Now is the cursor of the view's current end: subscribing from it gives
// only alerts consumed after this call.
func (a *Alerts) Now() Cursor {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return Cursor(a.next).copy()
}

// Subscribe calls fn with every alert matching f from cursor on (an empty
// cursor: from now), in offset order per partition, each with the cursor to
// resume from after it, until ctx ends or fn fails. Alerts older than what
// the view keeps are read from Kafka first. A replayed alert (an alert_id
// seen in memory) is not delivered twice.
func (a *Alerts) Subscribe(ctx context.Context, from Cursor, f AlertFilter, fn func(StoredAlert, Cursor) error) error {
	if err := a.WaitReady(ctx); err != nil {
		return err
	}
	delivered := newIDSet(max(1024, a.max))
	cur := from.copy()
	if len(from) == 0 {
		cur = a.Now()
	}
	// next is the index (counting dropped items) of the first item not yet
	// looked at; -1 until the memory phase starts.
	next := -1
	for {
		a.mu.RLock()
		wake := a.wake
		gaps := map[int32][2]int64{}
		for p, fl := range a.floor {
			if o, ok := cur[p]; !ok || o < fl {
				gaps[p] = [2]int64{o, fl} // o is 0 for a partition the cursor lacks
			}
		}
		var batch []StoredAlert
		if len(gaps) == 0 {
			from := max(next-a.dropped, 0)
			if next < a.dropped {
				from = 0 // the first look, or fallen behind the memory: check offsets
			}
			for _, it := range a.items[from:] {
				if it.Offset >= cur[it.Partition] {
					batch = append(batch, it)
				}
			}
			next = a.dropped + len(a.items)
		}
		a.mu.RUnlock()
		if len(gaps) > 0 {
			if err := a.catchUp(ctx, gaps, cur, delivered, f, fn); err != nil {
				return err
			}
			continue
		}
		for _, it := range batch {
			cur[it.Partition] = it.Offset + 1
			if !delivered.add(it.Alert.ID) || !f.match(&it.Alert) {
				continue
			}
			if err := fn(it, cur.copy()); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		}
	}
}

func (c Cursor) copy() Cursor { return maps.Clone(c) }

// catchUp reads from Kafka the records of each gap [from, to) (what the
// view no longer keeps) and delivers their alerts, moving cur to the gaps' ends.
func (a *Alerts) catchUp(ctx context.Context, gaps map[int32][2]int64, cur Cursor, delivered *idSet, f AlertFilter, fn func(StoredAlert, Cursor) error) error {
	client, err := sarama.NewClient(a.k.Brokers, kafkaconfig.Sarama("logmon-alerts-catchup"))
	if err != nil {
		return fmt.Errorf("alerts catch-up: %w", err)
	}
	defer client.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return fmt.Errorf("alerts catch-up: %w", err)
	}
	defer consumer.Close()
	for p, g := range gaps {
		from, to := g[0], g[1]
		if oldest, err := client.GetOffset(a.topic, p, sarama.OffsetOldest); err == nil && from < oldest {
			a.log.Warn("alert cursor older than the topic's retention: resuming at its oldest record", "partition", p, "cursor", from, "oldest", oldest)
			from = oldest
		}
		if from >= to {
			cur[p] = to
			continue
		}
		pc, err := consumer.ConsumePartition(a.topic, p, from)
		if err != nil {
			return fmt.Errorf("alerts catch-up %s/%d: %w", a.topic, p, err)
		}
		err = func() error {
			defer pc.Close()
			for {
				select {
				case m := <-pc.Messages():
					cur[p] = m.Offset + 1
					if al, ok := decodeAlert(m); ok && delivered.add(al.ID) && f.match(&al) {
						if err := fn(StoredAlert{Partition: p, Offset: m.Offset, Alert: al}, cur.copy()); err != nil {
							return err
						}
					}
					if m.Offset+1 >= to {
						return nil
					}
				case err := <-pc.Errors():
					return fmt.Errorf("alerts catch-up %s/%d: %w", a.topic, p, err)
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}()
		if err != nil {
			return err
		}
		cur[p] = to
	}
	return nil
}

// idSet remembers the last n ids added (a FIFO), for dropping replays with
// bounded memory.
type idSet struct {
	n     int
	set   map[string]struct{}
	order []string
}

func newIDSet(n int) *idSet { return &idSet{n: n, set: make(map[string]struct{})} }

// add records id and reports whether it was new.
func (s *idSet) add(id string) bool {
	if _, ok := s.set[id]; ok {
		return false
	}
	s.set[id] = struct{}{}
	s.order = append(s.order, id)
	if len(s.order) > s.n+s.n/4 {
		drop := len(s.order) - s.n
		for _, old := range s.order[:drop] {
			delete(s.set, old)
		}
		s.order = append(make([]string, 0, s.n+s.n/4+1), s.order[drop:]...)
	}
	return true
}
