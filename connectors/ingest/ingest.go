// Package ingest is the source side of log_monitor: it tails the SSH logs
// (connectors/tail), parses every line (connectors/sshlog) and publishes the
// events to `ssh-log` (connectors/publish), advancing the tail registry only
// over chunks Kafka acknowledged.
//
// One event, start to end: the tailer hands out a chunk of complete lines of
// one file; each line is parsed into an Event whose JSON (the exact Kafka
// value) is appended to one buffer per chunk; each record is keyed by its
// row_hash and partitioned by its source IP with goka's hash (lines without an
// IP by host and pid), so each IP's events stay in file order; when Kafka has
// acknowledged every record of the chunk, the tailer may store the chunk's end.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/publish"
	"github.com/log-monitor/log_monitor/connectors/sshlog"
	"github.com/log-monitor/log_monitor/connectors/tail"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/topics"
)

// Config is what the pipeline needs.
type Config struct {
	Kafka config.Kafka
	Tail  tail.Config
	Topic string
	// Year is the start year for replaying old files (0 = live inference);
	// Loc the files' time zone.
	Year int
	Loc  *time.Location
	// Once stops the pipeline when every file is read to its end and
	// acknowledged (a replay), instead of following the files.
	Once bool
	// ProgressEvery is how often progress is logged (0 = 10 s).
	ProgressEvery time.Duration
	// DrainTimeout bounds the wait for Kafka's acknowledgements at shutdown;
	// what is not acknowledged by then is sent again at the next start.
	DrainTimeout time.Duration
}

// Pipeline runs tail -> parse -> publish.
type Pipeline struct {
	cfg     Config
	log     *slog.Logger
	tailer  *tail.Tailer
	parsers map[string]*sshlog.Parser
	m       metrics

	fatalOnce sync.Once
	fatal     chan error
}

// New prepares a pipeline; reg receives its metrics (nil: none).
func New(cfg Config, reg prometheus.Registerer, log *slog.Logger) (*Pipeline, error) {
	if cfg.Topic == "" {
		cfg.Topic = contracts.TopicSSHLog
	}
	if cfg.Loc == nil {
		cfg.Loc = time.Local
	}
	if cfg.ProgressEvery == 0 {
		cfg.ProgressEvery = 10 * time.Second
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 15 * time.Second
	}
	t, err := tail.New(cfg.Tail, log)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{cfg: cfg, log: log, tailer: t, parsers: map[string]*sshlog.Parser{}, fatal: make(chan error, 1)}
	p.m = newMetrics(reg, t)
	return p, nil
}

// Run ensures the topics, then tails, parses and publishes until ctx ends
// (or, with Once, until every file is published).
func (p *Pipeline) Run(ctx context.Context) error {
	specs := append(topics.Contract(), topics.Spec{Name: p.cfg.Topic})
	if _, err := topics.Ensure(ctx, p.cfg.Kafka, specs, p.log); err != nil {
		return err
	}
	pub, err := publish.New(p.cfg.Kafka, p.cfg.Topic, p.log)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	chunks := make(chan *tail.Chunk, 4)
	tailDone := make(chan error, 1)
	go func() { tailDone <- p.tailer.Run(ctx, chunks) }()
	go p.progress(ctx, pub)
	if p.cfg.Once {
		go p.stopWhenCaughtUp(ctx, cancel)
	}

	var runErr error
loop:
	for {
		select {
		case c := <-chunks:
			if err := p.send(ctx, pub, c); err != nil && ctx.Err() == nil {
				runErr = err
				break loop
			}
		case err := <-p.fatal:
			runErr = err
			break loop
		case err := <-tailDone:
			tailDone <- err
			runErr = err
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	cancel()
	if err := <-tailDone; err != nil && runErr == nil {
		runErr = err
	}
	p.drain(pub)
	if err := p.tailer.SaveRegistry(); err != nil && runErr == nil {
		runErr = err
	}
	st := pub.Stats()
	p.log.Info("ingest stopped", "published", st.Acked, "failed", st.Failed)
	return runErr
}

// send turns a chunk into one batch of records and queues it.
func (p *Pipeline) send(ctx context.Context, pub *publish.Publisher, c *tail.Chunk) error {
	b := p.encode(c, time.Now())
	b.Done = func(err error) {
		if err != nil {
			p.fail(fmt.Errorf("ingest %s [%d,%d): %w", c.Path, c.Start, c.End, err))
			return
		}
		p.tailer.Ack(c)
		p.m.acked.Add(float64(len(c.Lines)))
	}
	p.m.lines.Add(float64(len(c.Lines)))
	p.m.bytes.Add(float64(c.End - c.Start))
	return pub.Send(ctx, b)
}

// encode parses every line of c; keys, values and partition keys slice one
// buffer, so a chunk of thousands of lines costs a handful of allocations.
func (p *Pipeline) encode(c *tail.Chunk, collected time.Time) *publish.Batch {
	parser := p.parser(c.Path)
	n := len(c.Lines)
	buf := make([]byte, 0, 2*len(c.Data)+n*400) // measured: about 551 bytes a line beyond its text
	ends := make([]int, 3*n)                    // end offsets in buf of key, value, partition key
	for i, l := range c.Lines {
		ev := parser.Parse(l.Text, l.Offset, collected)
		if l.Truncated {
			ev.Truncated = true
		}
		p.m.countType(ev.EventType)
		buf = append(buf, ev.RowHash...)
		ends[3*i] = len(buf)
		buf = ev.AppendJSON(buf)
		ends[3*i+1] = len(buf)
		buf = appendPartitionKey(buf, &ev)
		ends[3*i+2] = len(buf)
	}
	b := &publish.Batch{
		Keys:          make([]sarama.ByteEncoder, n),
		Values:        make([]sarama.ByteEncoder, n),
		PartitionKeys: make([][]byte, n),
	}
	start := 0
	for i := 0; i < n; i++ {
		b.Keys[i] = buf[start:ends[3*i]:ends[3*i]]
		b.Values[i] = buf[ends[3*i]:ends[3*i+1]:ends[3*i+1]]
		b.PartitionKeys[i] = buf[ends[3*i+1]:ends[3*i+2]:ends[3*i+2]]
		start = ends[3*i+2]
	}
	return b
}

// appendPartitionKey appends what places the event on a partition: its
// source IP, or host and pid for lines without one (a connection's lines
// stay together).
func appendPartitionKey(dst []byte, ev *contracts.Event) []byte {
	if ev.IP != "" {
		return append(dst, ev.IP...)
	}
	dst = append(dst, ev.HostName...)
	dst = append(dst, 0)
	return strconv.AppendInt(dst, int64(ev.PID), 10)
}

// parser returns the file's parser (one per path: year inference follows
// each file's own months).
func (p *Pipeline) parser(path string) *sshlog.Parser {
	ps, ok := p.parsers[path]
	if !ok {
		ps = sshlog.NewParser(sshlog.Source{Path: path, Year: p.cfg.Year, Loc: p.cfg.Loc}, nil)
		p.parsers[path] = ps
	}
	return ps
}

func (p *Pipeline) fail(err error) {
	p.fatalOnce.Do(func() { p.fatal <- err })
}

// drain waits (bounded) for Kafka to acknowledge what was queued, so the
// registry stores as much as possible before the process ends.
func (p *Pipeline) drain(pub *publish.Publisher) {
	done := make(chan error, 1)
	go func() { done <- pub.Close() }()
	select {
	case err := <-done:
		if err != nil {
			p.log.Warn("publisher closed with errors; unacknowledged lines are sent again at the next start", "err", err)
		}
	case <-time.After(p.cfg.DrainTimeout):
		p.log.Warn("Kafka did not acknowledge everything in time; the rest is sent again at the next start", "timeout", p.cfg.DrainTimeout)
	}
}

// stopWhenCaughtUp cancels once every file is read to its end and acknowledged.
func (p *Pipeline) stopWhenCaughtUp(ctx context.Context, cancel context.CancelFunc) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			st := p.tailer.Stats()
			if len(st.Files) == 0 && time.Since(start) > 3*time.Second {
				p.fail(fmt.Errorf("%w %v", ErrNoFiles, p.cfg.Tail.Globs))
				return
			}
			if caughtUp(st) {
				p.log.Info("every file is published to its end")
				cancel()
				return
			}
		}
	}
}

// TailStats returns the tailer's per-file positions.
func (p *Pipeline) TailStats() tail.Stats { return p.tailer.Stats() }

// CaughtUp reports whether every tailed file is read to its end and
// acknowledged by Kafka.
func (p *Pipeline) CaughtUp() bool { return caughtUp(p.tailer.Stats()) }

func caughtUp(st tail.Stats) bool {
	if len(st.Files) == 0 || st.Inflight > 0 {
		return false
	}
	for _, f := range st.Files {
		if f.Lag > 0 || f.ReadOffset < f.Size {
			return false
		}
	}
	return true
}

// progress logs rates and lag every ProgressEvery.
func (p *Pipeline) progress(ctx context.Context, pub *publish.Publisher) {
	tick := time.NewTicker(p.cfg.ProgressEvery)
	defer tick.Stop()
	last, lastAt := pub.Stats().Acked, time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			st := p.tailer.Stats()
			acked := pub.Stats().Acked
			rate := float64(acked-last) / now.Sub(lastAt).Seconds()
			p.log.Info("ingest progress", "events_per_s", int64(rate), "published", acked,
				"lines_read", st.Lines, "bytes_read", st.Bytes, "lag_bytes", st.Lag, "files", len(st.Files), "inflight_chunks", st.Inflight)
			last, lastAt = acked, now
		}
	}
}

// ErrNoFiles is returned by a Once run whose globs match nothing.
var ErrNoFiles = errors.New("ingest: no file matches the globs")
