package probe

import (
	"net"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/corslab/corslab/harness"
)

// Attacker is one origin an attacker's page runs as, and the class of hole it tests.
type Attacker struct {
	// Origin is scheme://host[:port], or "null" for a sandboxed page.
	Origin string
	Class  Class
}

// Skip says why a class has no attacker origin for this trusted origin.
type Skip struct {
	Class Class
	Why   string
}

// attackerDomain is the registrable domain the attacker owns in the derived origins.
const attackerDomain = "evil.test"

// thirdPartyHosts are hosts where anyone can publish a page: code
// playgrounds (where the pens and fiddles run) and static hosting, where the
// name of an account is a subdomain. An allow-list that names one of them
// (often left over from development) lets any of their users read the API.
var thirdPartyHosts = []string{
	"https://codepen.io",
	"https://cdpn.io",
	"https://jsfiddle.net",
	"https://fiddle.jshell.net",
	"https://corslab-attacker.github.io",
	"https://corslab-attacker.vercel.app",
	"https://corslab-attacker.netlify.app",
	"https://corslab-attacker.pages.dev",
	"https://corslab-attacker.herokuapp.com",
	"https://corslab-attacker.glitch.me",
}

// Attackers derives the attacker origins of every origin class from the
// trusted origin (scheme://host[:port]), using the public suffix list for
// its registrable domain; skipped lists the classes it has no origin for,
// and why. The classes that are properties of the answer (wildcard,
// invalid-allow-origin, executed-despite-block, missing-vary-origin) have no
// origin of their own: every attacker's answer is judged for them.
func Attackers(trusted string) (attackers []Attacker, skipped []Skip, err error) {
	t, err := harness.CheckPageOrigin(trusted)
	if err != nil {
		return nil, nil, err
	}
	u, _ := url.Parse(t) // CheckPageOrigin parsed it
	scheme, host, port := u.Scheme, u.Hostname(), ""
	if p := u.Port(); p != "" {
		port = ":" + p
	}
	add := func(c Class, origin string) {
		if origin == t || slices.ContainsFunc(attackers, func(a Attacker) bool { return a.Origin == origin }) {
			return
		}
		attackers = append(attackers, Attacker{Origin: origin, Class: c})
	}
	site, siteErr := registrable(host)
	arbitrary := "https://" + attackerDomain
	if site == attackerDomain {
		arbitrary = "https://corslab-attacker.invalid"
	}
	add(ReflectedOrigin, arbitrary)
	add(NullOrigin, "null")
	ip := net.ParseIP(host) != nil
	if ip {
		skipped = append(skipped,
			Skip{PrefixMatch, "the trusted host is an IP address: no name can start with it"},
			Skip{SubstringMatch, "the trusted host is an IP address: no name can contain it"})
	} else {
		add(PrefixMatch, scheme+"://"+host+"."+attackerDomain+port)
	}
	if siteErr != nil {
		why := "the trusted host " + host + " has no registrable domain (" + siteErr.Error() + ")"
		skipped = append(skipped, Skip{SuffixMatch, why}, Skip{UnescapedDot, why}, Skip{AnySubdomain, why})
	} else {
		add(SuffixMatch, scheme+"://evil"+site+port)
		if alike := lookAlike(host, site); alike != "" {
			add(UnescapedDot, scheme+"://"+alike+port)
		} else {
			skipped = append(skipped, Skip{UnescapedDot, "no dot of " + host + " can become a letter and leave a domain anyone can register"})
		}
	}
	if !ip {
		add(SubstringMatch, scheme+"://evil"+host+"."+attackerDomain+port)
	}
	if scheme == "https" {
		add(HTTPOriginTrusted, "http://"+u.Host)
	} else {
		skipped = append(skipped, Skip{HTTPOriginTrusted, "the trusted origin is already http"})
	}
	if siteErr == nil {
		if host != site {
			add(AnySubdomain, scheme+"://evil."+site+port)
		}
		add(AnySubdomain, scheme+"://evil."+host+port)
	}
	for _, h := range thirdPartyHosts {
		add(ThirdPartyOrigin, h)
	}
	return attackers, skipped, nil
}

// registrable returns host's registrable domain (eTLD+1), e.g. example.com
// for app.example.com; an error for an IP address, localhost or a public suffix.
func registrable(host string) (string, error) {
	if net.ParseIP(host) != nil {
		return "", errNotDomain("an IP address")
	}
	if !strings.Contains(host, ".") {
		return "", errNotDomain("a single label")
	}
	return publicsuffix.EffectiveTLDPlusOne(host)
}

type errNotDomain string

func (e errNotDomain) Error() string { return "it is " + string(e) }

// lookAlike returns host with one dot made a letter such that the result
// is a domain anyone can register under the same public suffix (the dot
// just before the registrable domain: app.example.com → appxexample.com),
// or "" when no dot does that.
func lookAlike(host, site string) string {
	suffix, _ := publicsuffix.PublicSuffix(site)
	for i := len(host) - 1; i >= 0; i-- {
		if host[i] != '.' {
			continue
		}
		c := host[:i] + "x" + host[i+1:]
		s, _ := publicsuffix.PublicSuffix(c)
		d, err := publicsuffix.EffectiveTLDPlusOne(c)
		if err != nil || s != suffix || d == site || strings.HasSuffix(c, "."+site) {
			continue
		}
		return c
	}
	return ""
}
