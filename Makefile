# grpccreds — the commands a developer and CI run.

GO              ?= go
BIN             := $(CURDIR)/.bin
STATICCHECK_VER := v0.8.2
STATICCHECK     := $(BIN)/staticcheck-$(STATICCHECK_VER)
BENCHTIME       ?= 1s
COUNT           ?= 6

.PHONY: all test lint vet fmt-check bench bench-quick bench-pkg demo examples integration fuzz

all: lint test

## test: go vet, then every test under the race detector (the nested modules
## bench/ and otelgrpccreds/ included)
test: vet
	$(GO) test -race -count=1 ./...
	cd bench && $(GO) test -race -count=1 .
	cd otelgrpccreds && $(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...
	cd bench && $(GO) vet .
	cd otelgrpccreds && $(GO) mod download && $(GO) vet ./...

## lint: gofmt and staticcheck (installed into .bin at a pinned version)
lint: fmt-check $(STATICCHECK)
	$(STATICCHECK) ./...
	cd bench && $(STATICCHECK) .
	cd otelgrpccreds && $(STATICCHECK) ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

$(STATICCHECK):
	mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VER)
	mv $(BIN)/staticcheck $@

## demo: the main demo: the external-token example's server and client, built and run
## against an identity provider on 127.0.0.1; the client swaps tokens on one connection
demo:
	$(GO) test -count=1 -run '^TestDemo$$' -v ./examples/external-token

## examples: every example's end-to-end test (builds its client and server mains and
## runs the scenario), and the otelgrpccreds example program
examples:
	$(GO) test -count=1 -race ./examples/...
	@for d in otelgrpccreds/examples/*/; do echo "== $$d"; (cd otelgrpccreds && $(GO) run ./$${d#otelgrpccreds/}) || exit 1; done

## integration: against a real OpenID Connect provider (npm oidc-provider, pinned
## in integration/package-lock.json and installed into integration/node_modules)
integration: integration/node_modules/.package-lock.json
	$(GO) test -tags integration -race -count=1 -v ./integration/

integration/node_modules/.package-lock.json: integration/package.json integration/package-lock.json
	cd integration && npm ci --no-audit --no-fund

## fuzz: every fuzz target for FUZZTIME each (seed corpora in */testdata/fuzz)
FUZZTIME ?= 10s
FUZZ_TARGETS := tokensource:FuzzValidate internal/jwtpeek:FuzzClaims creds:FuzzPluginMetadata \
	composite:FuzzTLS serverauth:FuzzHeader
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; echo "== $$name ($$pkg)"; \
		out=$$($(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) ./$$pkg 2>&1) || { \
			if echo "$$out" | grep -q 'Failing input written to' || ! echo "$$out" | grep -qx '    context deadline exceeded'; then echo "$$out"; exit 1; fi; \
			echo "$$name: Go's fuzz coordinator failed on its own -fuzztime deadline (go.dev/issue/75804, fixed in Go 1.27); no failing input was written"; }; \
		echo "$$out" | grep -E 'elapsed.*execs' | tail -1; \
	done

## bench: the side-by-side comparisons against the anchors (tables of medians
## and ratios, and bench/refresh-timeline.png); see BENCHMARKS.md
bench:
	cd bench && $(GO) run ./cmd/bench -plot refresh-timeline.png

## bench-quick: a short run (< 60 s) that checks the harness; asserts nothing about speed
bench-quick:
	cd bench && $(GO) run ./cmd/bench -quick -plot ''

## bench-pkg: the package benchmarks in go test form (for benchstat)
bench-pkg:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(COUNT) ./...
	cd bench && $(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(COUNT) .
	cd otelgrpccreds && $(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(COUNT) ./...
