// Command build bundles the console (src/main.ts, its CSS and uPlot from
// node_modules) with esbuild into dist/, which package console embeds.
// The output is deterministic: the same sources and lock file give the
// same bytes, and -check says whether dist/ is what the sources give.
//
//	npm ci --prefix console && go run ./console/build        (or make generate)
//	go run ./console/build -check
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

func main() {
	dir := flag.String("dir", "console", "the console's folder (src/, node_modules/, dist/)")
	check := flag.Bool("check", false, "build in memory and fail when dist/ differs")
	flag.Parse()
	if err := run(*dir, *check); err != nil {
		fmt.Fprintln(os.Stderr, "console build:", err)
		os.Exit(1)
	}
}

func run(dir string, check bool) error {
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "uplot")); err != nil {
		return fmt.Errorf("uPlot not installed (run: npm ci --prefix %s): %w", dir, err)
	}
	files, err := bundle(dir)
	if err != nil {
		return err
	}
	dist := filepath.Join(dir, "dist")
	if check {
		return compare(dist, files)
	}
	if err := os.RemoveAll(dist); err != nil {
		return err
	}
	for name, b := range files {
		p := filepath.Join(dist, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
		fmt.Printf("%s %d bytes\n", p, len(b))
	}
	return nil
}

// bundle returns dist/'s files by name: index.html, app.js, app.css.
func bundle(dir string) (map[string][]byte, error) {
	res := api.Build(api.BuildOptions{
		AbsWorkingDir:     mustAbs(dir),
		EntryPoints:       []string{"src/main.ts"},
		EntryNames:        "app",
		Outdir:            "dist",
		Bundle:            true,
		MinifyWhitespace:  true,
		MinifySyntax:      true,
		MinifyIdentifiers: true,
		Target:            api.ES2020,
		Platform:          api.PlatformBrowser,
		Format:            api.FormatIIFE,
		LegalComments:     api.LegalCommentsEndOfFile,
		Charset:           api.CharsetUTF8,
		Write:             false,
		LogLevel:          api.LogLevelWarning,
	})
	if len(res.Errors) > 0 {
		var msgs []string
		for _, m := range res.Errors {
			loc := ""
			if m.Location != nil {
				loc = fmt.Sprintf("%s:%d: ", m.Location.File, m.Location.Line)
			}
			msgs = append(msgs, loc+m.Text)
		}
		return nil, errors.New(strings.Join(msgs, "\n"))
	}
	files := map[string][]byte{}
	for _, f := range res.OutputFiles {
		rel, err := filepath.Rel(mustAbs(filepath.Join(dir, "dist")), f.Path)
		if err != nil {
			return nil, err
		}
		files[filepath.ToSlash(rel)] = f.Contents
	}
	html, err := os.ReadFile(filepath.Join(dir, "src", "index.html"))
	if err != nil {
		return nil, err
	}
	files["index.html"] = html
	return files, nil
}

// compare fails when dist/ is not exactly files.
func compare(dist string, files map[string][]byte) error {
	var diff []string
	seen := map[string]bool{}
	err := filepath.WalkDir(dist, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dist, p)
		rel = filepath.ToSlash(rel)
		seen[rel] = true
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if want, ok := files[rel]; !ok {
			diff = append(diff, rel+": not built from the sources")
		} else if !bytes.Equal(b, want) {
			diff = append(diff, rel+": differs from what the sources build")
		}
		return nil
	})
	if err != nil {
		return err
	}
	for name := range files {
		if !seen[name] {
			diff = append(diff, name+": missing")
		}
	}
	if len(diff) > 0 {
		return fmt.Errorf("%s is stale (run make generate):\n  %s", dist, strings.Join(diff, "\n  "))
	}
	fmt.Printf("%s matches its sources (%d files)\n", dist, len(files))
	return nil
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}
