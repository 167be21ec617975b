package sshlog

import "strings"

// setType sets event_type with the log_level and error_type DESIGN gives it.
func (e *Event) setType(t string) {
	e.EventType = t
	e.ErrorType = ""
	switch t {
	case TypeAuthFailure, TypeAuthFailureRepeated:
		e.LogLevel, e.ErrorType = LevelError, ErrAuthFailed
	case TypeInvalidUser:
		e.LogLevel, e.ErrorType = LevelWarn, ErrInvalidUser
	case TypePAMAuthFailure, TypePAMOther:
		e.LogLevel, e.ErrorType = LevelWarn, ErrPAMAuthFailure
	case TypeTooManyFailures:
		e.LogLevel, e.ErrorType = LevelError, ErrTooManyFailures
	case TypeBreakInAttempt:
		e.LogLevel, e.ErrorType = LevelWarn, ErrReverseMappingFailed
	case TypeNoIdentification:
		e.LogLevel, e.ErrorType = LevelWarn, ErrNoIdentification
	case TypeDisconnectError:
		e.LogLevel, e.ErrorType = LevelError, ErrDisconnectError
	case TypeConnectionReset:
		e.LogLevel, e.ErrorType = LevelError, ErrConnectionReset
	case TypeProtocolError:
		e.LogLevel, e.ErrorType = LevelWarn, ErrProtocolError
	case TypeConnectionDropped:
		e.LogLevel, e.ErrorType = LevelWarn, ErrMaxStartups
	default: // auth_success, disconnect, session_*, sshd_other, unknown
		e.LogLevel = LevelInfo
	}
}

// classify sets event_type and the fields of an sshd message m. Lines no rule
// describes stay "unknown". nested is true inside "message repeated N times: [ ]".
func classify(e *Event, m string, nested bool) {
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
					e.setType(TypeSSHDOther)
				}
				return
			}
			if _, ok := parseAuth(e, r); ok {
				e.setType(TypeAuthSuccess)
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
			e.setType(TypeBreakInAttempt)
		}
	case 'F':
		if r, ok := strings.CutPrefix(m, "Failed "); ok {
			invalid, ok := parseAuth(e, r)
			if !ok {
				return
			}
			e.setType(TypeAuthFailure)
			if invalid {
				e.ErrorType = ErrInvalidUserAuthFailed
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
			e.setHost(r[i+len(" from "):])
		} else {
			e.User = trimPreauth(r)
		}
		e.setType(TypeInvalidUser)
	case 'i':
		if r, ok := strings.CutPrefix(m, "input_userauth_request: invalid user "); ok {
			e.User = trimPreauth(r)
			e.setType(TypeInvalidUser)
		}
	case 'p':
		classifyPAMUnix(e, m)
	case 'P':
		if r, ok := strings.CutPrefix(m, "PAM "); ok {
			if strings.HasPrefix(r, "service(") && strings.Contains(r, ") ignoring max retries; ") {
				e.setType(TypePAMOther)
				return
			}
			// PAM N more authentication failure(s); logname= ... rhost=H[  user=U]
			k := digitsLen(r)
			if k > 0 && strings.HasPrefix(r[k:], " more authentication failure") {
				pamKV(e, r[k:])
				e.setType(TypePAMAuthFailure)
			}
			return
		}
		if r, ok := strings.CutPrefix(m, "Postponed "); ok {
			// Postponed keyboard-interactive/pam for U from IP port P ssh2 [preauth]
			if _, ok := parseAuth(e, r); ok {
				e.setType(TypeSSHDOther)
			}
			return
		}
		if r, ok := strings.CutPrefix(m, "Protocol major versions differ for "); ok {
			if i := strings.Index(r, ": "); i >= 0 {
				if p, ok := parsePeer(r[:i]); ok {
					e.setPeer(p)
				}
			}
			e.setType(TypeProtocolError)
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
			e.setType(TypeBreakInAttempt)
		}
	case 'e':
		if r, ok := strings.CutPrefix(m, "error: "); ok {
			classifyError(e, r)
			return
		}
		if strings.HasPrefix(m, "exited MaxStartups throttling") {
			e.setType(TypeConnectionDropped)
		}
	case 'f':
		r, ok := strings.CutPrefix(m, "fatal: ")
		if !ok {
			return
		}
		switch {
		case strings.HasPrefix(r, "Write failed: Connection reset by peer"),
			strings.HasPrefix(r, "Read from socket failed: Connection reset by peer"):
			e.setType(TypeConnectionReset)
		case strings.HasPrefix(r, "no hostkey alg"):
			e.setType(TypeProtocolError)
		case strings.HasPrefix(r, "Timeout before authentication for "):
			timeoutBefore(e, r)
		}
	case 'B':
		if r, ok := strings.CutPrefix(m, "Bad protocol version identification "); ok {
			// Bad protocol version identification 'X' from IP[ port P]
			if _, ip, port, _, ok := splitFrom(r); ok {
				e.IP, e.Port = ip, port
			}
			e.setType(TypeProtocolError)
			return
		}
		if strings.HasPrefix(m, "Bad packet length ") {
			e.setType(TypeProtocolError)
		}
	case 'C':
		classifyC(e, m)
	case 'R':
		if r, ok := strings.CutPrefix(m, "Received disconnect from "); ok {
			if receivedDisconnect(e, r) {
				e.setType(TypeDisconnect)
			}
			return
		}
		if strings.HasPrefix(m, "Received signal ") || strings.HasPrefix(m, "Received SIGHUP") {
			e.setType(TypeSSHDOther)
			return
		}
		if r, ok := strings.CutPrefix(m, "Read error from remote host "); ok {
			// Read error from remote host IP port P: Connection reset by peer
			if i := strings.Index(r, ": "); i >= 0 {
				if p, ok := parsePeer(r[:i]); ok {
					e.setPeer(p)
				}
				if strings.HasPrefix(r[i+2:], "Connection reset by peer") {
					e.setType(TypeConnectionReset)
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
					e.setPeer(p)
				}
			}
			e.setType(TypeProtocolError)
			return
		}
		if strings.HasPrefix(m, "User child is on pid ") {
			e.setType(TypeSSHDOther)
		}
	case 'T':
		if strings.HasPrefix(m, "Timeout before authentication for ") {
			timeoutBefore(e, m)
			return
		}
		if strings.HasPrefix(m, "Transferred: ") {
			e.setType(TypeSSHDOther)
		}
	case 'S':
		if strings.HasPrefix(m, "Server listening on ") {
			// the listening address is local, not a remote ip
			e.setType(TypeSSHDOther)
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
			e.setType(TypeSSHDOther)
		}
	case 's':
		if r, ok := strings.CutPrefix(m, "ssh_dispatch_run_fatal: "); ok {
			// ssh_dispatch_run_fatal: Connection from [authenticating user U ]IP port P: ...
			if r, ok := strings.CutPrefix(r, "Connection from "); ok {
				if i := strings.Index(r, ": "); i >= 0 {
					if p, ok := parsePeer(r[:i]); ok {
						e.setPeer(p)
					}
				}
			}
			e.setType(TypeProtocolError)
		}
	case 'b':
		if r, ok := strings.CutPrefix(m, "banner exchange: Connection from "); ok {
			// banner exchange: Connection from IP port P: invalid format
			if i := strings.Index(r, ": "); i >= 0 {
				if p, ok := parsePeer(r[:i]); ok {
					e.setPeer(p)
				}
			}
			e.setType(TypeNoIdentification)
			return
		}
		if strings.HasPrefix(m, "beginning MaxStartups throttling") {
			e.setType(TypeConnectionDropped)
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
			e.setType(TypeConnectionDropped)
		}
	}
}

// parseAuth parses "<method> for [invalid user ]U from IP port P ssh2[: KEY]" (the
// tail of Accepted, Failed and Postponed lines).
func parseAuth(e *Event, r string) (invalid, ok bool) {
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
func pamKV(e *Event, s string) {
	if i := strings.Index(s, " rhost="); i >= 0 {
		v := s[i+len(" rhost="):]
		if j := strings.IndexByte(v, ' '); j >= 0 {
			v = v[:j]
		}
		e.setHost(v)
	}
	if i := strings.Index(s, " user="); i >= 0 {
		e.User = strings.TrimRight(s[i+len(" user="):], " ")
	}
}

func classifyPAMUnix(e *Event, m string) {
	if r, ok := strings.CutPrefix(m, "pam_unix(sshd:auth): "); ok {
		switch {
		case strings.HasPrefix(r, "authentication failure;"):
			pamKV(e, r)
			e.setType(TypePAMAuthFailure)
		case strings.HasPrefix(r, "check pass; user unknown"):
			e.setType(TypePAMOther)
		default:
			pamKV(e, r)
			e.setType(TypeSSHDOther)
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
			e.setType(TypeSessionOpened)
			return
		}
		if u, ok := strings.CutPrefix(r, "closed for user "); ok {
			e.User = u
			e.setType(TypeSessionClosed)
			return
		}
	}
	if strings.HasPrefix(m, "pam_unix(sshd:") {
		pamKV(e, m)
		e.setType(TypeSSHDOther)
	}
}

func classifyD(e *Event, m string) {
	if r, ok := strings.CutPrefix(m, "Disconnecting: "); ok {
		switch {
		case strings.HasPrefix(r, "Too many authentication failures"):
			// Disconnecting: Too many authentication failures for U [preauth]
			r = trimPreauth(r[len("Too many authentication failures"):])
			if u, ok := strings.CutPrefix(r, " for "); ok {
				e.User, _ = cutInvalid(u)
			}
			e.setType(TypeTooManyFailures)
		case strings.HasPrefix(r, "Packet corrupt"), strings.HasPrefix(r, "Corrupted MAC"),
			strings.HasPrefix(r, "Bad packet length"):
			e.setType(TypeProtocolError)
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
			e.setPeer(p)
		}
		e.setType(TypeTooManyFailures)
		return
	}
	if r, ok := strings.CutPrefix(m, "Did not receive identification string from "); ok {
		// Did not receive identification string from IP[ port P]
		if p, ok := parsePeer(trimPreauth(r)); ok {
			e.setPeer(p)
		}
		e.setType(TypeNoIdentification)
		return
	}
	if r, ok := strings.CutPrefix(m, "Disconnected from "); ok {
		// Disconnected from [authenticating user U |invalid user U |user U ]IP port P[ [preauth]]
		if p, ok := parsePeer(trimPreauth(r)); ok {
			e.setPeer(p)
			e.setType(TypeDisconnect)
		}
	}
}

func classifyC(e *Event, m string) {
	if r, ok := strings.CutPrefix(m, "Connection closed by "); ok {
		// Connection closed by [authenticating user U |invalid user U ]IP[ port P][ [preauth]]
		if p, ok := parsePeer(trimPreauth(r)); ok {
			e.setPeer(p)
			e.setType(TypeDisconnect)
		}
		return
	}
	if r, ok := strings.CutPrefix(m, "Connection reset by "); ok {
		if p, ok := parsePeer(trimPreauth(r)); ok {
			e.setPeer(p)
		}
		e.setType(TypeConnectionReset)
		return
	}
	if r, ok := strings.CutPrefix(m, "Connection from "); ok {
		// Connection from IP port P on IP port 22 rdomain ""
		if i := strings.Index(r, " on "); i >= 0 {
			if p, ok := parsePeer(r[:i]); ok {
				e.setPeer(p)
				e.setType(TypeSSHDOther)
			}
		}
		return
	}
	if strings.HasPrefix(m, "Corrupted MAC on input.") {
		e.setType(TypeProtocolError)
		return
	}
	if r, ok := strings.CutPrefix(m, "Close session: "); ok {
		// Close session: user U from IP port P id 0
		if head, ip, port, _, ok := splitFrom(r); ok {
			e.IP, e.Port = ip, port
			e.User = strings.TrimPrefix(head, "user ")
		}
		e.setType(TypeSSHDOther)
	}
}

func classifyError(e *Event, r string) {
	if r == "" {
		return
	}
	switch r[0] {
	case 'R':
		if d, ok := strings.CutPrefix(r, "Received disconnect from "); ok {
			if receivedDisconnect(e, d) {
				e.setType(TypeDisconnectError)
			}
		}
	case 'k':
		if k, ok := strings.CutPrefix(r, "kex_exchange_identification: "); ok {
			if strings.HasPrefix(k, "read: Connection reset by peer") {
				e.setType(TypeConnectionReset)
			} else {
				e.setType(TypeNoIdentification)
			}
		}
	case 'm':
		if k, ok := strings.CutPrefix(r, "maximum authentication attempts exceeded for "); ok {
			// ... for [invalid user ]U from IP port P ssh2 [preauth]
			if head, ip, port, _, ok := splitFrom(k); ok {
				e.User, _ = cutInvalid(head)
				e.IP, e.Port = ip, port
			}
			e.setType(TypeTooManyFailures)
		}
	case 'c':
		if strings.HasPrefix(r, "connect_to ") {
			// error: connect_to H port P: failed. -- H is a forwarding target, not the
			// remote address, so ip and port stay empty.
			e.setType(TypeProtocolError)
		}
	case 'P':
		if k, ok := strings.CutPrefix(r, "PAM: Authentication failure for "); ok {
			// error: PAM: Authentication failure for [illegal user ]U from H
			if i := strings.LastIndex(k, " from "); i >= 0 {
				e.User, _ = cutInvalid(k[:i])
				e.setHost(k[i+len(" from "):])
			}
			e.setType(TypePAMAuthFailure)
		}
	}
}

// receivedDisconnect parses "IP: N: text" (older sshd) or "IP port P:N: text".
func receivedDisconnect(e *Event, r string) bool {
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

func timeoutBefore(e *Event, r string) {
	// Timeout before authentication for IP port P
	r = strings.TrimPrefix(r, "Timeout before authentication for ")
	if p, ok := parsePeer(trimPreauth(r)); ok {
		e.setPeer(p)
	}
	e.setType(TypeProtocolError)
}

// repeated handles rsyslog's "message repeated N times: [ inner]": the inner message
// is classified; a repeated Failed line is auth_failure_repeated.
func repeated(e *Event, r string) {
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
	if e.EventType == TypeAuthFailure {
		e.EventType = TypeAuthFailureRepeated
	}
}
