package lab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/corslab/corslab/harness"
)

// jsString quotes s as a JavaScript string literal (JSON strings are valid JS).
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Snippet is the client code of the scenario, ready to paste into a page on
// the page origin: createCORSRequest (which the page must define, as the
// article does) or fetch.
func Snippet(req harness.Request, url string) string {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	var sb strings.Builder
	if req.API == harness.Fetch {
		fmt.Fprintf(&sb, "fetch(%s, {\n  method: %s,\n", jsString(url), jsString(method))
		if req.Mode != "" {
			fmt.Fprintf(&sb, "  mode: %s,\n", jsString(req.Mode))
		}
		if req.Credentials {
			sb.WriteString("  credentials: \"include\",\n")
		}
		if len(req.Headers) > 0 {
			sb.WriteString("  headers: [")
			for i, h := range req.Headers {
				if i > 0 {
					sb.WriteString(", ")
				}
				fmt.Fprintf(&sb, "[%s, %s]", jsString(h.Name), jsString(h.Value))
			}
			sb.WriteString("],\n")
		}
		if req.Body != "" {
			fmt.Fprintf(&sb, "  body: %s,\n", jsString(req.Body))
		}
		sb.WriteString("})\n  .then(function (res) { return res.text().then(function (text) { console.log(res.status, text); }); })\n")
		sb.WriteString("  .catch(function (err) { console.log(\"CORS or network error:\", err); });\n")
		return sb.String()
	}
	fmt.Fprintf(&sb, "var xhr = createCORSRequest(%s, %s);\n", jsString(method), jsString(url))
	sb.WriteString("if (!xhr) throw new Error(\"CORS not supported\");\n")
	if req.Credentials {
		sb.WriteString("xhr.withCredentials = true;\n")
	}
	for _, h := range req.Headers {
		fmt.Fprintf(&sb, "xhr.setRequestHeader(%s, %s);\n", jsString(h.Name), jsString(h.Value))
	}
	if req.Timeout > 0 {
		fmt.Fprintf(&sb, "xhr.timeout = %d;\n", req.Timeout.Milliseconds())
	}
	sb.WriteString("xhr.onload = function () { console.log(xhr.status, xhr.responseText); };\n")
	sb.WriteString("xhr.onerror = function () { console.log(\"CORS or network error (status 0)\"); };\n")
	if req.Body != "" {
		fmt.Fprintf(&sb, "xhr.send(%s);\n", jsString(req.Body))
	} else {
		sb.WriteString("xhr.send();\n")
	}
	return sb.String()
}

// ResponseHeaders is what the server sends in the scenario, as HTTP header
// blocks: the preflight's answer (when the request needs one) and the actual
// answer. The headers come from servers.Policy.Answer, the same code the API
// origin answers with.
func ResponseHeaders(r harness.Result) string {
	var sb strings.Builder
	token := r.Token
	if r.NeedsPreflight() {
		status, h := r.Request.Policy.Answer(true, r.PageOrigin, token)
		sb.WriteString("# the preflight's answer (OPTIONS)\n")
		writeHeaders(&sb, status, h)
		sb.WriteString("\n")
	}
	status, h := r.Request.Policy.Answer(false, r.PageOrigin, token)
	fmt.Fprintf(&sb, "# the answer to the %s\n", orElse(r.Request.Method, http.MethodGet))
	writeHeaders(&sb, status, h)
	return sb.String()
}

func writeHeaders(sb *strings.Builder, status int, h http.Header) {
	fmt.Fprintf(sb, "HTTP/1.1 %d %s\n", status, http.StatusText(status))
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range h[k] {
			fmt.Fprintf(sb, "%s: %s\n", k, v)
		}
	}
}

func orElse(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
