package kibana

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/log-monitor/log_monitor/connectors/elastic"
)

// field is one mapped field of a template: its type and whether it sits
// inside a nested object (legacy visualizations cannot aggregate those).
type field struct {
	typ    string
	nested bool
}

// templateFields flattens each template's mappings: "message.keyword",
// "top_ip_list.ip" and so on, keyed by the index patterns it serves.
func templateFields(t *testing.T) map[string]map[string]field {
	t.Helper()
	tpls, err := elastic.Templates()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]field{}
	for name, b := range tpls {
		var tpl struct {
			Template struct {
				Mappings struct {
					Properties map[string]json.RawMessage `json:"properties"`
				} `json:"mappings"`
			} `json:"template"`
		}
		if err := json.Unmarshal(b, &tpl); err != nil {
			t.Fatalf("template %s: %v", name, err)
		}
		fields := map[string]field{}
		flatten(t, "", tpl.Template.Mappings.Properties, false, fields)
		out[name] = fields
	}
	return out
}

func flatten(t *testing.T, prefix string, props map[string]json.RawMessage, nested bool, out map[string]field) {
	for name, raw := range props {
		var p struct {
			Type       string                     `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
			Fields     map[string]json.RawMessage `json:"fields"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		full := prefix + name
		out[full] = field{typ: p.Type, nested: nested}
		flatten(t, full+".", p.Fields, nested, out)
		flatten(t, full+".", p.Properties, nested || p.Type == "nested", out)
	}
}

// aggTypes is what each aggregation the objects use accepts.
var aggTypes = map[string][]string{
	"date_histogram": {"date"},
	"terms":          {"keyword", "ip", "integer", "long", "boolean", "date"},
	"max":            {"long", "integer", "double", "float", "scaled_float", "half_float", "date"},
	"min":            {"long", "integer", "double", "float", "scaled_float", "half_float", "date"},
	"sum":            {"long", "integer", "double", "float", "scaled_float", "half_float"},
	"avg":            {"long", "integer", "double", "float", "scaled_float", "half_float"},
	"cardinality":    {"keyword", "ip", "integer", "long"},
}

// sortable types (a search's columns and sort; text is not aggregatable).
var sortable = []string{"keyword", "ip", "integer", "long", "date", "boolean", "double", "float"}

type object struct {
	Type       string          `json:"type"`
	ID         string          `json:"id"`
	Attributes json.RawMessage `json:"attributes"`
	References []struct {
		Name string `json:"name"`
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"references"`
}

var kqlField = regexp.MustCompile(`([A-Za-z_@][A-Za-z0-9_.@]*)\s*:`)

// check returns every problem of the ndjson against the templates.
func check(t *testing.T, ndjson []byte) []string {
	t.Helper()
	fields := templateFields(t)
	var objs []object
	sc := bufio.NewScanner(bytes.NewReader(ndjson))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var o object
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			bad("line %d: not JSON: %v", n, err)
			continue
		}
		objs = append(objs, o)
	}
	byID := map[string]object{}
	for _, o := range objs {
		if _, dup := byID[o.ID]; dup {
			bad("%s: id used twice", o.ID)
		}
		byID[o.ID] = o
	}
	// data views -> template fields
	views := map[string]map[string]field{}
	for _, o := range objs {
		if o.Type != "index-pattern" {
			continue
		}
		var a struct{ Title, TimeFieldName string }
		_ = json.Unmarshal(o.Attributes, &a)
		base := strings.TrimSuffix(a.Title, "*")
		f, ok := fields[base]
		if !ok {
			bad("%s: data view %q matches no index template", o.ID, a.Title)
			continue
		}
		views[o.ID] = f
		if f[a.TimeFieldName].typ != "date" {
			bad("%s: time field %q is %q, not date", o.ID, a.TimeFieldName, f[a.TimeFieldName].typ)
		}
	}
	viewOf := func(o object) map[string]field {
		for _, r := range o.References {
			if r.Type == "index-pattern" {
				if f, ok := views[r.ID]; ok {
					return f
				}
				bad("%s: references data view %s, not in the file", o.ID, r.ID)
				return nil
			}
		}
		bad("%s: no data view reference", o.ID)
		return nil
	}
	checkQuery := func(o object, f map[string]field, searchSource string) {
		var ss struct {
			Query struct{ Query string } `json:"query"`
		}
		if err := json.Unmarshal([]byte(searchSource), &ss); err != nil {
			bad("%s: searchSourceJSON: %v", o.ID, err)
			return
		}
		for _, m := range kqlField.FindAllStringSubmatch(ss.Query.Query, -1) {
			if _, ok := f[m[1]]; !ok {
				bad("%s: query field %q not in the template", o.ID, m[1])
			}
		}
	}
	seen := map[string]bool{}
	for _, o := range objs {
		switch o.Type {
		case "index-pattern":
		case "visualization":
			var a struct {
				VisState string `json:"visState"`
				Meta     struct {
					SearchSourceJSON string `json:"searchSourceJSON"`
				} `json:"kibanaSavedObjectMeta"`
			}
			_ = json.Unmarshal(o.Attributes, &a)
			var vs struct {
				Aggs []struct {
					Type   string         `json:"type"`
					Params map[string]any `json:"params"`
				} `json:"aggs"`
			}
			if err := json.Unmarshal([]byte(a.VisState), &vs); err != nil {
				bad("%s: visState: %v", o.ID, err)
				continue
			}
			f := viewOf(o)
			if f == nil {
				continue
			}
			checkQuery(o, f, a.Meta.SearchSourceJSON)
			for _, agg := range vs.Aggs {
				name, _ := agg.Params["field"].(string)
				if agg.Type == "count" {
					continue
				}
				allowed, known := aggTypes[agg.Type]
				if !known {
					bad("%s: aggregation %s not checked by this test", o.ID, agg.Type)
					continue
				}
				fd, ok := f[name]
				switch {
				case !ok:
					bad("%s: %s on %q: no such field", o.ID, agg.Type, name)
				case fd.nested:
					bad("%s: %s on %q: a nested field", o.ID, agg.Type, name)
				case !slices.Contains(allowed, fd.typ):
					bad("%s: %s on %q of type %s (allowed: %v)", o.ID, agg.Type, name, fd.typ, allowed)
				default:
					seen[agg.Type+" "+name] = true
				}
			}
		case "search":
			var a struct {
				Columns []string   `json:"columns"`
				Sort    [][]string `json:"sort"`
				Meta    struct {
					SearchSourceJSON string `json:"searchSourceJSON"`
				} `json:"kibanaSavedObjectMeta"`
			}
			_ = json.Unmarshal(o.Attributes, &a)
			f := viewOf(o)
			if f == nil {
				continue
			}
			checkQuery(o, f, a.Meta.SearchSourceJSON)
			for _, c := range a.Columns {
				if _, ok := f[c]; !ok {
					bad("%s: column %q not in the template", o.ID, c)
				}
			}
			for _, s := range a.Sort {
				if len(s) == 0 || !slices.Contains(sortable, f[s[0]].typ) {
					bad("%s: sort %v on a field that cannot be sorted", o.ID, s)
				}
			}
		case "dashboard":
			var a struct {
				PanelsJSON string `json:"panelsJSON"`
			}
			_ = json.Unmarshal(o.Attributes, &a)
			var panels []struct {
				PanelRefName string `json:"panelRefName"`
				Type         string `json:"type"`
			}
			if err := json.Unmarshal([]byte(a.PanelsJSON), &panels); err != nil {
				bad("%s: panelsJSON: %v", o.ID, err)
			}
			refs := map[string]string{}
			for _, r := range o.References {
				refs[r.Name] = r.ID
				if target, ok := byID[r.ID]; !ok || target.Type != r.Type {
					bad("%s: reference %s -> %s %s not in the file", o.ID, r.Name, r.Type, r.ID)
				}
				if r.Type == "map" || r.Type == "lens" && strings.Contains(r.ID, "map") {
					bad("%s: maps are not wanted", o.ID)
				}
			}
			for _, p := range panels {
				if refs[p.PanelRefName] == "" {
					bad("%s: panel %s has no reference", o.ID, p.PanelRefName)
				}
			}
		default:
			bad("%s: object type %s not checked by this test", o.ID, o.Type)
		}
	}
	if len(problems) == 0 {
		t.Logf("%d objects, aggregations checked: %v", len(objs), slices.Collect(maps.Keys(seen)))
	}
	return problems
}

// TestSavedObjectsMatchTemplates checks every field the data views,
// visualizations, the alerts search and the dashboard use against the index
// templates, with a type the aggregation accepts.
func TestSavedObjectsMatchTemplates(t *testing.T) {
	if p := check(t, SavedObjects); len(p) > 0 {
		t.Fatalf("saved objects do not match the templates:\n%s", strings.Join(p, "\n"))
	}
	want := map[string]bool{"index-pattern": false, "visualization": false, "search": false, "dashboard": false}
	for _, line := range bytes.Split(bytes.TrimSpace(SavedObjects), []byte("\n")) {
		var o object
		_ = json.Unmarshal(line, &o)
		want[o.Type] = true
	}
	for typ, ok := range want {
		if !ok {
			t.Errorf("no %s object", typ)
		}
	}
}

// TestCheckCatchesMistakes feeds the checker objects that are wrong in each
// way it looks for; each must be reported.
func TestCheckCatchesMistakes(t *testing.T) {
	cases := map[string][2]string{
		"missing field":       {`\"field\":\"ip\"`, `\"field\":\"source_ip\"`},
		"terms on text":       {`\"field\":\"log_level\"`, `\"field\":\"message\"`},
		"date_histogram type": {`\"field\":\"event_time\"`, `\"field\":\"port\"`},
		"nested field":        {`\"field\":\"brute_force_ips\"`, `\"field\":\"top_brute_list.cnt\"`},
		"query field":         {`event_type : (`, `eventtype : (`},
		"column":              {`"columns":["rule"`, `"columns":["rules"`},
		"sort on text":        {`"sort":[["@timestamp"`, `"sort":[["message"`},
		"time field":          {`"timeFieldName":"metric_date"`, `"timeFieldName":"total_logs"`},
		"dangling panel":      {`"id":"logmon-top-ips"}`, `"id":"logmon-top-ipz"}`},
	}
	for name, c := range cases {
		src := string(SavedObjects)
		if !strings.Contains(src, c[0]) {
			t.Fatalf("%s: %q not in the saved objects (the case is stale)", name, c[0])
		}
		mutated := strings.Replace(src, c[0], c[1], 1)
		if p := check(t, []byte(mutated)); len(p) == 0 {
			t.Errorf("%s: not reported", name)
		} else {
			t.Logf("%s: %s", name, p[0])
		}
	}
}

// TestImportRequest checks the request Kibana's import API needs, against
// a local HTTP server standing in for Kibana's two endpoints.
func TestImportRequest(t *testing.T) {
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/status":
			fmt.Fprint(w, `{"status":{"overall":{"level":"available"}}}`)
		case r.Method == http.MethodPost && r.URL.Path == "/api/saved_objects/_import":
			if r.URL.Query().Get("overwrite") != "true" || r.Header.Get("kbn-xsrf") == "" {
				http.Error(w, "missing overwrite or kbn-xsrf", http.StatusBadRequest)
				return
			}
			_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			mr := multipart.NewReader(r.Body, params["boundary"])
			part, err := mr.NextPart()
			if err != nil || part.FormName() != "file" || !strings.HasSuffix(part.FileName(), ".ndjson") {
				http.Error(w, "want a file part named file, *.ndjson", http.StatusBadRequest)
				return
			}
			got, _ = io.ReadAll(part)
			fmt.Fprintf(w, `{"success":true,"successCount":%d}`, bytes.Count(got, []byte("\n")))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	res, err := Import(context.Background(), srv.Client(), srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, SavedObjects) || res.SuccessCount != bytes.Count(SavedObjects, []byte("\n")) {
		t.Fatalf("Kibana received %d bytes (%d objects), want the %d bytes of saved_objects.ndjson", len(got), res.SuccessCount, len(SavedObjects))
	}

	// Nothing listening: ErrUnreachable, so `logmon setup` can skip the step.
	srv.Close()
	if _, err := Import(context.Background(), nil, srv.URL); err == nil || !strings.Contains(err.Error(), ErrUnreachable.Error()) {
		t.Fatalf("import without Kibana: %v, want %v", err, ErrUnreachable)
	}
}
