package expect

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// Marshal writes f as an expectations file that Parse reads back to the same
// cases: the request and policy keys come from their field tables.
func Marshal(f *File) ([]byte, error) {
	root := mapping()
	if f.API != "" {
		add(root, "api", scalar(f.API))
	}
	cases := &yaml.Node{Kind: yaml.SequenceNode}
	for _, c := range f.Cases {
		cases.Content = append(cases.Content, scenarioNode(c))
	}
	add(root, "cases", cases)
	b, err := yaml.Marshal(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}})
	if err != nil {
		return nil, fmt.Errorf("expect: write: %w", err)
	}
	return b, nil
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func scalar(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func add(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, scalar(key), v)
}

func list(ss []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range ss {
		n.Content = append(n.Content, scalar(s))
	}
	return n
}

func flag(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

func scenarioNode(c harness.Scenario) *yaml.Node {
	m := mapping()
	add(m, "name", scalar(c.Name))
	if c.From != "" {
		add(m, "from", scalar(c.From))
	}
	if len(c.Cookies) > 0 {
		add(m, "cookies", list(c.Cookies))
	}
	if len(c.Grant) > 0 {
		add(m, "grant", list(c.Grant))
	}
	if c.Fresh {
		add(m, "fresh", flag(c.Fresh))
	}
	sends := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range c.Sends {
		n := mapping()
		if s.Reuse > 0 {
			add(n, "reuse", scalar(strconv.Itoa(s.Reuse)))
		}
		if s.Reuse == 0 || !sameRequest(s.Request, c.Sends[s.Reuse-1].Request) {
			add(n, "request", requestNode(s.Request))
		}
		add(n, "expect", expectNode(s.Expect))
		for _, e := range verdict.Engines {
			if o, ok := s.For[e]; ok {
				add(n, string(e), expectNode(o))
			}
		}
		sends.Content = append(sends.Content, n)
	}
	add(m, "sends", sends)
	return m
}

func sameRequest(a, b harness.Request) bool {
	qa, qb := url.Values{}, url.Values{}
	harness.RequestFields.Encode(qa, "", a)
	harness.RequestFields.Encode(qb, "", b)
	return qa.Encode() == qb.Encode() && a.Policy.Query().Encode() == b.Policy.Query().Encode()
}

func requestNode(r harness.Request) *yaml.Node {
	q := url.Values{}
	harness.RequestFields.Encode(q, "", r)
	m := mapping()
	for _, f := range harness.RequestFields {
		if vs, ok := q[f.Key]; ok {
			add(m, f.Key, valueNode(f.Kind(), vs))
		}
	}
	if p := policyNode(servers.PolicyFields, r.Policy); len(p.Content) > 0 {
		add(m, "policy", p)
	}
	m.Style = yaml.FlowStyle
	return m
}

// policyNode writes a policy's fields; a section (preflight, redirect-then,
// later) is a nested mapping, empty when the section is there but sets nothing.
func policyNode(t servers.Table[servers.Policy], p servers.Policy) *yaml.Node {
	q := p.Query()
	m := mapping()
	for _, f := range t {
		if f.Kind() == servers.KindSection {
			if sub := *f.At(&p, false).(**servers.Policy); sub != nil {
				add(m, f.Key, policyNode(t, *sub))
			}
			continue
		}
		if vs, ok := q[f.Key]; ok {
			add(m, f.Key, valueNode(f.Kind(), vs))
		}
	}
	return m
}

// valueNode writes one field's URL values as YAML of its kind.
func valueNode(kind servers.Kind, vs []string) *yaml.Node {
	switch kind {
	case servers.KindLines:
		return list(vs)
	case servers.KindHeaders, servers.KindRaw:
		names := make([]string, len(vs))
		m := mapping()
		for i, v := range vs {
			name, value, _ := strings.Cut(v, ":")
			h := servers.Header{Name: name, Value: value}
			if kind == servers.KindHeaders {
				h, _ = servers.ParseHeader(v)
			}
			names[i] = strings.ToLower(h.Name)
			add(m, h.Name, scalar(h.Value))
		}
		slices.Sort(names)
		if len(slices.Compact(names)) == len(vs) {
			return m
		}
		return list(vs) // a name given twice: Name:Value lines keep both
	case servers.KindBool:
		b, _ := servers.ParseBool(vs[0])
		return flag(b)
	}
	return scalar(vs[0])
}

func expectNode(e harness.Expect) *yaml.Node {
	m := mapping()
	m.Style = yaml.FlowStyle
	if e.Outcome != "" {
		add(m, "result", scalar(string(e.Outcome)))
	}
	if e.Reason != "" {
		add(m, "reason", scalar(string(e.Reason)))
	}
	if e.Parameter != nil {
		add(m, "parameter", scalar(*e.Parameter))
	}
	if e.Preflight != nil {
		add(m, "preflight", flag(*e.Preflight))
	}
	if e.PreflightCached != nil {
		add(m, "preflight-cached", flag(*e.PreflightCached))
	}
	if a := e.PreflightAsks; a != nil {
		n := mapping()
		add(n, "method", scalar(a.Method))
		if a.Headers != "" {
			add(n, "headers", scalar(a.Headers))
		}
		add(m, "preflight-asks", n)
	}
	if e.FromPageOrigin {
		add(m, "from-page-origin", flag(true))
	}
	if e.Executed != nil {
		add(m, "executed", flag(*e.Executed))
	}
	if e.AppRan != nil {
		add(m, "app-ran", flag(*e.AppRan))
	}
	if len(e.Readable) > 0 {
		add(m, "readable", list(e.Readable))
	}
	if len(e.Unreadable) > 0 {
		add(m, "unreadable", list(e.Unreadable))
	}
	if e.CookiesSent != nil {
		add(m, "cookies-sent", list(e.CookiesSent))
	}
	if p := e.Page; p != nil {
		n := mapping()
		add(n, "event", scalar(p.Event))
		if p.Transport != "" {
			add(n, "transport", scalar(p.Transport))
		}
		add(m, "page", n)
	}
	if e.Text != nil {
		add(m, "text", scalar(*e.Text))
	}
	if e.Status != 0 {
		add(m, "status", scalar(strconv.Itoa(e.Status)))
	}
	if e.VaryOrigin != nil {
		add(m, "vary-origin", flag(*e.VaryOrigin))
	}
	return m
}
