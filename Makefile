# kubectl-sparkha. `make demo` replays the incident on the sandbox; `make test`
# runs vet, unit tests and the end-to-end tests on the sandbox.

SHELL := /usr/bin/env bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
VERSION_PKG := github.com/kubectl-sparkha/kubectl-sparkha/pkg/version
LDFLAGS := -s -w -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Commit=$(COMMIT) -X $(VERSION_PKG).Date=$(DATE)

SANDBOX_DIR ?= $(or $(TMPDIR),/tmp)/sparkha-sandbox
NODES ?= 3
# The control plane is built once into a cache outside the clone, keyed by
# versions; the script prints the binary's path.
CONTROL_PLANE := test/hack/build-control-plane.sh
SANDBOX = bin/sandbox --dir $(SANDBOX_DIR)

.PHONY: all build vet fmt-check unit e2e test demo sandbox-bin control-plane \
	sandbox-up sandbox-down sandbox-status sandbox-partition sandbox-rejoin sandbox-kill clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/kubectl-sparkha ./cmd/kubectl-sparkha

vet:
	$(GO) vet ./...
	cd test && $(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test ./...

control-plane:
	@$(CONTROL_PLANE)

sandbox-bin:
	cd test && $(GO) build -o ../bin/sandbox ./cmd/sandbox

# End-to-end scenarios on the sandbox (each test starts its own).
e2e: build sandbox-bin
	k8s=$$($(CONTROL_PLANE)) && cd test && SANDBOX_K8S_BIN=$$k8s SPARKHA_PLUGIN_BIN=$(CURDIR)/bin/kubectl-sparkha \
		$(GO) test ./... -count=1 -timeout 60m $(E2E_FLAGS)

test: fmt-check vet unit e2e

demo: build sandbox-bin
	k8s=$$($(CONTROL_PLANE)) && SANDBOX_K8S_BIN=$$k8s SANDBOX_DIR=$(SANDBOX_DIR) test/hack/demo.sh

sandbox-up: sandbox-bin
	k8s=$$($(CONTROL_PLANE)) && SANDBOX_K8S_BIN=$$k8s $(SANDBOX) up --nodes $(NODES)

sandbox-down: sandbox-bin
	$(SANDBOX) down

sandbox-status: sandbox-bin
	$(SANDBOX) status

sandbox-partition sandbox-rejoin sandbox-kill: sandbox-bin
	@test -n "$(NODE)" || { echo "usage: make $@ NODE=node-1"; exit 2; }
	$(SANDBOX) $(@:sandbox-%=%) $(NODE)

clean:
	rm -rf bin dist
