package health

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/log-monitor/log_monitor/connectors/elastic"
	"github.com/log-monitor/log_monitor/contracts"
)

// esTimeout bounds each Elasticsearch request of a status: a node that
// does not answer in time is down for the status.
const esTimeout = 3 * time.Second

// collectElastic is the cluster's health and each index's documents and
// indexing rate (against before, the totals taken at start, or the
// collector's previous look).
func (c *Collector) collectElastic(ctx context.Context, before map[string]int64, start time.Time) *contracts.ElasticStatus {
	es := &contracts.ElasticStatus{URL: c.cfg.Elastic.URLs[0]}
	hctx, cancel := context.WithTimeout(ctx, esTimeout)
	health, err := elastic.Health(hctx, c.es)
	cancel()
	if err != nil {
		es.Error = err.Error()
		return es
	}
	es.Up, es.Health = true, health
	now := time.Now()
	for _, name := range c.cfg.Indices {
		docs, total, err := c.indexStats(ctx, name)
		if err != nil {
			es.Error = err.Error()
			continue
		}
		is := contracts.IndexStatus{Name: name, Docs: docs}
		c.mu.Lock()
		prev, seen := c.docs[name]
		c.docs[name] = docsPoint{at: now, total: total}
		c.mu.Unlock()
		if !seen {
			if t, ok := before[name]; ok {
				prev, seen = docsPoint{at: start, total: t}, true
			}
		}
		if dt := now.Sub(prev.at).Seconds(); seen && dt > 0 && total >= prev.total {
			is.IndexedPerSecond = float64(total-prev.total) / dt
		}
		es.Indices = append(es.Indices, is)
	}
	return es
}

// haveDocs reports whether an earlier look gave indexing totals.
func (c *Collector) haveDocs() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.docs) > 0
}

// indexTotals are the indexing totals of the indices now (what answers).
func (c *Collector) indexTotals(ctx context.Context) map[string]int64 {
	out := map[string]int64{}
	for _, name := range c.cfg.Indices {
		if _, total, err := c.indexStats(ctx, name); err == nil {
			out[name] = total
		}
	}
	return out
}

// indexStats returns an index's (or alias's) document count and the
// number of documents ever indexed into its primaries.
func (c *Collector) indexStats(ctx context.Context, name string) (docs, indexed int64, err error) {
	ctx, cancel := context.WithTimeout(ctx, esTimeout)
	defer cancel()
	res, err := c.es.Indices.Stats(c.es.Indices.Stats.WithContext(ctx), c.es.Indices.Stats.WithIndex(name),
		c.es.Indices.Stats.WithMetric("docs", "indexing"))
	if err != nil {
		return 0, 0, fmt.Errorf("stats of %s: %w", name, err)
	}
	defer res.Body.Close()
	if res.StatusCode == 404 {
		return 0, 0, nil // not created yet: nothing indexed
	}
	if res.IsError() {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return 0, 0, fmt.Errorf("stats of %s: %s: %s", name, res.Status(), b)
	}
	var body struct {
		All struct {
			Primaries struct {
				Docs struct {
					Count int64 `json:"count"`
				} `json:"docs"`
				Indexing struct {
					IndexTotal int64 `json:"index_total"`
				} `json:"indexing"`
			} `json:"primaries"`
		} `json:"_all"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return 0, 0, fmt.Errorf("stats of %s: %w", name, err)
	}
	return body.All.Primaries.Docs.Count, body.All.Primaries.Indexing.IndexTotal, nil
}
