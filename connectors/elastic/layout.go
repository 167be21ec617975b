package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
)

// Index layouts (config.Elastic.IndexLayout).
const (
	// LayoutSingle writes one index per name: ssh-log, ssh-alerts,
	// metrics-daily (the seed's layout, the default).
	LayoutSingle = "single"
	// LayoutDaily writes ssh-log-2015.12.10 ... behind the alias ssh-log.
	LayoutDaily = "daily"
	// LayoutMonthly writes ssh-log-2015.12 ... behind the alias ssh-log.
	LayoutMonthly = "monthly"
)

// Layout maps a contract name and a document's time to the index it goes to.
// The contract names (with Suffix) are what readers use: the index itself in
// the single layout, an alias over the time-based indices otherwise.
type Layout struct {
	Kind string
	// Suffix makes every name base+"-"+Suffix (tests and benchmarks keep
	// their indices apart from the contract's; the templates still match).
	Suffix string
	// RetentionDays: time-based indices whose period ended more than this
	// many days ago are deleted, and documents that would go to them are
	// dropped (0 = keep everything).
	RetentionDays int
}

// NewLayout checks kind and retention.
func NewLayout(kind, suffix string, retentionDays int) (Layout, error) {
	switch kind {
	case "", LayoutSingle:
		kind = LayoutSingle
	case LayoutDaily, LayoutMonthly:
	default:
		return Layout{}, fmt.Errorf("index layout %q: want single, daily or monthly", kind)
	}
	if retentionDays < 0 {
		return Layout{}, fmt.Errorf("index retention %d days: must be 0 (keep) or more", retentionDays)
	}
	if strings.ContainsAny(suffix, `*,/\ "<>|?#`) || strings.ToLower(suffix) != suffix {
		return Layout{}, fmt.Errorf("index suffix %q: lower case, no wildcards, commas or spaces", suffix)
	}
	return Layout{Kind: kind, Suffix: suffix, RetentionDays: retentionDays}, nil
}

// TimeBased reports whether documents go to per-day or per-month indices.
func (l Layout) TimeBased() bool { return l.Kind == LayoutDaily || l.Kind == LayoutMonthly }

// Alias is the name readers (Kibana, the tests) use for base: the index in
// the single layout, the alias over the time-based indices otherwise.
func (l Layout) Alias(base string) string {
	if l.Suffix == "" {
		return base
	}
	return base + "-" + l.Suffix
}

func (l Layout) dateFormat() string {
	if l.Kind == LayoutMonthly {
		return "2006.01"
	}
	return "2006.01.02"
}

// period is the UTC day or month holding t: [start, end).
func (l Layout) period(t time.Time) (start, end time.Time) {
	t = t.UTC()
	if l.Kind == LayoutMonthly {
		start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0)
	}
	start = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 0, 1)
}

// Index is the index a document of base with time t is written to.
func (l Layout) Index(base string, t time.Time) string {
	if !l.TimeBased() {
		return l.Alias(base)
	}
	start, _ := l.period(t)
	return l.Alias(base) + "-" + start.Format(l.dateFormat())
}

// Expired reports whether a document with time t falls in a period the
// retention has deleted (or will delete) at now: such a document is dropped
// rather than re-creating an index the retention removed.
func (l Layout) Expired(t, now time.Time) bool {
	if !l.TimeBased() || l.RetentionDays == 0 {
		return false
	}
	_, end := l.period(t)
	return !end.After(now.AddDate(0, 0, -l.RetentionDays))
}

// indexTime parses the date of a time-based index of base; ok is false for
// any other index that happens to share the prefix.
func (l Layout) indexTime(base, index string) (time.Time, bool) {
	prefix := l.Alias(base) + "-"
	if !strings.HasPrefix(index, prefix) {
		return time.Time{}, false
	}
	rest := index[len(prefix):]
	t, err := time.ParseInLocation(l.dateFormat(), rest, time.UTC)
	if err != nil || t.Format(l.dateFormat()) != rest {
		return time.Time{}, false
	}
	return t, true
}

// EnsureIndex creates a time-based index with its alias (the template gives
// the mappings); an existing index gets the alias added again (harmless).
func EnsureIndex(ctx context.Context, es *elasticsearch.Client, index, alias string) error {
	body := fmt.Sprintf(`{"aliases":{%q:{}}}`, alias)
	res, err := es.Indices.Create(index, es.Indices.Create.WithBody(strings.NewReader(body)), es.Indices.Create.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("create index %s: %w", index, err)
	}
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	res.Body.Close()
	if !res.IsError() {
		return nil
	}
	if res.StatusCode != 400 || !bytes.Contains(b, []byte("resource_already_exists_exception")) {
		return fmt.Errorf("create index %s: %s: %s", index, res.Status(), b)
	}
	res, err = es.Indices.PutAlias([]string{index}, alias, es.Indices.PutAlias.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("alias %s -> %s: %w", alias, index, err)
	}
	b, _ = io.ReadAll(io.LimitReader(res.Body, 4096))
	res.Body.Close()
	if res.IsError() {
		return fmt.Errorf("alias %s -> %s: %s: %s", alias, index, res.Status(), b)
	}
	return nil
}

// ListIndices returns the names of the indices matching pattern.
func ListIndices(ctx context.Context, es *elasticsearch.Client, pattern string) ([]string, error) {
	res, err := es.Cat.Indices(es.Cat.Indices.WithIndex(pattern), es.Cat.Indices.WithFormat("json"),
		es.Cat.Indices.WithH("index"), es.Cat.Indices.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("list indices %s: %w", pattern, err)
	}
	defer res.Body.Close()
	if res.StatusCode == 404 {
		return nil, nil
	}
	if res.IsError() {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
		return nil, fmt.Errorf("list indices %s: %s: %s", pattern, res.Status(), b)
	}
	var rows []struct {
		Index string `json:"index"`
	}
	if err := json.NewDecoder(res.Body).Decode(&rows); err != nil {
		return nil, fmt.Errorf("list indices %s: %w", pattern, err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Index
	}
	return out, nil
}

// EnforceRetention deletes the time-based indices of bases whose period
// ended more than RetentionDays before now, and returns their names. Only
// names of the exact form alias-<date> are touched.
func EnforceRetention(ctx context.Context, es *elasticsearch.Client, l Layout, bases []string, now time.Time, log *slog.Logger) ([]string, error) {
	if !l.TimeBased() || l.RetentionDays == 0 {
		return nil, nil
	}
	var deleted []string
	for _, base := range bases {
		names, err := ListIndices(ctx, es, l.Alias(base)+"-*")
		if err != nil {
			return deleted, err
		}
		for _, n := range names {
			t, ok := l.indexTime(base, n)
			if !ok || !l.Expired(t, now) {
				continue
			}
			res, err := es.Indices.Delete([]string{n}, es.Indices.Delete.WithContext(ctx))
			if err != nil {
				return deleted, fmt.Errorf("delete index %s: %w", n, err)
			}
			b, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
			res.Body.Close()
			if res.IsError() && res.StatusCode != 404 {
				return deleted, fmt.Errorf("delete index %s: %s: %s", n, res.Status(), b)
			}
			log.Info("retention: deleted index", "index", n, "retention_days", l.RetentionDays)
			deleted = append(deleted, n)
		}
	}
	return deleted, nil
}
