# kubectl-sparkha. `make demo` replays the incident on the sandbox; `make test`
# runs vet, unit tests and the end-to-end tests on the sandbox.

SHELL := /usr/bin/env bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# The build date is the last commit's, so a release's archives rebuild bit for bit.
DATE ?= $(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo unknown)
VERSION_PKG := github.com/kubectl-sparkha/kubectl-sparkha/pkg/version
LDFLAGS := -s -w -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Commit=$(COMMIT) -X $(VERSION_PKG).Date=$(DATE)

SANDBOX_DIR ?= $(or $(TMPDIR),/tmp)/sparkha-sandbox
NODES ?= 3
# CLOUD=1 runs the sandbox's cloud (shutdown taints, a fence-agents-remediation operator).
CLOUD ?=
# OPERATORS=1 runs the sandbox's Spark operators (both SparkApplication CRDs and their stand-in controllers).
OPERATORS ?=
# SPARK=1 runs pods of the images `bin/sandbox spark-image` names as real Spark processes (root only).
SPARK ?=
# The control plane is built once into a cache outside the clone, keyed by
# versions; the script prints the binary's path.
CONTROL_PLANE := test/hack/build-control-plane.sh
SANDBOX = bin/sandbox --dir $(SANDBOX_DIR)

.PHONY: all bench-failover chaos build vet fmt-check unit e2e test demo sandbox-bin control-plane \
	sandbox-up sandbox-down sandbox-status sandbox-partition sandbox-isolate sandbox-rejoin sandbox-kill sandbox-restart clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/kubectl-sparkha ./cmd/kubectl-sparkha

vet:
	$(GO) vet ./...
	cd test && $(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The sandbox's own packages (test/sandbox/...) have unit tests too; they need no cluster.
unit:
	$(GO) test ./...
	cd test && $(GO) test ./sandbox/... ./expansion/...

control-plane:
	@$(CONTROL_PLANE)

# The pinned Spark distributions (pyspark sdists from PyPI), cached outside the clone keyed by
# version; prints each SPARK_HOME: the newest release of every line. The real-Spark scenarios
# run 3.5.9 and 4.3.0 and need root (namespaces); TestSparkSubmitFidelity runs every line's
# spark-submit as a client. Without root e2e skips them, says so, and fetches nothing.
SPARK_VERSIONS ?= 3.5.9 4.0.5 4.1.4 4.2.1 4.3.0
.PHONY: spark-dist spark-dist-if-root
spark-dist:
	@for v in $(SPARK_VERSIONS); do test/hack/fetch-spark.sh $$v || exit 1; done
spark-dist-if-root:
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory spark-dist >/dev/null; \
	else echo "not root: the real-Spark scenarios (TestRealSpark*) will be skipped" >&2; fi

# The configuration keys of every Spark line the project names, read from each line's newest
# release (pkg/submit/testdata/sparkkeys/; TestKeyRulesCoverSpark checks every spark.kubernetes.*
# key has a rule). Needs a JDK and the Spark downloads (about 460 MB a line, cached).
.PHONY: spark-keys
spark-keys:
	hack/sparkkeys/extract.sh

sandbox-bin:
	cd test && $(GO) build -o ../bin/sandbox ./cmd/sandbox

# End-to-end scenarios on the sandbox (each test starts its own).
e2e: build sandbox-bin spark-dist-if-root
	k8s=$$($(CONTROL_PLANE)) && cd test && SANDBOX_K8S_BIN=$$k8s SPARKHA_PLUGIN_BIN=$(CURDIR)/bin/kubectl-sparkha \
		$(GO) test ./e2e -count=1 -timeout 60m $(E2E_FLAGS)

# Every real-Spark scenario (make test's e2e runs one per Spark line, TestRealSparkStreamingFailover):
# Spark's own driver and executors as processes on the sandbox; needs root.
.PHONY: e2e-spark
e2e-spark: build sandbox-bin spark-dist
	k8s=$$($(CONTROL_PLANE)) && cd test && SANDBOX_K8S_BIN=$$k8s SPARKHA_PLUGIN_BIN=$(CURDIR)/bin/kubectl-sparkha SPARKHA_E2E_SPARK_ALL=1 \
		$(GO) test ./e2e -run '^TestRealSpark' -count=1 -timeout 40m -v $(E2E_FLAGS)

# Recovery time after a lost node, with and without the plugin, in one run.
bench-failover: build sandbox-bin
	k8s=$$($(CONTROL_PLANE)) && cd test && SANDBOX_K8S_BIN=$$k8s SPARKHA_PLUGIN_BIN=$(CURDIR)/bin/kubectl-sparkha \
		$(GO) test ./e2e -run '^$$' -bench 'Recovery|FenceToRunning' -benchtime 1x -timeout 45m

# Scale: inspect -A against the raw kubectl gather at 10, 100 and 1,000 nodes on one sandbox, in
# one run; prints the table and writes it to docs/benchmarks.md (BENCH_SIZES=10,100 for a quick run).
BENCH_SIZES ?= 10,100,1000
.PHONY: bench
bench: build sandbox-bin
	k8s=$$($(CONTROL_PLANE)) && cd test && SANDBOX_K8S_BIN=$$k8s SPARKHA_PLUGIN_BIN=$(CURDIR)/bin/kubectl-sparkha \
		SPARKHA_BENCH_SIZES=$(BENCH_SIZES) SPARKHA_BENCH_DOC=$(CURDIR)/docs/benchmarks.md \
		$(GO) test ./scale -run '^$$' -bench Scale -benchtime 1x -timeout 60m $(BENCH_FLAGS)

# Randomized partitions, rejoins, flaps, a killed node and operator actions,
# checked against the ground truth: make chaos RUNS=200 [SEED=S] (make test runs one).
# SPARK=real runs two apps a run as Spark's own streaming queries (root; the newest Spark line)
# and checks their checkpoints and sinks at the end: make chaos SPARK=real RUNS=5.
RUNS ?= 20
SEED ?= 0
chaos: build sandbox-bin
	k8s=$$($(CONTROL_PLANE)) && cd test && SANDBOX_K8S_BIN=$$k8s SPARKHA_PLUGIN_BIN=$(CURDIR)/bin/kubectl-sparkha \
		$(GO) test ./e2e -run '$(if $(filter real,$(SPARK)),^TestChaos$$,TestChaos)' -v -count=1 -timeout 0 \
		-chaos-runs $(RUNS) -chaos-seed $(SEED) $(if $(filter real,$(SPARK)),-chaos-real-spark)

test: fmt-check vet unit e2e krew-test fuzz

# Every fuzz target for a number of inputs, one worker, starting from its committed seed corpus
# (testdata/fuzz/FuzzX, which `go test ./...` also runs as plain tests). A failing input is
# written to testdata/fuzz/FuzzX/ for `go test -run FuzzX/NAME`.
# The budget is a count, not a duration: a duration makes Go 1.26's fuzz coordinator race its
# own deadline on a loaded machine and fail with a bare "context deadline exceeded" and no input
# (golang/go#75804, fixed in Go 1.27). Each count is about ten seconds here; FUZZTIME=30s or
# FUZZTIME=100000x overrides them all.
FUZZTIME ?=
FUZZ_TARGETS := pkg/submit:FuzzParseConfArg:20000x pkg/submit:FuzzParsePropertiesFile:20000x \
	pkg/submit:FuzzParseMemoryMiB:20000x pkg/submit:FuzzResolve:10000x \
	internal/safetyfuzz:FuzzAnalyze:5000x internal/expansion:FuzzEscapeRoundTrip:200000x
.PHONY: fuzz
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; budget=$${FUZZTIME:-$${rest#*:}}; \
		echo "fuzz $$name ($$pkg, $$budget)"; \
		$(GO) test ./$$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $$budget -parallel 1; \
	done

# Mutation testing of the safety rules (not part of `make test`: about 30 minutes on 2 cores):
# gremlins GREMLINS_VERSION, built once into $(SPARKHA_CACHE)/tools/gremlins-VERSION, mutates the
# files of pkg/analysis and pkg/failover that decide (hack/gremlins.yaml), runs each package's
# unit tests and fuzz seeds against every mutant, and prints the score per file and the mutants
# that LIVED. docs/benchmarks.md has the last run and why each survivor is left.
GREMLINS_VERSION ?= v0.6.0
MUTATION_PKGS ?= ./pkg/analysis ./pkg/failover
.PHONY: mutation
mutation:
	SPARKHA_CACHE=$(SPARKHA_CACHE) GREMLINS_VERSION=$(GREMLINS_VERSION) MUTATION_PKGS='$(MUTATION_PKGS)' hack/mutation.sh

demo: build sandbox-bin
	k8s=$$($(CONTROL_PLANE)) && SANDBOX_K8S_BIN=$$k8s SANDBOX_DIR=$(SANDBOX_DIR) test/hack/demo.sh

sandbox-up: sandbox-bin
	k8s=$$($(CONTROL_PLANE)) && SANDBOX_K8S_BIN=$$k8s $(SANDBOX) up --nodes $(NODES) $(if $(CLOUD),--cloud) $(if $(OPERATORS),--operators) $(if $(SPARK),--spark)

sandbox-down: sandbox-bin
	$(SANDBOX) down

sandbox-status: sandbox-bin
	$(SANDBOX) status

sandbox-partition sandbox-isolate sandbox-rejoin sandbox-kill sandbox-restart: sandbox-bin
	@test -n "$(NODE)" || { echo "usage: make $@ NODE=node-1"; exit 2; }
	$(SANDBOX) $(@:sandbox-%=%) $(NODE)

clean:
	rm -rf bin dist

# ---- Release: archives, krew manifest, real krew install test ---------------------------------
# krew wants a semantic version vX.Y.Z[-PRE]. Before the first tag `git describe` gives a bare
# commit hash; the release targets then build v0.0.0-dev-HASH (a pre-release) instead.
DIST_VERSION := $(shell v='$(VERSION)'; if printf '%s' "$$v" | grep -Eq '^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$$'; \
	then echo "$$v"; else echo "v0.0.0-dev-$$v"; fi)
RELEASE := $(GO) run ./hack/release
# Where the real krew and validate-krew-manifest are built once (outside the clone).
SPARKHA_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kubectl-sparkha
KREW_VERSION ?= v0.4.3
RELEASE_URL := https://github.com/kubectl-sparkha/kubectl-sparkha/releases/download

.PHONY: dist krew-manifest krew-release-manifest krew-test krew-tools completion-bin \
	_dist _dist-local _krew-manifest _krew-release-manifest _krew-test

# The completion shim kubectl runs for `kubectl sparkha <TAB>`.
completion-bin:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/kubectl_complete-sparkha ./cmd/kubectl_complete-sparkha

# dist/kubectl-sparkha_VERSION_OS_ARCH.tar.gz for linux, darwin, windows × amd64, arm64, each with
# kubectl-sparkha, kubectl_complete-sparkha and LICENSE, and dist/checksums.txt.
# The release targets (dist, krew-release-manifest) build all six platforms (about 2 minutes
# each on 2 cores); krew-manifest and krew-test build this machine's only, unless PLATFORMS=all.
dist krew-manifest krew-release-manifest krew-test:
	@$(MAKE) --no-print-directory _$@ VERSION=$(DIST_VERSION) COMMIT=$(COMMIT) DATE=$(DATE)

PLATFORMS ?= host

_dist:
	$(RELEASE) dist -version $(VERSION) -ldflags '$(LDFLAGS)' -dir dist

_dist-local:
	$(RELEASE) dist -version $(VERSION) -ldflags '$(LDFLAGS)' -dir dist -platforms $(PLATFORMS)

# dist/sparkha.yaml: krew/.krew.yaml rendered with file:// URIs and the sha256 of dist/, for the
# platforms built (this machine's by default).
_krew-manifest: _dist-local
	$(RELEASE) krew-manifest -version $(VERSION) -dir dist -template krew/.krew.yaml -o dist/sparkha.yaml -platforms $(PLATFORMS)

# krew/sparkha.yaml: the manifest for krew-index, with the GitHub release URLs of VERSION and the
# sha256 of the archives in dist/ (upload exactly those archives to the release).
_krew-release-manifest: _dist
	$(RELEASE) krew-manifest -version $(VERSION) -dir dist -template krew/.krew.yaml \
		-uri-base $(RELEASE_URL)/$(VERSION) -o krew/sparkha.yaml

krew-tools:
	@SPARKHA_CACHE=$(SPARKHA_CACHE) KREW_VERSION=$(KREW_VERSION) hack/krew-tools.sh

# Validate the manifest with krew's validate-krew-manifest, install the plugin with the real krew
# from dist/ into a temporary KREW_ROOT, run it through kubectl, uninstall.
_krew-test: _krew-manifest
	SPARKHA_CACHE=$(SPARKHA_CACHE) KREW_VERSION=$(KREW_VERSION) VERSION=$(VERSION) hack/krew-test.sh
