package notify

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Ledger is the set of alert ids whose mail the SMTP server accepted: an
// append-only file of "alert_id<TAB>unix-seconds" lines, synced after each
// write. It is the mailer's memory across restarts: an alert that arrives
// again (Kafka redelivers what was not committed; the processors re-emit
// after a crash) is not mailed twice. Ids older than the retention are
// dropped when the ledger is opened.
type Ledger struct {
	mu   sync.Mutex
	path string
	f    *os.File
	ids  map[string]int64
}

// OpenLedger loads the ledger at path (creating it), dropping ids recorded
// before now-retention.
func OpenLedger(path string, retention time.Duration, now time.Time) (*Ledger, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	l := &Ledger{path: path, ids: map[string]int64{}}
	dropped, err := l.load(now.Add(-retention).Unix())
	if err != nil {
		return nil, err
	}
	if dropped {
		if err := l.rewrite(); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	l.f = f
	return l, nil
}

func (l *Ledger) load(cutoff int64) (dropped bool, err error) {
	f, err := os.Open(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("ledger %s: %w", l.path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		id, ts, ok := strings.Cut(sc.Text(), "\t")
		if !ok { // a line torn by a crash: its mail is re-sent at most once
			dropped = true
			continue
		}
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || sec < cutoff {
			dropped = true
			continue
		}
		l.ids[id] = sec
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("ledger %s: %w", l.path, err)
	}
	return dropped, nil
}

// rewrite writes the kept ids to a new file and renames it into place.
func (l *Ledger) rewrite() error {
	tmp := l.path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("ledger %s: %w", l.path, err)
	}
	w := bufio.NewWriter(f)
	for id, sec := range l.ids {
		fmt.Fprintf(w, "%s\t%d\n", id, sec)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("ledger %s: %w", l.path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("ledger %s: %w", l.path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("ledger %s: %w", l.path, err)
	}
	if err := os.Rename(tmp, l.path); err != nil {
		return fmt.Errorf("ledger %s: %w", l.path, err)
	}
	return nil
}

// Has reports whether id's mail was accepted.
func (l *Ledger) Has(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.ids[id]
	return ok
}

// Len is the number of ids kept.
func (l *Ledger) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ids)
}

// Add records ids as mailed and syncs the file before returning.
func (l *Ledger) Add(now time.Time, ids ...string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, id := range ids {
		if id == "" || strings.ContainsAny(id, "\t\n") {
			continue
		}
		fmt.Fprintf(&b, "%s\t%d\n", id, now.Unix())
	}
	if _, err := l.f.WriteString(b.String()); err != nil {
		return fmt.Errorf("ledger %s: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("ledger %s: %w", l.path, err)
	}
	for _, id := range ids {
		l.ids[id] = now.Unix()
	}
	return nil
}

// Close closes the file.
func (l *Ledger) Close() error { return l.f.Close() }
