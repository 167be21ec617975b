// Package detect is log_monitor's detection-rule engine: pure (no Kafka, no
// goka), called by the processors once per event with the state of the
// event's key. IPState runs the per-IP rules (key = source IP), UserState runs
// distributed_attack (key = user name). Both are small, bounded whatever the
// attack size, and have a compact versioned binary codec, because the
// processors re-serialize them at every event.
//
// # Rules (docs/contracts.md "Detections"; every number in Rules)
//
//	rule                  key   fires when (defaults)
//	brute_force           IP    >= 10 failed attempts within 5m
//	slow_brute_force      IP    >= 30 failed attempts within 24h
//	user_enumeration      IP    >= 5 distinct invalid user names within 10m
//	password_spraying     IP    >= 10 distinct users with failures and >= 30 failed attempts within 5m
//	distributed_attack    user  >= 5 distinct IPs and >= 20 failed attempts within 10m
//	compromise_suspected  IP    an auth_success after >= 5 failed attempts in the 24h before it
//	root_attempts         IP    >= 5 failed attempts on root within 10m
//
// A failed attempt is sshlog's FailedAttempts(): 1 per auth_failure line, N
// for "message repeated N times". An invalid user name comes from an
// invalid_user event, or an auth_failure(_repeated) with error_type
// invalid_user_auth_failed. Event times are whole seconds.
//
// "Within W" is exact: a rule holds at window end s when the half-open window
// (s-W, s] contains the threshold (failures counted with multiplicity), so
// failures a_1..a_N with a_N - a_1 == W do not fire and W-1s does. A rule is
// evaluated at each relevant event (a failure, an invalid user, a success),
// with the window ending at the event's time; over events in time order the
// (rule, key) pairs that ever fire are exactly those for which some window
// meets the threshold (the tests check this against a batch implementation).
//
// # Bounded state
//
// Only what decides a rule is kept. Failures are (time, count) pairs (a
// repeated line is one pair), and only the most recent ones, as many as the
// largest count threshold (30 by default): "N failures within W ending at t"
// is "the N-th most recent failure is after t-W". Distinct names (users, invalid
// users, IPs) are LRU lists of the most recent distinct names with their last
// time, at least as many as the distinct threshold (and at least 10, the
// alert's sample): evicting the oldest name is exact for "U distinct within W
// ending at the newest time". Names are cut at 64 bytes. Pairs older than the
// longest window plus Lateness are dropped. With the default rules an IP
// state encodes to at most about 1.6 KB whatever the attack (every name at the
// 64-byte cut; about 500 bytes with ordinary names), a benign IP's to about
// 30-100 bytes.
//
// compromise_suspected's SameUser looks in the list of the 10 (or
// password_spraying.users, if more) most recent users with failures: exact
// unless more distinct users failed after the success's user. Its count (the
// failures in the window before the success) is cut at the retained failures
// (30 by default).
//
// # Out-of-order events
//
// Several servers interleave, so an event may be older than its key's newest
// event. If it is at most Rules.Lateness (2m; for the user state
// distributed_attack.lateness, 30m, because a user's events come from every
// ssh-log partition) older it is inserted in sorted
// position and takes part in the rules: the candidate windows are those that
// contain it and end at its time or at a kept time after it. An event more
// than Lateness behind only counts in the state's totals (LateEvents); it may
// not fire rules (the daily metrics count it elsewhere). Within the lateness
// a late event can still miss a window: one made of failures that newer ones
// already pushed out of the kept ones (such a window has then usually fired
// already), or, for the distinct-name rules, one that needs an earlier
// sighting of a name seen again since (only a name's last time is kept).
// Firing is always sound: every alert has a real window behind it (tested on
// disordered streams: no false alerts, about 0.7% of the batch's (rule, key)
// pairs missed under heavy random disorder with small windows).
//
// # Episodes, cooldown, escalation
//
// Each (key, rule) has at most one running episode. An evaluation that finds
// the rule's condition true is "activity" at the window end s:
//
//   - No episode, or Cooldown (1h, event time) since the episode's last
//     activity: a new episode starts and alerts (Seq 1).
//   - Otherwise the episode continues. It alerts again when its count reaches
//     the next escalation step, threshold * EscalationFactor^k for k = 1..
//     MaxEscalations (x2, x4, x8 by default; a jump over several steps alerts
//     once, at the highest), or else as a reminder when Cooldown has passed
//     since its last alert (same level, next Seq).
//
// The count: at the first alert, the count in the firing window (at least the
// threshold; the first alert's level is the step that count reached). Then
// every later contribution of the key while the episode runs is added, whether
// or not the condition holds at that event: the failed attempts
// (brute_force, slow_brute_force, password_spraying; those on root for
// root_attempts; those on the user for distributed_attack), or 1 per invalid
// name not among the recent ones kept (user_enumeration). Alerts (escalations,
// reminders) are raised only at activity. So a second burst within the
// cooldown adds its failures and escalates at the threshold x2.
// compromise_suspected does not escalate: its count is the failures in the
// window before the latest success. Severity rises one step per level (low,
// medium, high, critical): base critical for compromise_suspected, high for
// brute_force, password_spraying, distributed_attack and root_attempts,
// medium for slow_brute_force and user_enumeration.
//
// An episode ends after Cooldown without activity; the state then forgets it
// and the next activity starts a new episode (new ids). A long attack is thus
// the first alert, at most MaxEscalations escalations, and one reminder per
// Cooldown.
//
// # Alert ids
//
// AlertID(rule, key, episode start, level, seq), a SHA-256 prefix: the same
// events in the same order give the same ids (a replay re-creates them), and
// different episodes or steps give different ids. Alert.Offset carries the
// triggering input's source offset.
//
// # Replays
//
// Apply is not idempotent. The processor keeps the last applied source offset
// per partition beside the state, skips a replayed input, and emits again the
// alerts it keeps for that input (Alert has a compact binary codec for that,
// AppendBinary/UnmarshalBinary, about half the size of its JSON).
//
// # Codec and memory
//
// AppendBinary/MarshalBinary write a versioned, compact encoding (times as
// varint differences from the newest time). A running episode is stored under
// its rule's name (version 2), never by the rule's position in a list, so
// rules can be reordered or added without changing what stored state means;
// version 1 (a one-byte mask of positions) is still read, and an episode of a
// rule the code does not know is dropped. UnmarshalBinary rejects anything
// else without panicking (fuzzed), and copies data once (names are substrings
// of that copy). Short lists live in small arrays inside the state, so a
// benign IP's state decodes with one allocation; an attacker's longer lists
// share one heap array per element type. Copy a state with
// MarshalBinary/UnmarshalBinary, not by assignment: an assigned copy shares
// the heap lists of the original.
package detect
