package sshlog

import (
	"net/netip"
	"strings"

	"github.com/log-monitor/log_monitor/contracts"
)

// addr reports whether s is an IPv4 or IPv6 address, and returns the part of s to
// store in the ip field: s itself, or for an IPv6 address with a zone ("fe80::1%eth0")
// the address before '%' (the Elasticsearch ip type takes no zone). Host names,
// partial addresses and "1.2.3.4.example.net" are not addresses.
func addr(s string) (string, bool) {
	if len(s) < 2 || len(s) > 64 {
		return "", false
	}
	if isIPv4(s) {
		return s, true
	}
	colon := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			colon = true
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F', c == '.':
		case c == '%' && colon && i > 0:
			a, ok := ipv6(s[:i])
			if !ok || i == len(s)-1 {
				return "", false
			}
			return a, true
		default:
			return "", false
		}
	}
	if !colon {
		return "", false
	}
	return ipv6(s)
}

func ipv6(s string) (string, bool) {
	// s holds only hex digits, ':' and '.', so ParseAddr's error path (which
	// allocates) is rare.
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return "", false
	}
	return s, true
}

// isIPv4 reports whether s is a dotted-decimal IPv4 address (four fields 0-255, no
// leading zeros), the form netip accepts.
func isIPv4(s string) bool {
	if len(s) < 7 || len(s) > 15 {
		return false
	}
	dots, n, digits := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if digits > 0 && n == 0 {
				return false // leading zero
			}
			n = n*10 + int(c-'0')
			digits++
			if n > 255 {
				return false
			}
		case c == '.':
			if digits == 0 {
				return false
			}
			dots++
			n, digits = 0, 0
		default:
			return false
		}
	}
	return dots == 3 && digits > 0
}

// digitsLen returns the number of leading ASCII digits of s.
func digitsLen(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// atoi parses s, which must be 1 to 9 ASCII digits.
func atoi(s string) (int, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// atoPort parses a port number 1-65535.
func atoPort(s string) (int, bool) {
	if len(s) > 5 {
		return 0, false
	}
	n, ok := atoi(s)
	if !ok || n < 1 || n > 65535 {
		return 0, false
	}
	return n, true
}

// leadingPort parses the port at the start of s and returns the rest.
func leadingPort(s string) (int, string, bool) {
	k := digitsLen(s)
	p, ok := atoPort(s[:k])
	if !ok {
		return 0, s, false
	}
	return p, s[k:], true
}

// cutSuffix removes suffix from s if present.
func cutSuffix(s, suffix string) string {
	s, _ = strings.CutSuffix(s, suffix)
	return s
}

// trimPreauth removes a trailing " [preauth]" (and a "[preauth]" with no space).
func trimPreauth(s string) string {
	if t, ok := strings.CutSuffix(s, " [preauth]"); ok {
		return t
	}
	return cutSuffix(s, "[preauth]")
}

// cutInvalid removes an "invalid user " (or the older "illegal user ") prefix.
func cutInvalid(s string) (string, bool) {
	if t, ok := strings.CutPrefix(s, "invalid user "); ok {
		return t, true
	}
	if t, ok := strings.CutPrefix(s, "illegal user "); ok {
		return t, true
	}
	return s, false
}

// splitFrom finds the rightmost " from " of s that is followed by an address, and
// returns what is before it (head), the address, the port of an optional " port P"
// after the address, and what follows (rem). Anchoring from the right keeps user
// names with spaces (and even " from ") in head.
func splitFrom(s string) (head, ip string, port int, rem string, ok bool) {
	end := len(s)
	for end > 0 {
		i := strings.LastIndex(s[:end], " from ")
		if i < 0 {
			return "", "", 0, "", false
		}
		t := s[i+len(" from "):]
		tok := t
		if j := strings.IndexByte(t, ' '); j >= 0 {
			tok = t[:j]
		}
		if a, isAddr := addr(tok); isAddr {
			rem = t[len(tok):]
			if r, hasPort := strings.CutPrefix(rem, " port "); hasPort {
				if p, r2, okp := leadingPort(r); okp {
					port, rem = p, r2
				}
			}
			return s[:i], a, port, rem, true
		}
		end = i
	}
	return "", "", 0, "", false
}

// peer is the remote side named in modern sshd lines:
// "[authenticating user U |invalid user U |user U ]IP[ port P]".
type peer struct {
	user    string
	invalid bool
	ip      string
	port    int
}

// parsePeer parses s, which must be exactly a peer.
func parsePeer(s string) (peer, bool) {
	var p peer
	if i := strings.LastIndex(s, " port "); i >= 0 {
		if n, ok := atoPort(s[i+len(" port "):]); ok {
			p.port = n
			s = s[:i]
		}
	}
	j := strings.LastIndexByte(s, ' ')
	a, ok := addr(s[j+1:])
	if !ok {
		return peer{}, false
	}
	p.ip = a
	if j < 0 {
		return p, true
	}
	head := s[:j]
	switch {
	case strings.HasPrefix(head, "authenticating user "):
		p.user = head[len("authenticating user "):]
	case strings.HasPrefix(head, "invalid user "):
		p.user, p.invalid = head[len("invalid user "):], true
	case strings.HasPrefix(head, "illegal user "):
		p.user, p.invalid = head[len("illegal user "):], true
	case strings.HasPrefix(head, "user "):
		p.user = head[len("user "):]
	default:
		return peer{}, false
	}
	return p, true
}

func setPeer(e *contracts.Event, p peer) {
	e.User, e.IP, e.Port = p.user, p.ip, p.port
}

// setHost stores a remote host that may be an address (ip) or a name (rhost).
func setHost(e *contracts.Event, h string) {
	if h == "" {
		return
	}
	if a, ok := addr(h); ok {
		e.IP = a
	} else {
		e.RHost = h
	}
}
