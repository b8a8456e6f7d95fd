# ferry: see docs/testing.md for the test bed.

FUZZTIME ?= 20s

.PHONY: build test testbed-up testbed-down demo fuzz

build:
	go build -o bin/ferry ./cmd/ferry

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
