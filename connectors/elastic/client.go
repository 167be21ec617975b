// Package elastic is the Elasticsearch side of log_monitor: the client built
// from the project's configuration, readiness, and (as the sink lands) index
// templates and bulk indexing.
package elastic

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/log-monitor/log_monitor/config"
)

// NewClient returns a client for every node in c, with basic auth or an API
// key and a private CA when configured.
func NewClient(c config.Elastic) (*elasticsearch.Client, error) {
	if len(c.URLs) == 0 {
		return nil, fmt.Errorf("elasticsearch: no URLs (set %s)", config.EnvElasticURLs)
	}
	ec := elasticsearch.Config{
		Addresses:     c.URLs,
		Username:      c.Username,
		Password:      c.Password,
		APIKey:        c.APIKey,
		RetryOnStatus: []int{502, 503, 504, 429},
		MaxRetries:    5,
		RetryBackoff:  func(attempt int) time.Duration { return time.Duration(attempt) * 200 * time.Millisecond },
	}
	if c.CAFile != "" {
		pool, err := config.CertPool(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("elasticsearch: %w", err)
		}
		ec.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	}
	client, err := elasticsearch.NewClient(ec)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch client: %w", err)
	}
	return client, nil
}

// Health returns the cluster's health status (green, yellow or red).
// Readiness is GET /_cluster/health, not Ping: the minimal build answers GET /
// with 405.
func Health(ctx context.Context, es *elasticsearch.Client) (string, error) {
	res, err := es.Cluster.Health(es.Cluster.Health.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("cluster health: %w", err)
	}
	defer res.Body.Close()
	if res.IsError() {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
		return "", fmt.Errorf("cluster health: %s: %s", res.Status(), b)
	}
	var h struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		return "", fmt.Errorf("cluster health: %w", err)
	}
	return h.Status, nil
}

// WaitReady returns once the cluster is yellow or green, or ctx ends.
func WaitReady(ctx context.Context, es *elasticsearch.Client) error {
	var last error
	for {
		status, err := Health(ctx, es)
		if err == nil && (status == "green" || status == "yellow") {
			return nil
		}
		last = err
		if err == nil {
			last = fmt.Errorf("status %s", status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("elasticsearch not ready: %w (last: %v)", ctx.Err(), last)
		case <-time.After(time.Second):
		}
	}
}
