package ingest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/IBM/sarama"

	"github.com/log-monitor/log_monitor/connectors/publish"
	"github.com/log-monitor/log_monitor/connectors/sshlog"
	"github.com/log-monitor/log_monitor/connectors/tail"
	"github.com/log-monitor/log_monitor/contracts"
	"github.com/log-monitor/log_monitor/kafkaconfig"
	"github.com/log-monitor/log_monitor/topics"
)

// The positions topic (contracts.TopicIngestPositions) holds, per ingest instance,
// one record per file: key "<id>|<dev>:<ino>", value the file's
// tail.Position as JSON (a tombstone once the file is forgotten), written in
// the transaction that publishes the lines before that position. Every
// record of one instance is placed by the instance's id, so one partition
// holds them all in the order they committed. A session record (key
// "<id>|session", a fresh nonce) starts each run: reading the partition
// read_committed until that record gives exactly the positions the last
// committed transaction left.

// positionRecord is the value of a position record.
type positionRecord struct {
	tail.Position
	// Year is the replay parser's year inference at Offset (none for live
	// parsing): a session that resumes the file there dates the lines
	// that follow as the one before would have.
	Year    *sshlog.YearState `json:"year,omitempty"`
	Updated time.Time         `json:"updated"`
}

func positionKey(id string, p tail.Position) []byte {
	b := make([]byte, 0, len(id)+32)
	b = append(b, id...)
	b = append(b, '|')
	b = strconv.AppendUint(b, p.Dev, 10)
	b = append(b, ':')
	return strconv.AppendUint(b, p.Ino, 10)
}

func sessionKey(id string) []byte { return []byte(id + "|session") }

// positionMessages are the records of one transaction: tombstones for the
// files the tailer forgot, then each file's position after the
// transaction's chunks (a later record of the same key wins).
func positionMessages(topic, id string, chunks []parsed, forgotten []tail.Position, now time.Time) ([]publish.Message, error) {
	last := map[string]int{} // key -> index in out
	out := make([]publish.Message, 0, len(forgotten)+4)
	for _, f := range forgotten {
		out = append(out, publish.Message{Topic: topic, Key: positionKey(id, f), PartitionKey: []byte(id)})
	}
	for _, c := range chunks {
		p := c.chunk.Position()
		r := positionRecord{Position: p, Updated: now.UTC()}
		if c.year.Year > 0 {
			r.Year = &c.year
		}
		v, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("position of %s: %w", p.Path, err)
		}
		k := positionKey(id, p)
		if i, ok := last[string(k)]; ok {
			out[i].Value = v // chunks of a file come in order: the last one counts
			continue
		}
		last[string(k)] = len(out)
		out = append(out, publish.Message{Topic: topic, Key: k, Value: v, PartitionKey: []byte(id)})
	}
	return out, nil
}

// activityMessages are the SSH activity records of one transaction: one
// per host, its minutes summed over the transaction's chunks, keyed and
// partitioned by host (as system-metrics, so the host stage reads both in
// one partition).
func activityMessages(topic string, chunks []parsed) ([]publish.Message, error) {
	sum := map[string]map[int64]*contracts.MinuteActivity{}
	for _, c := range chunks {
		for host, byMinute := range c.activity {
			into := sum[host]
			if into == nil {
				into = map[int64]*contracts.MinuteActivity{}
				sum[host] = into
			}
			for m, a := range byMinute {
				if into[m] == nil {
					into[m] = &contracts.MinuteActivity{Minute: a.Minute}
				}
				into[m].Add(a)
			}
		}
	}
	out := make([]publish.Message, 0, len(sum))
	for _, a := range contracts.Activities(sum) {
		v, err := json.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("activity of %s: %w", a.HostName, err)
		}
		out = append(out, publish.Message{Topic: topic, Key: []byte(a.HostName), Value: v})
	}
	return out, nil
}

// loadPositions starts a session: it commits a session record with a fresh
// nonce through txn (whose creation fenced older producers of the id and
// ended their open transaction), then reads the instance's partition
// read_committed up to that record. found reports whether the instance had
// ever written a position.
func (p *Pipeline) loadPositions(ctx context.Context, txn *publish.Txn) (positions []tail.Position, years map[string]sshlog.YearState, found bool, err error) {
	id, topic := p.cfg.ID, p.cfg.PositionsTopic
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	hello := []byte(hex.EncodeToString(nonce))
	p.nonce = hello
	if err := txn.Begin(); err != nil {
		return nil, nil, false, fmt.Errorf("start session %s: %w", id, err)
	}
	txn.SendMessages([]publish.Message{{Topic: topic, Key: sessionKey(id), Value: hello, PartitionKey: []byte(id)}})
	if err := txn.Commit(); err != nil {
		return nil, nil, false, fmt.Errorf("start session %s: %w", id, err)
	}

	client, err := sarama.NewClient(p.cfg.Kafka.Brokers, kafkaconfig.Sarama("logmon-ingest-positions"))
	if err != nil {
		return nil, nil, false, fmt.Errorf("read positions %s: %w", topic, err)
	}
	defer client.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		return nil, nil, false, fmt.Errorf("read positions %s: %w", topic, err)
	}
	part := kafkaconfig.Partition([]byte(id), int32(len(parts)))
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return nil, nil, false, fmt.Errorf("read positions %s: %w", topic, err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(topic, part, sarama.OffsetOldest)
	if err != nil {
		return nil, nil, false, fmt.Errorf("read positions %s/%d: %w", topic, part, err)
	}
	defer pc.Close()

	prefix := []byte(id + "|")
	session := sessionKey(id)
	byKey := map[string]tail.Position{}
	yearOf := map[string]sshlog.YearState{}
	var order []string
	started := time.Now()
	wait := time.NewTicker(5 * time.Second)
	defer wait.Stop()
	for {
		select {
		case m := <-pc.Messages():
			if !bytes.HasPrefix(m.Key, prefix) {
				continue
			}
			if bytes.Equal(m.Key, session) {
				if bytes.Equal(m.Value, hello) {
					years = map[string]sshlog.YearState{}
					for _, k := range order {
						if pos, ok := byKey[k]; ok {
							positions = append(positions, pos)
							if y, ok := yearOf[k]; ok {
								years[pos.Path] = y
							}
						}
					}
					return positions, years, found, nil
				}
				continue
			}
			found = true
			k := string(m.Key)
			if m.Value == nil {
				delete(byKey, k)
				delete(yearOf, k)
				continue
			}
			var r positionRecord
			if err := json.Unmarshal(m.Value, &r); err != nil {
				return nil, nil, false, fmt.Errorf("position %s at %s/%d@%d: %w", m.Key, topic, part, m.Offset, err)
			}
			if _, ok := byKey[k]; !ok {
				order = append(order, k)
			}
			byKey[k] = r.Position
			delete(yearOf, k)
			if r.Year != nil {
				yearOf[k] = *r.Year
			}
		case err := <-pc.Errors():
			return nil, nil, false, fmt.Errorf("read positions %s/%d: %w", topic, part, err)
		case <-wait.C:
			p.log.Info("waiting for the positions: a transaction of another producer is still open on the topic",
				"topic", topic, "partition", part, "waited", time.Since(started).Round(time.Second))
		case <-ctx.Done():
			return nil, nil, false, fmt.Errorf("read positions %s/%d: %w", topic, part, ctx.Err())
		}
	}
}

// takenOver reports whether another session's record follows this
// session's: a newer instance with the same id fenced this one. A newcomer
// commits its session record right after fencing, so the record is looked
// for during a few seconds. When none comes, the failure was this
// instance's own (Kafka unreachable, a transaction that outlived
// TxnTimeout) and a new session may continue. Should a newcomer not commit
// its record within that time, the new session fences it in turn and it
// stops: one instance wins, and neither sends a line the other committed.
func (p *Pipeline) takenOver(ctx context.Context) bool {
	session := sessionKey(p.cfg.ID)
	deadline := time.Now().Add(3 * time.Second)
	for {
		var latest []byte
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := topics.ReadAll(rctx, p.cfg.Kafka, p.cfg.PositionsTopic, func(m *sarama.ConsumerMessage) error {
			if bytes.Equal(m.Key, session) {
				latest = m.Value
			}
			return nil
		})
		cancel()
		if err != nil {
			p.log.Warn("cannot tell whether another instance took over; starting a new session", "err", err)
			return false
		}
		if latest != nil && !bytes.Equal(latest, p.nonce) {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(300 * time.Millisecond)
	}
}
