// Package console is log_monitor's operator console: a single-page app in
// TypeScript (src/), bundled by esbuild with uPlot into dist/ (go run
// ./console/build, or make generate), embedded here so that `go build`
// alone gives a working console. `logmon api` serves it at / on its REST
// address; the page calls the public REST API only.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:generate npm ci --no-audit --no-fund --loglevel=error
//go:generate go run ./build -dir .

//go:embed dist
var dist embed.FS

// Handler serves the console: index.html at /, the bundle's files by name.
// Routes live in the URL's fragment (#/ip/...), so no other path exists.
func Handler() http.Handler {
	files, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embedded tree always has dist/
	}
	static := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		// Everything comes from this origin; nothing from the internet.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// The assets change with the binary; a reload after an upgrade must see them.
		h.Set("Cache-Control", "no-cache")
		// "/" is index.html; otherwise only a bundle file by its name.
		if name := strings.TrimPrefix(r.URL.Path, "/"); name != "" {
			if _, err := fs.Stat(files, name); err != nil || strings.Contains(name, "/") {
				http.NotFound(w, r)
				return
			}
		}
		static.ServeHTTP(w, r)
	})
}
