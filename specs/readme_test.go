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

var _ = Describe("the README's \"Test your own server\" section", func() {
	It("shows the Go example exactly as specs/readme/own_server_test.go compiles and runs it, in at most 10 lines", func() {
		readme, err := os.ReadFile("../README.md")
		Expect(err).NotTo(HaveOccurred())
		src, err := os.ReadFile("readme/own_server_test.go")
		Expect(err).NotTo(HaveOccurred())
		_, block, ok := strings.Cut(string(src), "// README:begin\n")
		Expect(ok).To(BeTrue())
		block, _, ok = strings.Cut(block, "\n// README:end")
		Expect(ok).To(BeTrue())
		block = strings.TrimRight(block, "\n") + "\n"
		Expect(string(readme)).To(ContainSubstring("```go\n" + block + "```"))
		Expect(strings.Count(block, "\n")).To(BeNumerically("<=", 10))
	})
})
