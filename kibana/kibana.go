// Package kibana holds log_monitor's Kibana saved objects (data views for
// ssh-log*, ssh-alerts* and metrics-daily*, the visualizations and the
// dashboard) and imports them through Kibana's saved objects API.
package kibana

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"time"
)

// SavedObjects is the ndjson export Kibana imports.
//
//go:embed saved_objects.ndjson
var SavedObjects []byte

// ErrUnreachable means no Kibana answered at the URL.
var ErrUnreachable = errors.New("kibana unreachable")

// ImportRequest builds POST <base>/api/saved_objects/_import?overwrite=true
// with the ndjson as the multipart "file" field and the kbn-xsrf header.
func ImportRequest(ctx context.Context, base string, ndjson []byte) (*http.Request, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "log_monitor.ndjson")
	if err != nil {
		return nil, fmt.Errorf("kibana import: %w", err)
	}
	if _, err := fw.Write(ndjson); err != nil {
		return nil, fmt.Errorf("kibana import: %w", err)
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("kibana import: %w", err)
	}
	u := strings.TrimRight(base, "/") + "/api/saved_objects/_import?overwrite=true"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, &body)
	if err != nil {
		return nil, fmt.Errorf("kibana import: %w", err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("kbn-xsrf", "true")
	return req, nil
}

// ImportResult is Kibana's answer to an import.
type ImportResult struct {
	Success      bool              `json:"success"`
	SuccessCount int               `json:"successCount"`
	Errors       []json.RawMessage `json:"errors"`
}

// Import sends the saved objects to the Kibana at base. It returns an error
// wrapping ErrUnreachable when nothing answers there (GET /api/status).
func Import(ctx context.Context, client *http.Client, base string) (ImportResult, error) {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	status, err := http.NewRequestWithContext(sctx, http.MethodGet, strings.TrimRight(base, "/")+"/api/status", nil)
	if err != nil {
		return ImportResult{}, fmt.Errorf("kibana %s: %w", base, err)
	}
	res, err := client.Do(status)
	if err != nil {
		return ImportResult{}, fmt.Errorf("%w at %s: %v", ErrUnreachable, base, err)
	}
	res.Body.Close()
	req, err := ImportRequest(ctx, base, SavedObjects)
	if err != nil {
		return ImportResult{}, err
	}
	res, err = client.Do(req)
	if err != nil {
		return ImportResult{}, fmt.Errorf("kibana import at %s: %w", base, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != http.StatusOK {
		return ImportResult{}, fmt.Errorf("kibana import at %s: %s: %s", base, res.Status, b)
	}
	var r ImportResult
	if err := json.Unmarshal(b, &r); err != nil {
		return ImportResult{}, fmt.Errorf("kibana import at %s: answer %s: %w", base, b, err)
	}
	if !r.Success || len(r.Errors) > 0 {
		return r, fmt.Errorf("kibana import at %s: %d objects imported, errors: %s", base, r.SuccessCount, b)
	}
	return r, nil
}
