// Package ingest is the source side of log_monitor: it tails the SSH logs
// (connectors/tail), parses every line (connectors/sshlog) and publishes the
// events to `ssh-log` exactly once (connectors/publish, in Kafka
// transactions).
//
// One event, start to end: the tailer hands out a chunk of complete lines of
// one file; each line is parsed into an Event whose JSON (the exact Kafka
// value) is appended to one buffer per chunk; each record is keyed by its
// row_hash and partitioned by its source IP with goka's hash (lines without an
// IP by host and pid), so each IP's events stay in file order. The chunks at
// hand (up to TxnLines lines) and each file's position after them go to
// Kafka in one transaction: the lines are visible to read_committed
// consumers exactly when the position that says they were sent is. A
// restart reads the positions back from Kafka (positions.go), so a crash at
// any moment neither repeats nor skips a line.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/log-monitor/log_monitor/config"
	"github.com/log-monitor/log_monitor/connectors/publish"
	"github.com/log-monitor/log_monitor/connectors/sshlog"
	"github.com/log-monitor/log_monitor/connectors/tail"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/topics"
)

// Config is what the pipeline needs.
type Config struct {
	Kafka config.Kafka
	// Tail configures the tailer; its RegistryPath and Positions are
	// ignored: the positions live in Kafka (PositionsTopic).
	Tail  tail.Config
	Topic string
	// PositionsTopic holds the file positions (default contracts.TopicIngestPositions).
	PositionsTopic string
	// ActivityTopic receives, in the same transactions, each host's SSH
	// activity per minute (default contracts.HostActivityTopic(Topic)): the
	// host stage puts it beside the host's resources.
	ActivityTopic string
	// ID is the instance's transactional id and positions key (default
	// config.IngestID of the host name, the topic and the globs).
	ID string
	// TxnTimeout bounds an open transaction (default 20 s).
	TxnTimeout time.Duration
	// TxnLines is the most lines one transaction carries (default 32,768:
	// half the tailer's in-flight bound, so it reads ahead while a
	// transaction commits).
	TxnLines int
	// TxnDuration is the longest a transaction gathers lines before it
	// commits (default 250 ms).
	TxnDuration time.Duration
	// LegacyRegistry is the tail registry file of versions before the
	// exactly-once ingest: used once, when Kafka holds no position of this
	// instance yet, so an upgrade does not send the files again.
	LegacyRegistry string
	// Year is the start year for replaying old files (0 = live inference);
	// Loc the files' time zone.
	Year int
	Loc  *time.Location
	// Once stops the pipeline when every file is read to its end and
	// committed (a replay), instead of following the files.
	Once bool
	// ProgressEvery is how often progress is logged (0 = 10 s).
	ProgressEvery time.Duration
}

// Pipeline runs tail -> parse -> publish.
type Pipeline struct {
	cfg    Config
	log    *slog.Logger
	tailer atomic.Pointer[tail.Tailer] // the current session's
	m      metrics
	// published counts lines committed (for the progress log).
	published atomic.Int64
	// nonce is the nonce of the current session's record (positions.go).
	nonce []byte
}

// New prepares a pipeline; reg receives its metrics (nil: none).
func New(cfg Config, reg prometheus.Registerer, log *slog.Logger) (*Pipeline, error) {
	if cfg.Topic == "" {
		cfg.Topic = contracts.TopicSSHLog
	}
	if cfg.PositionsTopic == "" {
		cfg.PositionsTopic = contracts.TopicIngestPositions
	}
	if cfg.ActivityTopic == "" {
		cfg.ActivityTopic = contracts.HostActivityTopic(cfg.Topic)
	}
	if cfg.ID == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("ingest id from the host name: %w", err)
		}
		cfg.ID = config.IngestID(host, cfg.Topic, cfg.Tail.Globs)
	}
	if cfg.TxnTimeout == 0 {
		cfg.TxnTimeout = 20 * time.Second
	}
	if cfg.TxnLines == 0 {
		cfg.TxnLines = tail.DefaultMaxInflight / 2 * tail.DefaultChunkLines
	}
	if cfg.TxnDuration == 0 {
		cfg.TxnDuration = 250 * time.Millisecond
	}
	if cfg.Loc == nil {
		cfg.Loc = time.Local
	}
	if cfg.ProgressEvery == 0 {
		cfg.ProgressEvery = 10 * time.Second
	}
	cfg.Tail.RegistryPath, cfg.Tail.Positions, cfg.Tail.ResetRegistry = "", nil, false
	// Check the tail configuration now, not at the first session.
	if err := cfg.Tail.Validate(); err != nil {
		return nil, err
	}
	p := &Pipeline{cfg: cfg, log: log.With("ingest_id", cfg.ID)}
	p.m = newMetrics(reg, p.TailStats)
	return p, nil
}

// Run ensures the topics, then tails, parses and publishes until ctx ends
// (or, with Once, until every file is published). A failed transaction ends
// the session: the next one starts from the positions Kafka committed.
// Being fenced (another instance with the same ID took over) ends Run with
// an error wrapping publish.ErrFenced.
func (p *Pipeline) Run(ctx context.Context) error {
	// Only the topics ingest writes: the others belong to their writers
	// (and a test's ingest may use a partition count of its own).
	specs := []topics.Spec{{Name: p.cfg.Topic}, {Name: p.cfg.PositionsTopic, Partitions: 1, Compacted: true},
		{Name: p.cfg.ActivityTopic, Retention: kafkaconfig.StreamRetention}}
	if _, err := topics.Ensure(ctx, p.cfg.Kafka, specs, p.log); err != nil {
		return err
	}
	backoff := time.Second
	for {
		started := time.Now()
		err := p.session(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			return nil
		case errors.Is(err, ErrNoFiles), errors.Is(err, errPermanent):
			return err
		case p.takenOver(ctx):
			return fmt.Errorf("ingest %s stops: another instance with the same id took over: %w (%w)", p.cfg.ID, publish.ErrFenced, err)
		}
		if time.Since(started) > time.Minute {
			backoff = time.Second
		}
		p.log.Warn("ingest session failed; starting again from the positions committed in Kafka", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// errPermanent marks errors a new session cannot fix.
var errPermanent = errors.New("permanent")

// session runs one producer and one tailer from the committed positions
// until ctx ends, Once is done, or a transaction fails.
func (p *Pipeline) session(ctx context.Context) error {
	txn, err := publish.NewTxn(p.cfg.Kafka.Brokers,
		kafkaconfig.Transactional("logmon-ingest", p.cfg.ID, p.cfg.TxnTimeout), p.log)
	if err != nil {
		return err
	}
	defer func() {
		if err := txn.Close(); err != nil {
			p.log.Warn("closing the transactional producer", "err", err)
		}
	}()
	positions, years, found, err := p.loadPositions(ctx, txn)
	if err != nil {
		return err
	}
	if !found && p.cfg.LegacyRegistry != "" {
		legacy, err := tail.LoadRegistry(p.cfg.LegacyRegistry)
		if err != nil {
			return fmt.Errorf("%w: %w", errPermanent, err)
		}
		if len(legacy) > 0 {
			p.log.Info("no positions in Kafka yet: starting from the local registry of the previous version", "registry", p.cfg.LegacyRegistry, "files", len(legacy))
			positions = legacy
		}
	}
	tcfg := p.cfg.Tail
	tcfg.Positions = positions
	tailer, err := tail.New(tcfg, p.log)
	if err != nil {
		return fmt.Errorf("%w: %w", errPermanent, err)
	}
	p.tailer.Store(tailer)
	p.log.Info("ingest session started", "positions", len(positions))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan *tail.Chunk, 4)
	tailDone := make(chan error, 1)
	go func() { tailDone <- tailer.Run(ctx, chunks) }()
	// Parsing runs in a stage of its own, so it overlaps with sending and
	// with the commits (chunk order is kept: one encoder).
	encoded := make(chan parsed, 4)
	encodeDone := make(chan struct{})
	go func() { defer close(encodeDone); p.encodeAll(ctx, chunks, encoded, years) }()
	defer func() {
		cancel()
		<-tailDone
		<-encodeDone
	}()
	go p.progress(ctx, tailer)
	onceDone := make(chan error, 1)
	if p.cfg.Once {
		go func() { onceDone <- p.waitCaughtUp(ctx, tailer) }()
	}

	for {
		select {
		case c := <-encoded:
			if err := p.transaction(ctx, txn, tailer, c, encoded); err != nil {
				return err
			}
		case err := <-onceDone:
			return err
		case err := <-tailDone:
			tailDone <- err
			if err == nil {
				return ctx.Err()
			}
			return fmt.Errorf("%w: %w", errPermanent, err)
		case <-ctx.Done():
			return nil
		}
	}
}

// transaction publishes first and the chunks that follow it in one
// transaction: each chunk's records are sent as soon as it is parsed, so
// reading, parsing and sending overlap. The transaction commits, with each
// file's position after its chunks, when TxnDuration has passed, TxnLines
// are in it, or no chunk comes within a moment (live logs are committed at
// once). Only then are the chunks acknowledged to the tailer. When ctx ends
// during the commit (a shutdown while Kafka does not answer) it returns
// without waiting: the open transaction is aborted by the next start or
// times out.
func (p *Pipeline) transaction(ctx context.Context, txn *publish.Txn, tailer *tail.Tailer, first parsed, chunks <-chan parsed) error {
	now := time.Now()
	if err := txn.Begin(); err != nil {
		p.m.aborted.Inc()
		return err
	}
	var taken []parsed
	var lines int
	add := func(c parsed) error {
		taken = append(taken, c)
		lines += len(c.chunk.Lines)
		return txn.Send(p.cfg.Topic, c.batch)
	}
	if err := add(first); err != nil {
		return fmt.Errorf("%w: %w", errPermanent, err)
	}
	deadline := time.NewTimer(p.cfg.TxnDuration)
	defer deadline.Stop()
	idle := time.NewTimer(txnIdle)
	defer idle.Stop()
gather:
	for lines < p.cfg.TxnLines {
		idle.Reset(txnIdle)
		select {
		case c := <-chunks:
			if err := add(c); err != nil {
				return fmt.Errorf("%w: %w", errPermanent, err)
			}
		case <-idle.C:
			break gather
		case <-deadline.C:
			break gather
		case <-ctx.Done():
			if err := txn.Abort(); err != nil {
				p.log.Warn("aborting the open transaction at shutdown", "err", err)
			}
			return nil
		}
	}
	pos, err := positionMessages(p.cfg.PositionsTopic, p.cfg.ID, taken, tailer.Forgotten(), now)
	if err != nil {
		return fmt.Errorf("%w: %w", errPermanent, err)
	}
	txn.SendMessages(pos)
	act, err := activityMessages(p.cfg.ActivityTopic, taken)
	if err != nil {
		return fmt.Errorf("%w: %w", errPermanent, err)
	}
	txn.SendMessages(act)

	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- txn.Commit() }()
	// A fenced producer can wait for ever on records the broker will not
	// take. Past the transaction timeout the session gives up on it and
	// starts over from what Kafka committed (whose producer fences this one).
	limit := time.NewTimer(p.cfg.TxnTimeout)
	defer limit.Stop()
	select {
	case err := <-done:
		if err != nil {
			p.m.aborted.Inc()
			return fmt.Errorf("ingest %d lines of %d chunks: %w", lines, len(taken), err)
		}
	case <-limit.C:
		p.m.aborted.Inc()
		return fmt.Errorf("ingest %d lines of %d chunks: commit not done after %v", lines, len(taken), p.cfg.TxnTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
	p.m.commitSeconds.Observe(time.Since(start).Seconds())
	p.m.txnSeconds.Observe(time.Since(now).Seconds())
	p.m.committed.Inc()
	p.m.acked.Add(float64(lines))
	p.published.Add(int64(lines))
	for _, c := range taken {
		tailer.Ack(c.chunk)
	}
	return nil
}

// parsed is a chunk, its records, its file's year inference after it and
// its SSH activity per host and minute.
type parsed struct {
	chunk    *tail.Chunk
	batch    *publish.Batch
	year     sshlog.YearState
	activity map[string]map[int64]*contracts.MinuteActivity
}

// encodeAll parses every chunk from in, in order, until ctx ends. Its
// parsers (one per file: replay year inference follows each file's months)
// live as long as the session: a new session reads again from the committed
// positions, and a parser that had seen later lines would take a month going
// back for a new year. A parser resumes its file's year inference from
// years (by path, as the positions left it).
func (p *Pipeline) encodeAll(ctx context.Context, in <-chan *tail.Chunk, out chan<- parsed, years map[string]sshlog.YearState) {
	parsers := map[string]*sshlog.Parser{}
	for {
		select {
		case c := <-in:
			p.m.lines.Add(float64(len(c.Lines)))
			p.m.bytes.Add(float64(c.End - c.Start))
			parser := p.parser(parsers, c.Path, years)
			batch, activity := p.encode(parser, c, time.Now())
			select {
			case out <- parsed{chunk: c, batch: batch, year: parser.YearState(), activity: activity}:
			case <-ctx.Done():
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// txnIdle is how long an open transaction waits for the next chunk before
// it commits what it has: short, so a live line is not held back.
const txnIdle = 2 * time.Millisecond

// encode parses every line of c with parser and counts its SSH activity;
// keys, values and partition keys slice one buffer, so a chunk of
// thousands of lines costs a handful of allocations.
func (p *Pipeline) encode(parser *sshlog.Parser, c *tail.Chunk, collected time.Time) (*publish.Batch, map[string]map[int64]*contracts.MinuteActivity) {
	activity := map[string]map[int64]*contracts.MinuteActivity{}
	n := len(c.Lines)
	buf := make([]byte, 0, 2*len(c.Data)+n*400) // measured: about 551 bytes a line beyond its text
	ends := make([]int, 3*n)                    // end offsets in buf of key, value, partition key
	for i, l := range c.Lines {
		ev := parser.Parse(l.Text, l.Offset, collected)
		if l.Truncated {
			ev.Truncated = true
		}
		p.m.countType(ev.EventType)
		contracts.CountActivity(activity, &ev)
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
	return b, activity
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

// parser returns path's parser from parsers, made on first use.
func (p *Pipeline) parser(parsers map[string]*sshlog.Parser, path string, years map[string]sshlog.YearState) *sshlog.Parser {
	ps, ok := parsers[path]
	if !ok {
		ps = sshlog.NewParser(sshlog.Source{Path: path, Year: p.cfg.Year, Loc: p.cfg.Loc}, nil)
		ps.ResumeYear(years[path])
		parsers[path] = ps
	}
	return ps
}

// waitCaughtUp returns nil once every file is read to its end and committed,
// or ErrNoFiles when the globs match nothing for 3 s.
func (p *Pipeline) waitCaughtUp(ctx context.Context, tailer *tail.Tailer) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			st := tailer.Stats()
			if len(st.Files) == 0 && time.Since(start) > 3*time.Second {
				return fmt.Errorf("%w %v", ErrNoFiles, p.cfg.Tail.Globs)
			}
			if caughtUp(st) {
				p.log.Info("every file is published to its end")
				return nil
			}
		}
	}
}

// TailStats returns the current session's per-file positions.
func (p *Pipeline) TailStats() tail.Stats {
	if t := p.tailer.Load(); t != nil {
		return t.Stats()
	}
	return tail.Stats{}
}

// CaughtUp reports whether every tailed file is read to its end and
// committed to Kafka.
func (p *Pipeline) CaughtUp() bool { return caughtUp(p.TailStats()) }

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
func (p *Pipeline) progress(ctx context.Context, tailer *tail.Tailer) {
	tick := time.NewTicker(p.cfg.ProgressEvery)
	defer tick.Stop()
	last, lastAt := p.published.Load(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			st := tailer.Stats()
			published := p.published.Load()
			rate := float64(published-last) / now.Sub(lastAt).Seconds()
			p.log.Info("ingest progress", "events_per_s", int64(rate), "published", published,
				"lines_read", st.Lines, "bytes_read", st.Bytes, "lag_bytes", st.Lag, "files", len(st.Files), "inflight_chunks", st.Inflight)
			last, lastAt = published, now
		}
	}
}

// ErrNoFiles is returned by a Once run whose globs match nothing.
var ErrNoFiles = errors.New("ingest: no file matches the globs")
