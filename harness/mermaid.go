package harness

import (
	"fmt"
	"net/url"
	"strings"
)

// Mermaid is r's sequence diagram (the lab's arrows) as a Mermaid
// sequenceDiagram, which GitHub and GitLab render in issues and pull
// requests inside a ```mermaid block: the page, the browser and the server
// as participants, every arrow with its headers, and the verdict last.
func (r Result) Mermaid() string {
	var sb strings.Builder
	sb.WriteString("sequenceDiagram\n")
	page := "page"
	if r.PageOrigin != "" {
		page += " " + r.PageOrigin
	}
	server := "server"
	if o := originOf(r.URL); o != "" {
		server += " " + o
	}
	fmt.Fprintf(&sb, "    participant P as %s\n", mermaidText(page))
	fmt.Fprintf(&sb, "    participant B as %s\n", mermaidText(r.browserName()))
	fmt.Fprintf(&sb, "    participant S as %s\n", mermaidText(server))
	short := map[string]string{LifelinePage: "P", LifelineBrowser: "B", LifelineServer: "S"}
	for _, a := range r.Diagram() {
		text := a.Label
		if a.Bad {
			text = "✗ " + text
		}
		for _, h := range a.Headers {
			text += "\n" + h
		}
		from, to := short[a.From], short[a.To]
		switch {
		case from == to:
			fmt.Fprintf(&sb, "    Note over %s: %s\n", from, mermaidText(text))
		case a.From == LifelineServer || a.To == LifelinePage:
			fmt.Fprintf(&sb, "    %s-->>%s: %s\n", from, to, mermaidText(text))
		default:
			fmt.Fprintf(&sb, "    %s->>%s: %s\n", from, to, mermaidText(text))
		}
	}
	v := oneLine(r.Verdict().String())
	if r.Browser.EngineReason != "" && r.Browser.EngineReason != string(r.Browser.Reason) {
		v += " (" + r.browserName() + ": " + r.Browser.EngineReason + ")"
	}
	fmt.Fprintf(&sb, "    Note over P,S: %s\n", mermaidText(v))
	return sb.String()
}

// mermaidText makes s safe inside one Mermaid statement: line breaks become
// <br/>, and the characters Mermaid reads as syntax (statement ends,
// comments, entity codes, HTML) become entity codes.
func mermaidText(s string) string {
	var sb strings.Builder
	for _, c := range s {
		switch c {
		case '\n':
			sb.WriteString("<br/>")
		case '\r':
		case ';':
			sb.WriteString("#59;")
		case '#':
			sb.WriteString("#35;")
		case '%':
			sb.WriteString("#37;")
		case '<':
			sb.WriteString("#lt;")
		case '>':
			sb.WriteString("#gt;")
		case '"':
			sb.WriteString("#quot;")
		default:
			sb.WriteRune(c)
		}
	}
	return sb.String()
}

// originOf is the scheme://host[:port] of rawURL, or "".
func originOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
