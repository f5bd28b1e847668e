package servers

import "testing"

func TestAnswer(t *testing.T) {
	p := Policy{AllowOrigin: []string{Echo}, AllowMethods: []string{"PUT"}, MaxAge: "5", ExposeHeaders: []string{"X-A"},
		SetCookie: []string{"a=1"}, Status: 201,
		Preflight: &Policy{AllowOrigin: []string{"*"}, AllowHeaders: []string{"NCZ"}}}
	status, h := p.Answer(true, "http://o", "tok")
	if status != 204 || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Headers") != "NCZ" || h.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("preflight answer: %d %v (want the Preflight policy's)", status, h)
	}
	status, h = p.Answer(false, "http://o", "tok")
	if status != 201 || h.Get("Access-Control-Allow-Origin") != "http://o" || h.Get("Access-Control-Expose-Headers") != "X-A" ||
		h.Get("Set-Cookie") != "a=1; Path=/cors/tok" || h.Get("Access-Control-Max-Age") != "" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("actual answer: %d %v", status, h)
	}
	if _, h = p.Answer(false, "", "tok"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("Echo with no Origin sent %q", h.Get("Access-Control-Allow-Origin"))
	}
}
