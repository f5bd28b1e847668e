// Package expect reads and writes expectations files (YAML or JSON): cases,
// each a harness.Scenario (a page origin, cookies, sends and what must hold
// for them), and runs them in real browsers through a harness.Env, judged by
// the matchers. The request's and the policy's keys are their field tables'
// (harness.RequestFields, servers.PolicyFields). `corslab check` and ginkgo
// tables both drive it.
package expect

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// File is a parsed expectations file.
type File struct {
	// Path is where the file was read from (for messages).
	Path string
	// API is the base URL of a running API the cases' relative URLs go to;
	// "" means corslab's own API origin.
	API string
	// Cases are the file's cases, in order.
	Cases []harness.Scenario
}

// Error is a mistake in an expectations file: the line and the field it is about.
type Error struct {
	Path  string
	Line  int
	Field string // e.g. "cases[2].request.method"
	Err   error
}

func (e *Error) Error() string {
	if e.Line == 0 { // the YAML parser gave no position
		return fmt.Sprintf("%s: %s: %v", e.Path, e.Field, e.Err)
	}
	return fmt.Sprintf("%s:%d: %s: %v", e.Path, e.Line, e.Field, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// yamlLine finds "line N: " in a YAML parser error.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// syntaxError turns the YAML parser's error into an Error that names the line.
func syntaxError(path string, err error) error {
	msg, line := err.Error(), 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	return &Error{Path: path, Line: line, Field: "syntax", Err: errors.New(strings.TrimPrefix(msg, "yaml: "))}
}

// Load reads and parses the expectations file at path.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("expect: %w", err)
	}
	return Parse(path, b)
}

// Parse parses an expectations file's content; path is used in errors only.
// JSON is YAML, so both are read the same way.
func Parse(path string, data []byte) (*File, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(path, err)
	}
	p := &parser{path: path}
	if len(doc.Content) == 0 {
		return nil, p.errorf(&doc, "file", "is empty: want a mapping with cases")
	}
	f := &File{Path: path}
	root := doc.Content[0]
	err := p.mapping(root, "file", map[string]func(k, v *yaml.Node) error{
		"api": func(_, v *yaml.Node) error {
			s, err := p.str(v, "api")
			if err != nil {
				return err
			}
			if u, perr := url.Parse(s); perr != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
				return p.errorf(v, "api", "%q is not an absolute http(s) URL, e.g. http://localhost:8080", s)
			}
			f.API = strings.TrimSuffix(s, "/")
			return nil
		},
		"cases": func(_, v *yaml.Node) error {
			if v.Kind != yaml.SequenceNode {
				return p.errorf(v, "cases", "must be a list of cases")
			}
			for i, n := range v.Content {
				c, err := p.scenario(n, fmt.Sprintf("cases[%d]", i))
				if err != nil {
					return err
				}
				f.Cases = append(f.Cases, c)
			}
			return nil
		},
	}, "cases")
	if err != nil {
		return nil, err
	}
	names := map[string]int{}
	for i, c := range f.Cases {
		if prev, ok := names[c.Name]; ok {
			return nil, p.errorf(&yaml.Node{Line: c.Line}, fmt.Sprintf("cases[%d].name", i), "%q is also the name of the case on line %d", c.Name, prev)
		}
		names[c.Name] = c.Line
	}
	return f, nil
}

type parser struct{ path string }

func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) error {
	return &Error{Path: p.path, Line: n.Line, Field: field, Err: fmt.Errorf(format, args...)}
}

// mapping walks a mapping node, calling the func of each key; unknown and
// missing required keys are errors that name them.
func (p *parser) mapping(n *yaml.Node, field string, keys map[string]func(k, v *yaml.Node) error, required ...string) error {
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, field, "must be a mapping")
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		fn, ok := keys[k.Value]
		if !ok {
			return p.errorf(k, field+"."+k.Value, "unknown field; known: %s", known(keys))
		}
		if seen[k.Value] {
			return p.errorf(k, field+"."+k.Value, "appears twice")
		}
		seen[k.Value] = true
		if err := fn(k, v); err != nil {
			return err
		}
	}
	for _, r := range required {
		if !seen[r] {
			return p.errorf(n, field+"."+r, "is missing")
		}
	}
	return nil
}

func known(keys map[string]func(k, v *yaml.Node) error) string {
	var out []string
	for k := range keys {
		out = append(out, k)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func (p *parser) str(v *yaml.Node, field string) (string, error) {
	if v.Kind != yaml.ScalarNode {
		return "", p.errorf(v, field, "must be a string")
	}
	return v.Value, nil
}

func (p *parser) boolean(v *yaml.Node, field string) (bool, error) {
	if v.Kind == yaml.ScalarNode {
		if b, err := servers.ParseBool(v.Value); err == nil {
			return b, nil
		}
	}
	return false, p.errorf(v, field, "must be yes or no (true or false)")
}

// strs reads a string or a list of strings.
func (p *parser) strs(v *yaml.Node, field string) ([]string, error) {
	if v.Kind == yaml.ScalarNode {
		return []string{v.Value}, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, p.errorf(v, field, "must be a string or a list of strings")
	}
	out := []string{}
	for i, e := range v.Content {
		s, err := p.str(e, fmt.Sprintf("%s[%d]", field, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (p *parser) scenario(n *yaml.Node, field string) (harness.Scenario, error) {
	sc := harness.Scenario{Line: n.Line}
	var single sendNodes
	var sends *yaml.Node
	keys := map[string]func(k, v *yaml.Node) error{
		"name": func(_, v *yaml.Node) (err error) { sc.Name, err = p.str(v, field+".name"); return },
		"from": func(_, v *yaml.Node) error {
			s, err := p.str(v, field+".from")
			if err != nil {
				return err
			}
			if s == "null" {
				sc.From = s
				return nil
			}
			o, err := harness.CheckPageOrigin(s)
			if err != nil {
				return p.errorf(v, field+".from", "%q is not an origin: want scheme://host[:port] (e.g. https://app.example.com), or null for a sandboxed page", s)
			}
			sc.From = o
			return nil
		},
		"cookies": func(_, v *yaml.Node) error {
			cs, err := p.strs(v, field+".cookies")
			if err != nil {
				return err
			}
			for i, line := range cs {
				if _, err := http.ParseSetCookie(line); err != nil {
					return p.errorf(v, fmt.Sprintf("%s.cookies[%d]", field, i), "%q: %v", line, err)
				}
			}
			sc.Cookies = cs
			return nil
		},
		"sends": func(_, v *yaml.Node) error { sends = v; return nil },
		"grant": func(_, v *yaml.Node) (err error) { sc.Grant, err = p.strs(v, field+".grant"); return },
		"fresh": func(_, v *yaml.Node) (err error) { sc.Fresh, err = p.boolean(v, field+".fresh"); return },
	}
	single.add(keys)
	if err := p.mapping(n, field, keys, "name"); err != nil {
		return sc, err
	}
	switch {
	case sends != nil && !single.empty():
		return sc, p.errorf(n, field, "give either sends or one request with its expect, not both")
	case sends != nil:
		if sends.Kind != yaml.SequenceNode || len(sends.Content) == 0 {
			return sc, p.errorf(sends, field+".sends", "must be a list of sends, each with a request (or reuse) and an expect")
		}
		for i, sn := range sends.Content {
			var nodes sendNodes
			sk := map[string]func(k, v *yaml.Node) error{}
			nodes.add(sk)
			f := fmt.Sprintf("%s.sends[%d]", field, i)
			if err := p.mapping(sn, f, sk, "expect"); err != nil {
				return sc, err
			}
			s, err := p.send(nodes, f, sc.Sends)
			if err != nil {
				return sc, err
			}
			sc.Sends = append(sc.Sends, s)
		}
	default:
		if single.request == nil {
			return sc, p.errorf(n, field+".request", "is missing")
		}
		if single.expect == nil {
			return sc, p.errorf(n, field+".expect", "is missing")
		}
		if single.reuse != nil {
			return sc, p.errorf(single.reuse, field+".reuse", "a case with one request has nothing to reuse: list its sends")
		}
		s, err := p.send(single, field, nil)
		if err != nil {
			return sc, err
		}
		sc.Sends = []harness.Send{s}
		sc.Sends = repeatForCache(sc.Sends)
	}
	if err := sc.Validate(true); err != nil {
		return sc, p.errorf(n, field, "%v", err)
	}
	return sc, nil
}

// repeatForCache expands the shorthand of a one-request case: an expectation
// about the preflight cache (preflight-cached) is about the request sent
// again to the same URL, so it moves to a second send that reuses the first.
func repeatForCache(sends []harness.Send) []harness.Send {
	first := sends[0]
	cached := func(e harness.Expect) (rest, repeat harness.Expect, any bool) {
		if e.PreflightCached == nil {
			return e, harness.Expect{}, false
		}
		repeat.PreflightCached, e.PreflightCached = e.PreflightCached, nil
		return e, repeat, true
	}
	rest, repeat, anyCached := cached(first.Expect)
	again := harness.Send{Request: first.Request, Reuse: 1, Expect: repeat}
	for e, o := range first.For {
		r, rep, ok := cached(o)
		first.For[e] = r
		if ok {
			anyCached = true
			if again.For == nil {
				again.For = map[verdict.Engine]harness.Expect{}
			}
			again.For[e] = rep
		}
	}
	if !anyCached {
		return sends
	}
	first.Expect = rest
	return []harness.Send{first, again}
}

// sendNodes are the nodes of one send's keys (request, reuse, expect); a
// case with no sends list has them itself. Each engine's name is a key too:
// its expectations replace expect's fields in that engine.
type sendNodes struct {
	request, reuse, expect *yaml.Node
	engines                map[verdict.Engine]*yaml.Node
}

func (s *sendNodes) add(keys map[string]func(k, v *yaml.Node) error) {
	keys["request"] = func(_, v *yaml.Node) error { s.request = v; return nil }
	keys["reuse"] = func(_, v *yaml.Node) error { s.reuse = v; return nil }
	keys["expect"] = func(_, v *yaml.Node) error { s.expect = v; return nil }
	for _, e := range verdict.Engines {
		keys[string(e)] = func(_, v *yaml.Node) error {
			if s.engines == nil {
				s.engines = map[verdict.Engine]*yaml.Node{}
			}
			s.engines[e] = v
			return nil
		}
	}
}

func (s sendNodes) empty() bool {
	return s.request == nil && s.reuse == nil && s.expect == nil && len(s.engines) == 0
}

// send reads one send; earlier are the sends before it (a send that reuses
// one and gives no request sends the same request again).
func (p *parser) send(n sendNodes, field string, earlier []harness.Send) (harness.Send, error) {
	var s harness.Send
	if n.reuse != nil {
		i, err := strconv.Atoi(n.reuse.Value)
		if err != nil || i < 1 || i > len(earlier) {
			return s, p.errorf(n.reuse, field+".reuse", "%q: must be the number of an earlier send (1 to %d)", n.reuse.Value, len(earlier))
		}
		s.Reuse = i
	}
	switch {
	case n.request != nil:
		r, err := p.request(n.request, field+".request")
		if err != nil {
			return s, err
		}
		s.Request = r
	case s.Reuse > 0:
		s.Request = earlier[s.Reuse-1].Request
	default:
		return s, p.errorf(n.expect, field+".request", "is missing (a send that reuses an earlier one may leave it out to send the same request again)")
	}
	var err error
	if s.Expect, err = p.expectation(n.expect, field+".expect"); err != nil {
		return s, err
	}
	for _, e := range verdict.Engines {
		node, ok := n.engines[e]
		if !ok {
			continue
		}
		o, err := p.expectation(node, field+"."+string(e))
		if err != nil {
			return s, err
		}
		if s.For == nil {
			s.For = map[verdict.Engine]harness.Expect{}
		}
		s.For[e] = o
	}
	return s, nil
}

// request reads a request mapping through harness.RequestFields (and its
// policy through servers.PolicyFields).
func (p *parser) request(n *yaml.Node, field string) (harness.Request, error) {
	var r harness.Request
	if n.Kind != yaml.MappingNode {
		return r, p.errorf(n, field, "must be a mapping of request fields, e.g. {method: PUT, url: /users}")
	}
	q := url.Values{}
	at := map[string]*yaml.Node{}
	var policy *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "policy" {
			policy = v
			at["policy"] = k
			continue
		}
		f, ok := harness.RequestFields.Lookup(k.Value)
		if !ok {
			return r, p.errorf(k, field+"."+k.Value, "unknown field; known: %s, policy", strings.Join(harness.RequestFields.Keys(), ", "))
		}
		if _, dup := q[k.Value]; dup {
			return r, p.errorf(k, field+"."+k.Value, "appears twice")
		}
		if err := p.flatten(q, at, k.Value, f.Kind(), k, v, field); err != nil {
			return r, err
		}
	}
	if err := harness.RequestFields.Decode(q, "", &r); err != nil {
		return r, p.fieldError(err, at, n, field)
	}
	if policy != nil {
		if policy.Kind != yaml.MappingNode {
			return r, p.errorf(policy, field+".policy", "must be a mapping of policy fields, e.g. {allow-origin: $origin}")
		}
		pq := url.Values{}
		if err := p.flattenPolicy(pq, at, "", policy, field+".policy"); err != nil {
			return r, err
		}
		pol, err := servers.ParsePolicy(pq)
		if err != nil {
			return r, p.fieldError(err, at, policy, field+".policy")
		}
		if r.URL != "" {
			return r, p.errorf(at["policy"], field+".policy", "a policy is for corslab's own API origin; this request has a url")
		}
		r.Policy = pol
	}
	if err := r.Validate(true); err != nil {
		return r, p.fieldError(err, at, n, field)
	}
	return r, nil
}

// fieldError places a servers.FieldError at the node of its key.
func (p *parser) fieldError(err error, at map[string]*yaml.Node, fallback *yaml.Node, field string) error {
	var fe *servers.FieldError
	if !errors.As(err, &fe) {
		return p.errorf(fallback, field, "%v", err)
	}
	key := fe.Key
	if fe.Of == "policy" && !strings.HasSuffix(field, ".policy") {
		key = "policy." + key
	}
	node := fallback
	for k := key; k != ""; {
		if n, ok := at[k]; ok {
			node = n
			break
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	if fe.Value != "" {
		return p.errorf(node, field+"."+key, "%q %v", fe.Value, fe.Err)
	}
	return p.errorf(node, field+"."+key, "%v", fe.Err)
}

// flatten writes one field's YAML value into q as the field table's URL
// encoding reads it: a list for lines, Name:Value lines for headers (a
// mapping of names to values, or a list of "Name: value" lines), one scalar otherwise.
func (p *parser) flatten(q url.Values, at map[string]*yaml.Node, key string, kind servers.Kind, k, v *yaml.Node, field string) error {
	at[key] = k
	f := field + "." + key
	switch kind {
	case servers.KindLines:
		vs, err := p.strs(v, f)
		if err != nil {
			return err
		}
		q[key] = vs
	case servers.KindHeaders, servers.KindRaw:
		switch v.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(v.Content); i += 2 {
				name, val := v.Content[i], v.Content[i+1]
				s, err := p.str(val, f+"."+name.Value)
				if err != nil {
					return err
				}
				q.Add(key, name.Value+":"+s)
			}
		default:
			vs, err := p.strs(v, f)
			if err != nil {
				return p.errorf(v, f, `must be a mapping of header names to values, e.g. {Content-Type: application/json}`)
			}
			q[key] = vs
		}
	case servers.KindBool:
		b, err := p.boolean(v, f)
		if err != nil {
			return err
		}
		q.Set(key, strconv.FormatBool(b))
	default:
		s, err := p.str(v, f)
		if err != nil {
			return err
		}
		q.Set(key, s)
	}
	return nil
}

// flattenPolicy writes a policy mapping into q under prefix; a section
// (preflight, redirect-then) is a nested mapping.
func (p *parser) flattenPolicy(q url.Values, at map[string]*yaml.Node, prefix string, n *yaml.Node, field string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		head, _, _ := strings.Cut(k.Value, ".")
		f, ok := servers.PolicyFields.Lookup(head)
		if !ok {
			return p.errorf(k, field+"."+k.Value, "unknown field; known: %s", strings.Join(servers.PolicyFields.Keys(), ", "))
		}
		if f.Kind() == servers.KindSection && v.Kind == yaml.MappingNode {
			at[prefix+k.Value] = k
			if len(v.Content) == 0 {
				q.Set(prefix+k.Value, "") // an empty section is there, unlike an absent one
				continue
			}
			if err := p.flattenPolicy(q, at, prefix+k.Value+".", v, field+"."+k.Value); err != nil {
				return err
			}
			continue
		}
		kind := f.Kind()
		if head != k.Value { // a dotted key such as preflight.max-age
			if sub, ok := policyField(k.Value); ok {
				kind = sub
			}
		}
		if err := p.flatten(q, at, prefix+k.Value, kind, k, v, field); err != nil {
			return err
		}
	}
	return nil
}

// policyField is the kind of a dotted policy key such as preflight.max-age.
func policyField(key string) (servers.Kind, bool) {
	for {
		head, rest, nested := strings.Cut(key, ".")
		f, ok := servers.PolicyFields.Lookup(head)
		if !ok {
			return "", false
		}
		if !nested {
			return f.Kind(), true
		}
		key = rest
	}
}

// expectation reads an expect mapping; "expect: allowed" is short for
// "expect: {result: allowed}".
func (p *parser) expectation(n *yaml.Node, field string) (harness.Expect, error) {
	var e harness.Expect
	if n.Kind == yaml.ScalarNode {
		n = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "result", Line: n.Line}, n}}
	}
	flag := func(dst **bool) func(k, v *yaml.Node) error {
		return func(k, v *yaml.Node) error {
			b, err := p.boolean(v, field+"."+k.Value)
			*dst = &b
			return err
		}
	}
	text := func(dst **string) func(k, v *yaml.Node) error {
		return func(k, v *yaml.Node) error {
			s, err := p.str(v, field+"."+k.Value)
			*dst = &s
			return err
		}
	}
	err := p.mapping(n, field, map[string]func(k, v *yaml.Node) error{
		"result": func(_, v *yaml.Node) error {
			s, err := p.str(v, field+".result")
			if err != nil {
				return err
			}
			o, err := verdict.ParseOutcome(s)
			if err != nil {
				return p.errorf(v, field+".result", "%v", err)
			}
			e.Outcome = o
			return nil
		},
		"reason": func(_, v *yaml.Node) error {
			s, err := p.str(v, field+".reason")
			if err != nil {
				return err
			}
			if !verdict.Reason(s).Known() {
				return p.errorf(v, field+".reason", "%q is not a reason corslab knows (the names are Chromium's CorsError values, e.g. MissingAllowOriginHeader)", s)
			}
			e.Reason = verdict.Reason(s)
			return nil
		},
		"parameter":        text(&e.Parameter),
		"preflight":        flag(&e.Preflight),
		"preflight-cached": flag(&e.PreflightCached),
		"preflight-asks": func(_, v *yaml.Node) error {
			a := &harness.PreflightAsk{}
			e.PreflightAsks = a
			return p.mapping(v, field+".preflight-asks", map[string]func(k, v *yaml.Node) error{
				"method":  func(_, v *yaml.Node) (err error) { a.Method, err = p.str(v, field+".preflight-asks.method"); return },
				"headers": func(_, v *yaml.Node) (err error) { a.Headers, err = p.str(v, field+".preflight-asks.headers"); return },
			}, "method")
		},
		"from-page-origin": func(k, v *yaml.Node) (err error) {
			e.FromPageOrigin, err = p.boolean(v, field+".from-page-origin")
			return
		},
		"executed":    flag(&e.Executed),
		"app-ran":     flag(&e.AppRan),
		"vary-origin": flag(&e.VaryOrigin),
		"readable":    func(_, v *yaml.Node) (err error) { e.Readable, err = p.strs(v, field+".readable"); return },
		"unreadable":  func(_, v *yaml.Node) (err error) { e.Unreadable, err = p.strs(v, field+".unreadable"); return },
		"cookies-sent": func(_, v *yaml.Node) (err error) {
			e.CookiesSent, err = p.strs(v, field+".cookies-sent")
			return
		},
		"page": func(_, v *yaml.Node) error {
			pe := &harness.PageEnd{}
			e.Page = pe
			return p.mapping(v, field+".page", map[string]func(k, v *yaml.Node) error{
				"event":     func(_, v *yaml.Node) (err error) { pe.Event, err = p.str(v, field+".page.event"); return },
				"transport": func(_, v *yaml.Node) (err error) { pe.Transport, err = p.str(v, field+".page.transport"); return },
			}, "event")
		},
		"text": text(&e.Text),
		"status": func(_, v *yaml.Node) error {
			n, err := strconv.Atoi(v.Value)
			if err != nil || n < 100 || n > 599 {
				return p.errorf(v, field+".status", "%q: must be an HTTP status, 100-599", v.Value)
			}
			e.Status = n
			return nil
		},
	})
	if err != nil {
		return e, err
	}
	if e.Reason != "" && e.Outcome != "" && e.Outcome != verdict.Blocked {
		return e, p.errorf(n, field+".reason", "a reason only goes with result: blocked")
	}
	if e.Parameter != nil && e.Reason == "" && e.Outcome != verdict.Failed {
		return e, p.errorf(n, field+".parameter", "a parameter only goes with a reason (or result: failed, for the network error)")
	}
	return e, nil
}
