package tail

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"
	"unicode/utf8"
)

// file is one tracked file (one inode), open for as long as it is tracked.
type file struct {
	id   fileID
	path string // path it was discovered under; kept when it is renamed
	base string
	fd   *os.File

	// Guarded by Tailer.mu (read by Ack, Stats and persist; written by Run).
	fpLen    int
	fp       uint64
	gen      uint64          // incremented when the file is read again from 0
	off      int64           // end of the last chunk handed out
	acked    int64           // end of the contiguous acknowledged prefix (registry offset)
	pending  map[int64]int64 // acknowledged out of order: Start -> End
	inflight int
	size     int64 // largest size seen since the last (re)start
	lines    int64
	bytes    int64
	active   bool // the file is at path

	// Run goroutine only.
	visible  bool      // seen at a globbed path in the last scan
	rpos     int64     // start of the next line not yet put into a chunk
	lastGrow time.Time // when the file was last seen growing
	statSize int64     // size at the last stat
	partial  int       // bytes of an unterminated line at rpos, seen at the last read to EOF
	skip     bool      // in the middle of an oversized line
	trunc    []byte    // skip: first MaxLineBytes+1 bytes of the oversized line (which starts at rpos)
	lineLen  int64     // skip: bytes of the line seen so far
	scanPos  int64     // skip: where reading continues
	lastByte byte      // skip: last byte of the line seen so far
	errLog   bool      // a read error was logged (log once until it recovers)
}

func (f *file) key() FileKey {
	return FileKey{Dev: f.id.dev, Ino: f.id.ino, FingerprintLen: f.fpLen, Fingerprint: f.fp}
}

func fingerprint(b []byte) uint64 {
	s := sha256.Sum256(b)
	return binary.BigEndian.Uint64(s[:8])
}

// readFingerprint hashes the first min(size, FingerprintBytes) bytes of fd and
// also reports the hash of the first prefixLen of them.
func (t *Tailer) readFingerprint(fd *os.File, size int64, prefixLen int) (n int, fp, prefix uint64, err error) {
	n = int(min(size, FingerprintBytes))
	b := t.fpBuf[:n]
	got, err := fd.ReadAt(b, 0)
	if err != nil && err != io.EOF {
		return 0, 0, 0, err
	}
	if got < n { // shrank meanwhile
		n = got
		b = b[:n]
	}
	fp = fingerprint(b)
	if prefixLen <= n {
		prefix = fingerprint(b[:prefixLen])
	} else {
		prefix = ^fp // cannot match: the file is shorter than the prefix
	}
	return n, fp, prefix, nil
}

type found struct {
	path string
	id   fileID
	fi   os.FileInfo
}

// discover expands the globs: regular files, sorted by path, one path per
// inode (the first in order).
func (t *Tailer) discover() []found {
	var paths []string
	seenPath := make(map[string]bool)
	for _, g := range t.cfg.Globs {
		m, _ := filepath.Glob(g) // patterns were validated in New
		for _, p := range m {
			if !seenPath[p] {
				seenPath[p] = true
				paths = append(paths, p)
			}
		}
	}
	sort.Strings(paths)
	out := make([]found, 0, len(paths))
	seenID := make(map[fileID]bool)
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		id, ok := statID(fi)
		if !ok || seenID[id] {
			continue
		}
		seenID[id] = true
		out = append(out, found{path: p, id: id, fi: fi})
	}
	return out
}

// open opens path and checks that it is still the inode discovered.
func (t *Tailer) open(path string, id fileID) (*os.File, int64, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	fi, err := fd.Stat()
	if err != nil {
		fd.Close()
		return nil, 0, err
	}
	if got, _ := statID(fi); got != id {
		fd.Close()
		return nil, 0, fmt.Errorf("%s changed while being opened", path)
	}
	return fd, fi.Size(), nil
}

func (t *Tailer) warnOnce(key, msg string, args ...any) {
	if !t.warned[key] {
		t.warned[key] = true
		t.log.Warn(msg, args...)
	}
}

// track adds an opened file, reading from offset start.
func (t *Tailer) track(path string, id fileID, fd *os.File, size, start int64, active bool, now time.Time) *file {
	f := &file{id: id, path: path, base: filepath.Base(path), fd: fd, visible: true, lastGrow: now}
	n, fp, _, err := t.readFingerprint(fd, size, 0)
	if err != nil {
		t.log.Warn("reading fingerprint failed", "path", path, "err", err)
		n, fp = 0, fingerprint(nil)
	}
	f.rpos, f.statSize = start, size
	t.mu.Lock()
	f.fpLen, f.fp = n, fp
	f.off, f.acked, f.size = start, start, size
	f.active = active
	t.files = append(t.files, f)
	t.dirty = true
	t.mu.Unlock()
	t.byID[id] = f
	if active {
		t.active[path] = f
	}
	delete(t.warned, path)
	return f
}

// startup matches the discovered files against the loaded registry.
func (t *Tailer) startup(now time.Time) {
	reg := t.reg
	t.reg = nil
	used := make([]bool, len(reg))
	regPaths := make(map[string]bool)
	for _, e := range reg {
		regPaths[e.Path] = true
	}
	// matches reports whether fd's first e.FingerprintLen bytes hash to e's fingerprint.
	matches := func(fd *os.File, size int64, e regFile) bool {
		if size < int64(e.FingerprintLen) {
			return false
		}
		_, _, prefix, err := t.readFingerprint(fd, size, e.FingerprintLen)
		return err == nil && prefix == e.fp
	}

	for _, s := range t.discover() {
		fd, size, err := t.open(s.path, s.id)
		if err != nil {
			t.warnOnce(s.path, "cannot open file; will retry", "path", s.path, "err", err)
			continue
		}
		match := -1
		for k, e := range reg {
			if !used[k] && e.Dev == s.id.dev && e.Ino == s.id.ino && matches(fd, size, e) {
				match = k
				break
			}
		}
		switch {
		case match >= 0:
			used[match] = true
			e := reg[match]
			start := e.Offset
			if start > size {
				t.log.Warn("file is shorter than its registry offset (truncated while stopped); reading it from the beginning",
					"path", s.path, "offset", e.Offset, "size", size)
				start = 0
			}
			f := t.track(e.Path, s.id, fd, size, start, e.Path == s.path, now)
			t.log.Info("resuming file", "path", e.Path, "found_at", s.path, "offset", start, "size", size)
			if !f.active {
				t.mu.Lock()
				t.rotations++
				t.mu.Unlock()
			}
		case regPaths[s.path]:
			t.log.Info("file replaced while stopped; reading it from the beginning", "path", s.path, "size", size)
			t.track(s.path, s.id, fd, size, 0, true, now)
		case t.cfg.FromStart:
			t.log.Info("new file; reading from the beginning", "path", s.path, "size", size)
			t.track(s.path, s.id, fd, size, 0, true, now)
		default:
			start := t.endOfLastLine(fd, size)
			t.log.Info("new file; reading from its end", "path", s.path, "offset", start, "size", size)
			t.track(s.path, s.id, fd, size, start, true, now)
		}
	}

	// Entries whose file is not at a globbed path: rotated while we were
	// stopped? Look for the inode in the entry's directory.
	dirs := make(map[string][]os.DirEntry)
	for k, e := range reg {
		if used[k] {
			continue
		}
		id := fileID{dev: e.Dev, ino: e.Ino}
		if t.byID[id] != nil {
			t.log.Warn("registry entry does not match its file any more (rewritten while stopped); dropped", "path", e.Path)
			t.mu.Lock()
			t.forget(e.position())
			t.mu.Unlock()
			continue
		}
		dir := filepath.Dir(e.Path)
		ents, ok := dirs[dir]
		if !ok {
			ents, _ = os.ReadDir(dir)
			dirs[dir] = ents
		}
		resumed := false
		for _, de := range ents {
			if !de.Type().IsRegular() {
				continue
			}
			fi, err := de.Info()
			if err != nil {
				continue
			}
			if got, _ := statID(fi); got != id {
				continue
			}
			p := filepath.Join(dir, de.Name())
			fd, size, err := t.open(p, id)
			if err != nil {
				break
			}
			if !matches(fd, size, e) || size < e.Offset {
				fd.Close()
				break
			}
			f := t.track(e.Path, id, fd, size, e.Offset, false, now)
			f.visible = false
			t.mu.Lock()
			t.rotations++
			t.mu.Unlock()
			t.log.Info("resuming file rotated while stopped", "path", e.Path, "found_at", p, "offset", e.Offset, "size", size)
			resumed = true
			break
		}
		if !resumed {
			t.log.Warn("file of registry entry not found; entry dropped (unread bytes of it, if any, are lost)",
				"path", e.Path, "offset", e.Offset)
			t.mu.Lock()
			t.forget(e.position())
			t.mu.Unlock()
		}
	}
	t.mu.Lock()
	t.started = true
	t.dirty = true
	t.mu.Unlock()
}

// endOfLastLine returns the offset after the last '\n' among the file's last
// bytes (0 if the file is one unterminated line, size if no '\n' is near
// the end).
func (t *Tailer) endOfLastLine(fd *os.File, size int64) int64 {
	win := min(size, int64(t.cfg.MaxLineBytes+2))
	from := size - win
	b := t.buf[:win]
	n, err := fd.ReadAt(b, from)
	if err != nil && err != io.EOF {
		return size
	}
	if i := bytes.LastIndexByte(b[:n], '\n'); i >= 0 {
		return from + int64(i) + 1
	}
	if from == 0 {
		return 0
	}
	return size
}

// scan notices new, rotated and removed files and refreshes sizes.
func (t *Tailer) scan(now time.Time) {
	seen := t.discover()
	for _, f := range t.files {
		f.visible = false
	}
	inSeen := make(map[string]bool, len(seen))
	for _, s := range seen {
		inSeen[s.path] = true
		if f := t.byID[s.id]; f != nil {
			f.visible = true
		}
	}
	for _, s := range seen {
		cur := t.active[s.path]
		if cur != nil && cur.id == s.id {
			continue
		}
		if cur != nil {
			t.deactivate(cur, "path now holds another file (rotated); reading the old one to its end")
		}
		if f := t.byID[s.id]; f != nil {
			if f.path == s.path && t.active[s.path] == nil { // came back to its path
				t.mu.Lock()
				f.active = true
				t.mu.Unlock()
				t.active[s.path] = f
			}
			continue // a tracked file renamed onto a globbed path: keep reading it under its path
		}
		fd, size, err := t.open(s.path, s.id)
		if err != nil {
			t.warnOnce(s.path, "cannot open file; will retry", "path", s.path, "err", err)
			continue
		}
		t.log.Info("new file; reading from the beginning", "path", s.path, "size", size)
		t.track(s.path, s.id, fd, size, 0, true, now)
	}
	for p, f := range t.active {
		if !inSeen[p] {
			t.deactivate(f, "file removed or renamed; reading it to its end")
		}
	}
	for _, f := range t.files {
		t.refresh(f, now)
	}
}

func (t *Tailer) deactivate(f *file, why string) {
	delete(t.active, f.path)
	t.mu.Lock()
	f.active = false
	t.rotations++
	t.mu.Unlock()
	t.log.Info(why, "path", f.path, "ino", f.id.ino, "read_offset", f.rpos)
}

// refresh looks at the file's size: growth, shrinking, rewrite.
func (t *Tailer) refresh(f *file, now time.Time) {
	fi, err := f.fd.Stat()
	if err != nil {
		t.warnOnce("stat:"+f.path, "stat failed", "path", f.path, "err", err)
		return
	}
	size := fi.Size()
	prev := f.statSize
	f.statSize = size
	switch {
	case size < f.size:
		t.restart(f, size, now, "file shrank (truncated, copytruncate); reading it again from the beginning", "was", f.size)
	case size > prev:
		if size > f.size {
			f.lastGrow = now
		}
		n, fp, prefix, err := t.readFingerprint(f.fd, size, f.fpLen)
		if err != nil {
			t.warnOnce("read:"+f.path, "reading fingerprint failed", "path", f.path, "err", err)
			return
		}
		if prefix != f.fp {
			t.restart(f, size, now, "first bytes of the file changed (rewritten in place); reading it again from the beginning", "was", f.size)
			return
		}
		t.mu.Lock()
		f.size = max(f.size, size)
		if n > f.fpLen {
			f.fpLen, f.fp = n, fp
		}
		t.mu.Unlock()
	}
}

// restart reads f again from offset 0: the registry entry is reset and acks
// of chunks of the old content are ignored.
func (t *Tailer) restart(f *file, size int64, now time.Time, why string, args ...any) {
	n, fp, _, err := t.readFingerprint(f.fd, size, 0)
	if err != nil {
		n, fp = 0, fingerprint(nil)
	}
	t.mu.Lock()
	f.gen++
	f.off, f.acked, f.pending = 0, 0, nil
	f.size = size
	f.fpLen, f.fp = n, fp
	t.truncations++
	t.dirty = true
	t.mu.Unlock()
	f.rpos, f.partial, f.skip, f.trunc = 0, 0, false, nil
	f.lastGrow, f.statSize = now, size
	t.log.Warn(why, append([]any{"path", f.path, "size", size}, args...)...)
}

// reap closes files that left their path and are read, acknowledged and
// unchanged for CloseInactive.
func (t *Tailer) reap(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	keep := t.files[:0:0]
	for _, f := range t.files {
		if !f.active && !f.visible && !f.skip && f.partial == 0 && f.rpos == f.off &&
			f.acked == f.off && f.off >= f.size && now.Sub(f.lastGrow) >= t.cfg.CloseInactive {
			f.fd.Close()
			f.fd = nil
			delete(t.byID, f.id)
			t.dirty = true
			t.forget(Position{Path: f.path, Dev: f.id.dev, Ino: f.id.ino, FingerprintLen: f.fpLen, Fingerprint: f.fp, Offset: f.off})
			t.log.Info("file read to its end and acknowledged; closed and removed from the registry", "path", f.path, "ino", f.id.ino, "offset", f.off)
			continue
		}
		keep = append(keep, f)
	}
	t.files = keep
}

// readAll gives every file a turn; more reports that some file has more to
// read than its turn allowed.
func (t *Tailer) readAll(now time.Time) (more bool) {
	t.mu.Lock()
	files := append([]*file(nil), t.files...)
	t.mu.Unlock()
	for _, f := range files {
		m, err := t.readFile(f, now)
		if t.ctx.Err() != nil {
			return false
		}
		if err != nil {
			t.warnOnce("read:"+f.path, "read failed; will retry", "path", f.path, "err", err)
			f.errLog = true
			continue
		}
		if f.errLog {
			f.errLog = false
			delete(t.warned, "read:"+f.path)
		}
		more = more || m
	}
	return more
}

// readFile reads f from where it stopped, up to its end or the turn budget,
// and emits its complete lines. The builder is empty on return.
func (t *Tailer) readFile(f *file, now time.Time) (more bool, err error) {
	defer func() {
		if eerr := t.emit(f); eerr != nil && err == nil {
			err = eerr
		}
	}()
	buf := t.buf
	maxLine := t.cfg.MaxLineBytes
	var partial []byte
	read, eof := 0, false
	f.partial = 0
	for read < t.turnBudget {
		if f.skip {
			n, rerr := f.fd.ReadAt(buf, f.scanPos)
			if rerr != nil && rerr != io.EOF {
				return false, rerr
			}
			read += n
			if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
				if i > 0 {
					f.lastByte = buf[i-1]
				}
				f.lineLen += int64(i)
				f.scanPos += int64(i) + 1
				if err := t.finishOversized(f, f.scanPos); err != nil {
					return false, err
				}
				continue
			}
			if n > 0 {
				f.lastByte = buf[n-1]
				f.lineLen += int64(n)
				f.scanPos += int64(n)
			}
			if rerr == io.EOF {
				eof = true
				break
			}
			continue
		}

		n, rerr := f.fd.ReadAt(buf, f.rpos)
		if rerr != nil && rerr != io.EOF {
			return false, rerr
		}
		read += n
		base, i := f.rpos, 0
		for i < n {
			j := bytes.IndexByte(buf[i:n], '\n')
			if j < 0 {
				break
			}
			raw := buf[i : i+j+1]
			text := raw[:j]
			if j > 0 && text[j-1] == '\r' {
				text = text[:j-1]
			}
			off := base + int64(i)
			i += j + 1
			end := base + int64(i)
			if len(text) > maxLine {
				cut := cutLine(text, maxLine)
				err = t.addLine(f, off, cut, len(cut), true, end)
			} else {
				err = t.addLine(f, off, raw, len(text), false, end)
			}
			if err != nil {
				return false, err
			}
		}
		f.rpos = base + int64(i)
		rest := n - i
		if rest >= maxLine+2 {
			// No '\n' within MaxLineBytes+2 bytes: an oversized line. Keep
			// its head and skip to its end.
			f.skip = true
			f.trunc = append(f.trunc[:0], buf[i:i+maxLine+1]...)
			f.lineLen = int64(rest)
			f.scanPos = f.rpos + int64(rest)
			f.lastByte = buf[n-1]
		} else if rerr == io.EOF {
			partial = buf[i:n]
			f.partial = rest
		}
		if rerr == io.EOF {
			eof = true
			break
		}
	}

	// Growth seen while reading counts as growth.
	seenEnd := f.rpos + int64(f.partial)
	if f.skip {
		seenEnd = f.scanPos
	}
	if seenEnd > f.size {
		f.lastGrow = now
		t.mu.Lock()
		f.size = seenEnd
		t.mu.Unlock()
	}
	if !eof {
		return true, nil
	}
	// Flush an unterminated final line once the file stopped growing.
	if now.Sub(f.lastGrow) >= t.cfg.FlushTimeout {
		switch {
		case f.skip:
			if err := t.finishOversized(f, f.scanPos); err != nil {
				return false, err
			}
		case len(partial) > 0:
			text := partial
			if text[len(text)-1] == '\r' {
				text = text[:len(text)-1]
			}
			end := f.rpos + int64(len(partial))
			if len(text) > maxLine {
				cut := cutLine(text, maxLine)
				err = t.addLine(f, f.rpos, cut, len(cut), true, end)
			} else {
				err = t.addLine(f, f.rpos, partial, len(text), false, end)
			}
			if err != nil {
				return false, err
			}
			f.rpos = end
			f.partial = 0
		}
	}
	return false, nil
}

// finishOversized emits the oversized line being skipped, ending at end.
func (t *Tailer) finishOversized(f *file, end int64) error {
	cut := cutLine(f.trunc, t.cfg.MaxLineBytes)
	err := t.addLine(f, f.rpos, cut, len(cut), true, end)
	f.rpos = end
	f.skip, f.trunc, f.lineLen = false, nil, 0
	return err
}

// cutLine cuts b to at most n bytes, backing off to a rune boundary if the
// cut would split a UTF-8 sequence.
func cutLine(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	cut := n
	for k := 0; k < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(b[cut]); k++ {
		cut--
	}
	if !utf8.RuneStart(b[cut]) { // not UTF-8 text: a plain byte cut
		cut = n
	}
	return b[:cut]
}

// builder accumulates the lines of the chunk being built.
type builder struct {
	data       []byte
	refs       []lineRef
	start, end int64
}

type lineRef struct {
	off   int64
	a, b  int
	trunc bool
}

// addLine appends a line (raw: the bytes kept in Data; its first textLen bytes
// are the Text) ending at file offset end, emitting the chunk when full.
func (t *Tailer) addLine(f *file, off int64, raw []byte, textLen int, trunc bool, end int64) error {
	b := &t.bld
	if len(b.refs) > 0 && len(b.data)+len(raw) > t.cfg.ChunkBytes {
		if err := t.emit(f); err != nil {
			return err
		}
	}
	if len(b.refs) == 0 {
		b.start = off
	}
	a := len(b.data)
	b.data = append(b.data, raw...)
	b.refs = append(b.refs, lineRef{off: off, a: a, b: a + textLen, trunc: trunc})
	b.end = end
	if len(b.refs) >= t.cfg.ChunkLines || len(b.data) >= t.cfg.ChunkBytes {
		return t.emit(f)
	}
	return nil
}

// emit hands the built chunk out, waiting for an in-flight slot and for the
// receiver. It returns ctx's error if Run is stopping.
func (t *Tailer) emit(f *file) error {
	b := &t.bld
	if len(b.refs) == 0 {
		return nil
	}
	data := string(b.data)
	lines := make([]Line, len(b.refs))
	for k, r := range b.refs {
		lines[k] = Line{Offset: r.off, Text: data[r.a:r.b], Truncated: r.trunc}
	}
	t.mu.Lock()
	c := &Chunk{
		Path: f.path, File: f.base, Key: f.key(),
		Start: b.start, End: b.end, Data: data, Lines: lines,
		t: t, f: f, gen: f.gen,
	}
	t.mu.Unlock()
	b.data, b.refs = b.data[:0], b.refs[:0]
	if cap(b.data) > 4*t.cfg.ChunkBytes { // after a huge line, do not keep the memory
		b.data = nil
	}

	select {
	case t.sem <- struct{}{}:
	case <-t.ctx.Done():
		return t.ctx.Err()
	}
	t.mu.Lock()
	f.off = c.End
	f.inflight++
	f.lines += int64(len(lines))
	f.bytes += c.End - c.Start
	t.totLines += int64(len(lines))
	t.totBytes += c.End - c.Start
	t.mu.Unlock()
	select {
	case t.out <- c:
		return nil
	case <-t.ctx.Done():
		t.mu.Lock()
		c.acked = true
		f.inflight--
		t.mu.Unlock()
		<-t.sem
		return t.ctx.Err()
	}
}
