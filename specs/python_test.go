package specs_test

import (
	"bufio"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/expect"
	"github.com/corslab/corslab/harness/verdict"
)

// A server in another language, checked from the outside as README's walk-through
// does (`corslab check --api URL`): examples/python's server and expectations file.
var _ = Describe("a server in another language (examples/python)", Ordered, func() {
	var base string
	BeforeAll(func(ctx SpecContext) {
		python, err := exec.LookPath("python3")
		if err != nil {
			Skip("python3 is not installed: this example needs it (apt-get install -y python3)")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		port := l.Addr().(*net.TCPAddr).Port
		Expect(l.Close()).To(Succeed())
		cmd := exec.Command(python, "../examples/python/server.py", strconv.Itoa(port))
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		out, err := cmd.StdoutPipe()
		Expect(err).NotTo(HaveOccurred())
		Expect(cmd.Start()).To(Succeed())
		DeferCleanup(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		})
		ready := make(chan string, 1)
		go func() {
			line, _ := bufio.NewReader(out).ReadString('\n')
			ready <- line
		}()
		select {
		case line := <-ready:
			Expect(line).To(HavePrefix("listening on "))
		case <-ctx.Done():
			Fail("the Python server did not start")
		}
		base = "http://127.0.0.1:" + strconv.Itoa(port)
	}, NodeTimeout(30e9))

	It("passes its expectations file in Chromium", within, func(ctx SpecContext) {
		f, err := expect.Load("../examples/python/expectations.yaml")
		Expect(err).NotTo(HaveOccurred())
		e, err := harness.Start(ctx, harness.Options{Engines: []verdict.Engine{verdict.Chromium}, APIURL: base, ShareBrowser: true, WarmSessions: -1})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(e.Close)
		for _, c := range f.Cases {
			out, err := expect.Run(ctx, e, c)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Passed()).To(BeTrue(), out.Report())
			for _, r := range out.Results {
				Expect(r.Predicted.NotModelled).To(BeEmpty(), "predicted from the headers it answered\n%s", r)
				Expect(r.ModelDisagreements()).To(BeEmpty(), r.String())
				Expect(strings.HasPrefix(r.URL, base)).To(BeTrue())
			}
		}
	})
})
