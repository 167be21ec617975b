package elastic

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/elastic/go-elasticsearch/v8"
)

//go:embed templates/*.json
var templateFS embed.FS

// Templates returns the composable index templates by name (the index they serve).
func Templates() (map[string][]byte, error) {
	entries, err := templateFS.ReadDir("templates")
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := templateFS.ReadFile("templates/" + e.Name())
		if err != nil {
			return nil, err
		}
		out[strings.TrimSuffix(e.Name(), ".json")] = b
	}
	return out, nil
}

// EnsureTemplates puts every index template; putting the same body again is
// harmless, so it runs at every start-up.
func EnsureTemplates(ctx context.Context, es *elasticsearch.Client) error {
	tpls, err := Templates()
	if err != nil {
		return fmt.Errorf("index templates: %w", err)
	}
	names := make([]string, 0, len(tpls))
	for n := range tpls {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		res, err := es.Indices.PutIndexTemplate("logmon-"+n, bytes.NewReader(tpls[n]), es.Indices.PutIndexTemplate.WithContext(ctx))
		if err != nil {
			return fmt.Errorf("put index template %s: %w", n, err)
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
		res.Body.Close()
		if res.IsError() {
			return fmt.Errorf("put index template %s: %s: %s", n, res.Status(), body)
		}
	}
	return nil
}
