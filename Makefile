# LightCC console. `make help` lists the targets.
GO       ?= go
# Fuzzing is bounded by a count of executions, not by wall-clock time: Go
# 1.26's coordinator can report a bare "context deadline exceeded" failure when
# a -fuzztime duration expires (golang/go#75804, fixed only in Go 1.27), and a
# count never arms that deadline. 20000 runs take about 3 s per target here.
FUZZTIME ?= 20000x
GOFILES   = $(shell git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './data/*')

.DEFAULT_GOAL := help
.PHONY: help run simulate build screenshots load test lint vet fmt fmt-check staticcheck generate generate-check vendor-check unit bench-check fuzz bench docker clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## Serve the console on http://127.0.0.1:8080 (demo mode unless LIGHTCC_API_KEY is set)
	$(GO) run .

simulate: ## Run the LightCC simulator alone on 127.0.0.1:9090
	$(GO) run . simulate

build: ## Build the binary into bin/
	$(GO) build -o bin/lightcc-dashboard .

test: lint generate-check vendor-check unit bench-check fuzz ## Everything: vet, gofmt, staticcheck, generated-code drift, vendored files, unit+integration+browser tests, each benchmark once, short fuzzing

lint: vet fmt-check staticcheck ## Static checks

vet: ## go vet
	$(GO) vet ./...

fmt: ## Format the code
	gofmt -w $(GOFILES)

fmt-check: ## Fail when gofmt would change a file
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

staticcheck: ## staticcheck (a go tool pinned in go.mod)
	$(GO) tool staticcheck ./...

generate: ## Regenerate the templ output (*_templ.go, committed)
	$(GO) tool templ generate

generate-check: ## Fail when the committed templ output is stale or missing
	$(GO) tool templ generate -check

vendor-check: ## Fail when the vendored htmx differs from its recorded checksum
	cd static/vendor/htmx && sha256sum --check --quiet htmx.min.js.sha256

unit: ## Unit, integration and browser tests, with the race detector
	$(GO) test -race -count=1 ./...

fuzz: ## Run every fuzz target briefly (FUZZTIME executions each)
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeEnvelope$$' -fuzztime=$(FUZZTIME) ./lightcc/
	$(GO) test -run='^$$' -fuzz='^FuzzNegotiate$$' -fuzztime=$(FUZZTIME) ./views/i18n/
	$(GO) test -run='^$$' -fuzz='^FuzzParseStopTime$$' -fuzztime=$(FUZZTIME) ./handlers/
	$(GO) test -run='^$$' -fuzz='^FuzzLaunchForm$$' -fuzztime=$(FUZZTIME) ./handlers/
	$(GO) test -run='^$$' -fuzz='^FuzzParseYuan$$' -fuzztime=$(FUZZTIME) ./handlers/
	$(GO) test -run='^$$' -fuzz='^FuzzNewAccount$$' -fuzztime=$(FUZZTIME) ./handlers/
	$(GO) test -run='^$$' -fuzz='^FuzzUnmaskCSRF$$' -fuzztime=$(FUZZTIME) ./handlers/

screenshots: ## Refresh docs/screenshots/ from the browser journeys (needs Chromium)
	SCREENSHOTS=1 $(GO) test -count=1 -run '^TestJourney' .

load: ## Load the console (viewers polling /apps against the simulator with upstream latency) and print the figures
	$(GO) run . load

bench-check: ## Run each benchmark once, so a broken one fails the build (figures: make bench)
	$(GO) test -run='^$$' -bench=. -benchtime=1x ./...

bench: ## Benchmarks
	$(GO) test -run='^$$' -bench=. -benchmem ./...

docker: ## Build the container image (needs a Docker engine)
	docker build -t lightcc-dashboard .

clean: ## Remove build output (not the database)
	rm -rf bin
