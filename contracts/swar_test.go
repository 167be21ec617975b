package contracts

import (
	"testing"
	"unicode/utf8"
)

func TestSWARMatches(t *testing.T) {
	var all []string
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			b := []byte("abcdefghijklmnop")
			b[pos] = byte(c)
			all = append(all, string(b))
			if !utf8.ValidString(string(b[:8])) || c < 0x20 || c == '"' || c == '\\' {
				if jsonSafe8(load8(string(b), 0)) {
					t.Fatalf("byte %#x at %d reported safe", c, pos)
				}
			}
		}
	}
	all = append(all, "Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo for ns.marryaldkfaczcz.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!", "é\"\\\x00\x7f\u2028\xff", "")
	for _, s := range all {
		if a, b := string(appendJSONStringRef(nil, s)), string(appendJSONString(nil, s)); a != b {
			t.Fatalf("%q: %s vs %s", s, a, b)
		}
	}
}

// FuzzAppendJSONString: the word-at-a-time escaper writes what the
// byte-at-a-time reference writes, on every input.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range escSample {
		f.Add(s)
	}
	f.Add("Dec 10 06:55:46 LabSZ sshd[1]: Invalid user \"q\\\t\x01 from 1.2.3.4\x00rest")
	f.Add("\xff\xfe\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		if a, b := appendJSONString(nil, s), appendJSONStringRef(nil, s); string(a) != string(b) {
			t.Fatalf("escaper differs from the reference: %s vs %s", a, b)
		}
	})
}

var escSample = []string{
	"message repeated 5 times: [ Failed password for root from 112.95.230.3 port 45378 ssh2]",
	"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=173.234.31.186 ",
	"LabSZ", "root", "auth_failure", "/data/ssh-replica/SSH.log", "0123456789abcdef0123456789abcdef",
}

func BenchmarkEscapeRef(b *testing.B) {
	buf := make([]byte, 0, 1024)
	for i := 0; i < b.N; i++ {
		buf = buf[:0]
		for _, s := range escSample {
			buf = appendJSONStringRef(buf, s)
		}
	}
}

func BenchmarkEscape(b *testing.B) {
	buf := make([]byte, 0, 1024)
	for i := 0; i < b.N; i++ {
		buf = buf[:0]
		for _, s := range escSample {
			buf = appendJSONString(buf, s)
		}
	}
}

// appendJSONStringRef is the plain byte-at-a-time escaper, the reference for
// appendJSONString.
func appendJSONStringRef(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...) // the literal rune, so decode+encode is a fixed point
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
