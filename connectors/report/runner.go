package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/log-monitor/log_monitor/connectors/mail"
)

// Clock is the time source of the Runner (a fake one in tests).
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Sender delivers one mail; *mail.Sender is the real one.
type Sender interface {
	Send(ctx context.Context, m mail.Message) error
}

// Config is the Runner's settings.
type Config struct {
	Schedule Schedule
	// RetryDelay is the wait before the one retry of a failed report.
	RetryDelay time.Duration
	To         []string
	// StatePath is the file holding the last day handled.
	StatePath string
	// MaxCatchUp is how many missed days a start sends at most (default 7).
	MaxCatchUp int
}

// State is what the Runner remembers across restarts.
type State struct {
	// LastDay is the last report day handled (sent, or its failure mailed).
	LastDay string    `json:"last_day"`
	Status  string    `json:"status"` // "sent", "failed" or "initial"
	At      time.Time `json:"at"`
}

// Runner sends the daily report on its schedule.
type Runner struct {
	cfg   Config
	src   Source
	send  Sender
	clock Clock
	log   *slog.Logger
	// Metrics are the runner's counters (never nil); Metrics.Attempts
	// counts the report builds tried.
	Metrics *Metrics
}

// NewRunner returns a runner; clock nil means the real clock.
func NewRunner(cfg Config, src Source, send Sender, clock Clock, log *slog.Logger) (*Runner, error) {
	if len(cfg.To) == 0 {
		return nil, errors.New("report: no recipients")
	}
	if cfg.StatePath == "" {
		return nil, errors.New("report: no state path")
	}
	if cfg.Schedule.Loc == nil {
		return nil, errors.New("report: no schedule")
	}
	if cfg.MaxCatchUp <= 0 {
		cfg.MaxCatchUp = 7
	}
	if clock == nil {
		clock = realClock{}
	}
	return &Runner{cfg: cfg, src: src, send: send, clock: clock, log: log, Metrics: NewMetrics(nil)}, nil
}

// LoadState reads the state file (zero State when there is none).
func LoadState(path string) (State, error) {
	var s State
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("report state %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("report state %s: %w", path, err)
	}
	return s, nil
}

func saveState(path string, s State) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("report state %s: %w", path, err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("report state %s: %w", path, err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("report state %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("report state %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report state %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("report state %s: %w", path, err)
	}
	return nil
}

// due returns the report days whose firing has passed and that are not
// handled, oldest first. On the very first start (no state) the firings
// before it are not owed: the state starts at the last one.
func (r *Runner) due(now time.Time) ([]string, error) {
	st, err := LoadState(r.cfg.StatePath)
	if err != nil {
		return nil, err
	}
	latest := r.cfg.Schedule.ReportDay(r.cfg.Schedule.Prev(now))
	if st.LastDay == "" {
		st = State{LastDay: latest, Status: "initial", At: now}
		r.log.Info("report schedule starts; the first report goes out at the next firing",
			"next", r.cfg.Schedule.Next(now), "covered_until", latest)
		return nil, saveState(r.cfg.StatePath, st)
	}
	var days []string
	for d := st.LastDay; ; {
		if d, err = nextDay(d); err != nil {
			return nil, err
		}
		if d > latest {
			break
		}
		days = append(days, d)
	}
	if len(days) > r.cfg.MaxCatchUp {
		r.log.Warn("report: more days missed than are caught up; the oldest are skipped (send them with `logmon report --date D --send`)",
			"missed", len(days), "sending", r.cfg.MaxCatchUp, "first_skipped", days[0])
		days = days[len(days)-r.cfg.MaxCatchUp:]
	}
	return days, nil
}

// Run sends each day's report at the schedule until ctx ends; missed
// firings (the process was down at 09:00) are sent at start.
func (r *Runner) Run(ctx context.Context) error {
	r.log.Info("daily report scheduled", "at", fmt.Sprintf("%02d:%02d", r.cfg.Schedule.Hour, r.cfg.Schedule.Minute),
		"zone", r.cfg.Schedule.Loc.String(), "to", r.cfg.To, "state", r.cfg.StatePath)
	for {
		if err := r.Tick(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.log.Error("daily report round failed; trying again after the retry delay", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-r.clock.After(r.cfg.RetryDelay):
			}
			continue
		}
		now := r.clock.Now()
		// Wake at the next firing, and at least every minute: a clock that
		// jumps (suspend, NTP) is noticed.
		wait := min(r.cfg.Schedule.Next(now).Sub(now), time.Minute)
		select {
		case <-ctx.Done():
			return nil
		case <-r.clock.After(wait):
		}
	}
}

// Tick sends every report that is due now.
func (r *Runner) Tick(ctx context.Context) error {
	days, err := r.due(r.clock.Now())
	if err != nil {
		return err
	}
	for _, day := range days {
		status, err := r.SendDay(ctx, day)
		if err != nil {
			return err
		}
		if err := saveState(r.cfg.StatePath, State{LastDay: day, Status: status, At: r.clock.Now()}); err != nil {
			return err
		}
		r.Metrics.Mails.WithLabelValues(status).Inc()
		if d, err := time.Parse(time.DateOnly, day); err == nil {
			r.Metrics.LastDay.Set(float64(d.Unix()))
		}
	}
	return nil
}

// SendDay builds and mails day's report; after a failure it waits
// RetryDelay and tries once more, then mails the failure. It returns
// "sent" or "failed" once a mail was accepted, and an error when neither
// the report nor the failure mail could be sent.
func (r *Runner) SendDay(ctx context.Context, day string) (string, error) {
	var err error
	for attempt := 1; attempt <= 2; attempt++ {
		if attempt == 2 {
			r.log.Warn("daily report failed; retrying once", "day", day, "retry_in", r.cfg.RetryDelay, "err", err)
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-r.clock.After(r.cfg.RetryDelay):
			}
		}
		r.Metrics.Attempts.Inc()
		var rep Report
		if rep, err = BuildDay(ctx, r.src, day, r.cfg.Schedule.Loc, r.clock.Now()); err == nil {
			if err = r.send.Send(ctx, rep.Message(r.cfg.To)); errors.Is(err, mail.ErrRecipientsRejected) {
				r.log.Error("the SMTP server refused recipients of the daily report; it went to the others", "day", day, "err", err)
				err = nil
			}
			if err == nil {
				r.log.Info("daily report sent", "day", day, "to", r.cfg.To, "attempt", attempt)
				return "sent", nil
			}
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
	r.log.Error("daily report failed twice; mailing the failure", "day", day, "err", err)
	if ferr := r.send.Send(ctx, FailureMessage(day, 2, err, r.cfg.To)); ferr != nil && !errors.Is(ferr, mail.ErrRecipientsRejected) {
		return "", fmt.Errorf("report %s: %w; and the failure mail: %w", day, err, ferr)
	}
	return "failed", nil
}

// BuildDay reads day's metrics and alerts from src and renders the report.
func BuildDay(ctx context.Context, src Source, day string, loc *time.Location, now time.Time) (Report, error) {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return Report{}, fmt.Errorf("report: day %q: want YYYY-MM-DD", day)
	}
	doc, err := src.Daily(ctx, day)
	if err != nil {
		return Report{}, fmt.Errorf("report %s: %w", day, err)
	}
	alerts, err := src.Alerts(ctx, day, loc)
	if err != nil {
		return Report{}, fmt.Errorf("report %s: %w", day, err)
	}
	incidents, err := src.Incidents(ctx, day, loc)
	if err != nil {
		return Report{}, fmt.Errorf("report %s: %w", day, err)
	}
	return Build(doc, alerts, incidents, loc, now)
}
