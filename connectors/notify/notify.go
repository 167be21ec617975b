// Package notify is the alert mailer (`logmon notify`): a consumer group on
// ssh-alerts that mails each alert to the on-call recipients, or one digest
// when many arrive together.
//
// Delivery is at-least-once towards the SMTP server and exactly-once towards
// people as far as one machine can tell:
//
//   - An alert's Kafka offset is marked (and so committed) only after the
//     SMTP server accepted its mail, or after it was found already mailed.
//     Offsets are marked in arrival order, so a crash re-delivers exactly the
//     alerts whose mails were not confirmed.
//   - The ids of accepted mails go to a ledger file (Ledger), synced before
//     the offset is marked. A redelivered or re-emitted alert (the processors
//     emit the same alert_id again after a crash) is found there and not
//     mailed again. Only a crash between the server's acceptance and the
//     ledger's sync re-sends a mail: at most the mails in flight.
//   - SMTP down: the mailer retries with backoff; the alerts waiting fill a
//     bounded queue, then consumption pauses. Nothing is dropped.
//
// Cooldown and escalation per (key, rule) are decided by the processors and
// carried by the alert (level, seq): every distinct alert_id is one mail.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/mail"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
)

// DefaultGroup is the mailer's consumer group.
const DefaultGroup = "logmon-notify"

// Config is the mailer's settings.
type Config struct {
	Kafka config.Kafka
	// Topic is the alert topic (default ssh-alerts); Group the consumer group.
	Topic, Group string
	// To are the recipients (already checked with mail.ParseRecipients).
	To []string
	// DigestAfter: more alerts than this in one gathering make one digest
	// mail (0: always one mail per alert).
	DigestAfter int
	// DigestWindow is how long alerts are gathered after the first one.
	DigestWindow time.Duration
	// LedgerPath is the file of mailed alert ids.
	LedgerPath string
	// LedgerRetention is how long an id is remembered (default 14 days).
	LedgerRetention time.Duration
	// MaxPending bounds the alerts received but not yet mailed (default 1000).
	MaxPending int
	// Backoff is the first retry delay after an SMTP failure, doubling up to
	// MaxBackoff (defaults 1 s and 1 min).
	Backoff, MaxBackoff time.Duration
	Links               Links
	// Loc is the zone of the times in mails (the report zone).
	Loc *time.Location
	// Incidents (nil: off) mails the SSH rules per incident
	// (incidents.go); their alerts are then not mailed one by one.
	Incidents *IncidentConfig
}

// Sender delivers one mail; *mail.Sender is the real one.
type Sender interface {
	Send(ctx context.Context, m mail.Message) error
}

// Notifier is the running mailer.
type Notifier struct {
	cfg     Config
	send    Sender
	metrics *Metrics
	log     *slog.Logger
	ledger  *Ledger
	items   chan item
	now     func() time.Time
}

// item is one alert record on its way: msg is marked once it is handled.
type item struct {
	sess  sarama.ConsumerGroupSession
	msg   *sarama.ConsumerMessage
	alert *contracts.Alert // nil: the record did not decode
}

// New checks cfg and opens the ledger.
func New(cfg Config, send Sender, m *Metrics, log *slog.Logger) (*Notifier, error) {
	if len(cfg.To) == 0 {
		return nil, fmt.Errorf("notify: no recipients (set %s or %s)", config.EnvAlertRecipients, config.EnvReportRecipients)
	}
	if cfg.Topic == "" {
		cfg.Topic = contracts.TopicSSHAlerts
	}
	if cfg.Group == "" {
		cfg.Group = DefaultGroup
	}
	if cfg.LedgerPath == "" {
		return nil, errors.New("notify: no ledger path")
	}
	if cfg.LedgerRetention <= 0 {
		cfg.LedgerRetention = 14 * 24 * time.Hour
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 1000
	}
	if cfg.DigestWindow < 0 {
		cfg.DigestWindow = 0
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.MaxBackoff < cfg.Backoff {
		cfg.MaxBackoff = max(time.Minute, cfg.Backoff)
	}
	if cfg.Loc == nil {
		cfg.Loc = time.UTC
	}
	if ic := cfg.Incidents; ic != nil {
		if ic.Topic == "" {
			ic.Topic = contracts.TopicSSHIncidents
		}
		if ic.Group == "" {
			ic.Group = DefaultIncidentGroup
		}
		if err := ic.Settings.Validate(); err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	l, err := OpenLedger(cfg.LedgerPath, cfg.LedgerRetention, time.Now())
	if err != nil {
		return nil, err
	}
	return &Notifier{cfg: cfg, send: send, metrics: m, log: log, ledger: l,
		items: make(chan item, cfg.MaxPending), now: time.Now}, nil
}

// Run consumes the alert topic and mails until ctx ends.
func (n *Notifier) Run(ctx context.Context) error {
	defer n.ledger.Close()
	group, err := n.consumerGroup("logmon-notify", n.cfg.Group)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	mailErr := make(chan error, 1)
	go func() {
		err := n.mailLoop(ctx)
		cancel() // a failed mail loop stops the consumer too
		mailErr <- err
	}()
	incErr := make(chan error, 1)
	if n.cfg.Incidents != nil {
		go func() {
			err := n.runIncidents(ctx)
			cancel()
			incErr <- err
		}()
	} else {
		incErr <- nil
	}
	n.log.Info("mailing alerts", "topic", n.cfg.Topic, "group", n.cfg.Group, "to", n.cfg.To,
		"digest_after", n.cfg.DigestAfter, "digest_window", n.cfg.DigestWindow, "ledger", n.cfg.LedgerPath, "ledger_ids", n.ledger.Len())
	n.consume(ctx, group, n.cfg.Topic, handler{n})
	cancel()
	merr := <-mailErr
	ierr := <-incErr
	var consumeErr error
	if err := group.Close(); err != nil {
		consumeErr = fmt.Errorf("notify: close consumer group: %w", err)
	}
	if merr != nil && !errors.Is(merr, context.Canceled) {
		return merr
	}
	if ierr != nil {
		return ierr
	}
	return consumeErr
}

// consumerGroup opens one of the mailer's consumer groups (range
// assignment: one instance mails everything) and logs its errors.
func (n *Notifier) consumerGroup(clientID, name string) (sarama.ConsumerGroup, error) {
	sc := kafkaconfig.Sarama(clientID)
	sc.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()}
	group, err := sarama.NewConsumerGroup(n.cfg.Kafka.Brokers, name, sc)
	if err != nil {
		return nil, fmt.Errorf("notify: consumer group %s: %w", name, err)
	}
	go func() {
		for err := range group.Errors() {
			n.log.Warn("notify: consumer error", "group", name, "err", err)
		}
	}()
	return group, nil
}

// consume runs group's sessions on topic until ctx ends, starting a new
// one a second after a failed one.
func (n *Notifier) consume(ctx context.Context, group sarama.ConsumerGroup, topic string, h sarama.ConsumerGroupHandler) {
	for ctx.Err() == nil {
		err := group.Consume(ctx, []string{topic}, h)
		if err == nil {
			continue
		}
		if errors.Is(err, sarama.ErrClosedConsumerGroup) || ctx.Err() != nil {
			return
		}
		n.log.Warn("notify: consume failed; retrying", "topic", topic, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// handler hands each claimed record to the mail loop, in order.
type handler struct{ n *Notifier }

func (handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h handler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for {
		select {
		case <-sess.Context().Done():
			return nil
		case msg, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			it := item{sess: sess, msg: msg}
			var a contracts.Alert
			if err := json.Unmarshal(msg.Value, &a); err != nil || a.ID == "" {
				h.n.log.Warn("notify: record is not an alert; skipped", "topic", msg.Topic, "partition", msg.Partition, "offset", msg.Offset, "err", err)
			} else {
				it.alert = &a
			}
			h.n.metrics.Pending.Inc()
			select {
			case h.n.items <- it: // blocks while the mail loop is behind: consumption pauses
			case <-sess.Context().Done():
				h.n.metrics.Pending.Dec()
				return nil
			}
		}
	}
}

// mailLoop gathers alerts for DigestWindow after the first, then mails them.
func (n *Notifier) mailLoop(ctx context.Context) error {
	for {
		var batch []item
		select {
		case <-ctx.Done():
			return ctx.Err()
		case it := <-n.items:
			batch = append(batch, it)
		}
		timer := time.NewTimer(n.cfg.DigestWindow)
	gather:
		for len(batch) < n.cfg.MaxPending {
			select {
			case <-ctx.Done():
				timer.Stop()
				return ctx.Err()
			case it := <-n.items:
				batch = append(batch, it)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		if err := n.handle(ctx, batch); err != nil {
			return err
		}
	}
}

// handle mails a gathered batch: skips what the ledger has, sends one
// digest or one mail per alert, records, then marks the offsets in order.
func (n *Notifier) handle(ctx context.Context, batch []item) error {
	fresh := make([]int, 0, len(batch)) // indexes of alerts to mail
	seen := map[string]bool{}
	for i, it := range batch {
		switch {
		case it.alert == nil:
			n.metrics.Skipped.WithLabelValues("invalid").Inc()
		case n.cfg.Incidents != nil && incidentSSHRule(it.alert.Rule):
			n.metrics.Skipped.WithLabelValues("incident").Inc() // mailed through its incident
		case seen[it.alert.ID] || n.ledger.Has(it.alert.ID):
			n.metrics.Skipped.WithLabelValues("duplicate").Inc()
			n.log.Debug("alert already mailed; skipped", "alert_id", it.alert.ID)
		default:
			seen[it.alert.ID] = true
			fresh = append(fresh, i)
		}
	}
	done := 0 // batch[:done] is handled and marked
	markUpTo := func(end int) {
		for ; done < end; done++ {
			batch[done].sess.MarkMessage(batch[done].msg, "")
			n.metrics.Pending.Dec()
		}
	}
	if n.cfg.DigestAfter > 0 && len(fresh) > n.cfg.DigestAfter {
		alerts := make([]*contracts.Alert, len(fresh))
		ids := make([]string, len(fresh))
		for j, i := range fresh {
			alerts[j], ids[j] = batch[i].alert, batch[i].alert.ID
		}
		msg, err := DigestMessage(alerts, n.cfg.To, n.cfg.Loc, n.cfg.Links)
		if err != nil {
			return err
		}
		if err := n.deliver(ctx, msg, "digest", ids); err != nil {
			return err
		}
		markUpTo(len(batch))
		return nil
	}
	for _, i := range fresh {
		markUpTo(i) // skipped records before this alert
		msg, err := AlertMessage(batch[i].alert, n.cfg.To, n.cfg.Loc, n.cfg.Links)
		if err != nil {
			return err
		}
		if err := n.deliver(ctx, msg, "alert", []string{batch[i].alert.ID}); err != nil {
			return err
		}
		markUpTo(i + 1)
	}
	markUpTo(len(batch))
	return nil
}

// deliver sends msg until the server accepts it (backing off between
// failures), then records ids in the ledger. It returns only ctx's error or
// a ledger failure.
func (n *Notifier) deliver(ctx context.Context, msg mail.Message, kind string, ids []string) error {
	wait := n.cfg.Backoff
	for attempt := 1; ; attempt++ {
		err := n.send.Send(ctx, msg)
		if errors.Is(err, mail.ErrRecipientsRejected) {
			// Refused for good: sending again cannot help, and one bad
			// address must not hold up every later alert.
			n.metrics.Rejected.Inc()
			n.log.Error("the SMTP server refused recipients; the mail went to the others", "kind", kind, "subject", msg.Subject, "err", err)
			err = nil
		}
		if err == nil {
			n.metrics.Sent.WithLabelValues(kind).Inc()
			n.metrics.Alerts.Add(float64(len(ids)))
			if attempt > 1 {
				n.log.Info("mail delivered after retries", "kind", kind, "subject", msg.Subject, "attempts", attempt)
			} else {
				n.log.Info("mail delivered", "kind", kind, "subject", msg.Subject, "alerts", len(ids))
			}
			if err := n.ledger.Add(n.now(), ids...); err != nil {
				return fmt.Errorf("notify: mail %q was sent but not recorded: %w", msg.Subject, err)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n.metrics.Failures.Inc()
		n.metrics.Retries.Inc()
		n.log.Warn("mail not accepted; retrying", "kind", kind, "subject", msg.Subject, "attempt", attempt, "retry_in", wait, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, n.cfg.MaxBackoff)
	}
}
