package notify

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/contracts"
)

// DefaultIncidentGroup is the consumer group of incident mail.
const DefaultIncidentGroup = "logmon-notify-incidents"

// IncidentConfig turns on mail per incident: the SSH rules' alerts are
// then mailed through their incidents, one thread each, and no longer one
// by one.
type IncidentConfig struct {
	// Topic is the incident topic (default ssh-incidents); Group the
	// consumer group (default DefaultIncidentGroup).
	Topic, Group string
	Settings     contracts.IncidentSettings
}

// Incident mail kinds, each sent at most once per incident (the ledger
// keeps "<incident id>#<kind>").
const (
	mailOpened   = "opened"   // the first mail, after the settle
	mailCritical = "critical" // a reply: the incident turned critical
	mailLogin    = "login"    // a reply: a login succeeded
	mailClosed   = "closed"   // a reply: the closing summary (if on)
	mailBackfill = "backfill" // in a backfill summary instead of its own mails
)

func ledgerKey(id, kind string) string { return id + "#" + kind }

// tracked is an incident the mailer has seen a version of.
type tracked struct {
	inc       *contracts.Incident
	firstSeen time.Time
	// backfill: its activity lay further behind the clock than the bound
	// when it was first seen (a replay, a catch-up).
	backfill bool
}

// queued is an incident record waiting to be marked, in partition order.
type queued struct {
	sess sarama.ConsumerGroupSession
	msg  *sarama.ConsumerMessage
	id   string // "" : not an incident
}

// incidentItem is one incident record on its way to the loop.
type incidentItem struct {
	queued
	inc *contracts.Incident
}

// incidentState is the incident loop's memory.
type incidentState struct {
	tracked map[string]*tracked
	queues  map[int32][]queued
	// lastBackfill is when the latest backfill incident arrived: the
	// summary goes out once a catch-up has been quiet for a moment.
	lastBackfill time.Time
}

// backfillQuiet is how long no backfill incident must arrive before the
// backfill summary of a catch-up is sent.
const backfillQuiet = 5 * time.Second

// runIncidents consumes the incident topic and mails per incident until
// ctx ends.
func (n *Notifier) runIncidents(ctx context.Context) error {
	ic := n.cfg.Incidents
	group, err := n.consumerGroup("logmon-notify-incidents", ic.Group)
	if err != nil {
		return err
	}
	defer group.Close()
	items := make(chan incidentItem, n.cfg.MaxPending)
	loopErr := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		err := n.incidentLoop(ctx, items)
		cancel()
		loopErr <- err
	}()
	n.log.Info("mailing incidents", "topic", ic.Topic, "group", ic.Group, "settle", ic.Settings.Settle,
		"backfill_after", ic.Settings.BackfillAfter, "closing_summary", ic.Settings.ClosingSummary)
	n.consume(ctx, group, ic.Topic, incidentHandler{n: n, items: items})
	cancel()
	if err := <-loopErr; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

type incidentHandler struct {
	n     *Notifier
	items chan<- incidentItem
}

func (incidentHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (incidentHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h incidentHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for {
		select {
		case <-sess.Context().Done():
			return nil
		case msg, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			it := incidentItem{queued: queued{sess: sess, msg: msg}}
			var inc contracts.Incident
			if err := json.Unmarshal(msg.Value, &inc); err != nil || inc.ID == "" || inc.Version < 1 {
				h.n.log.Warn("notify: record is not an incident; skipped", "topic", msg.Topic, "partition", msg.Partition, "offset", msg.Offset, "err", err)
			} else {
				it.inc, it.id = &inc, inc.ID
			}
			select {
			case h.items <- it:
			case <-sess.Context().Done():
				return nil
			}
		}
	}
}

// incidentLoop takes the records in and, every half second, sends what is
// due and marks the records whose incidents need nothing more.
func (n *Notifier) incidentLoop(ctx context.Context, items <-chan incidentItem) error {
	st := &incidentState{tracked: map[string]*tracked{}, queues: map[int32][]queued{}}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case it := <-items:
			n.takeIncident(st, it)
		case <-tick.C:
			if err := n.mailIncidents(ctx, st); err != nil {
				return err
			}
			n.markSettled(st)
		}
	}
}

// takeIncident keeps the newest version of the record's incident.
func (n *Notifier) takeIncident(st *incidentState, it incidentItem) {
	p := it.msg.Partition
	st.queues[p] = append(st.queues[p], it.queued)
	if it.inc == nil {
		return
	}
	now := n.now()
	t := st.tracked[it.id]
	if t == nil {
		t = &tracked{inc: it.inc, firstSeen: now}
		t.backfill = it.inc.LastEventTime.Before(now.Add(-n.cfg.Incidents.Settings.BackfillAfter))
		st.tracked[it.id] = t
	} else if it.inc.Version > t.inc.Version {
		t.inc = it.inc
	}
	if t.backfill && !t.inc.LastEventTime.Before(now.Add(-n.cfg.Incidents.Settings.BackfillAfter)) {
		t.backfill, t.firstSeen = false, now // the attack goes on live: mail it as one
	}
	if t.backfill {
		st.lastBackfill = now
	}
}

// due lists the mails incident t still needs (what the ledger lacks).
func (n *Notifier) due(t *tracked) []string {
	id := t.inc.ID
	if t.backfill {
		if n.ledger.Has(ledgerKey(id, mailBackfill)) || n.ledger.Has(ledgerKey(id, mailOpened)) {
			return nil
		}
		return []string{mailBackfill}
	}
	var out []string
	want := []string{mailOpened}
	if t.inc.Severity == "critical" {
		want = append(want, mailCritical)
	}
	if t.inc.SuccessfulLogins > 0 {
		want = append(want, mailLogin)
	}
	if t.inc.Status == contracts.IncidentClosed && n.cfg.Incidents.Settings.ClosingSummary {
		want = append(want, mailClosed)
	}
	for _, k := range want {
		if !n.ledger.Has(ledgerKey(id, k)) {
			out = append(out, k)
		}
	}
	return out
}

// mailIncidents sends what is due: the opening mails whose settle has
// passed (at once for a successful login; one digest when many), the
// replies, and the backfill summary once a catch-up is quiet.
func (n *Notifier) mailIncidents(ctx context.Context, st *incidentState) error {
	now := n.now()
	var opening, backfill []*tracked
	ids := make([]string, 0, len(st.tracked))
	for id := range st.tracked {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		t := st.tracked[id]
		due := n.due(t)
		switch {
		case len(due) == 0:
		case due[0] == mailBackfill:
			backfill = append(backfill, t)
		case due[0] == mailOpened:
			if now.Sub(t.firstSeen) >= n.cfg.Incidents.Settings.Settle || t.inc.SuccessfulLogins > 0 {
				opening = append(opening, t)
			}
		default:
			for _, kind := range due {
				msg := IncidentReply(t.inc, kind, n.cfg.To, n.cfg.Loc, n.cfg.Links)
				if err := n.deliver(ctx, msg, "incident_"+kind, []string{ledgerKey(id, kind)}); err != nil {
					return err
				}
			}
		}
	}
	if err := n.openIncidents(ctx, opening); err != nil {
		return err
	}
	if len(backfill) > 0 && now.Sub(st.lastBackfill) >= backfillQuiet {
		incs := make([]*contracts.Incident, len(backfill))
		keys := make([]string, len(backfill))
		for i, t := range backfill {
			incs[i], keys[i] = t.inc, ledgerKey(t.inc.ID, mailBackfill)
		}
		msg := BackfillMessage(incs, n.cfg.To, n.cfg.Loc, n.cfg.Links)
		if err := n.deliver(ctx, msg, "incident_backfill", keys); err != nil {
			return err
		}
	}
	return nil
}

// openIncidents sends the opening mails: one each, or one digest when
// more than DigestAfter open at once. What an opening mail already shows
// (critical, a successful login) needs no reply.
func (n *Notifier) openIncidents(ctx context.Context, opening []*tracked) error {
	covered := func(inc *contracts.Incident) []string {
		keys := []string{ledgerKey(inc.ID, mailOpened)}
		if inc.Severity == "critical" {
			keys = append(keys, ledgerKey(inc.ID, mailCritical))
		}
		if inc.SuccessfulLogins > 0 {
			keys = append(keys, ledgerKey(inc.ID, mailLogin))
		}
		return keys
	}
	if n.cfg.DigestAfter > 0 && len(opening) > n.cfg.DigestAfter {
		incs := make([]*contracts.Incident, len(opening))
		var keys []string
		for i, t := range opening {
			incs[i] = t.inc
			keys = append(keys, covered(t.inc)...)
		}
		return n.deliver(ctx, IncidentDigest(incs, n.cfg.To, n.cfg.Loc, n.cfg.Links), "incident_digest", keys)
	}
	for _, t := range opening {
		if err := n.deliver(ctx, IncidentOpened(t.inc, n.cfg.To, n.cfg.Loc, n.cfg.Links), "incident_opened", covered(t.inc)); err != nil {
			return err
		}
	}
	return nil
}

// markSettled marks, per partition in order, the records whose incidents
// need no further mail, and forgets incidents no record waits for.
func (n *Notifier) markSettled(st *incidentState) {
	waiting := map[string]bool{}
	for p, q := range st.queues {
		i := 0
		for ; i < len(q); i++ {
			if t := st.tracked[q[i].id]; q[i].id != "" && t != nil && len(n.due(t)) > 0 {
				break
			}
			q[i].sess.MarkMessage(q[i].msg, "")
		}
		st.queues[p] = slices.Delete(q, 0, i)
		for _, r := range st.queues[p] {
			waiting[r.id] = true
		}
	}
	for id, t := range st.tracked {
		if !waiting[id] && len(n.due(t)) == 0 {
			delete(st.tracked, id)
		}
	}
}

// incidentSSHRule reports whether an alert of rule is mailed through its
// incident when incident mail is on.
func incidentSSHRule(rule string) bool { return slices.Contains(contracts.RuleNames, rule) }
