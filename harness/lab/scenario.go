package lab

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/servers"
)

// The share URL's parameters for the client side; the server side uses the
// Policy's own parameters (servers.Policy.Query), the same as the API URL.
const (
	reqPrefix      = "req."
	paramAPI       = reqPrefix + "api"
	paramEnv       = reqPrefix + "environment"
	paramMethod    = reqPrefix + "method"
	paramHeader    = reqPrefix + "header"
	paramBody      = reqPrefix + "body"
	paramCreds     = reqPrefix + "credentials"
	paramMode      = reqPrefix + "mode"
	paramTarget    = reqPrefix + "target"
	paramPath      = reqPrefix + "path"
	paramTimeout   = reqPrefix + "timeout-ms"
	paramUpload    = reqPrefix + "upload-listener"
	paramPresetKey = "preset"
)

// Query encodes a scenario (a Request with its Policy) as the lab's share
// URL query: the Request's fields under "req.", the Policy exactly as the API
// URL carries it. The token is left out: opening the link runs a new request.
func Query(r harness.Request) url.Values {
	q := r.Policy.Query()
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set(paramAPI, r.API)
	set(paramEnv, r.Environment)
	set(paramMethod, r.Method)
	for _, h := range r.Headers {
		q.Add(paramHeader, h.Name+":"+h.Value)
	}
	set(paramBody, r.Body)
	if r.Credentials {
		q.Set(paramCreds, "1")
	}
	set(paramMode, r.Mode)
	set(paramTarget, r.Target)
	set(paramPath, r.Path)
	if r.Timeout > 0 {
		q.Set(paramTimeout, strconv.FormatInt(r.Timeout.Milliseconds(), 10))
	}
	if r.UploadListener {
		q.Set(paramUpload, "1")
	}
	return q
}

// ParseQuery decodes a share URL query into a scenario; it reverses Query and
// names the parameter that is wrong. The lab runs only on corslab's own
// origins, so a scenario never carries a URL.
func ParseQuery(q url.Values) (harness.Request, error) {
	var r harness.Request
	policy := url.Values{}
	for key, values := range q {
		name, ok := strings.CutPrefix(key, reqPrefix)
		if !ok {
			if key != paramPresetKey {
				policy[key] = values
			}
			continue
		}
		if name != "header" && len(values) != 1 {
			return r, fmt.Errorf("scenario parameter %q: given %d times, allowed once", key, len(values))
		}
		v := values[0]
		var err error
		switch key {
		case paramAPI:
			r.API = v
		case paramEnv:
			r.Environment = v
		case paramMethod:
			r.Method = v
		case paramHeader:
			for _, hv := range values {
				h, err := servers.ParseHeader(hv)
				if err != nil {
					return r, fmt.Errorf("scenario parameter %q: %w", key, err)
				}
				r.Headers = append(r.Headers, h)
			}
		case paramBody:
			r.Body = v
		case paramCreds:
			r.Credentials, err = strconv.ParseBool(v)
		case paramMode:
			r.Mode = v
		case paramTarget:
			r.Target = v
		case paramPath:
			r.Path = v
		case paramTimeout:
			var ms int64
			ms, err = strconv.ParseInt(v, 10, 64)
			r.Timeout = time.Duration(ms) * time.Millisecond
		case paramUpload:
			r.UploadListener, err = strconv.ParseBool(v)
		default:
			err = errors.New("unknown scenario parameter")
		}
		if err != nil {
			return r, fmt.Errorf("scenario parameter %q = %q: %w", key, v, err)
		}
	}
	p, err := servers.ParsePolicy(policy)
	if err != nil {
		return r, err
	}
	r.Policy = p
	return r, check(r)
}

// check refuses what the lab must never do, then validates the rest.
func check(r harness.Request) error {
	if r.URL != "" {
		// The lab sends requests only to corslab's own origins: no endpoint
		// makes the browser (or the server) fetch a URL taken from a request.
		return &harness.RequestError{Field: "URL", Value: r.URL, Err: errors.New("the lab sends requests only to corslab's own origins")}
	}
	if r.Timeout > time.Minute {
		return &harness.RequestError{Field: "Timeout", Value: r.Timeout.String(), Err: errors.New("the lab allows at most 1m")}
	}
	return r.Validate(false)
}
