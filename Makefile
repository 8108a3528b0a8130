# atlas-learn: build, run and test. `make test` installs what the tests need
# (a versitygw S3 server, cached outside the checkout) and runs them all.

GO            ?= go
VERSITYGW_VERSION := v1.8.0
TOOLS_DIR     ?= $(HOME)/.cache/atlas-learn/tools
VERSITYGW     := $(TOOLS_DIR)/versitygw-$(VERSITYGW_VERSION)/versitygw

.PHONY: build run test check tools bench clean

build:
	$(GO) build -o bin/atlas-learn ./cmd/atlas-learn

# Run the job on the embedded default configuration (testdata -> out/).
run:
	$(GO) run ./cmd/atlas-learn run

# The real S3-compatible server for the integration tests, built once.
tools: $(VERSITYGW)

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

clean:
	rm -rf bin out
