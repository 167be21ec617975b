// Package sshlog parses SSH authentication log lines (sshd's lines in
// /var/log/auth.log, /var/log/secure, or the loghub OpenSSH data set) into
// events for the Kafka topic ssh-log and the Elasticsearch index ssh-log.
//
// The parser is pure: strings in, contracts.Event out. It opens no files and
// imports no client library. Parse never panics and returns fields that are
// substrings of the input line (zero copy): an event keeps the line's memory
// alive while it is held. Its only allocation is the row_hash text, carved from a 2 KiB buffer shared
// by 64 consecutive lines (1/64 allocation, 32 bytes, per line); AppendJSON
// allocates nothing when dst has room.
//
// # Line shapes
//
// Two time prefixes are understood, both followed by "host program[pid]: message":
//
//	Dec 10 06:55:46 LabSZ sshd[24200]: message         (classic syslog, day may be "Dec  1")
//	2025-03-01T12:34:56.123456+09:00 web1 sshd[812]: message   (RFC 3339, rsyslog high precision)
//
// An optional "<PRI>" in front is skipped; the "[pid]" part is optional. Lines of the
// programs sshd, sshd-session and sshd-auth (OpenSSH 9.8+ splits sshd into these)
// are classified into the event types of docs/contracts.md ("What the lines mean"); every
// other line is event_type "unknown", log_level INFO, with host, time, program and
// pid when the prefix parses. A line whose prefix does not parse keeps the whole line
// as its message and gets the collection time as event_time.
//
// # Decisions where docs/contracts.md leaves room
//
//   - A user name is kept exactly as sshd wrote it, leading spaces included (the 2k
//     sample has "Invalid user  0101": user " 0101"). Lines are anchored on their
//     right-hand " from IP[ port P]" part, so names with spaces (or " from ") survive.
//   - "message repeated N times: [ X ]": X is classified and repeat_count is N; a
//     repeated Failed line is auth_failure_repeated, with error_type
//     invalid_user_auth_failed when it names an invalid user (as a single Failed line
//     would). Only the Failed case counts as failed attempts (FailedAttempts).
//   - rhost holds remote host names only: rhost=H that is not an address, and the H
//     of the reverse-mapping / "Address IP maps to H" lines; an address there goes to
//     ip (or is dropped when ip is already set). An IPv6 zone ("%eth0") is cut off.
//   - "error: connect_to H port P: failed." names a forwarding target, not the remote
//     side: no ip or port. "Server listening on A port P" is local: no ip or port.
//   - Log level and error type of the modern shapes are those of the same event type
//     in the loghub table. Additions beyond the tables: "error: PAM: Authentication
//     failure for U from H" is pam_auth_failure; "exited MaxStartups throttling" is
//     connection_dropped; "Read error from remote host ... Connection reset by peer"
//     is connection_reset; "Protocol major versions differ" is protocol_error; other
//     kex_exchange_identification errors are no_identification; "Disconnecting: Bad
//     packet length / Corrupted MAC" are protocol_error; pam_unix(sshd:*) lines not
//     otherwise listed are sshd_other. Any other sshd line stays "unknown".
//   - A line without a parseable time prefix gets the collection time as event_time
//     (and an empty host_name); offset is always written, even when 0.
//
// # Year inference
//
// Classic syslog lines carry no year.
//
//   - Replay (Source.Year > 0): the first line is in Source.Year; when the month goes
//     backwards (Dec -> Jan) by more than LateTolerance, the next year starts. A line
//     that is at most LateTolerance older than the newest line seen so far (a late
//     line) never moves the year, and a late December line just after New Year is put
//     in the previous year.
//   - Live (Source.Year == 0): the year that puts the time closest to now (in
//     Source.Loc) is chosen, from the year before, the same and the next year.
//
// RFC 3339 prefixes carry their own date and UTC offset; event_time keeps that offset
// (it is shown in Source.Loc when Loc has the same offset at that instant). In replay
// mode an RFC 3339 line also sets the year for the classic lines after it.
//
// # row_hash
//
// row_hash identifies one occurrence of one line: the same bytes at the same offset of
// the same file give the same hash, and identical lines at different offsets differ.
// It is 128 bits written as 32 lowercase hex digits:
//
//	msg      = source_path || 0x00 || offset as 8 bytes big-endian || line
//	row_hash = hex(XXH64(msg, seed 0)) || hex(XXH64(msg, seed 0x9E3779B97F4A7C15))
//
// where line is the record without its terminator (a trailing "\n" and then a trailing
// "\r" are removed; nothing else is: the hash is taken over the line before any
// truncation) and each XXH64 value is written big-endian, 16 hex digits. RowHash
// computes it; Parser precomputes the path part once per source.
//
// # JSON
//
// The event and its JSON codec (the exact Kafka value) are in package
// contracts: contracts.Event.AppendJSON and contracts.UnmarshalJSON.
package sshlog
