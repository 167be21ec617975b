package contracts

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendJSONEscaping(t *testing.T) {
	cases := []struct{ in, out string }{
		{`plain`, `"plain"`},
		{`q"b\s/`, `"q\"b\\s/"`},
		{"tab\tnl\ncr\rbs\bff\f", `"tab\tnl\ncr\rbs\bff\f"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f" + `"`},
		{"bad\xffutf\xc3", "\"bad\ufffdutf\ufffd\""},
		{"ok é 한 😀", `"ok é 한 😀"`},
		{"ls\u2028ps\u2029", `"ls\u2028ps\u2029"`},
		{"<&>", `"<&>"`},
	}
	for _, c := range cases {
		got := string(appendJSONString(nil, c.in))
		if got != c.out {
			t.Errorf("%q: got %s, want %s", c.in, got, c.out)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("%q: %v", c.in, err)
		} else if want := fffdEachByte(c.in); back != want {
			t.Errorf("%q: decodes to %q, want %q", c.in, back, want)
		}
	}
}

// fffdEachByte replaces each invalid UTF-8 byte of s with U+FFFD.
func fffdEachByte(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r) // RuneError for an invalid byte
		i += n
	}
	return b.String()
}
