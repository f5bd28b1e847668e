package specs_test

import (
	"os"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the README", func() {
	It("shows the example suite exactly as specs/readme compiles and runs it", func() {
		readme, err := os.ReadFile("../README.md")
		Expect(err).NotTo(HaveOccurred())
		example, err := os.ReadFile("readme/readme_test.go")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(readme)).To(ContainSubstring("```go\n"+string(example)+"```"),
			"README.md's example must be specs/readme/readme_test.go verbatim")
		Expect(strings.Count(string(example), "\n")).To(BeNumerically("<=", 35))
	})
})
