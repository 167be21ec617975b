package tail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults applied to zero Config fields.
const (
	DefaultPollInterval  = 100 * time.Millisecond
	DefaultFlushTimeout  = 5 * time.Second
	DefaultMaxLineBytes  = 64 << 10
	DefaultChunkLines    = 4096
	DefaultChunkBytes    = 1 << 20
	DefaultMaxInflight   = 16
	DefaultCloseInactive = 10 * time.Second

	// FingerprintBytes is the length of the prefix a file's fingerprint
	// covers once the file is at least that long.
	FingerprintBytes = 1024

	// DefaultPersistInterval: the registry lags the acknowledged position by
	// at most this much, which bounds what a crash re-sends.
	DefaultPersistInterval = 200 * time.Millisecond
	minReadBuffer          = 256 << 10
)

// Config configures a Tailer. Zero fields take the defaults above.
type Config struct {
	Globs []string // several at once; files appearing later are picked up
	// RegistryPath is the crash-safe registry file (JSON, written
	// atomically). Empty: the caller keeps the positions itself (Positions
	// at start-up, Chunk.Position and Forgotten afterwards), as the
	// exactly-once ingest does in a Kafka transaction.
	RegistryPath string
	// Positions are where to resume when RegistryPath is empty.
	Positions    []Position
	FromStart    bool          // files without a registry entry at start-up: from their beginning (true) or after their last complete line (false)
	PollInterval time.Duration // default 100ms
	FlushTimeout time.Duration // an unterminated final line is emitted after the file has not grown for this long (default 5s)
	MaxLineBytes int           // longer lines are cut to this size and marked Truncated (default 64 KiB)
	ChunkLines   int           // max lines per chunk (default 4096)
	ChunkBytes   int           // max bytes of Data per chunk (default 1 MiB; a single line may exceed it if MaxLineBytes is larger)
	MaxInflight  int           // max chunks handed out and not yet acknowledged, over all files (default 16)

	// PersistInterval is how often the registry is written when it changed
	// (default 200ms); a crash re-sends at most what was acknowledged in the
	// last interval plus what was in flight.
	PersistInterval time.Duration

	// CloseInactive: a file that is no longer at a globbed path (renamed by
	// rotation, or deleted) is closed and dropped from the registry once it
	// is read to its end, fully acknowledged, and has not changed for this
	// long (default 10s). Writers that keep writing to a renamed file for
	// longer than this lose those lines.
	CloseInactive time.Duration

	// ResetRegistry discards the registry file's content (corrupt or not)
	// and starts as if there were none; the old file is kept beside it as
	// RegistryPath+".reset". Meant as a one-shot operator action: without
	// it a corrupt registry makes New fail.
	ResetRegistry bool
}

// FileKey identifies a file: device and inode, plus a fingerprint (the first
// 8 bytes of the SHA-256) of its first FingerprintLen bytes. FingerprintLen is
// min(size, FingerprintBytes) when the fingerprint was last taken: it grows
// with a small file and is fixed once the file has FingerprintBytes bytes.
// Two keys denote the same file when Dev and Ino are equal and the file's
// first FingerprintLen bytes still hash to Fingerprint.
type FileKey struct {
	Dev            uint64
	Ino            uint64
	FingerprintLen int
	Fingerprint    uint64
}

// Line is one line of a chunk.
type Line struct {
	Offset    int64  // byte offset of the line's first byte in the file
	Text      string // without '\n' and a '\r' before it; a substring of Chunk.Data
	Truncated bool   // the line was longer than MaxLineBytes and was cut
}

// Chunk is a run of consecutive lines of one file.
type Chunk struct {
	Path  string  // path as discovered by the glob (kept for a renamed file)
	File  string  // base name of Path
	Key   FileKey // identity of the file when the chunk was read
	Start int64   // byte range [Start, End) covered; chunks of a file are contiguous
	End   int64   // what the registry stores once this chunk and all before it are acknowledged
	Data  string  // the lines' bytes as one string: the file's bytes [Start, End) except the skipped tails of truncated lines
	Lines []Line

	t     *Tailer
	f     *file
	gen   uint64
	acked bool // guarded by t.mu
}

// FileStats describes one tracked file.
type FileStats struct {
	Path        string
	File        string
	Key         FileKey
	Active      bool  // the file is (still) at Path; false for a rotated or deleted file being drained
	ReadOffset  int64 // end of the chunks handed out
	AckedOffset int64 // what the registry stores
	Size        int64 // file size at the last look
	Lag         int64 // Size - AckedOffset
	Lines       int64 // lines handed out (since start-up)
	Bytes       int64 // file bytes covered by chunks handed out
	Inflight    int   // chunks handed out and not yet acknowledged
}

// Stats is a snapshot of the tailer's state.
type Stats struct {
	Files       []FileStats
	Lines       int64 // lines handed out, all files (including dropped ones)
	Bytes       int64
	Lag         int64 // sum of the files' Lag
	Inflight    int
	Rotations   int64 // files that left their path (renamed or deleted)
	Truncations int64 // files read again from 0 (shrunk or rewritten)
}

// ErrCorruptRegistry is returned (wrapped) by New when the registry file
// cannot be parsed.
var ErrCorruptRegistry = errors.New("tail: corrupt registry")

// Tailer follows the files matched by its globs. Create it with New, run it
// with Run (once), acknowledge chunks with Ack from any goroutine.
type Tailer struct {
	cfg Config
	log *slog.Logger
	sem chan struct{} // one token per chunk handed out and not acknowledged

	mu          sync.Mutex
	files       []*file // all tracked files, in discovery order
	dirty       bool
	started     bool // start-up resolution of the registry is done
	totLines    int64
	totBytes    int64
	rotations   int64
	truncations int64
	forgotten   []Position // stopped tracking, not yet taken by Forgotten

	persistMu sync.Mutex
	ran       atomic.Bool

	// Run goroutine only.
	reg        []regFile // loaded registry, consumed at start-up
	byID       map[fileID]*file
	active     map[string]*file
	buf        []byte
	fpBuf      []byte
	bld        builder
	turnBudget int
	ctx        context.Context
	out        chan<- *Chunk
	warned     map[string]bool
}

// New validates cfg, applies defaults and loads the registry. A registry that
// cannot be parsed is an error (wrapping ErrCorruptRegistry) unless
// cfg.ResetRegistry is set. log may be nil.
func New(cfg Config, log *slog.Logger) (*Tailer, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if !platformSupported {
		return nil, errors.New("tail: file identity (device, inode) is not available on this platform")
	}
	t := &Tailer{
		cfg:    cfg,
		log:    log.With("component", "tail"),
		sem:    make(chan struct{}, cfg.MaxInflight),
		byID:   make(map[fileID]*file),
		active: make(map[string]*file),
		warned: make(map[string]bool),
		fpBuf:  make([]byte, FingerprintBytes),
	}
	bufSize := max(minReadBuffer, 2*(cfg.MaxLineBytes+2))
	t.buf = make([]byte, bufSize)
	t.turnBudget = max(4*cfg.ChunkBytes, bufSize)

	if cfg.RegistryPath == "" {
		reg, err := positionsToRegistry(cfg.Positions)
		if err != nil {
			return nil, err
		}
		t.reg = reg
		return t, nil
	}
	if cfg.ResetRegistry {
		if _, err := os.Stat(cfg.RegistryPath); err == nil {
			bak := cfg.RegistryPath + ".reset"
			if err := os.Rename(cfg.RegistryPath, bak); err != nil {
				return nil, fmt.Errorf("tail: reset registry: %w", err)
			}
			t.log.Warn("registry reset on request; old registry kept", "registry", cfg.RegistryPath, "kept_as", bak)
		}
		return t, nil
	}
	reg, err := loadRegistry(cfg.RegistryPath)
	if err != nil {
		return nil, err
	}
	t.reg = reg
	return t, nil
}

// Validate reports what New would refuse in c (bad globs, negative values),
// without building a Tailer.
func (c Config) Validate() error { return c.setDefaults() }

func (c *Config) setDefaults() error {
	if len(c.Globs) == 0 {
		return errors.New("tail: Config.Globs is empty")
	}
	for _, g := range c.Globs {
		if g == "" {
			return errors.New("tail: empty glob pattern")
		}
		if _, err := filepath.Match(g, ""); err != nil {
			return fmt.Errorf("tail: bad glob %q: %w", g, err)
		}
	}
	if c.RegistryPath == "" && c.ResetRegistry {
		return errors.New("tail: ResetRegistry without a RegistryPath")
	}
	if c.PollInterval < 0 || c.FlushTimeout < 0 || c.CloseInactive < 0 || c.MaxLineBytes < 0 ||
		c.ChunkLines < 0 || c.ChunkBytes < 0 || c.MaxInflight < 0 {
		return errors.New("tail: negative Config value")
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.FlushTimeout == 0 {
		c.FlushTimeout = DefaultFlushTimeout
	}
	if c.MaxLineBytes == 0 {
		c.MaxLineBytes = DefaultMaxLineBytes
	}
	if c.ChunkLines == 0 {
		c.ChunkLines = DefaultChunkLines
	}
	if c.ChunkBytes == 0 {
		c.ChunkBytes = DefaultChunkBytes
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = DefaultMaxInflight
	}
	if c.PersistInterval == 0 {
		c.PersistInterval = DefaultPersistInterval
	}
	if c.CloseInactive == 0 {
		c.CloseInactive = DefaultCloseInactive
	}
	return nil
}

// Run follows the files until ctx is done (then it returns nil) or a fatal
// error occurs. It persists the registry and closes the files before
// returning. Run may be called only once per Tailer.
func (t *Tailer) Run(ctx context.Context, out chan<- *Chunk) (err error) {
	if out == nil {
		return errors.New("tail: Run: nil output channel")
	}
	if !t.ran.CompareAndSwap(false, true) {
		return errors.New("tail: Run called more than once")
	}
	t.ctx, t.out = ctx, out

	pctx, pcancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		pcancel()
		wg.Wait()
		if perr := t.persist(true); perr != nil {
			t.log.Error("persisting registry failed", "registry", t.cfg.RegistryPath, "err", perr)
			if err == nil {
				err = perr
			}
		}
		t.closeFiles()
	}()

	t.startup(time.Now())
	wg.Add(1)
	go func() {
		defer wg.Done()
		t.persistLoop(pctx)
	}()

	timer := time.NewTimer(0)
	defer timer.Stop()
	lastScan := time.Now()
	for {
		now := time.Now()
		if now.Sub(lastScan) >= t.cfg.PollInterval {
			t.scan(now)
			lastScan = now
		}
		more := t.readAll(now)
		if ctx.Err() != nil {
			return nil
		}
		t.reap(time.Now())
		if more {
			continue
		}
		timer.Reset(time.Until(lastScan.Add(t.cfg.PollInterval)))
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
	}
}

// Ack marks c as durable downstream. The file's registry offset advances over
// the contiguous prefix of acknowledged chunks; chunks may be acknowledged in
// any order. Acknowledging a chunk twice, or a chunk of an earlier content of
// a file that has since been truncated, has no effect on the registry. Ack is
// safe for concurrent use and may be called after Run returned (call
// SaveRegistry then to persist).
func (t *Tailer) Ack(c *Chunk) {
	if c == nil || c.t != t {
		return
	}
	t.mu.Lock()
	if c.acked {
		t.mu.Unlock()
		return
	}
	c.acked = true
	f := c.f
	f.inflight--
	if c.gen == f.gen {
		switch {
		case c.Start == f.acked:
			f.acked = c.End
			for {
				end, ok := f.pending[f.acked]
				if !ok {
					break
				}
				delete(f.pending, f.acked)
				f.acked = end
			}
			t.dirty = true
		case c.Start > f.acked:
			if f.pending == nil {
				f.pending = make(map[int64]int64)
			}
			f.pending[c.Start] = c.End
		}
	}
	t.mu.Unlock()
	<-t.sem
}

// SaveRegistry writes the registry now (if Run has resolved it). Run does this
// itself every second and when it returns; call it after Run returned if
// chunks were acknowledged afterwards.
func (t *Tailer) SaveRegistry() error {
	return t.persist(true)
}

// Stats returns a snapshot of the per-file and total counters.
func (t *Tailer) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := Stats{
		Lines:       t.totLines,
		Bytes:       t.totBytes,
		Inflight:    len(t.sem),
		Rotations:   t.rotations,
		Truncations: t.truncations,
		Files:       make([]FileStats, 0, len(t.files)),
	}
	for _, f := range t.files {
		fs := FileStats{
			Path:        f.path,
			File:        f.base,
			Key:         f.key(),
			Active:      f.active,
			ReadOffset:  f.off,
			AckedOffset: f.acked,
			Size:        f.size,
			Lag:         max(0, f.size-f.acked),
			Lines:       f.lines,
			Bytes:       f.bytes,
			Inflight:    f.inflight,
		}
		s.Lag += fs.Lag
		s.Files = append(s.Files, fs)
	}
	sort.SliceStable(s.Files, func(i, j int) bool { return s.Files[i].Path < s.Files[j].Path })
	return s
}

func (t *Tailer) persistLoop(ctx context.Context) {
	tk := time.NewTicker(t.cfg.PersistInterval)
	defer tk.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			if err := t.persist(false); err != nil {
				if !failing {
					t.log.Error("persisting registry failed; will retry", "registry", t.cfg.RegistryPath, "err", err)
				}
				failing = true
			} else if failing {
				t.log.Info("persisting registry works again", "registry", t.cfg.RegistryPath)
				failing = false
			}
		}
	}
}

// persist writes the registry if it changed (or always, with force).
func (t *Tailer) persist(force bool) error {
	if t.cfg.RegistryPath == "" {
		return nil // the caller keeps the positions
	}
	t.persistMu.Lock()
	defer t.persistMu.Unlock()
	t.mu.Lock()
	if !t.started || (!t.dirty && !force) {
		t.mu.Unlock()
		return nil
	}
	doc := regDoc{Version: registryVersion, Updated: time.Now().UTC(), Files: make([]regFile, 0, len(t.files))}
	for _, f := range t.files {
		doc.Files = append(doc.Files, regFile{
			Path:           f.path,
			Dev:            f.id.dev,
			Ino:            f.id.ino,
			FingerprintLen: f.fpLen,
			Fingerprint:    fmt.Sprintf("%016x", f.fp),
			Offset:         f.acked,
		})
	}
	t.dirty = false
	t.mu.Unlock()

	sort.SliceStable(doc.Files, func(i, j int) bool { return doc.Files[i].Path < doc.Files[j].Path })
	if err := saveRegistry(t.cfg.RegistryPath, doc, nil); err != nil {
		t.mu.Lock()
		t.dirty = true
		t.mu.Unlock()
		return err
	}
	return nil
}

func (t *Tailer) closeFiles() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.files {
		if f.fd != nil {
			f.fd.Close()
			f.fd = nil
		}
	}
}
