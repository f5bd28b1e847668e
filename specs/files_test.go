package specs_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness/expect"
)

// An expectations file's case can come from a sandboxed page (from: null):
// its requests carry Origin: null.
var _ = It("an expectations file's case from a sandboxed page (from: null)", within, func(ctx SpecContext) {
	f, err := expect.Parse("null.yaml", []byte(`cases:
  - name: Allow-Origin null lets a sandboxed page read it
    from: null
    request: {policy: {allow-origin: "null"}}
    expect: allowed
  - name: the page's own origin in Allow-Origin does not match null
    from: null
    request: {policy: {allow-origin: "http://127.0.0.1:1"}}
    expect: {result: blocked, reason: AllowOriginMismatch}
  - name: sending the same request again reuses its URL (and the preflight cache entry)
    sends:
      - request: {method: PUT, policy: {allow-origin: $origin, allow-methods: PUT, max-age: "60"}}
        expect: {result: allowed, preflight: yes}
      - reuse: 1
        expect: {result: allowed, preflight-cached: yes}
`))
	Expect(err).NotTo(HaveOccurred())
	for _, c := range f.Cases {
		out, err := expect.Run(ctx, env, c)
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Passed()).To(BeTrue(), out.Report())
		if c.From == "null" {
			Expect(out.Results[0].Server.Actuals()[0].Origin()).To(Equal("null"))
		}
	}
})
