package sshlog

import (
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/log-monitor/log_monitor/contracts"
)

// MaxLineBytes is the longest message kept; a longer line is cut (at a UTF-8
// boundary) and marked Truncated. row_hash is taken over the whole line.
const MaxLineBytes = 16 << 10

// LateTolerance is how far a classic-syslog line may go back in time, in replay mode,
// before a backwards month counts as a new year (see the package documentation).
const LateTolerance = 7 * 24 * time.Hour

// Source describes one log file (or stream) being parsed.
type Source struct {
	Path string         // file path, the source_path field and part of row_hash
	File string         // base name, the source_file field (NewParser derives it from Path when empty)
	Year int            // start year for the replay of an old file; 0 = live inference
	Loc  *time.Location // the source's time zone; nil = time.Local
}

// Parser parses the lines of one source. It keeps the year-inference state of that
// source, so use one Parser per file and feed it the lines in file order. A Parser is
// not safe for concurrent use.
type Parser struct {
	src Source
	loc *time.Location
	now func() time.Time

	// replay year inference
	year      int
	lastMonth time.Month
	lastUnix  int64
	seen      bool

	// time.Date cache for the current minute
	minKey  int64
	minTime time.Time

	// fixed zones for RFC 3339 offsets that differ from loc
	zoneOff  int
	zoneLoc  *time.Location
	zoneMore map[int]*time.Location

	hash rowHasher
	// hexArena holds the text of recent row hashes; see rowHash.
	hexArena []byte
}

// hexArenaSize is how many row hashes share one allocation.
const hexArenaSize = 64 * 32

// NewParser returns a parser for src. now is used for live year inference
// (src.Year == 0); nil means time.Now.
func NewParser(src Source, now func() time.Time) *Parser {
	if src.File == "" && src.Path != "" {
		src.File = filepath.Base(src.Path)
	}
	if src.Loc == nil {
		src.Loc = time.Local
	}
	if now == nil {
		now = time.Now
	}
	p := &Parser{src: src, loc: src.Loc, now: now, year: src.Year, minKey: -1}
	p.hash.init(src.Path)
	return p
}

// YearState is a replay parser's year inference after the lines it has
// parsed: where the next line's year comes from. A reader that resumes a
// file in the middle (a restarted ingest) resumes it too, or the lines of a
// new year after the restart would get the start year again.
type YearState struct {
	Year      int   `json:"year"`
	LastMonth int   `json:"last_month"`
	LastUnix  int64 `json:"last_unix"`
}

// YearState returns the year inference after the lines parsed so far; its
// Year is 0 for a live parser or one that has seen no line.
func (p *Parser) YearState() YearState {
	if p.src.Year <= 0 || !p.seen {
		return YearState{}
	}
	return YearState{Year: p.year, LastMonth: int(p.lastMonth), LastUnix: p.lastUnix}
}

// ResumeYear continues the year inference from s (of YearState); a zero s,
// or a live parser, keeps the start year.
func (p *Parser) ResumeYear(s YearState) {
	if p.src.Year <= 0 || s.Year <= 0 {
		return
	}
	p.year, p.lastMonth, p.lastUnix, p.seen = s.Year, time.Month(s.LastMonth), s.LastUnix, true
}

// Source returns the parser's source (with File and Loc filled in).
func (p *Parser) Source() Source { return p.src }

// rowHash returns the row hash text. The 32 bytes are carved out of a shared
// buffer of hexArenaSize bytes, so one allocation serves 64 lines; the strings stay
// valid (and keep their buffer alive) as long as they are referenced.
func (p *Parser) rowHash(offset int64, line string) string {
	if len(p.hexArena) < 32 {
		p.hexArena = make([]byte, hexArenaSize)
	}
	out := (*[32]byte)(p.hexArena[:32])
	p.hexArena = p.hexArena[32:]
	p.hash.sum(out, offset, line)
	return unsafe.String(&out[0], 32)
}

// Parse parses one line read at byte offset offset of the source and collected at
// collected. A trailing "\n" / "\r\n" is removed first. Parse never panics; a line it
// does not understand is an "unknown" event.
func (p *Parser) Parse(line string, offset int64, collected time.Time) contracts.Event {
	line = trimEOL(line)
	e := contracts.Event{
		Timestamp:  collected,
		LogLevel:   contracts.LevelInfo,
		LogType:    contracts.LogTypeSSH,
		EventType:  contracts.TypeUnknown,
		SourceFile: p.src.File,
		SourcePath: p.src.Path,
		Offset:     offset,
	}
	e.RowHash = p.rowHash(offset, line)
	line, e.Truncated = clip(line)

	msg, ok := p.parsePrefix(&e, line)
	if !ok {
		e.Message = line
		e.EventTime = collected
		return e
	}
	e.Message = msg
	if isSSHD(e.Program) {
		classify(&e, msg, false)
	}
	return e
}

// clip cuts a binary line at its first NUL byte and an oversized one at MaxLineBytes.
func clip(s string) (string, bool) {
	cut := false
	if i := strings.IndexByte(s, 0); i >= 0 {
		s, cut = s[:i], true
	}
	if len(s) > MaxLineBytes {
		n := MaxLineBytes
		for k := 0; k < utf8.UTFMax && n > 0 && !utf8.RuneStart(s[n]); k++ {
			n--
		}
		s, cut = s[:n], true
	}
	return s, cut
}

func isSSHD(prog string) bool {
	return prog == "sshd" || prog == "sshd-session" || prog == "sshd-auth"
}

// parsePrefix parses "<time> host program[pid]: " and returns the message. ok is
// false when no time prefix is found. When the time and host parse but the tag does
// not, the message is what follows the host and Program stays empty.
func (p *Parser) parsePrefix(e *contracts.Event, s string) (string, bool) {
	if len(s) > 2 && s[0] == '<' { // optional <PRI>
		if k := digitsLen(s[1:]); k > 0 && k <= 3 && 1+k < len(s) && s[1+k] == '>' {
			s = s[2+k:]
		}
	}
	var rest string
	var ok bool
	if len(s) >= 20 && s[4] == '-' && s[10] == 'T' {
		e.EventTime, rest, ok = p.parseRFC3339(s)
	} else {
		e.EventTime, rest, ok = p.parseClassic(s)
	}
	if !ok {
		return "", false
	}
	// host
	i := strings.IndexByte(rest, ' ')
	if i < 0 {
		e.HostName = rest
		return "", true
	}
	e.HostName = rest[:i]
	rest = rest[i+1:]
	// tag: program[pid]: or program:
	for j := 0; j < len(rest); j++ {
		switch rest[j] {
		case ' ':
			return rest, true
		case ':':
			if j == 0 {
				return rest, true
			}
			e.Program = rest[:j]
			return cutSpace(rest[j+1:]), true
		case '[':
			k := strings.IndexByte(rest[j:], ']')
			if k < 0 || j == 0 {
				return rest, true
			}
			pid, okp := atoi(rest[j+1 : j+k])
			after := rest[j+k+1:]
			if !okp || len(after) == 0 || after[0] != ':' {
				return rest, true
			}
			e.Program, e.PID = rest[:j], pid
			return cutSpace(after[1:]), true
		}
	}
	return rest, true
}

func cutSpace(s string) string {
	if len(s) > 0 && s[0] == ' ' {
		return s[1:]
	}
	return s
}

func monthOf(s string) time.Month {
	if len(s) < 3 {
		return 0
	}
	switch s[:3] {
	case "Jan":
		return time.January
	case "Feb":
		return time.February
	case "Mar":
		return time.March
	case "Apr":
		return time.April
	case "May":
		return time.May
	case "Jun":
		return time.June
	case "Jul":
		return time.July
	case "Aug":
		return time.August
	case "Sep":
		return time.September
	case "Oct":
		return time.October
	case "Nov":
		return time.November
	case "Dec":
		return time.December
	}
	return 0
}

func two(s string) (int, bool) {
	if len(s) < 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// parseHMS parses "hh:mm:ss".
func parseHMS(s string) (hh, mm, ss int, ok bool) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return 0, 0, 0, false
	}
	var ok1, ok2, ok3 bool
	hh, ok1 = two(s)
	mm, ok2 = two(s[3:])
	ss, ok3 = two(s[6:])
	if !ok1 || !ok2 || !ok3 || hh > 23 || mm > 59 || ss > 60 {
		return 0, 0, 0, false
	}
	return hh, mm, ss, true
}

// parseClassic parses "Mmm dd hh:mm:ss " (day space-padded or not).
func (p *Parser) parseClassic(s string) (time.Time, string, bool) {
	mon := monthOf(s)
	if mon == 0 || len(s) < 15 || s[3] != ' ' {
		return time.Time{}, "", false
	}
	i := 4
	if s[i] == ' ' {
		i++
	}
	k := digitsLen(s[i:])
	if k < 1 || k > 2 {
		return time.Time{}, "", false
	}
	day, _ := atoi(s[i : i+k])
	i += k
	if day < 1 || day > 31 || i >= len(s) || s[i] != ' ' {
		return time.Time{}, "", false
	}
	i++
	hh, mm, ss, ok := parseHMS(s[i:])
	if !ok {
		return time.Time{}, "", false
	}
	i += 8
	if i < len(s) && s[i] != ' ' {
		return time.Time{}, "", false
	}
	rest := ""
	if i < len(s) {
		rest = s[i+1:]
	}
	return p.classicTime(mon, day, hh, mm, ss), rest, true
}

// date returns the local time in p.loc, through a one-minute cache (every zone
// transition of the tz database since 1970 is on a whole minute).
func (p *Parser) date(y int, mon time.Month, day, hh, mm, ss int) time.Time {
	key := int64(y)<<32 | int64(mon)<<24 | int64(day)<<16 | int64(hh)<<8 | int64(mm)
	if key != p.minKey {
		p.minKey = key
		p.minTime = time.Date(y, mon, day, hh, mm, 0, 0, p.loc)
	}
	return p.minTime.Add(time.Duration(ss) * time.Second)
}

func (p *Parser) classicTime(mon time.Month, day, hh, mm, ss int) time.Time {
	if p.src.Year <= 0 {
		return p.liveTime(mon, day, hh, mm, ss)
	}
	t := p.date(p.year, mon, day, hh, mm, ss)
	u := t.Unix()
	if p.seen {
		tol := int64(LateTolerance / time.Second)
		switch {
		case u < p.lastUnix-tol && mon < p.lastMonth:
			// the month went backwards: a new year
			p.year++
			t = p.date(p.year, mon, day, hh, mm, ss)
			u = t.Unix()
		case u > p.lastUnix+tol && mon > p.lastMonth:
			// a late line of the previous year (Dec 31 after Jan 1)?
			if t2 := p.date(p.year-1, mon, day, hh, mm, ss); t2.Unix() >= p.lastUnix-tol {
				return t2
			}
		}
	}
	p.observe(u, mon)
	return t
}

func (p *Parser) observe(u int64, mon time.Month) {
	if !p.seen || u > p.lastUnix {
		p.lastUnix, p.lastMonth, p.seen = u, mon, true
	}
}

func (p *Parser) liveTime(mon time.Month, day, hh, mm, ss int) time.Time {
	now := p.now()
	y := now.In(p.loc).Year()
	best := p.date(y, mon, day, hh, mm, ss)
	bestOK := best.Day() == day
	d := absDur(best.Sub(now))
	for _, cy := range [2]int{y - 1, y + 1} {
		c := time.Date(cy, mon, day, hh, mm, ss, 0, p.loc)
		cOK := c.Day() == day // Feb 29 exists only in leap years
		if cd := absDur(c.Sub(now)); (cOK && !bestOK) || (cOK == bestOK && cd < d) {
			best, bestOK, d = c, cOK, cd
		}
	}
	return best
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// parseRFC3339 parses "YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm) ".
func (p *Parser) parseRFC3339(s string) (time.Time, string, bool) {
	y1, ok1 := two(s)
	y2, ok2 := two(s[2:])
	mo, ok3 := two(s[5:])
	d, ok4 := two(s[8:])
	if !ok1 || !ok2 || !ok3 || !ok4 || s[7] != '-' || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return time.Time{}, "", false
	}
	hh, mm, ss, ok := parseHMS(s[11:])
	if !ok {
		return time.Time{}, "", false
	}
	i := 19
	ns := 0
	if i < len(s) && s[i] == '.' {
		k := digitsLen(s[i+1:])
		if k == 0 {
			return time.Time{}, "", false
		}
		for j := 0; j < 9; j++ {
			ns *= 10
			if j < k {
				ns += int(s[i+1+j] - '0')
			}
		}
		i += 1 + k
	}
	if i >= len(s) {
		return time.Time{}, "", false
	}
	off := 0
	switch s[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		oh, okh := two(s[i+1:])
		if !okh || i+6 > len(s) || s[i+3] != ':' {
			return time.Time{}, "", false
		}
		om, okm := two(s[i+4:])
		if !okm || oh > 23 || om > 59 {
			return time.Time{}, "", false
		}
		off = (oh*60 + om) * 60
		if s[i] == '-' {
			off = -off
		}
		i += 6
	default:
		return time.Time{}, "", false
	}
	if i < len(s) && s[i] != ' ' {
		return time.Time{}, "", false
	}
	rest := ""
	if i < len(s) {
		rest = s[i+1:]
	}
	year := y1*100 + y2
	t := time.Date(year, time.Month(mo), d, hh, mm, ss, ns, time.UTC).Add(-time.Duration(off) * time.Second)
	t = t.In(p.zone(t, off))
	if p.src.Year > 0 {
		// a dated line sets the year for the classic lines that follow
		p.year = t.In(p.loc).Year()
		p.observe(t.Unix(), t.In(p.loc).Month())
	}
	return t, rest, true
}

// zone returns p.loc when it has offset off at t, else a fixed zone for off
// (cached, so steady input allocates nothing).
func (p *Parser) zone(t time.Time, off int) *time.Location {
	if _, o := t.In(p.loc).Zone(); o == off {
		return p.loc
	}
	if off == 0 {
		return time.UTC
	}
	if p.zoneLoc != nil && p.zoneOff == off {
		return p.zoneLoc
	}
	if l, ok := p.zoneMore[off]; ok {
		p.zoneOff, p.zoneLoc = off, l
		return l
	}
	if p.zoneMore == nil {
		p.zoneMore = make(map[int]*time.Location)
	}
	l := time.FixedZone("", off)
	if len(p.zoneMore) < 64 {
		p.zoneMore[off] = l
	}
	p.zoneOff, p.zoneLoc = off, l
	return l
}
