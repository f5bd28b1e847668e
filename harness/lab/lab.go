// Package lab is corslab's teaching lab: a page on the page origin where a
// person builds a request and the server's answer, runs it through corslab's
// own headless Chrome, and sees every exchange as a sequence diagram with
// the verdict and Chrome's CorsError. The page (pages/lab.*) gets what it
// cannot learn itself (Chrome's view, the server's journal) from a small
// JSON API under /lab/api/ that answers only the lab's own origin.
package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/model"
	"github.com/corslab/corslab/harness/tour"
	"github.com/corslab/corslab/pages"
	"github.com/corslab/corslab/servers"
)

// runTimeout bounds one run (or one preset's runs) of the lab API.
const runTimeout = 30 * time.Second

// Lab is a running lab: corslab's Chrome and origins, with the lab's API on
// the page origin. The caller must call Close when finished.
type Lab struct {
	env   atomic.Pointer[harness.Env]
	pages http.Handler
}

// Start starts the origins (the page origin serving the lab) and Chrome.
// opts.Servers.Page must be unset: the lab serves the page origin.
func Start(ctx context.Context, opts harness.Options) (*Lab, error) {
	if opts.Servers.Page != nil {
		return nil, errors.New("lab: Options.Servers.Page is set; the lab serves the page origin itself")
	}
	l := &Lab{pages: pages.Handler()}
	opts.Servers.Page = l
	env, err := harness.Start(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	l.env.Store(env)
	return l, nil
}

// URL is the lab page's address.
func (l *Lab) URL() string { return l.Env().Origins.App.URL + "/lab" }

// Env is the Chrome and origins the lab runs scenarios in.
func (l *Lab) Env() *harness.Env { return l.env.Load() }

// Close closes Chrome and the origins.
func (l *Lab) Close() error { return l.Env().Close() }

// ShareURL is the lab URL that restores and runs req when opened.
func (l *Lab) ShareURL(req harness.Request) string {
	return l.URL() + "?" + Query(req).Encode()
}

// ServeHTTP serves the lab API under /lab/api/ and the page origin's files otherwise.
func (l *Lab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, ok := strings.CutPrefix(r.URL.Path, "/lab/api/")
	if !ok {
		l.pages.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	env := l.env.Load()
	if env == nil {
		jsonError(w, http.StatusServiceUnavailable, errors.New("the lab is still starting"))
		return
	}
	if err := ownOrigin(r, env.Origins.App.URL); err != nil {
		jsonError(w, http.StatusForbidden, err)
		return
	}
	post := func() bool {
		if r.Method != http.MethodPost {
			jsonError(w, http.StatusMethodNotAllowed, errors.New("use POST with a JSON body"))
			return false
		}
		return true
	}
	ctx, cancel := context.WithTimeout(r.Context(), runTimeout)
	defer cancel()
	switch route {
	case "presets":
		writeJSON(w, l.presets(env))
	case "run":
		if !post() {
			return
		}
		var in struct {
			Request *harness.Request `json:"request"`
			Query   *string          `json:"query"` // a share URL's query, instead of request
			Token   string           `json:"token"` // repeat: reuse this token (URL, cache entry)
		}
		if err := readJSON(r, &in); err != nil {
			jsonError(w, http.StatusBadRequest, err)
			return
		}
		req, err := scenarioOf(in.Request, in.Query)
		if err == nil {
			req.Token = in.Token
			err = check(req)
		}
		if err != nil {
			jsonError(w, http.StatusBadRequest, err)
			return
		}
		res, err := env.Do(ctx, req)
		if err != nil {
			jsonError(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, NewRun(res))
	case "plan":
		// For running the scenario in the visitor's own browser too.
		if !post() {
			return
		}
		var in struct {
			Request harness.Request `json:"request"`
		}
		if err := readJSON(r, &in); err != nil {
			jsonError(w, http.StatusBadRequest, err)
			return
		}
		in.Request.Token = ""
		if err := check(in.Request); err != nil {
			jsonError(w, http.StatusBadRequest, err)
			return
		}
		plan, err := env.Plan(in.Request)
		if err != nil {
			jsonError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, plan)
	case "journal":
		token := r.URL.Query().Get("token")
		if err := (harness.Request{Token: token}).Validate(false); err != nil || token == "" {
			jsonError(w, http.StatusBadRequest, fmt.Errorf("journal: token %q is not a token", token))
			return
		}
		// The page has its answer; the server's last status may trail it by a moment.
		entries, _ := env.Origins.Journal.Wait(ctx, token, func(es []servers.Entry) bool {
			for _, e := range es {
				if e.Status == 0 {
					return false
				}
			}
			return true
		})
		writeJSON(w, Journal{Lines: journalLines(entries), Preflights: len(harness.ServerView{Entries: entries}.Preflights()), Requests: len(entries)})
	case "step":
		if !post() {
			return
		}
		var in struct {
			ID string `json:"id"`
		}
		if err := readJSON(r, &in); err != nil {
			jsonError(w, http.StatusBadRequest, err)
			return
		}
		out, err := RunStep(ctx, env, in.ID)
		if err != nil {
			jsonError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, out)
	default:
		jsonError(w, http.StatusNotFound, fmt.Errorf("no lab API %q", route))
	}
}

// ownOrigin refuses a request that does not come from the lab's own page:
// the API starts browser work, so no other site may trigger or read it.
func ownOrigin(r *http.Request, origin string) error {
	if o := r.Header.Get("Origin"); o != "" {
		if o != origin {
			return fmt.Errorf("the lab API answers only %s, not %s", origin, o)
		}
	} else if r.Header.Get("Sec-Fetch-Site") != "same-origin" {
		return fmt.Errorf("the lab API answers only same-origin requests from %s (Sec-Fetch-Site %q)", origin, r.Header.Get("Sec-Fetch-Site"))
	}
	if r.Method == http.MethodPost && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return errors.New("the lab API takes POST bodies as application/json only")
	}
	return nil
}

func scenarioOf(req *harness.Request, query *string) (harness.Request, error) {
	switch {
	case req != nil && query != nil:
		return harness.Request{}, errors.New("give request or query, not both")
	case req != nil:
		return *req, nil
	case query != nil:
		q, err := url.ParseQuery(strings.TrimPrefix(*query, "?"))
		if err != nil {
			return harness.Request{}, fmt.Errorf("scenario query: %w", err)
		}
		return ParseQuery(q)
	}
	return harness.Request{}, errors.New("give a request or a query")
}

// Run is one request as the lab shows it: the Result drawn, explained and
// ready to share and copy.
type Run struct {
	Request    harness.Request  `json:"request"` // with its Token, for a repeat
	Query      string           `json:"query"`   // the share URL's query
	URL        string           `json:"url"`
	PageOrigin string           `json:"pageOrigin"`
	Arrows     []Arrow          `json:"arrows"`
	Page       harness.PageView `json:"page"`
	Server     []string         `json:"server"` // what the API origin received, one line per request
	Verdict    string           `json:"verdict"`
	Allowed    bool             `json:"allowed"`
	CorsError  string           `json:"corsError"`
	Failed     string           `json:"failedParameter"`
	ErrorText  string           `json:"errorText"`
	Reason     string           `json:"reason"`
	// Preflighted, FromCache and NeedsPreflight say what happened to the preflight.
	Preflighted    bool `json:"preflighted"`
	FromCache      bool `json:"fromCache"`
	NeedsPreflight bool `json:"needsPreflight"`
	// CacheSeconds is how long Chrome keeps the preflight answer this run
	// received; 0 when none went out or it is not cacheable.
	CacheSeconds    int      `json:"cacheSeconds"`
	Snippet         string   `json:"snippet"`
	ResponseHeaders string   `json:"responseHeaders"`
	Transcript      string   `json:"transcript"`
	Disagreements   []string `json:"disagreements"`
	Notes           []string `json:"notes"`
}

// NewRun describes res for the lab page.
func NewRun(res harness.Result) Run {
	req := res.Request
	out := Run{
		Request: req, Query: Query(req).Encode(), URL: res.URL, PageOrigin: res.PageOrigin,
		Arrows: Diagram(res), Page: res.Page, Verdict: res.Verdict(), Allowed: res.Allowed(),
		CorsError: res.Browser.CorsError, Failed: res.Browser.FailedParameter, ErrorText: res.Browser.ErrorText,
		Reason: Reason(res), Preflighted: res.Preflighted(), FromCache: res.PreflightFromCache(), NeedsPreflight: res.NeedsPreflight(),
		Snippet: Snippet(req, res.URL), ResponseHeaders: ResponseHeaders(res), Transcript: res.String(),
		Disagreements: res.Disagreements(), Notes: res.Notes,
	}
	if p := res.Browser.Preflight; p != nil && p.Status >= 200 && p.Status < 300 && res.Browser.CorsError == "" {
		v, ok := p.ResponseHeaders["access-control-max-age"]
		out.CacheSeconds = int(model.Chrome.MaxAge(v, ok) / time.Second)
	}
	out.Server = journalLines(res.Server.Entries)
	if !res.Server.Recorded {
		out.Server = []string{"not recorded"}
	}
	return out
}

// Journal is what the API origin received for one token, for a run in the visitor's browser.
type Journal struct {
	Lines      []string `json:"lines"`
	Preflights int      `json:"preflights"`
	Requests   int      `json:"requests"`
}

// journalLines says what the server received, one line per request.
func journalLines(entries []servers.Entry) []string {
	var out []string
	for _, e := range entries {
		line := e.Method + " → " + fmt.Sprint(e.Status)
		if e.Status == -1 {
			line = e.Method + " → (the client left)"
		}
		if e.IsPreflight() {
			line += "  (preflight)"
		}
		for _, c := range e.Cookies {
			line += "  cookie " + c.Name
		}
		out = append(out, line)
	}
	return out
}

// Preset is one step of the article's walk-through (harness/tour) as the lab offers it.
type Preset struct {
	ID     string       `json:"id"`
	Title  string       `json:"title"`
	Say    string       `json:"say"`
	Chrome string       `json:"chrome"`
	Sends  []PresetSend `json:"sends"`
}

// PresetSend is one request of a preset; Reuse is the 1-based index of the
// earlier send whose token it reuses (0: a new token).
type PresetSend struct {
	Request harness.Request `json:"request"`
	Reuse   int             `json:"reuse"`
	Query   string          `json:"query"`
}

type presetList struct {
	PageOrigin string   `json:"pageOrigin"`
	APIOrigin  string   `json:"apiOrigin"`
	Echo       string   `json:"echo"`
	Presets    []Preset `json:"presets"`
}

func (l *Lab) presets(env *harness.Env) presetList {
	out := presetList{PageOrigin: env.Origins.App.URL, APIOrigin: env.Origins.API.URL, Echo: servers.Echo}
	for _, s := range tour.Article(env.Origins.App.URL) {
		p := Preset{ID: s.ID, Title: s.Title, Say: s.Say, Chrome: s.Chrome}
		for _, snd := range s.Sends {
			p.Sends = append(p.Sends, PresetSend{snd.Request, snd.Reuse, Query(snd.Request).Encode()})
		}
		out.Presets = append(out.Presets, p)
	}
	return out
}

// StepRun is a preset's runs and whether they behaved as the article says.
type StepRun struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Runs     []Run  `json:"runs"`
	AsSaid   bool   `json:"asSaid"`
	Failures string `json:"failures"`
}

// RunStep runs the tour step id through the Env's shared tab (each send has
// its own token, so its own preflight-cache entry and cookie path) and checks
// it against the article's expectations.
func RunStep(ctx context.Context, env *harness.Env, id string) (StepRun, error) {
	for _, step := range tour.Article(env.Origins.App.URL) {
		if step.ID != id {
			continue
		}
		results, err := step.Run(ctx, env.Do)
		out := StepRun{ID: step.ID, Title: step.Title}
		for _, r := range results {
			out.Runs = append(out.Runs, NewRun(r))
		}
		if err == nil {
			err = step.Check(results)
		}
		out.AsSaid = err == nil
		if err != nil {
			out.Failures = err.Error()
		}
		return out, nil
	}
	return StepRun{}, fmt.Errorf("no preset %q", id)
}

func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("lab API body: %w", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func jsonError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}
