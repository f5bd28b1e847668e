package harness

import (
	"errors"
	"net/url"

	"github.com/corslab/corslab/servers"
)

// checkAPIURL validates Options.APIURL: an absolute http(s) base on this
// machine (unless remote targets are allowed), with no query or fragment.
func checkAPIURL(s string, allowRemote bool) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return badOption("APIURL", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return badOption("APIURL", s, errors.New("must be an absolute http or https URL, e.g. http://localhost:8080"))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return badOption("APIURL", s, errors.New("a base URL has no query or fragment"))
	}
	if !allowRemote && !isLocalHost(u.Hostname()) {
		return badOption("APIURL", s, errors.New("host is not loopback; corslab sends traffic only to this machine unless Options.AllowRemoteTargets is set"))
	}
	return nil
}

func badOption(key, value string, err error) error {
	return &servers.FieldError{Of: "option", Key: key, Value: value, Err: err}
}
