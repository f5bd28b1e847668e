// Package expect reads an expectations file (YAML or JSON: cases of a page
// origin, a harness.Request and what Chrome must do with it) and runs its
// cases in real Chrome through a harness.Env, judging them with the
// matchers. `corslab check` and ginkgo tables both drive it.
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
	"github.com/corslab/corslab/servers"
)

// File is a parsed expectations file.
type File struct {
	// Path is where the file was read from (for messages).
	Path string
	// API is the base URL of a running API the cases' relative URLs go to;
	// "" means corslab's own API origin.
	API   string
	Cases []Case
}

// Case is one request from one page origin and what Chrome must do with it.
type Case struct {
	Name string
	// Line is the case's line in the file.
	Line int
	// From is the page origin the request comes from, e.g.
	// "https://app.example.com"; "" means corslab's own page origin.
	From string
	// Cookies are Set-Cookie lines stored in the browser for the request's URL
	// before the request (e.g. "sid=1; SameSite=None; Secure").
	Cookies []string
	Request harness.Request
	Expect  Expect
}

// The outcomes a case can expect.
const (
	Allowed = "allowed"
	Blocked = "blocked"
)

// Expect is what Chrome must do with a case's request; nil and empty fields are not checked.
type Expect struct {
	// Result is Allowed or Blocked.
	Result string
	// Reason is Chrome's CorsError when blocked, e.g. "MissingAllowOriginHeader".
	Reason string
	// Preflight says whether a preflight must go out.
	Preflight *bool
	// PreflightCached says whether a repeat of the request must be answered
	// from Chrome's preflight cache (true) or preflighted again (false).
	PreflightCached *bool
	// Readable are response headers the page must be able to read.
	Readable []string
	// Unreadable are response headers the page must not be able to read.
	Unreadable []string
	// CookiesSent are the cookie names the request must carry; set but empty means none.
	CookiesSent []string
	// CheckCookies is true when the file named cookies-sent.
	CheckCookies bool
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

func (e *Error) Unwrap() error { return e.Err }

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
				c, err := p.caseOf(n, fmt.Sprintf("cases[%d]", i))
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
		switch strings.ToLower(v.Value) {
		case "true", "yes":
			return true, nil
		case "false", "no":
			return false, nil
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

func (p *parser) caseOf(n *yaml.Node, field string) (Case, error) {
	c := Case{Line: n.Line}
	var reqNode *yaml.Node
	err := p.mapping(n, field, map[string]func(k, v *yaml.Node) error{
		"name": func(_, v *yaml.Node) (err error) { c.Name, err = p.str(v, field+".name"); return },
		"from": func(_, v *yaml.Node) error {
			s, err := p.str(v, field+".from")
			if err != nil {
				return err
			}
			if u, perr := url.Parse(s); perr != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Path != "" && u.Path != "/" || u.RawQuery != "" {
				return p.errorf(v, field+".from", "%q is not an origin: want scheme://host[:port], e.g. https://app.example.com", s)
			}
			c.From = strings.TrimSuffix(s, "/")
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
			c.Cookies = cs
			return nil
		},
		"request": func(_, v *yaml.Node) (err error) {
			reqNode = v
			c.Request, err = p.request(v, field+".request")
			return
		},
		"expect": func(_, v *yaml.Node) (err error) { c.Expect, err = p.expectation(v, field+".expect"); return },
	}, "name", "request", "expect")
	if err != nil {
		return c, err
	}
	if c.Request.Token != "" {
		return c, p.errorf(reqNode, field+".request", "has no token")
	}
	return c, nil
}

// requestKeys maps harness.RequestError's Field to the file's key.
var requestKeys = map[string]string{"API": "api", "Method": "method", "URL": "url", "Headers": "headers",
	"Mode": "mode", "Policy": "policy", "Environment": "api", "Path": "url", "Target": "url"}

func (p *parser) request(n *yaml.Node, field string) (harness.Request, error) {
	var r harness.Request
	lines := map[string]*yaml.Node{}
	var policy url.Values
	policyLines := map[string]*yaml.Node{}
	err := p.mapping(n, field, map[string]func(k, v *yaml.Node) error{
		"api": func(k, v *yaml.Node) (err error) { lines["api"] = k; r.API, err = p.str(v, field+".api"); return },
		"method": func(k, v *yaml.Node) (err error) {
			lines["method"] = k
			r.Method, err = p.str(v, field+".method")
			return
		},
		"url":         func(k, v *yaml.Node) (err error) { lines["url"] = k; r.URL, err = p.str(v, field+".url"); return },
		"body":        func(k, v *yaml.Node) (err error) { lines["body"] = k; r.Body, err = p.str(v, field+".body"); return },
		"mode":        func(k, v *yaml.Node) (err error) { lines["mode"] = k; r.Mode, err = p.str(v, field+".mode"); return },
		"credentials": func(k, v *yaml.Node) (err error) { r.Credentials, err = p.boolean(v, field+".credentials"); return },
		"headers": func(k, v *yaml.Node) error {
			lines["headers"] = k
			if v.Kind != yaml.MappingNode {
				return p.errorf(v, field+".headers", `must be a mapping of header names to values, e.g. {Content-Type: application/json}`)
			}
			for i := 0; i+1 < len(v.Content); i += 2 {
				name, val := v.Content[i], v.Content[i+1]
				s, err := p.str(val, field+".headers."+name.Value)
				if err != nil {
					return err
				}
				if err := servers.CheckHeaderName(name.Value); err != nil {
					return p.errorf(name, field+".headers."+name.Value, "%v", err)
				}
				if err := servers.CheckHeaderValue(s); err != nil {
					return p.errorf(val, field+".headers."+name.Value, "%v", err)
				}
				r.Headers = append(r.Headers, servers.Header{Name: name.Value, Value: s})
			}
			return nil
		},
		"policy": func(k, v *yaml.Node) error {
			lines["policy"] = k
			if v.Kind != yaml.MappingNode {
				return p.errorf(v, field+".policy", "must be a mapping of corslab policy parameters, e.g. {allow-origin: $origin}")
			}
			policy = url.Values{}
			for i := 0; i+1 < len(v.Content); i += 2 {
				name, val := v.Content[i], v.Content[i+1]
				vs, err := p.strs(val, field+".policy."+name.Value)
				if err != nil {
					return err
				}
				policy[name.Value] = vs
				policyLines[name.Value] = name
			}
			return nil
		},
	})
	if err != nil {
		return r, err
	}
	if policy != nil {
		if r.URL != "" {
			return r, p.errorf(lines["policy"], field+".policy", "a policy is for corslab's own API origin; this request has a url")
		}
		pol, err := servers.ParsePolicy(policy)
		if err != nil {
			at := lines["policy"]
			var pe *servers.PolicyError
			if errors.As(err, &pe) {
				if n, ok := policyLines[pe.Field]; ok {
					at = n
				}
				return r, p.errorf(at, field+".policy."+pe.Field, "%v", pe.Err)
			}
			return r, p.errorf(at, field+".policy", "%v", err)
		}
		r.Policy = pol
	}
	if err := r.Validate(true); err != nil {
		var re *harness.RequestError
		if errors.As(err, &re) {
			key := requestKeys[re.Field]
			at := n
			if k, ok := lines[key]; ok {
				at = k
			}
			return r, p.errorf(at, field+"."+key, "%q %v", re.Value, re.Err)
		}
		return r, p.errorf(n, field, "%v", err)
	}
	return r, nil
}

func (p *parser) expectation(n *yaml.Node, field string) (Expect, error) {
	var e Expect
	if n.Kind == yaml.ScalarNode {
		// "expect: allowed" is short for "expect: {result: allowed}".
		n = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "result", Line: n.Line}, n}}
	}
	flag := func(dst **bool) func(k, v *yaml.Node) error {
		return func(k, v *yaml.Node) error {
			b, err := p.boolean(v, field+"."+k.Value)
			*dst = &b
			return err
		}
	}
	err := p.mapping(n, field, map[string]func(k, v *yaml.Node) error{
		"result": func(_, v *yaml.Node) error {
			s, err := p.str(v, field+".result")
			if err != nil {
				return err
			}
			if s != Allowed && s != Blocked {
				return p.errorf(v, field+".result", "%q: must be allowed or blocked", s)
			}
			e.Result = s
			return nil
		},
		"reason":           func(_, v *yaml.Node) (err error) { e.Reason, err = p.str(v, field+".reason"); return },
		"preflight":        flag(&e.Preflight),
		"preflight-cached": flag(&e.PreflightCached),
		"readable":         func(_, v *yaml.Node) (err error) { e.Readable, err = p.strs(v, field+".readable"); return },
		"unreadable":       func(_, v *yaml.Node) (err error) { e.Unreadable, err = p.strs(v, field+".unreadable"); return },
		"cookies-sent": func(_, v *yaml.Node) (err error) {
			e.CheckCookies = true
			e.CookiesSent, err = p.strs(v, field+".cookies-sent")
			return
		},
	}, "result")
	if err != nil {
		return e, err
	}
	if e.Reason != "" && e.Result != Blocked {
		return e, p.errorf(n, field+".reason", "a reason only goes with result: blocked")
	}
	return e, nil
}
