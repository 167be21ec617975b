// Package contracts holds what log_monitor's parts agree on and other
// systems read: the wire types that travel on Kafka and into Elasticsearch,
// their codecs, and the topic, index and field names (docs/contracts.md
// describes them for people).
//
// It imports the standard library only, no client library (no Kafka,
// Elasticsearch, goka, LevelDB or gRPC), so that every other package may
// import it: connectors and processors meet here, and a connector never
// imports a processor.
//
// # The ssh-log event
//
// Event.AppendJSON writes the exact Kafka value (hand-written, no reflection, no
// allocation); UnmarshalJSON reads it back. Times are RFC 3339 with nanoseconds
// trimmed and the event's own offset. "ip" is omitted when empty (the Elasticsearch ip
// type rejects ""), "port", "pid" and "repeat_count" when 0, and the extras
// auth_method, rhost, key_info, program when empty and truncated when false;
// "offset" and "event_type" are always written. Each invalid UTF-8 byte is written as
// U+FFFD.
package contracts
