# Qunyun's build, run and test entry points.
#
# `sam build` calls `make build-<LogicalId>` with ARTIFACTS_DIR exported
# (template.yaml: Metadata.BuildMethod: makefile); everything else is for
# people and CI. Needs only Go and Node on a fresh clone.

GO       ?= go
GOTEST_TIMEOUT ?= 15m
# How long `make test` runs each fuzz target; `make fuzz FUZZTIME=5m` digs deeper.
FUZZTIME ?= 2s

# The four functions, by template.yaml logical id, and their source folders.
FUNCTIONS := CallbackFunction PushFunction SessionFunction ScoringFunction
dir_CallbackFunction := callback
dir_PushFunction     := push
dir_SessionFunction  := session
dir_ScoringFunction  := scoring

# Lambda's provided.al2023 on arm64 (Globals.Architectures). CGO off so the
# binary does not depend on the build machine's glibc; lambda.norpc drops the
# go1.x RPC path; -s -w and -trimpath shrink it and make it reproducible.
LAMBDA_ENV   := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"

# SAM sets ARTIFACTS_DIR; a manual `make build-PushFunction` writes to
# bin/PushFunction/bootstrap. Recursive (=) so $@ is the target being built.
ARTIFACTS_DIR ?= $(CURDIR)/bin/$(@:build-%=%)

# Fuzz targets that `make test` runs briefly, as <package>:<FuzzFunc>.
# Add yours with a line of your own: FUZZ_TARGETS += ./internal/x:FuzzY
# (internal/sam TestFuzzTargetsListed fails when a Fuzz function is missing here).
FUZZ_TARGETS := ./internal/wechat:FuzzVerifyDecrypt
FUZZ_TARGETS += ./internal/wechat:FuzzParseXML
FUZZ_TARGETS += ./internal/wechat:FuzzRelayJSON
FUZZ_TARGETS += ./internal/wechat:FuzzFlatXML
FUZZ_TARGETS += ./internal/callback:FuzzHandler
FUZZ_TARGETS += ./internal/callback:FuzzSignedCallback
FUZZ_TARGETS += ./internal/push:FuzzInvoke
FUZZ_TARGETS += ./internal/session:FuzzInvoke
FUZZ_TARGETS += ./internal/session:FuzzPageToken
FUZZ_TARGETS += ./internal/scoring:FuzzHandle
FUZZ_TARGETS += ./internal/callback:FuzzInvoke
FUZZ_TARGETS += ./internal/callback:FuzzLinkPath
FUZZ_TARGETS += ./internal/callback:FuzzRules
FUZZ_TARGETS += ./internal/callback:FuzzNormalise
FUZZ_TARGETS += ./internal/moderation:FuzzMatcher
FUZZ_TARGETS += ./internal/contest:FuzzParseVote
FUZZ_TARGETS += ./internal/contest:FuzzImportLikes
FUZZ_TARGETS += ./internal/awscron:FuzzParse
FUZZ_TARGETS += ./internal/accounts:FuzzAccounts
FUZZ_TARGETS += ./internal/community:FuzzParse
FUZZ_TARGETS += ./cmd/qunyun:FuzzSplitMembers
FUZZ_TARGETS += ./internal/wechatapi:FuzzAnswers
FUZZ_TARGETS += ./internal/contest:FuzzCommentAnswers

# `make invoke FN=PushFunction EVENT=events/push-tick.json`
FN    ?= PushFunction
EVENT ?= events/push-tick.json

.PHONY: help deps build $(addprefix build-,$(FUNCTIONS)) run first-hour local-cli test vet unit fuzz bench invoke clean

# A bare `make` lists the targets; nothing documented runs make without one.
.DEFAULT_GOAL := help

## help: this list (each target's `## target: text` line)
help:
	@sed -n 's/^## \([^:]*\): */  \1\t/p' $(MAKEFILE_LIST) | expand -t 24

## deps: install the pinned local DynamoDB engine (npm ci) and the Go modules
deps: infra/node_modules/.package-lock.json
	@echo "== deps: Go modules"
	$(GO) mod download

# npm ci writes node_modules/.package-lock.json, so this reinstalls only when
# node_modules is missing or package-lock.json changed.
infra/node_modules/.package-lock.json: infra/package.json infra/package-lock.json
	npm ci --prefix infra --omit=dev --no-audit --no-fund

## build-<LogicalId>: one Lambda bootstrap into $(ARTIFACTS_DIR) (what sam build calls)
$(addprefix build-,$(FUNCTIONS)):
	mkdir -p "$(ARTIFACTS_DIR)"
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/$(dir_$(@:build-%=%))

## build: all four bootstraps into bin/<LogicalId>/bootstrap
build:
	@set -e; for f in $(FUNCTIONS); do $(MAKE) --no-print-directory build-$$f ARTIFACTS_DIR=$(CURDIR)/bin/$$f; done

# `make run` and `make invoke` use a development build in .local/bin: the CLI
# and the four functions in one go build (their shared packages compile once,
# on both cores), CGO off and lambda.norpc as for Lambda; `local up
# --prebuilt` then runs them from there without go build's check (without
# the flag the stack builds them with the CLI's own compiler flags,
# internal/local/runner, and finds them up to date). No inlining (-l)
# makes a cold compile about a quarter cheaper, no DWARF (-dwarf=false, -w)
# a little more; the code is the same and panics still print stack traces.
# npm ci runs while Go compiles. LOCAL_GCFLAGS= LOCAL_LDFLAGS= gives a normal
# (debuggable) build.
LOCAL_GCFLAGS ?= all=-l -dwarf=false
LOCAL_LDFLAGS ?= -w
LOCAL_CLI     := .local/bin/qunyun

## run: the local stack in the foreground (Ctrl-C stops it)
run:
	@$(MAKE) --no-print-directory -j2 infra/node_modules/.package-lock.json local-cli
	$(LOCAL_CLI) local up --prebuilt

## first-hour: make run in the background, check what a newcomer sees in 5 minutes, stop it
first-hour:
	infra/local/first-hour.sh

LOCAL_BUILD   = CGO_ENABLED=0 $(GO) build -tags lambda.norpc -gcflags='$(LOCAL_GCFLAGS)' -ldflags='$(LOCAL_LDFLAGS)'

## local-cli: the operator CLI and the functions for the local stack, into .local/bin/
# With an empty module cache go build spends its first seconds downloading
# modules while the CPU idles. net/http and what it imports (a third of the
# compile) need no module, so a second go build compiles them meanwhile, with
# the same flags, and is stopped once the modules are there: what it finished
# stays in the build cache, its temporary files in .local/primer.
local-cli:
	@rm -rf .local/primer && mkdir -p .local/primer
	@GOTMPDIR=$(CURDIR)/.local/primer $(LOCAL_BUILD) net/http 2>/dev/null & primer=$$!; \
	trap 'kill $$primer 2>/dev/null' INT TERM; \
	$(GO) mod download; status=$$?; kill $$primer 2>/dev/null; wait $$primer 2>/dev/null; exit $$status
	$(LOCAL_BUILD) -o .local/bin/ ./cmd/qunyun $(addprefix ./functions/,$(foreach f,$(FUNCTIONS),$(dir_$(f))))

## test: vet, every test against the embedded engine, then each fuzz target for $(FUZZTIME)
test: deps vet unit fuzz

# Each phase says what it starts: vet and the first test build run for a
# minute or more on two cores without printing anything of their own.
vet:
	@echo "== make test: go vet ./... (compiles every package; quiet for a minute or two)"
	$(GO) vet ./...

unit:
	@echo "== make test: go test ./... (every package against the embedded DynamoDB engine; a line per package as it ends)"
	$(GO) test -timeout $(GOTEST_TIMEOUT) ./...

# Go 1.26's fuzz coordinator can fail a target with a bare "context
# deadline exceeded" when -fuzztime ends while a worker is mid-input
# (go.dev/issue/75804, fixed in Go 1.27): no input failed, none is written.
# A run that fails without writing a failing input to testdata/fuzz is run
# once more; a written input, or a second failure, fails.
## fuzz: each fuzz target in FUZZ_TARGETS for $(FUZZTIME) (make fuzz FUZZTIME=1m)
fuzz:
	@echo "== make test: each fuzz target for $(FUZZTIME)"
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn for $(FUZZTIME)"; \
		inputs=$$(ls $$pkg/testdata/fuzz/$$fn 2>/dev/null | wc -l); \
		if ! $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg; then \
			[ $$(ls $$pkg/testdata/fuzz/$$fn 2>/dev/null | wc -l) = $$inputs ] || exit 1; \
			echo "fuzz $$pkg $$fn failed without a failing input (go.dev/issue/75804?): once more"; \
			$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg; \
		fi; \
	done

## bench: every benchmark, with allocations
bench: deps infra/node_modules/@wecom/crypto/package.json
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The benchmarks' baselines are dev packages (@wecom/crypto for decrypt and
# verify); make test and make run never need them.
infra/node_modules/@wecom/crypto/package.json: infra/package-lock.json
	npm ci --prefix infra --no-audit --no-fund

## invoke: one function on one event against the local stack, like sam local invoke
invoke:
	@$(MAKE) --no-print-directory -j2 infra/node_modules/.package-lock.json local-cli
	$(LOCAL_CLI) invoke $(FN) -e $(EVENT)

## clean: remove bin/ and .aws-sam/
clean:
	rm -rf bin .aws-sam
