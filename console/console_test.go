package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHandler: the page at /, the bundle by name, nothing else; no method
// but GET and HEAD; a policy that lets the page load only from its origin.
func TestHandler(t *testing.T) {
	h := Handler()
	get := func(method, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		return w
	}
	w := get("GET", "/")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `<script src="app.js">`) {
		t.Fatalf("GET /: %d %.200s", w.Code, w.Body)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	for path, ctype := range map[string]string{"/app.js": "javascript", "/app.css": "text/css"} {
		w := get("GET", path)
		if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Type"), ctype) || w.Body.Len() < 1000 {
			t.Errorf("GET %s: %d %q, %d bytes", path, w.Code, w.Header().Get("Content-Type"), w.Body.Len())
		}
	}
	for _, path := range []string{"/nothing", "/a/b", "/../console.go", "/build/main.go"} {
		if w := get("GET", path); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, w.Code)
		}
	}
	if w := get("POST", "/"); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d, want 405", w.Code)
	}
}
