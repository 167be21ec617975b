package esindex

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/IBM/sarama"
	"github.com/elastic/go-elasticsearch/v8"
)

// item is one record on its way into Elasticsearch.
type item struct {
	msg     *sarama.ConsumerMessage
	kind    Kind
	index   string
	id      string
	version int64  // > 0: external version (metrics: offset + 1)
	body    []byte // the document, when it is not the record's value (host samples)
	// outcome
	status int
	reason string
}

// outcome of one bulk item.
type outcome int

const (
	indexed  outcome = iota
	stale            // a newer version is already indexed (metrics replays)
	retry            // 429 or 5xx: send again after a backoff
	rejected         // refused for good: dead-letter topic
)

func classify(it *item) outcome {
	switch {
	case it.status >= 200 && it.status < 300:
		return indexed
	case it.status == 409 && it.version > 0:
		return stale
	case it.status == 429 || it.status >= 500:
		return retry
	}
	return rejected
}

// appendAction appends the action line and the document of it to buf.
func appendAction(buf []byte, it *item) []byte {
	buf = append(buf, `{"index":{"_index":`...)
	buf = strconv.AppendQuote(buf, it.index)
	buf = append(buf, `,"_id":`...)
	buf = strconv.AppendQuote(buf, it.id)
	if it.version > 0 {
		buf = append(buf, `,"version":`...)
		buf = strconv.AppendInt(buf, it.version, 10)
		buf = append(buf, `,"version_type":"external"`...)
	}
	buf = append(buf, "}}\n"...)
	v := it.msg.Value
	if it.body != nil {
		v = it.body
	}
	if bytes.IndexByte(v, '\n') >= 0 {
		var c bytes.Buffer
		if json.Compact(&c, v) == nil {
			v = c.Bytes()
		}
	}
	buf = append(buf, v...)
	return append(buf, '\n')
}

// bulkResponse is the part of a _bulk answer the sink reads.
type bulkResponse struct {
	Items []map[string]struct {
		Status int             `json:"status"`
		Error  json.RawMessage `json:"error"`
	} `json:"items"`
}

// requestError is a failure of the whole bulk request (transport or status).
type requestError struct {
	cause string // "transport", "429", "5xx", "4xx"
	err   error
}

func (e *requestError) Error() string { return fmt.Sprintf("bulk request (%s): %v", e.cause, e.err) }

// sendBulk sends items in one _bulk request and fills in each item's status
// and reason. A failed request returns a *requestError and changes nothing.
func sendBulk(ctx context.Context, es *elasticsearch.Client, items []*item, buf []byte) ([]byte, error) {
	buf = buf[:0]
	for _, it := range items {
		buf = appendAction(buf, it)
	}
	res, err := es.Bulk(bytes.NewReader(buf), es.Bulk.WithContext(ctx))
	if err != nil {
		return buf, &requestError{cause: "transport", err: err}
	}
	defer res.Body.Close()
	if res.IsError() {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
		cause := "4xx"
		if res.StatusCode == 429 {
			cause = "429"
		} else if res.StatusCode >= 500 {
			cause = "5xx"
		}
		return buf, &requestError{cause: cause, err: fmt.Errorf("%s: %s", res.Status(), b)}
	}
	var br bulkResponse
	if err := json.NewDecoder(res.Body).Decode(&br); err != nil {
		return buf, &requestError{cause: "transport", err: fmt.Errorf("bulk response: %w", err)}
	}
	if len(br.Items) != len(items) {
		return buf, &requestError{cause: "transport", err: fmt.Errorf("bulk response has %d items for %d documents", len(br.Items), len(items))}
	}
	for i, m := range br.Items {
		for _, r := range m { // one key: the action
			items[i].status = r.Status
			items[i].reason = ""
			if len(r.Error) > 0 {
				items[i].reason = errorReason(r.Error)
			}
		}
	}
	return buf, nil
}

// errorReason makes "type: reason (caused by: type: reason)" of an item error.
func errorReason(raw json.RawMessage) string {
	var e struct {
		Type     string `json:"type"`
		Reason   string `json:"reason"`
		CausedBy *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"caused_by"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Type == "" {
		return string(raw)
	}
	s := e.Type + ": " + e.Reason
	if e.CausedBy != nil {
		s += " (caused by " + e.CausedBy.Type + ": " + e.CausedBy.Reason + ")"
	}
	return s
}

// Backoff is exponential with jitter: attempt 0 waits about base, each next
// attempt twice as long up to max; the wait is drawn from [d/2, d).
type Backoff struct {
	Base, Max time.Duration
}

// Delay is the wait before retry number attempt (0-based).
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.Base
	for i := 0; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
