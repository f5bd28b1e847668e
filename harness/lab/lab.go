// Package lab is corslab's teaching lab: a page on the page origin where a
// person builds a request and the server's answer, runs it through corslab's
// own headless browser, and sees every exchange as a sequence diagram with
// the verdict and the browser's reason. The page (pages/lab.*) gets what it
// cannot learn itself (the browser's view, the server's journal) from a
// small JSON API under /lab/api/ that answers only the lab's own origin. The
// form is built from the field tables (harness.RequestFields,
// servers.PolicyFields) and speaks their share-link encoding, so the page
// holds no second copy of either.
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
	"sync"
	"sync/atomic"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
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
	return l.URL() + "?" + req.Query().Encode()
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
			Query  string            `json:"query"`  // the share link's query (harness.Request.Query)
			Tokens map[string]string `json:"tokens"` // repeat: reuse each engine's token (URL, cache entry)
		}
		if err := readJSON(r, &in); err != nil {
			jsonError(w, http.StatusBadRequest, err)
			return
		}
		req, err := parseQuery(in.Query)
		if err == nil {
			err = check(req)
		}
		for _, t := range in.Tokens {
			if err == nil {
				err = check(harness.Request{Token: t})
			}
		}
		if err != nil {
			jsonError(w, http.StatusBadRequest, err)
			return
		}
		cmp, err := RunEverywhere(ctx, env, req, in.Tokens)
		if err != nil {
			jsonError(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, cmp)
	case "plan":
		// For running the scenario in the visitor's own browser too.
		if !post() {
			return
		}
		var in struct {
			Query string `json:"query"`
		}
		if err := readJSON(r, &in); err != nil {
			jsonError(w, http.StatusBadRequest, err)
			return
		}
		req, err := parseQuery(in.Query)
		if err == nil {
			err = check(req)
		}
		if err != nil {
			jsonError(w, http.StatusBadRequest, err)
			return
		}
		plan, err := env.Plan(req)
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
		writeJSON(w, journalOf(ctx, env.Origins.Journal, token))
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

// parseQuery reads a share link's query (with or without its "?"; a preset's link carries only preset=ID).
func parseQuery(query string) (harness.Request, error) {
	q, err := url.ParseQuery(strings.TrimPrefix(query, "?"))
	if err != nil {
		return harness.Request{}, fmt.Errorf("scenario query: %w", err)
	}
	q.Del(presetKey)
	return harness.ParseQuery(q)
}

// presetKey is the share link's parameter that names a preset instead of a request.
const presetKey = "preset"

// Run is one request as the lab shows it: the Result drawn, explained and
// ready to share and copy.
type Run struct {
	Engine       string           `json:"engine"`
	Token        string           `json:"token"` // for a repeat: the same URL
	Method       string           `json:"method"`
	API          string           `json:"api"`
	Credential   bool             `json:"credentials"`
	Query        string           `json:"query"` // the share URL's query
	URL          string           `json:"url"`
	PageOrigin   string           `json:"pageOrigin"`
	Arrows       []harness.Arrow  `json:"arrows"`
	Page         harness.PageView `json:"page"`
	Server       []string         `json:"server"` // what the API origin received, one line per request
	Verdict      string           `json:"verdict"`
	Allowed      bool             `json:"allowed"`
	Reason       string           `json:"reason"`       // the common reason of a block
	EngineReason string           `json:"engineReason"` // the engine's own words for it
	Failed       string           `json:"failedParameter"`
	ErrorText    string           `json:"errorText"`
	Words        string           `json:"words"` // the verdict in plain words
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
	Mermaid         string   `json:"mermaid"` // the diagram as a Mermaid sequenceDiagram (Result.Mermaid)
	Disagreements   []string `json:"disagreements"`
	Notes           []string `json:"notes"`
}

// NewRun describes res for the lab page.
func NewRun(res harness.Result) Run {
	req := res.Request
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	share := req
	share.Token = ""
	out := Run{
		Engine: string(res.Engine), Token: res.Token, Method: method, API: orElse(req.API, harness.XHR), Credential: req.Credentials,
		Query: share.Query().Encode(), URL: res.URL, PageOrigin: res.PageOrigin,
		Arrows: res.Diagram(), Page: res.Page, Verdict: strings.Join(strings.Fields(res.Verdict().String()), " "), Allowed: res.Allowed(),
		Reason: string(res.Browser.Reason), EngineReason: res.Browser.EngineReason, Failed: res.Browser.FailedParameter, ErrorText: res.Browser.ErrorText,
		Words: res.Meaning(), Preflighted: res.Preflighted(), FromCache: res.PreflightFromCache(), NeedsPreflight: res.NeedsPreflight(),
		Snippet: Snippet(req, res.URL), ResponseHeaders: ResponseHeaders(res), Transcript: res.String(), Mermaid: res.Mermaid(),
		Disagreements: res.Disagreements(), Notes: res.Notes,
	}
	if p := res.Browser.Preflight; p != nil && p.Status >= 200 && p.Status < 300 && res.Browser.Reason == "" {
		if prof, ok := model.For(res.Engine); ok {
			v, ok := p.ResponseHeaders["access-control-max-age"]
			out.CacheSeconds = int(prof.MaxAge(v, ok) / time.Second)
		}
	}
	out.Server = journalLines(res.Server.Entries)
	if !res.Server.Recorded {
		out.Server = []string{"not recorded"}
	}
	return out
}

// Compare is one request run in every engine of the lab: a Run per engine,
// side by side, and where the engines disagree.
type Compare struct {
	Runs          []Run    `json:"runs"`
	Disagreements []string `json:"disagreements"`
}

// RunEverywhere sends req in every engine of env at once, each engine with
// the token tokens gives it (a repeat: the same URL), or a new one.
func RunEverywhere(ctx context.Context, env *harness.Env, req harness.Request, tokens map[string]string) (Compare, error) {
	engines := env.Engines()
	results := make(harness.Results, len(engines))
	errs := make([]error, len(engines))
	var wg sync.WaitGroup
	for i, e := range engines {
		wg.Go(func() {
			r := req
			r.Token = tokens[string(e)]
			results[i], errs[i] = env.In(e).Do(ctx, r)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Compare{}, err
	}
	out := Compare{Disagreements: results.Disagreements()}
	for _, r := range results {
		out.Runs = append(out.Runs, NewRun(r))
	}
	return out, nil
}

// Journal is what the API origin received for one token, for a run in the visitor's browser.
type Journal struct {
	Lines      []string `json:"lines"`
	Preflights int      `json:"preflights"`
	Requests   int      `json:"requests"`
	Note       string   `json:"note,omitempty"` // set when the journal was not final in time
}

// journalOf is what the journal holds for token once its answers are final
// (the page has its answer; the server's last status may trail it by a
// moment), and then forgets it. A journal that is not final in time says so.
func journalOf(ctx context.Context, j *servers.Journal, token string) Journal {
	ctx, cancel := context.WithTimeout(ctx, journalSettle)
	defer cancel()
	entries, err := j.Wait(ctx, token, func(es []servers.Entry) bool {
		for _, e := range es {
			if e.Status == 0 {
				return false
			}
		}
		return true
	})
	j.Forget(token)
	out := Journal{Lines: journalLines(entries), Preflights: len(harness.ServerView{Entries: entries}.Preflights()), Requests: len(entries)}
	if err != nil {
		out.Note = "the server was still answering after " + journalSettle.String() + ": the lines above may lack its last status"
	}
	return out
}

// journalSettle bounds the wait for a journal's last status.
const journalSettle = 2 * time.Second

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

// Preset is one step of the article's walk-through (harness/tour) as the
// lab offers it: each send as its share-link query, and the earlier send
// whose URL it reuses (0: its own).
type Preset struct {
	ID         string            `json:"id"`
	Title      string            `json:"title"`
	Say        string            `json:"say"`
	Deviations map[string]string `json:"deviations"`
	Sends      []PresetSend      `json:"sends"`
}

// PresetSend is one send of a preset.
type PresetSend struct {
	Query string `json:"query"`
	Reuse int    `json:"reuse"`
}

type presetList struct {
	PageOrigin string              `json:"pageOrigin"`
	APIOrigin  string              `json:"apiOrigin"`
	Echo       string              `json:"echo"`
	Prefix     string              `json:"prefix"` // the request fields' prefix in a share link
	Request    []servers.FieldInfo `json:"request"`
	Policy     []servers.FieldInfo `json:"policy"`
	Presets    []Preset            `json:"presets"`
}

func (l *Lab) presets(env *harness.Env) presetList {
	out := presetList{PageOrigin: env.Origins.App.URL, APIOrigin: env.Origins.API.URL, Echo: servers.Echo,
		Prefix: harness.SharePrefix, Policy: servers.PolicyFields.Info()}
	for _, f := range harness.RequestFields.Info() {
		if f.Key != "url" { // the lab sends only to corslab's own origins (check)
			out.Request = append(out.Request, f)
		}
	}
	for _, s := range tour.Article(env.Origins.App.URL) {
		p := Preset{ID: s.ID, Title: s.Name, Say: s.Say, Deviations: map[string]string{}}
		for e, d := range s.Deviations {
			p.Deviations[e.Title()] = d
		}
		for _, snd := range s.Sends {
			p.Sends = append(p.Sends, PresetSend{snd.Request.Query().Encode(), snd.Reuse})
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

// RunStep runs the tour step id in the Env's engine (its shared tab: each
// send has its own token, so its own preflight-cache entry and cookie path)
// and checks it against the article's expectations.
func RunStep(ctx context.Context, env *harness.Env, id string) (StepRun, error) {
	step, ok := tour.Step(env.Origins.App.URL, id)
	if !ok {
		return StepRun{}, fmt.Errorf("no preset %q", id)
	}
	results, err := env.Play(ctx, step)
	out := StepRun{ID: step.ID, Title: step.Name}
	for _, r := range results {
		out.Runs = append(out.Runs, NewRun(r))
	}
	if err == nil {
		err = matchers.Check(step, results)
	}
	out.AsSaid = err == nil
	if err != nil {
		out.Failures = err.Error()
	}
	return out, nil
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
