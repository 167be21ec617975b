package elastic

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"log/slog"
	"regexp"
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
		err := putTemplate(ctx, es, n, tpls[n])
		if err != nil && strings.Contains(err.Error(), "mapper type [scaled_float]") {
			// A distribution without the mapper-extras module (a trimmed
			// one, as the local stack's) has no scaled_float: Metricbeat's
			// percentages become plain floats there.
			slog.Warn("this Elasticsearch has no scaled_float (module mapper-extras): the template maps those fields as float", "template", n)
			err = putTemplate(ctx, es, n, WithoutScaledFloat(tpls[n]))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func putTemplate(ctx context.Context, es *elasticsearch.Client, name string, tpl []byte) error {
	res, err := es.Indices.PutIndexTemplate("logmon-"+name, bytes.NewReader(tpl), es.Indices.PutIndexTemplate.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("put index template %s: %w", name, err)
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
	res.Body.Close()
	if res.IsError() {
		return fmt.Errorf("put index template %s: %s: %s", name, res.Status(), body)
	}
	return nil
}

// scaledFloat matches a scaled_float mapping with its scaling factor.
var scaledFloat = regexp.MustCompile(`"type":\s*"scaled_float",\s*"scaling_factor":\s*[0-9.]+`)

// WithoutScaledFloat is tpl with every scaled_float mapped as float.
func WithoutScaledFloat(tpl []byte) []byte {
	return scaledFloat.ReplaceAll(tpl, []byte(`"type": "float"`))
}
