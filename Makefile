# corslab: `make test` and `make demo` work on a fresh Debian machine with only Go installed.
GO      ?= go
GINKGO  := $(GO) tool ginkgo
OUT     := out
# Tests keep Chrome's folders in a private temp folder, so the leak checks
# count only what this run made, even on a machine where other Chromes run.
# It is short (Chrome's singleton socket path must fit in 107 bytes) and
# named after this checkout, so two checkouts never share it.
export TMPDIR := /tmp/corslab-$(shell printf %s '$(CURDIR)' | cksum | cut -d' ' -f1)
# Every go command needs it, lint and demo included, from a clean checkout on.
$(shell mkdir -p $(TMPDIR))
# The engines every target runs in: all three unless you narrow them
# (CORSLAB_ENGINES=chromium make test). A chosen engine that is missing is
# installed (browsers), never skipped.
CORSLAB_ENGINES ?= all
export CORSLAB_ENGINES

.PHONY: test demo bench lab screenshots browsers modules lint unit fuzz specs matrix leftovers leakcheck soak coverage clean

## test: install what is missing, lint, run the unit tests, the specs and a matrix sample, check nothing leaked
# The phases run one after another: running them side by side was measured
# no faster on two cores (two runs each, in turn: wall ratio 1.02) and left
# the browsers' waits less room under load.
test: browsers modules lint unit fuzz specs matrix leftovers leakcheck coverage

## demo: a narrated tour of the article's CORS walk-through in real Chrome
demo: browsers modules
	$(GO) run ./cmd/corslab demo

## bench: the fixed workload, benchstat-friendly (3 counts), then linearity and the one-line summary last
bench: browsers modules
	@mkdir -p $(OUT)
	$(GO) test -run '^$$' -bench 'Workload$$' -benchtime 200x -count 3 ./harness/bench | tee $(OUT)/bench.txt
	$(GO) test -run '^$$' -bench 'WorkloadFreshContext$$' -benchtime 30x -count 3 ./harness/bench | tee -a $(OUT)/bench.txt
	$(GO) run ./cmd/corslab bench -n 200 -fresh 100 -sizes 100,500,1000 --engines $(CORSLAB_ENGINES)

$(TMPDIR):
	@mkdir -p $@

## lab: serve the interactive teaching lab on the page origin (Ctrl-C stops it)
lab: browsers modules | $(TMPDIR)
	$(GO) run ./cmd/corslab demo --serve

## screenshots: drive the lab headless and write the PNGs README shows into docs/
screenshots: browsers modules | $(TMPDIR)
	$(GO) run ./cmd/corslab demo --screenshots docs

## browsers: install the browsers of $(CORSLAB_ENGINES) (all three when unset) from Debian's packages when missing
browsers:
	@bash scripts/install-browsers

modules:
	@$(GO) mod download

# GOFLOOR is the oldest Go corslab supports, go.mod's go line: a module that
# requires corslab needs at least this Go. The go line sets the language
# version every package compiles with, and go vet's stdversion check refuses
# standard-library API newer than it, so lint holds the line here; it fails,
# naming the modules that need a newer Go, when a dependency update raises it.
GOFLOOR := 1.25
lint: | $(TMPDIR)
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	@v=$$($(GO) list -m -f '{{.GoVersion}}'); test "$$v" = "$(GOFLOOR).0" || { \
	  echo "go.mod's go line is $$v, not $(GOFLOOR).0 (GOFLOOR, the oldest Go corslab supports); modules that need a newer Go:"; \
	  $(GO) list -m -f '{{.GoVersion}} {{.Path}} {{.Version}}' all | awk -v f=$(GOFLOOR) \
	    '{ split($$1, v, "."); split(f, m, "."); if (NF == 3 && (v[1] > m[1] || v[1] == m[1] && v[2] > m[2])) print "  " $$2 " " $$3 " (go " $$1 ")" }'; \
	  exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@# This repository's workflows and the recipe users copy (shellcheck checks their run: scripts when it is installed).
	$(GO) tool actionlint .github/workflows/*.yml docs/ci/*.yml

unit: | $(TMPDIR)
	$(GO) test -count=1 -vet=off $$($(GO) list ./... | grep -v /specs)

## fuzz: a short run of each fuzz target (seed corpora in testdata/fuzz; the unit tests run the seeds too); FUZZTIME=100000x for a longer one
# A count, not a duration: with a duration, Go's fuzz coordinator can report
# its own deadline as a failure ("context deadline exceeded", no crasher) on a
# loaded machine (golang/go#75804, fixed in Go 1.27).
FUZZTIME ?= 500x
FUZZ    := FuzzParseHeaderList:./harness/model FuzzParsePolicy:./servers FuzzParse:./harness/expect FuzzEncodings:./harness/expect
fuzz: | $(TMPDIR)
	@mkdir -p $(OUT)
	@# The targets at once, one worker each; a failure prints its log.
	@for t in $(FUZZ); do \
	  ( $(GO) test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) -parallel 1 $${t#*:} >$(OUT)/fuzz-$${t%%:*}.log 2>&1 \
	    && echo "fuzz: $${t%%:*} ($(FUZZTIME)) ok" \
	    || { cat $(OUT)/fuzz-$${t%%:*}.log; echo "fuzz: $${t%%:*} FAILED"; exit 1; } ) & \
	  pids="$$pids $$!"; \
	done; fail=0; for p in $$pids; do wait $$p || fail=1; done; exit $$fail

## matrix: a sample of the browser-vs-model matrix in every chosen engine (`go run ./cmd/corslab matrix --engine all` runs the full one)
matrix: | $(TMPDIR)
	@mkdir -p $(OUT)
	$(GO) run ./cmd/corslab matrix --sample 150 --engine $(CORSLAB_ENGINES) --report $(OUT)/matrix-report.txt

specs: | $(TMPDIR)
	@mkdir -p $(OUT)
	@rm -f $(OUT)/corserror.txt
	CORSLAB_OUT=$(CURDIR)/$(OUT) $(GINKGO) -p --randomize-all --timeout=10m --skip-package=testdata --json-report=specs.json --output-dir=$(OUT) ./specs/...
	@$(GO) run ./cmd/corslab summary $(OUT)/specs.json

## coverage: the spec count and the CorsError coverage the last spec run measured (specs/corserror_test.go writes it)
coverage: | $(TMPDIR)
	@$(GO) run ./cmd/corslab summary $(OUT)/specs.json
	@cat $(OUT)/corserror.txt

leftovers:
	@bash scripts/leftovers

## soak: the whole suite N times (SOAK_RUNS, default 20), parallel and randomized; names flaky specs
soak: browsers modules
	@bash scripts/soak $(SOAK_RUNS)

## leakcheck: end runs every way they can end; nothing may be left behind
leakcheck:
	@bash scripts/leakcheck

clean:
	rm -rf $(OUT) $(TMPDIR)
