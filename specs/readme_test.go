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
	It("shows each Go example exactly as specs/readme/own_server_test.go compiles and runs it, the first in at most 10 lines", func() {
		readme, err := os.ReadFile("../README.md")
		Expect(err).NotTo(HaveOccurred())
		src, err := os.ReadFile("readme/own_server_test.go")
		Expect(err).NotTo(HaveOccurred())
		blocks := strings.Split(string(src), "// README:begin\n")[1:]
		Expect(blocks).To(HaveLen(2), "the first example and the one with APIFor, NewTabAs and servers.App")
		for i, block := range blocks {
			block, _, ok := strings.Cut(block, "\n// README:end")
			Expect(ok).To(BeTrue(), "block %d has its README:end", i+1)
			block = strings.TrimRight(block, "\n") + "\n"
			Expect(string(readme)).To(ContainSubstring("```go\n"+block+"```"), "block %d", i+1)
			Expect(strings.Count(block, "\n")).To(BeNumerically("<=", []int{10, 25}[i]), "block %d", i+1)
		}
	})
})
