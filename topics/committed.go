package topics

import (
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"
)

// Offsets of topics written in Kafka transactions (ssh-log, the ingest
// positions), as a read_committed consumer sees them.
//
// Two facts make the plain high-water mark wrong for such a topic:
//   - records of an open transaction are not readable yet: the end a reader
//     can reach is the last stable offset (LSO), not the high-water mark;
//   - every transaction leaves a commit (or abort) marker in each partition
//     it wrote. Markers and aborted records take offsets but are never
//     delivered, so "the record at end-1 was consumed" may never happen, and
//     a consumer group that consumed everything still commits an offset
//     below the end.
// Ends and Pending answer both: Ends gives the LSO, Pending whether any
// record a consumer would receive lies between an offset and that end.

// Ends returns the last stable offset of each partition: the end a
// read_committed consumer can reach now (the high-water mark when no
// transaction is open). Right after a leader election a partition's new
// leader answers "offset not available" until its high-water mark has
// caught up: Ends asks again for a few seconds.
func Ends(client sarama.Client, topic string, parts []int32) (map[int32]int64, error) {
	var last error
	for range endsAttempts {
		out, err := ends(client, topic, parts)
		if err == nil || !retriable(err) {
			return out, err
		}
		last = err
		time.Sleep(250 * time.Millisecond)
		_ = client.RefreshMetadata(topic)
	}
	return nil, last
}

// endsAttempts bounds Ends's retries (20 x 250 ms: longer than an election).
const endsAttempts = 20

// retriable reports an error a partition's leader gives while leadership moves.
func retriable(err error) bool {
	for _, e := range []error{sarama.ErrOffsetNotAvailable, sarama.ErrNotLeaderForPartition, sarama.ErrLeaderNotAvailable,
		sarama.ErrUnknownLeaderEpoch, sarama.ErrFencedLeaderEpoch, sarama.ErrRequestTimedOut, sarama.ErrNotEnoughReplicas} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func ends(client sarama.Client, topic string, parts []int32) (map[int32]int64, error) {
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return nil, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	// The admin shares the client: closing it would close the client too.
	q := map[string]map[int32]int64{topic: {}}
	for _, p := range parts {
		q[topic][p] = sarama.OffsetNewest
	}
	res, err := admin.ListOffsets(q, &sarama.ListOffsetsOptions{IsolationLevel: sarama.ReadCommitted})
	if err != nil {
		return nil, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	out := make(map[int32]int64, len(parts))
	for _, p := range parts {
		r := res[topic][p]
		if r == nil {
			return nil, fmt.Errorf("end offset of %s/%d: no answer", topic, p)
		}
		if r.Err != nil && r.Err != sarama.ErrNoError {
			return nil, fmt.Errorf("end offset of %s/%d: %w", topic, p, r.Err)
		}
		out[p] = r.Offset
	}
	return out, nil
}

// Pending reports whether partition p of topic holds, in [from, end), a
// record that a read_committed consumer receives: not a transaction marker,
// not a record of an aborted transaction. end is an LSO from Ends. It reads
// the batches' headers from the partition's leader (whole batches, as the
// broker sends them), so callers ask it only when the offsets alone cannot
// tell (from < end).
func Pending(client sarama.Client, topic string, p int32, from, end int64) (bool, error) {
	n, err := Visible(client, topic, p, from, end, 1)
	return n > 0, err
}

// Visible counts the records in [from, end) of partition p that a
// read_committed consumer receives, up to limit: it stops reading once it
// has counted limit of them (a consumer group's exact lag, without reading
// a large backlog).
func Visible(client sarama.Client, topic string, p int32, from, end, limit int64) (int64, error) {
	var count int64
	// Producers whose aborted transaction began at or before the batch
	// being looked at, until their abort marker.
	aborted := map[int64]bool{}
	var abortList []*sarama.AbortedTransaction // not applied yet
	applied := map[sarama.AbortedTransaction]bool{}
	for from < end {
		broker, err := client.Leader(topic, p)
		if err != nil {
			return count, fmt.Errorf("pending records of %s/%d: %w", topic, p, err)
		}
		req := &sarama.FetchRequest{Version: 11, MaxWaitTime: 0, MinBytes: 1, MaxBytes: 1 << 20,
			Isolation: sarama.ReadCommitted, SessionID: 0, SessionEpoch: -1}
		// The broker sends at least one whole batch: one is enough to tell
		// whether anything is pending; a count takes up to 1 MiB at a time.
		partitionBytes := int32(1)
		if limit > 1 {
			partitionBytes = 1 << 20
		}
		req.AddBlock(topic, p, from, partitionBytes, -1)
		resp, err := broker.Fetch(req)
		if err != nil {
			_ = broker.Close()
			return count, fmt.Errorf("pending records of %s/%d: %w", topic, p, err)
		}
		block := resp.GetBlock(topic, p)
		if block == nil {
			return count, fmt.Errorf("pending records of %s/%d: no block in the fetch response", topic, p)
		}
		if block.Err != sarama.ErrNoError {
			return count, fmt.Errorf("pending records of %s/%d at %d: %w", topic, p, from, block.Err)
		}
		for _, a := range block.AbortedTransactions {
			if !applied[*a] {
				abortList = append(abortList, a)
			}
		}
		next := from
		for _, rs := range block.RecordsSet {
			b := rs.RecordBatch
			if b == nil { // a message set of the old format: never transactional
				if rs.MsgSet != nil {
					for _, m := range rs.MsgSet.Messages {
						if m.Offset >= from && m.Offset < end {
							count++
						}
					}
				}
				if count >= limit {
					return count, nil
				}
				continue
			}
			if b.PartialTrailingRecord && len(b.Records) == 0 {
				break
			}
			last := b.FirstOffset + int64(b.LastOffsetDelta)
			rest := abortList[:0]
			for _, a := range abortList {
				if a.FirstOffset <= last {
					aborted[a.ProducerID] = true
					applied[*a] = true
				} else {
					rest = append(rest, a)
				}
			}
			abortList = rest
			switch {
			case last < from:
			case b.Control:
				// A commit or abort marker ends its producer's transaction.
				delete(aborted, b.ProducerID)
			case b.IsTransactional && aborted[b.ProducerID]:
			default:
				for _, r := range b.Records {
					if o := b.FirstOffset + r.OffsetDelta; o >= from && o < end {
						count++
					}
				}
				if count >= limit {
					return count, nil
				}
			}
			next = max(next, last+1)
		}
		if next == from {
			// Nothing complete came back below end (a batch larger than the
			// fetch size): count the rest as visible rather than loop.
			return count + end - from, nil
		}
		from = next
	}
	return count, nil
}
