package contracts

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/log-monitor/log_monitor/"

// imports returns the imports of the non-test Go files under dir, by file.
func imports(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, s := range f.Imports {
			p, _ := strconv.Unquote(s.Path.Value)
			out[path] = append(out[path], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestImportsStandardLibraryOnly: the contracts link no client library, so
// every package may import them.
func TestImportsStandardLibraryOnly(t *testing.T) {
	for file, ps := range imports(t, ".") {
		for _, p := range ps {
			if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %s: contracts import the standard library only", file, p)
			}
		}
	}
}

// TestConnectorsDoNotImportProcessors: connectors and processors meet in
// the contracts.
func TestConnectorsDoNotImportProcessors(t *testing.T) {
	for file, ps := range imports(t, filepath.Join("..", "connectors")) {
		for _, p := range ps {
			if strings.HasPrefix(p, module+"processors") {
				t.Errorf("%s imports %s: a connector takes the wire types from contracts", file, p)
			}
		}
	}
}
