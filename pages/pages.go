// Package pages holds the HTML and JavaScript the page origin serves: cors.js
// (the article's createCORSRequest and the request runner), the page that
// loads it, and the teaching lab's page.
package pages

import (
	"embed"
	"net/http"
	"strings"
)

//go:embed cors.js index.html lab.html lab.css lab.js
var files embed.FS

// SandboxedPath serves the runner page with a CSP sandbox (scripts allowed):
// the page's origin is opaque, so its requests carry Origin: null.
const SandboxedPath = "/sandboxed"

// Handler serves the page origin's files: "/" is the runner page, "/cors.js"
// its script, SandboxedPath the runner page in a sandbox, "/lab" the teaching
// lab (lab.html, lab.css, lab.js).
func Handler() http.Handler {
	fs := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		switch r.URL.Path {
		case SandboxedPath:
			w.Header().Set("Content-Security-Policy", "sandbox allow-scripts")
			http.ServeFileFS(w, r, files, "index.html")
			return
		case "/":
			http.ServeFileFS(w, r, files, "index.html")
			return
		case "/lab":
			// The teaching lab; its API (/lab/api/) is served by harness/lab.
			http.ServeFileFS(w, r, files, "lab.html")
			return
		}
		fs.ServeHTTP(w, r)
	})
}

// CorsJS returns the source of cors.js.
func CorsJS() string {
	b, _ := files.ReadFile("cors.js")
	return string(b)
}

// StandaloneHTML returns the runner page with cors.js inlined, for a page
// document that is not served by the page origin (one origin, one request).
func StandaloneHTML() string {
	b, _ := files.ReadFile("index.html")
	return strings.Replace(string(b), `<script src="/cors.js"></script>`, "<script>\n"+CorsJS()+"</script>", 1)
}
