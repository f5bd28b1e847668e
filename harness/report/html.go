package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

//go:embed report.html.tmpl
var pageTemplate string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"diagram": diagram,
	"oneline": func(v verdict.Verdict) string { return strings.Join(strings.Fields(v.String()), " ") },
}).Parse(pageTemplate))

// htmlRun is what the template reads.
type htmlRun struct {
	*Run
	All     Counts
	Per     map[verdict.Engine]Counts
	Cases   []htmlCase
	Summary string
}

type htmlCase struct {
	ID     string
	Name   string
	Line   int
	From   string
	Status Status // the worst of its engines
	Cells  []htmlCell
}

type htmlCell struct {
	Engine      Engine
	Status      Status
	Error       string
	Failures    []string
	Explanation string
	Requests    []harness.Result
}

// WriteHTML writes the run as one HTML page that needs nothing else: no
// script, no style sheet, no image, no font from anywhere.
func (r *Run) WriteHTML(w io.Writer) error {
	all, per := r.Count()
	v := htmlRun{Run: r, All: all, Per: per,
		Summary: fmt.Sprintf("%d cases, %d passed, %d failed, %d could not be checked", all.Cases, all.Passed, all.Failed, all.Errors)}
	for i, c := range r.Cases {
		hc := htmlCase{ID: fmt.Sprintf("case-%d", i+1), Name: c.Name, Line: c.Line, From: c.From, Status: Passed}
		for _, e := range r.Engines {
			cell := htmlCell{Engine: e, Status: Error, Error: "did not run (interrupted)"}
			if o, ok := r.outcome(c, e.Name); ok {
				cell = htmlCell{Engine: e, Status: statusOf(o), Error: o.Errored(), Explanation: o.Explanation, Requests: o.Results}
				for _, f := range o.Failures {
					cell.Failures = append(cell.Failures, f.Message)
				}
			}
			if cell.Status == Error || cell.Status == Failed && hc.Status == Passed {
				hc.Status = cell.Status
			}
			hc.Cells = append(hc.Cells, cell)
		}
		v.Cases = append(v.Cases, hc)
	}
	if err := page.Execute(w, v); err != nil {
		return fmt.Errorf("report: write HTML: %w", err)
	}
	return nil
}

// The diagram's geometry: three lifelines, a row per arrow.
const (
	diagramWidth = 1000
	lineHeight   = 15
	rowGap       = 14
	top          = 34
	charWidth    = 7.6 // of the 12.5 px monospace the labels use
)

var lifelineX = map[string]int{harness.LifelinePage: 170, harness.LifelineBrowser: 500, harness.LifelineServer: 830}

// textWidth is the width the longest of lines takes, in pixels.
func textWidth(lines ...string) int {
	n := 0
	for _, l := range lines {
		n = max(n, len([]rune(shorten(l, 70))))
	}
	return int(float64(n)*charWidth) + 16
}

// diagram draws r's sequence diagram (the lab's arrows) as inline SVG.
func diagram(r harness.Result) template.HTML {
	arrows := r.Diagram()
	var body strings.Builder
	y := top
	for _, a := range arrows {
		rows := 1 + len(a.Headers)
		cls := "arrow"
		if a.Bad {
			cls += " bad"
		}
		fmt.Fprintf(&body, `<g class="%s" data-kind="%s">`, cls, template.HTMLEscapeString(a.Kind))
		x1, x2 := lifelineX[a.From], lifelineX[a.To]
		if x1 == x2 {
			// A note on one lifeline.
			w := textWidth(append([]string{a.Label}, a.Headers...)...)
			x := min(max(x1, w/2+2), diagramWidth-w/2-2)
			fmt.Fprintf(&body, `<rect class="note" x="%d" y="%d" width="%d" height="%d" rx="4"/>`, x-w/2, y, w, rows*lineHeight+8)
			writeText(&body, x, y+lineHeight, "middle", a.Label, a.Headers)
			y += rows*lineHeight + 8 + rowGap
		} else {
			ly := y + rows*lineHeight + 4
			dash := ""
			if a.From == harness.LifelineServer || a.To == harness.LifelinePage {
				dash = ` stroke-dasharray="6 4"`
			}
			fmt.Fprintf(&body, `<line x1="%d" y1="%d" x2="%d" y2="%d"%s marker-end="url(#head)"/>`, x1, ly, x2, ly, dash)
			w := textWidth(append([]string{a.Label}, a.Headers...)...)
			x := min(max((x1+x2)/2, w/2+2), diagramWidth-w/2-2)
			writeText(&body, x, y+lineHeight-4, "middle", a.Label, a.Headers)
			y = ly + rowGap
		}
		body.WriteString("</g>")
	}
	h := y + 10
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="diagram" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="sequence diagram: %d steps">`, diagramWidth, h, diagramWidth, h, len(arrows))
	sb.WriteString(`<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>`)
	for _, l := range []struct{ name, title string }{{harness.LifelinePage, "page " + r.PageOrigin}, {harness.LifelineBrowser, r.Engine.Title()}, {harness.LifelineServer, "server"}} {
		x := lifelineX[l.name]
		fmt.Fprintf(&sb, `<text class="lifeline-title" x="%d" y="18" text-anchor="middle">%s</text>`, x, template.HTMLEscapeString(l.title))
		fmt.Fprintf(&sb, `<line class="lifeline" x1="%d" y1="%d" x2="%d" y2="%d"/>`, x, top-8, x, h-4)
	}
	sb.WriteString(body.String())
	sb.WriteString("</svg>")
	return template.HTML(sb.String())
}

// writeText writes a label and its header lines, one <tspan> per line.
func writeText(sb *strings.Builder, x, y int, anchor, label string, headers []string) {
	fmt.Fprintf(sb, `<text x="%d" y="%d" text-anchor="%s"><tspan class="label">%s</tspan>`, x, y, anchor, template.HTMLEscapeString(label))
	for _, h := range headers {
		fmt.Fprintf(sb, `<tspan class="header" x="%d" dy="%d">%s</tspan>`, x, lineHeight, template.HTMLEscapeString(shorten(h, 70)))
	}
	sb.WriteString("</text>")
}

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
