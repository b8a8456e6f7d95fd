#!/usr/bin/env bash
# The test command: scripts/test.sh [go test args...]
#
# Installs the pinned servers (scripts/tools.sh), starts a fresh test bed
# in a temporary directory (removed on exit), checks formatting and vet, then
# runs go test with the bed's environment so integration tests find it
# through FERRY_TESTBED.
#
#   scripts/test.sh                              everything (./...)
#   scripts/test.sh -run Sync ./internal/...     extra args replace ./...
#
# The bed uses its own ports (19400, 19500, 19600, NATS 19700, webhook targets
# 19750-19752 unless FERRY_TB_PORT_* are set), so it does not collide with the
# default bed (19000-19352) of scripts/testbed.sh and scripts/demo.sh.
set -euo pipefail

cd "$(dirname "$0")/.."

export FERRY_TB_PORT_A=${FERRY_TB_PORT_A:-19400}
export FERRY_TB_PORT_B=${FERRY_TB_PORT_B:-19500}
export FERRY_TB_PORT_VGW=${FERRY_TB_PORT_VGW:-19600}
export FERRY_TB_PORT_NATS=${FERRY_TB_PORT_NATS:-19700}
export FERRY_TB_PORT_HOOK=${FERRY_TB_PORT_HOOK:-19750}

step() {
	echo "==> $*"
}

step "tools"
scripts/tools.sh

step "test bed"
bed=$(mktemp -d "${TMPDIR:-/tmp}/ferry-testbed.XXXXXX")
trap 'scripts/testbed.sh down --wipe "$bed" >/dev/null || true' EXIT
if ! scripts/testbed.sh up "$bed"; then
	echo "test.sh: the test bed did not start" >&2
	exit 1
fi

step "gofmt"
# All Go files except those in hidden directories (.git, .testbed) and testdata.
mapfile -t gofiles < <(find . -path './.*' -prune -o -name testdata -prune -o -type f -name '*.go' -print)
unformatted=
if ((${#gofiles[@]} > 0)); then
	unformatted=$(gofmt -l "${gofiles[@]}" 2>&1) || true
fi
if [[ -n $unformatted ]]; then
	echo "gofmt: these files need formatting (run gofmt -w):" >&2
	echo "$unformatted" >&2
	exit 1
fi

step "go vet"
go vet ./...

step "go test"
# shellcheck disable=SC1091
source "$bed/env"
if (($# == 0)); then
	set -- ./...
fi
go test -count=1 -timeout 20m "$@"
