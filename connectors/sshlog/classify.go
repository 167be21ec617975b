package sshlog

import (
	"strings"

	"github.com/log-monitor/log_monitor/contracts"
)

// setType sets event_type with the log_level and error_type docs/contracts.md gives it.
func setType(e *contracts.Event, t string) {
	e.EventType = t
	e.ErrorType = ""
	switch t {
	case contracts.TypeAuthFailure, contracts.TypeAuthFailureRepeated:
		e.LogLevel, e.ErrorType = contracts.LevelError, contracts.ErrAuthFailed
	case contracts.TypeInvalidUser:
		e.LogLevel, e.ErrorType = contracts.LevelWarn, contracts.ErrInvalidUser
	case contracts.TypePAMAuthFailure, contracts.TypePAMOther:
		e.LogLevel, e.ErrorType = contracts.LevelWarn, contracts.ErrPAMAuthFailure
	case contracts.TypeTooManyFailures:
		e.LogLevel, e.ErrorType = contracts.LevelError, contracts.ErrTooManyFailures
	case contracts.TypeBreakInAttempt:
		e.LogLevel, e.ErrorType = contracts.LevelWarn, contracts.ErrReverseMappingFailed
	case contracts.TypeNoIdentification:
		e.LogLevel, e.ErrorType = contracts.LevelWarn, contracts.ErrNoIdentification
	case contracts.TypeDisconnectError:
		e.LogLevel, e.ErrorType = contracts.LevelError, contracts.ErrDisconnectError
	case contracts.TypeConnectionReset:
		e.LogLevel, e.ErrorType = contracts.LevelError, contracts.ErrConnectionReset
	case contracts.TypeProtocolError:
		e.LogLevel, e.ErrorType = contracts.LevelWarn, contracts.ErrProtocolError
	case contracts.TypeConnectionDropped:
		e.LogLevel, e.ErrorType = contracts.LevelWarn, contracts.ErrMaxStartups
	default: // auth_success, disconnect, session_*, sshd_other, unknown
		e.LogLevel = contracts.LevelInfo
	}
}

// classify sets event_type and the fields of an sshd message m. Lines no rule
// describes stay "unknown". nested is true inside "message repeated N times: [ ]".
func classify(e *contracts.Event, m string, nested bool) {
	if m == "" {
		return
	}
	switch m[0] {
	case 'A':
		if r, ok := strings.CutPrefix(m, "Accepted "); ok {
			if k, ok := strings.CutPrefix(r, "key "); ok {
				// Accepted key ED25519 SHA256:... found at /home/u/.ssh/authorized_keys:1
				if i := strings.Index(k, " found at "); i >= 0 {
					e.KeyInfo = k[:i]
					setType(e, contracts.TypeSSHDOther)
				}
				return
			}
			if _, ok := parseAuth(e, r); ok {
				setType(e, contracts.TypeAuthSuccess)
			}
			return
		}
		if r, ok := strings.CutPrefix(m, "Address "); ok {
			// Address IP maps to H, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!
			i := strings.Index(r, " maps to ")
			if i < 0 {
				return
			}
			if a, ok := addr(r[:i]); ok {
				e.IP = a
			}
			h := r[i+len(" maps to "):]
			if j := strings.Index(h, ", but this does not map back"); j >= 0 {
				if _, isAddr := addr(h[:j]); !isAddr {
					e.RHost = h[:j]
				}
			}
			setType(e, contracts.TypeBreakInAttempt)
		}
	case 'F':
		if r, ok := strings.CutPrefix(m, "Failed "); ok {
			invalid, ok := parseAuth(e, r)
			if !ok {
				return
			}
			setType(e, contracts.TypeAuthFailure)
			if invalid {
				e.ErrorType = contracts.ErrInvalidUserAuthFailed
			}
		}
	case 'I':
		r, ok := strings.CutPrefix(m, "Invalid user ")
		if !ok {
			r, ok = strings.CutPrefix(m, "Illegal user ")
		}
		if !ok {
			return
		}
		// Invalid user U from IP[ port P]
		if head, ip, port, _, ok := splitFrom(r); ok {
			e.User, e.IP, e.Port = head, ip, port
		} else if i := strings.LastIndex(r, " from "); i >= 0 {
			e.User = r[:i]
			setHost(e, r[i+len(" from "):])
		} else {
			e.User = trimPreauth(r)
		}
		setType(e, contracts.TypeInvalidUser)
	case 'i':
		if r, ok := strings.CutPrefix(m, "input_userauth_request: invalid user "); ok {
			e.User = trimPreauth(r)
			setType(e, contracts.TypeInvalidUser)
		}
	case 'p':
		classifyPAMUnix(e, m)
	case 'P':
		if r, ok := strings.CutPrefix(m, "PAM "); ok {
			if strings.HasPrefix(r, "service(") && strings.Contains(r, ") ignoring max retries; ") {
				setType(e, contracts.TypePAMOther)
				return
			}
			// PAM N more authentication failure(s); logname= ... rhost=H[  user=U]
			k := digitsLen(r)
			if k > 0 && strings.HasPrefix(r[k:], " more authentication failure") {
				pamKV(e, r[k:])
				setType(e, contracts.TypePAMAuthFailure)
			}
			return
		}
		if r, ok := strings.CutPrefix(m, "Postponed "); ok {
			// Postponed keyboard-interactive/pam for U from IP port P ssh2 [preauth]
			if _, ok := parseAuth(e, r); ok {
				setType(e, contracts.TypeSSHDOther)
			}
			return
		}
		if r, ok := strings.CutPrefix(m, "Protocol major versions differ for "); ok {
			if i := strings.Index(r, ": "); i >= 0 {
				if p, ok := parsePeer(r[:i]); ok {
					setPeer(e, p)
				}
			}
			setType(e, contracts.TypeProtocolError)
		}
	case 'D':
		classifyD(e, m)
	case 'r':
		if r, ok := strings.CutPrefix(m, "reverse mapping checking getaddrinfo for "); ok {
			// reverse mapping checking getaddrinfo for H [IP] failed - POSSIBLE BREAK-IN ATTEMPT!
			if i := strings.Index(r, " ["); i >= 0 {
				if _, isAddr := addr(r[:i]); !isAddr {
					e.RHost = r[:i]
				}
				if j := strings.IndexByte(r[i+2:], ']'); j >= 0 {
					if a, ok := addr(r[i+2 : i+2+j]); ok {
						e.IP = a
					}
				}
			}
			setType(e, contracts.TypeBreakInAttempt)
		}
	case 'e':
		if r, ok := strings.CutPrefix(m, "error: "); ok {
			classifyError(e, r)
			return
		}
		if strings.HasPrefix(m, "exited MaxStartups throttling") {
			setType(e, contracts.TypeConnectionDropped)
		}
	case 'f':
		r, ok := strings.CutPrefix(m, "fatal: ")
		if !ok {
			return
		}
		switch {
		case strings.HasPrefix(r, "Write failed: Connection reset by peer"),
			strings.HasPrefix(r, "Read from socket failed: Connection reset by peer"):
			setType(e, contracts.TypeConnectionReset)
		case strings.HasPrefix(r, "no hostkey alg"):
			setType(e, contracts.TypeProtocolError)
		case strings.HasPrefix(r, "Timeout before authentication for "):
			timeoutBefore(e, r)
		}
	case 'B':
		if r, ok := strings.CutPrefix(m, "Bad protocol version identification "); ok {
			// Bad protocol version identification 'X' from IP[ port P]
			if _, ip, port, _, ok := splitFrom(r); ok {
				e.IP, e.Port = ip, port
			}
			setType(e, contracts.TypeProtocolError)
			return
		}
		if strings.HasPrefix(m, "Bad packet length ") {
			setType(e, contracts.TypeProtocolError)
		}
	case 'C':
		classifyC(e, m)
	case 'R':
		if r, ok := strings.CutPrefix(m, "Received disconnect from "); ok {
			if receivedDisconnect(e, r) {
				setType(e, contracts.TypeDisconnect)
			}
			return
		}
		if strings.HasPrefix(m, "Received signal ") || strings.HasPrefix(m, "Received SIGHUP") {
			setType(e, contracts.TypeSSHDOther)
			return
		}
		if r, ok := strings.CutPrefix(m, "Read error from remote host "); ok {
			// Read error from remote host IP port P: Connection reset by peer
			if i := strings.Index(r, ": "); i >= 0 {
				if p, ok := parsePeer(r[:i]); ok {
					setPeer(e, p)
				}
				if strings.HasPrefix(r[i+2:], "Connection reset by peer") {
					setType(e, contracts.TypeConnectionReset)
				}
			}
		}
	case 'm':
		if r, ok := strings.CutPrefix(m, "message repeated "); ok && !nested {
			repeated(e, r)
		}
	case 'U':
		if r, ok := strings.CutPrefix(m, "Unable to negotiate with "); ok {
			// Unable to negotiate with IP port P: no matching key exchange method found. ...
			if i := strings.Index(r, ": "); i >= 0 {
				if p, ok := parsePeer(r[:i]); ok {
					setPeer(e, p)
				}
			}
			setType(e, contracts.TypeProtocolError)
			return
		}
		if strings.HasPrefix(m, "User child is on pid ") {
			setType(e, contracts.TypeSSHDOther)
		}
	case 'T':
		if strings.HasPrefix(m, "Timeout before authentication for ") {
			timeoutBefore(e, m)
			return
		}
		if strings.HasPrefix(m, "Transferred: ") {
			setType(e, contracts.TypeSSHDOther)
		}
	case 'S':
		if strings.HasPrefix(m, "Server listening on ") {
			// the listening address is local, not a remote ip
			setType(e, contracts.TypeSSHDOther)
			return
		}
		if r, ok := strings.CutPrefix(m, "Starting session: "); ok {
			// Starting session: shell on pts/0 for U from IP port P id 0
			if head, ip, port, _, ok := splitFrom(r); ok {
				e.IP, e.Port = ip, port
				if i := strings.LastIndex(head, " for "); i >= 0 {
					e.User = head[i+len(" for "):]
				}
			}
			setType(e, contracts.TypeSSHDOther)
		}
	case 's':
		if r, ok := strings.CutPrefix(m, "ssh_dispatch_run_fatal: "); ok {
			// ssh_dispatch_run_fatal: Connection from [authenticating user U ]IP port P: ...
			if r, ok := strings.CutPrefix(r, "Connection from "); ok {
				if i := strings.Index(r, ": "); i >= 0 {
					if p, ok := parsePeer(r[:i]); ok {
						setPeer(e, p)
					}
				}
			}
			setType(e, contracts.TypeProtocolError)
		}
	case 'b':
		if r, ok := strings.CutPrefix(m, "banner exchange: Connection from "); ok {
			// banner exchange: Connection from IP port P: invalid format
			if i := strings.Index(r, ": "); i >= 0 {
				if p, ok := parsePeer(r[:i]); ok {
					setPeer(e, p)
				}
			}
			setType(e, contracts.TypeNoIdentification)
			return
		}
		if strings.HasPrefix(m, "beginning MaxStartups throttling") {
			setType(e, contracts.TypeConnectionDropped)
		}
	case 'd':
		if r, ok := strings.CutPrefix(m, "drop connection #"); ok {
			// drop connection #N from [IP]:P on [IP]:22 past MaxStartups
			k := digitsLen(r)
			if r, ok := strings.CutPrefix(r[k:], " from ["); ok {
				if i := strings.Index(r, "]:"); i >= 0 {
					if a, ok := addr(r[:i]); ok {
						e.IP = a
						if p, _, ok := leadingPort(r[i+2:]); ok {
							e.Port = p
						}
					}
				}
			}
			setType(e, contracts.TypeConnectionDropped)
		}
	}
}

// parseAuth parses "<method> for [invalid user ]U from IP port P ssh2[: KEY]" (the
// tail of Accepted, Failed and Postponed lines).
func parseAuth(e *contracts.Event, r string) (invalid, ok bool) {
	i := strings.IndexByte(r, ' ')
	if i <= 0 {
		return false, false
	}
	method := r[:i]
	rest, ok := strings.CutPrefix(r[i:], " for ")
	if !ok {
		return false, false
	}
	head, ip, port, rem, ok := splitFrom(rest)
	if !ok {
		return false, false
	}
	e.User, invalid = cutInvalid(head)
	e.AuthMethod, e.IP, e.Port = method, ip, port
	if k, ok := strings.CutPrefix(rem, " ssh2: "); ok {
		e.KeyInfo = trimPreauth(k)
	}
	return invalid, true
}

// pamKV takes rhost= and user= from a PAM line
// ("...; logname= uid=0 euid=0 tty=ssh ruser= rhost=H  user=U").
func pamKV(e *contracts.Event, s string) {
	if i := strings.Index(s, " rhost="); i >= 0 {
		v := s[i+len(" rhost="):]
		if j := strings.IndexByte(v, ' '); j >= 0 {
			v = v[:j]
		}
		setHost(e, v)
	}
	if i := strings.Index(s, " user="); i >= 0 {
		e.User = strings.TrimRight(s[i+len(" user="):], " ")
	}
}

func classifyPAMUnix(e *contracts.Event, m string) {
	if r, ok := strings.CutPrefix(m, "pam_unix(sshd:auth): "); ok {
		switch {
		case strings.HasPrefix(r, "authentication failure;"):
			pamKV(e, r)
			setType(e, contracts.TypePAMAuthFailure)
		case strings.HasPrefix(r, "check pass; user unknown"):
			setType(e, contracts.TypePAMOther)
		default:
			pamKV(e, r)
			setType(e, contracts.TypeSSHDOther)
		}
		return
	}
	if r, ok := strings.CutPrefix(m, "pam_unix(sshd:session): session "); ok {
		if u, ok := strings.CutPrefix(r, "opened for user "); ok {
			// U by (uid=0) | U(uid=1000) by U(uid=0) | U(uid=1000) by (uid=0)
			if i := strings.Index(u, " by "); i >= 0 {
				u = u[:i]
			}
			if i := strings.LastIndex(u, "(uid="); i > 0 && strings.HasSuffix(u, ")") {
				u = u[:i]
			}
			e.User = u
			setType(e, contracts.TypeSessionOpened)
			return
		}
		if u, ok := strings.CutPrefix(r, "closed for user "); ok {
			e.User = u
			setType(e, contracts.TypeSessionClosed)
			return
		}
	}
	if strings.HasPrefix(m, "pam_unix(sshd:") {
		pamKV(e, m)
		setType(e, contracts.TypeSSHDOther)
	}
}

func classifyD(e *contracts.Event, m string) {
	if r, ok := strings.CutPrefix(m, "Disconnecting: "); ok {
		switch {
		case strings.HasPrefix(r, "Too many authentication failures"):
			// Disconnecting: Too many authentication failures for U [preauth]
			r = trimPreauth(r[len("Too many authentication failures"):])
			if u, ok := strings.CutPrefix(r, " for "); ok {
				e.User, _ = cutInvalid(u)
			}
			setType(e, contracts.TypeTooManyFailures)
		case strings.HasPrefix(r, "Packet corrupt"), strings.HasPrefix(r, "Corrupted MAC"),
			strings.HasPrefix(r, "Bad packet length"):
			setType(e, contracts.TypeProtocolError)
		}
		return
	}
	if r, ok := strings.CutPrefix(m, "Disconnecting "); ok {
		// Disconnecting authenticating user U IP port P: Too many authentication failures [preauth]
		i := strings.LastIndex(r, ": Too many authentication failures")
		if i < 0 {
			return
		}
		if p, ok := parsePeer(r[:i]); ok {
			setPeer(e, p)
		}
		setType(e, contracts.TypeTooManyFailures)
		return
	}
	if r, ok := strings.CutPrefix(m, "Did not receive identification string from "); ok {
		// Did not receive identification string from IP[ port P]
		if p, ok := parsePeer(trimPreauth(r)); ok {
			setPeer(e, p)
		}
		setType(e, contracts.TypeNoIdentification)
		return
	}
	if r, ok := strings.CutPrefix(m, "Disconnected from "); ok {
		// Disconnected from [authenticating user U |invalid user U |user U ]IP port P[ [preauth]]
		if p, ok := parsePeer(trimPreauth(r)); ok {
			setPeer(e, p)
			setType(e, contracts.TypeDisconnect)
		}
	}
}

func classifyC(e *contracts.Event, m string) {
	if r, ok := strings.CutPrefix(m, "Connection closed by "); ok {
		// Connection closed by [authenticating user U |invalid user U ]IP[ port P][ [preauth]]
		if p, ok := parsePeer(trimPreauth(r)); ok {
			setPeer(e, p)
			setType(e, contracts.TypeDisconnect)
		}
		return
	}
	if r, ok := strings.CutPrefix(m, "Connection reset by "); ok {
		if p, ok := parsePeer(trimPreauth(r)); ok {
			setPeer(e, p)
		}
		setType(e, contracts.TypeConnectionReset)
		return
	}
	if r, ok := strings.CutPrefix(m, "Connection from "); ok {
		// Connection from IP port P on IP port 22 rdomain ""
		if i := strings.Index(r, " on "); i >= 0 {
			if p, ok := parsePeer(r[:i]); ok {
				setPeer(e, p)
				setType(e, contracts.TypeSSHDOther)
			}
		}
		return
	}
	if strings.HasPrefix(m, "Corrupted MAC on input.") {
		setType(e, contracts.TypeProtocolError)
		return
	}
	if r, ok := strings.CutPrefix(m, "Close session: "); ok {
		// Close session: user U from IP port P id 0
		if head, ip, port, _, ok := splitFrom(r); ok {
			e.IP, e.Port = ip, port
			e.User = strings.TrimPrefix(head, "user ")
		}
		setType(e, contracts.TypeSSHDOther)
	}
}

func classifyError(e *contracts.Event, r string) {
	if r == "" {
		return
	}
	switch r[0] {
	case 'R':
		if d, ok := strings.CutPrefix(r, "Received disconnect from "); ok {
			if receivedDisconnect(e, d) {
				setType(e, contracts.TypeDisconnectError)
			}
		}
	case 'k':
		if k, ok := strings.CutPrefix(r, "kex_exchange_identification: "); ok {
			if strings.HasPrefix(k, "read: Connection reset by peer") {
				setType(e, contracts.TypeConnectionReset)
			} else {
				setType(e, contracts.TypeNoIdentification)
			}
		}
	case 'm':
		if k, ok := strings.CutPrefix(r, "maximum authentication attempts exceeded for "); ok {
			// ... for [invalid user ]U from IP port P ssh2 [preauth]
			if head, ip, port, _, ok := splitFrom(k); ok {
				e.User, _ = cutInvalid(head)
				e.IP, e.Port = ip, port
			}
			setType(e, contracts.TypeTooManyFailures)
		}
	case 'c':
		if strings.HasPrefix(r, "connect_to ") {
			// error: connect_to H port P: failed. -- H is a forwarding target, not the
			// remote address, so ip and port stay empty.
			setType(e, contracts.TypeProtocolError)
		}
	case 'P':
		if k, ok := strings.CutPrefix(r, "PAM: Authentication failure for "); ok {
			// error: PAM: Authentication failure for [illegal user ]U from H
			if i := strings.LastIndex(k, " from "); i >= 0 {
				e.User, _ = cutInvalid(k[:i])
				setHost(e, k[i+len(" from "):])
			}
			setType(e, contracts.TypePAMAuthFailure)
		}
	}
}

// receivedDisconnect parses "IP: N: text" (older sshd) or "IP port P:N: text".
func receivedDisconnect(e *contracts.Event, r string) bool {
	i := strings.IndexByte(r, ' ')
	if i < 0 {
		return false
	}
	if pr, ok := strings.CutPrefix(r[i:], " port "); ok {
		a, ok := addr(r[:i])
		if !ok {
			return false
		}
		e.IP = a
		if p, _, ok := leadingPort(pr); ok {
			e.Port = p
		}
		return true
	}
	tok := r[:i]
	if len(tok) < 2 || tok[len(tok)-1] != ':' {
		return false
	}
	a, ok := addr(tok[:len(tok)-1])
	if !ok {
		return false
	}
	e.IP = a
	return true
}

func timeoutBefore(e *contracts.Event, r string) {
	// Timeout before authentication for IP port P
	r = strings.TrimPrefix(r, "Timeout before authentication for ")
	if p, ok := parsePeer(trimPreauth(r)); ok {
		setPeer(e, p)
	}
	setType(e, contracts.TypeProtocolError)
}

// repeated handles rsyslog's "message repeated N times: [ inner]": the inner message
// is classified; a repeated Failed line is auth_failure_repeated.
func repeated(e *contracts.Event, r string) {
	k := digitsLen(r)
	n, ok := atoi(r[:k])
	if !ok || n == 0 {
		return
	}
	inner, ok := strings.CutPrefix(r[k:], " times: [ ")
	if !ok {
		return
	}
	inner = cutSuffix(inner, "]")
	e.RepeatCount = n
	classify(e, inner, true)
	if e.EventType == contracts.TypeAuthFailure {
		e.EventType = contracts.TypeAuthFailureRepeated
	}
}
