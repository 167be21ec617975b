package contracts

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Decoding ssh-log values. Every processor stage decodes every event, and
// encoding/json (reflection, one allocation per string, a time parse through
// an interface) cost 13.7 µs an event here: as much as the rest of a
// stage's per-event work. decodeFlat reads the shape AppendJSON writes — one
// flat object, plain strings, integers, booleans — in one pass with two
// allocations (the text, and the times' zone): 2.4 µs. Anything else (escapes, null, nesting, floats, a key that
// matches a field only case-insensitively) goes to encoding/json, so the
// two give the same event or the same error on every input (FuzzUnmarshalJSON).

// UnmarshalJSON decodes an event written by AppendJSON. Times come back with a fixed
// zone of the written offset (UTC for "Z"); they are Equal to the encoded ones and
// encode to the same text.
func UnmarshalJSON(data []byte) (Event, error) {
	var e Event
	err := e.UnmarshalJSON(data)
	return e, err
}

// UnmarshalJSON implements json.Unmarshaler for the format of AppendJSON.
func (e *Event) UnmarshalJSON(data []byte) error {
	var ev Event
	if decodeFlat(data, &ev) {
		*e = ev
		return nil
	}
	return e.unmarshalStd(data)
}

// wireEvent is the JSON shape, for decoding with encoding/json.
type wireEvent struct {
	Timestamp   *time.Time `json:"@timestamp"`
	EventTime   *time.Time `json:"event_time"`
	HostName    string     `json:"host_name"`
	User        string     `json:"user"`
	IP          string     `json:"ip"`
	Port        int        `json:"port"`
	LogLevel    string     `json:"log_level"`
	LogType     string     `json:"log_type"`
	ErrorType   string     `json:"error_type"`
	Message     string     `json:"message"`
	RowHash     string     `json:"row_hash"`
	SourceFile  string     `json:"source_file"`
	SourcePath  string     `json:"source_path"`
	EventType   string     `json:"event_type"`
	PID         int        `json:"pid"`
	AuthMethod  string     `json:"auth_method"`
	RepeatCount int        `json:"repeat_count"`
	RHost       string     `json:"rhost"`
	KeyInfo     string     `json:"key_info"`
	Program     string     `json:"program"`
	Offset      int64      `json:"offset"`
	Truncated   bool       `json:"truncated"`
}

// unmarshalStd decodes with encoding/json: the reference for decodeFlat and
// the path for every input it does not take.
func (e *Event) unmarshalStd(data []byte) error {
	var w wireEvent
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("contracts: decode ssh-log event: %w", err)
	}
	if w.Timestamp == nil || w.EventTime == nil {
		return fmt.Errorf("contracts: decode ssh-log event: @timestamp or event_time missing")
	}
	*e = Event{
		Timestamp: *w.Timestamp, EventTime: *w.EventTime,
		HostName: w.HostName, User: w.User, IP: w.IP, Port: w.Port,
		LogLevel: w.LogLevel, LogType: w.LogType, ErrorType: w.ErrorType, Message: w.Message,
		RowHash: w.RowHash, SourceFile: w.SourceFile, SourcePath: w.SourcePath,
		EventType: w.EventType, PID: w.PID, AuthMethod: w.AuthMethod, RepeatCount: w.RepeatCount,
		RHost: w.RHost, KeyInfo: w.KeyInfo, Program: w.Program, Offset: w.Offset, Truncated: w.Truncated,
	}
	return nil
}

// wireKeys are the JSON keys of wireEvent, for the case-insensitive check
// on unknown keys (encoding/json matches keys case-insensitively).
var wireKeys = func() []string {
	t := reflect.TypeFor[wireEvent]()
	keys := make([]string, t.NumField())
	for i := range keys {
		keys[i] = t.Field(i).Tag.Get("json")
	}
	return keys
}()

// decodeFlat decodes data into e when it is a flat object of plain values;
// false leaves the decision (and the error) to encoding/json. e may be
// partly written when it returns false.
func decodeFlat(data []byte, e *Event) bool {
	s := string(data) // one allocation; the event's strings are substrings of it
	d := flat{s: s, b: data}
	d.ws()
	if !d.eat('{') {
		return false
	}
	var haveTS, haveET bool
	d.ws()
	if d.eat('}') {
		return false // no times: encoding/json's error
	}
	for {
		d.ws()
		key, ok := d.str()
		if !ok {
			return false
		}
		d.ws()
		if !d.eat(':') {
			return false
		}
		d.ws()
		switch key {
		case "@timestamp":
			ok, haveTS = d.time(&e.Timestamp), true
		case "event_time":
			ok, haveET = d.time(&e.EventTime), true
		case "host_name":
			e.HostName, ok = d.str()
		case "user":
			e.User, ok = d.str()
		case "ip":
			e.IP, ok = d.str()
		case "log_level":
			e.LogLevel, ok = d.str()
		case "log_type":
			e.LogType, ok = d.str()
		case "error_type":
			e.ErrorType, ok = d.str()
		case "message":
			e.Message, ok = d.str()
		case "row_hash":
			e.RowHash, ok = d.str()
		case "source_file":
			e.SourceFile, ok = d.str()
		case "source_path":
			e.SourcePath, ok = d.str()
		case "event_type":
			e.EventType, ok = d.str()
		case "auth_method":
			e.AuthMethod, ok = d.str()
		case "rhost":
			e.RHost, ok = d.str()
		case "key_info":
			e.KeyInfo, ok = d.str()
		case "program":
			e.Program, ok = d.str()
		case "port":
			ok = d.int(&e.Port)
		case "pid":
			ok = d.int(&e.PID)
		case "repeat_count":
			ok = d.int(&e.RepeatCount)
		case "offset":
			var n int
			ok = d.int(&n)
			e.Offset = int64(n)
		case "truncated":
			e.Truncated, ok = d.bool()
		default:
			ok = !foldsToWireKey(key) && d.skipPlain()
		}
		if !ok {
			return false
		}
		d.ws()
		if d.eat(',') {
			continue
		}
		if !d.eat('}') {
			return false
		}
		d.ws()
		return d.i == len(s) && haveTS && haveET
	}
}

func foldsToWireKey(k string) bool {
	for _, w := range wireKeys {
		if strings.EqualFold(k, w) {
			return true
		}
	}
	return false
}

// flat is a cursor over a JSON text for decodeFlat.
type flat struct {
	s string
	b []byte // the same text, for time.Time.UnmarshalJSON
	i int
}

func (d *flat) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *flat) eat(c byte) bool {
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// str reads a string without escapes, control characters or invalid UTF-8
// (encoding/json would unescape or replace those).
func (d *flat) str() (string, bool) {
	if !d.eat('"') {
		return "", false
	}
	start, ascii := d.i, true
	for ; d.i < len(d.s); d.i++ {
		c := d.s[d.i]
		switch {
		case c == '"':
			v := d.s[start:d.i]
			d.i++
			return v, ascii || utf8.ValidString(v)
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// time reads an RFC 3339 string the way encoding/json gives it to time.Time.
func (d *flat) time(t *time.Time) bool {
	start := d.i
	if _, ok := d.str(); !ok {
		return false
	}
	return t.UnmarshalJSON(d.b[start:d.i]) == nil
}

// int reads a JSON integer that fits an int (no fraction, no exponent).
func (d *flat) int(n *int) bool {
	start := d.i
	d.eat('-')
	digits := d.i
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
		d.i++
	}
	if d.i == digits || (d.s[digits] == '0' && d.i-digits > 1) {
		return false // no digits, or a leading zero (not JSON)
	}
	if d.i < len(d.s) && (d.s[d.i] == '.' || d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		return false
	}
	v, err := strconv.Atoi(d.s[start:d.i])
	*n = v
	return err == nil
}

func (d *flat) bool() (bool, bool) {
	switch {
	case strings.HasPrefix(d.s[d.i:], "true"):
		d.i += 4
		return true, true
	case strings.HasPrefix(d.s[d.i:], "false"):
		d.i += 5
		return false, true
	}
	return false, false
}

// skipPlain skips the value of a key the event does not have: a plain
// string or a boolean; anything else is left to encoding/json.
func (d *flat) skipPlain() bool {
	if d.i < len(d.s) && d.s[d.i] == '"' {
		_, ok := d.str()
		return ok
	}
	_, ok := d.bool()
	return ok
}
