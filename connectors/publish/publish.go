// Package publish sends records to Kafka in transactions (Txn) with the
// project's producer settings (acks=all, idempotent, lz4, goka's
// partitioning): what one Commit sends becomes visible to read_committed
// consumers together, or not at all.
//
// Memory is bounded by the caller: Commit blocks until the transaction is
// done, and the tailer limits how many chunks are outstanding.
package publish

import "github.com/IBM/sarama"

// Batch is a run of records that travel together (one chunk of lines).
type Batch struct {
	// Keys[i], Values[i] and PartitionKeys[i] make record i. Values usually
	// slice one shared buffer; they must not change until Commit returns.
	Keys          []sarama.ByteEncoder
	Values        []sarama.ByteEncoder
	PartitionKeys [][]byte

	msgs []sarama.ProducerMessage
	meta []record
}

// record is one message's metadata: its partitioning key.
type record struct {
	pkey []byte
}

// PartitionKey places the message by the source IP (kafkaconfig.Partitioned).
func (r *record) PartitionKey() []byte { return r.pkey }
