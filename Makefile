# ferry: see docs/testing.md for the test bed.

FUZZTIME ?= 20s

.PHONY: build test testbed-up testbed-down demo fuzz lambda bench FORCE

build:
	go build -o bin/ferry ./cmd/ferry

# AWS Lambda zips for provided.al2023 (docs/lambda.md), each holding the
# `bootstrap` Lambda runs: dist/lambda/ferry-lambda-{x86_64,arm64}.zip.
lambda: dist/lambda/ferry-lambda-x86_64.zip dist/lambda/ferry-lambda-arm64.zip

# Always rebuilt: go build knows what changed. The fixed mtime makes the zip,
# and so the function's CodeSha256, depend on the binary alone.
dist/lambda/ferry-lambda-%.zip: FORCE
	rm -rf dist/lambda/$* && mkdir -p dist/lambda/$*
	GOOS=linux GOARCH=$(if $(filter x86_64,$*),amd64,$*) CGO_ENABLED=0 \
		go build -tags lambda.norpc -trimpath -ldflags '-s -w' -o dist/lambda/$*/bootstrap ./cmd/ferry
	touch -t 198001010000 dist/lambda/$*/bootstrap
	rm -f $@ && cd dist/lambda/$* && zip -q -X ../$(notdir $@) bootstrap

FORCE:

# Everything CI runs: tools, a fresh test bed, gofmt, go vet, go test.
test:
	scripts/test.sh

# A long-lived test bed in .testbed (source "$$(scripts/testbed.sh env)").
testbed-up:
	scripts/tools.sh
	scripts/testbed.sh up

testbed-down:
	scripts/testbed.sh down

demo:
	scripts/demo.sh

# Runs every Fuzz target of every package for $(FUZZTIME) each.
fuzz:
	@set -e; for pkg in $$(go list ./...); do \
		for fn in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "==> $$pkg $$fn"; \
			go test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

# Benchmarks against rclone, mc mirror and the AWS CLI on a bed of its own
# (bench/README.md); not part of `make test`. Needs a quiet machine.
bench:
	bench/bench.sh
