# atlas-learn: build, run and test. `make test` installs what the tests need
# (bubblewrap for the Python sandbox, with apt-get where it is missing, and a
# versitygw S3 server, cached outside the checkout) and runs them all.

GO            ?= go
VERSITYGW_VERSION := v1.8.0
TOOLS_DIR     ?= $(HOME)/.cache/atlas-learn/tools
VERSITYGW     := $(TOOLS_DIR)/versitygw-$(VERSITYGW_VERSION)/versitygw

.PHONY: build run test check tools bwrap chromium bench clean

build:
	$(GO) build -o bin/atlas-learn ./cmd/atlas-learn

# Run the job on the embedded default configuration (testdata -> out/).
run:
	$(GO) run ./cmd/atlas-learn run

# What the tests need: bubblewrap (internal/sandbox runs untrusted Python in
# it; its tests fail without it), Debian's chromium (the run report is
# rendered in it headless) and the real S3-compatible server for the
# integration tests, built once.
tools: bwrap chromium $(VERSITYGW)

# bubblewrap from the distribution (Debian package bubblewrap), installed
# only when bwrap is missing; as root, or through sudo otherwise.
bwrap:
	@command -v bwrap >/dev/null 2>&1 || { \
		echo "installing bubblewrap (apt-get install bubblewrap)"; \
		if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
		command -v apt-get >/dev/null 2>&1 || { echo "bwrap is missing and there is no apt-get: install bubblewrap" >&2; exit 1; }; \
		$$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y bubblewrap || { echo "cannot install bubblewrap: the sandbox tests need it" >&2; exit 1; }; \
		command -v bwrap >/dev/null 2>&1 || { echo "bubblewrap installed but bwrap is not on PATH" >&2; exit 1; }; \
	}

# Debian's chromium, installed only when no chromium is on PATH (the
# report test renders report.html in it and takes a screenshot).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "$$ATLAS_CHROMIUM" ] || { \
		echo "installing chromium (apt-get install chromium)"; \
		if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
		command -v apt-get >/dev/null 2>&1 || { echo "chromium is missing and there is no apt-get: install chromium or set ATLAS_CHROMIUM" >&2; exit 1; }; \
		$$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y chromium fonts-dejavu-core || { echo "cannot install chromium: the report test needs it" >&2; exit 1; }; \
	}

$(VERSITYGW):
	@echo "installing versitygw $(VERSITYGW_VERSION) into $(dir $@) (once; takes a few minutes)"
	@mkdir -p $(dir $@)
	GOBIN=$(dir $@) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

test: tools check
	ATLAS_VERSITYGW=$(VERSITYGW) $(GO) test -count=1 -timeout 40m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./columnar/
	$(GO) test -run '^$$' -bench BenchmarkReplay -benchtime 50x ./internal/sandbox/
	$(GO) test -run '^$$' -bench RunStages -benchtime 3x -count 3 ./jobs/
	$(GO) test -run '^$$' -bench AnalyzeSimple ./jobs/analysis/

clean:
	rm -rf bin out
