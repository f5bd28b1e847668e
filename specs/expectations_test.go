package specs_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/expect"
)

// The same file `corslab check examples/expectations.yaml` runs drives this table.
var _ = Describe("examples/expectations.yaml as a ginkgo table", func() {
	file, err := expect.Load("../examples/expectations.yaml")
	if err != nil {
		// A tree-construction failure names the file's line and field.
		panic(err)
	}
	var entries []TableEntry
	for _, c := range file.Cases {
		entries = append(entries, Entry(c.Name, c, within))
	}
	DescribeTable("each case", func(ctx SpecContext, c harness.Scenario) {
		out, err := expect.Run(ctx, env, c)
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Passed()).To(BeTrue(), out.Report())
	}, entries)
})
