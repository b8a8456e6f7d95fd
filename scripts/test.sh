#!/usr/bin/env bash
# The test command: scripts/test.sh [go test args...]
#
# Installs the pinned servers (scripts/tools.sh), starts a fresh test bed
# in a temporary directory (removed on exit), checks formatting and vet, then
# runs go test with the bed's environment so integration tests find it
# through FERRY_TESTBED, then fuzzes each Fuzz target for FERRY_FUZZTIME
# (default 6s; 0 skips; only on a full run unless set).
#
#   scripts/test.sh                              everything (./...)
#   scripts/test.sh -run Sync ./internal/...     extra args replace ./...
#   FERRY_FUZZTIME=0 scripts/test.sh             everything but fuzzing
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
full=false
if (($# == 0)); then
	full=true
	set -- ./...
fi
go test -count=1 -timeout 20m "$@"

# Every Fuzz target for FERRY_FUZZTIME each (default 6s), one target per
# go test: the committed seeds (testdata/fuzz/FuzzX) and the corpus go keeps
# in $(go env GOCACHE)/fuzz run first, then new inputs. A crash fails the run
# and leaves the failing input in the package's testdata/fuzz/FuzzX/, which
# is printed: commit it with the fix, and it is a regression test from then
# on. Runs on a full run (no arguments) or when FERRY_FUZZTIME is set;
# FERRY_FUZZTIME=0 skips it.
fuzztime=${FERRY_FUZZTIME:-6s}
if [[ $fuzztime == 0 || $fuzztime == 0s ]] || { ! $full && [[ -z ${FERRY_FUZZTIME:-} ]]; }; then
	step "fuzz (skipped: FERRY_FUZZTIME=${FERRY_FUZZTIME:-unset}, full run: $full)"
	exit 0
fi
step "fuzz ($fuzztime per target)"
fuzzlog=$(mktemp "${TMPDIR:-/tmp}/ferry-fuzz.XXXXXX")
trap 'rm -f "$fuzzlog"; scripts/testbed.sh down --wipe "$bed" >/dev/null || true' EXIT
fuzz_start=$SECONDS
# Found without compiling anything: `func FuzzX(` in any _test.go file.
mapfile -t targets < <(grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(' internal cmd 2>/dev/null |
	sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+)\($#\1 \2#' | sort -u)
for t in "${targets[@]}"; do
	read -r dir fn <<<"$t"
	echo "--- $fn ./$dir"
	# -fuzzminimizetime bounds the minimisation of each new input, which
	# would otherwise stall a short run for up to a minute.
	if ! go test -run '^$' -fuzz "^$fn\$" -fuzztime "$fuzztime" -fuzzminimizetime 1000x -timeout 5m "./$dir" >"$fuzzlog" 2>&1; then
		cat "$fuzzlog" >&2
		input=$(sed -nE 's/.*Failing input written to (testdata\/fuzz\/[^ ]+).*/\1/p' "$fuzzlog" | head -n 1)
		if [[ -n $input ]]; then
			echo "fuzz: $fn in ./$dir crashed; the input is $dir/$input:" >&2
			head -c 2000 "$dir/$input" >&2
			echo >&2
			echo "fuzz: re-run it with: go test -run '$fn/$(basename "$input")' ./$dir" >&2
		else
			echo "fuzz: $fn in ./$dir failed (no failing input written; see above)" >&2
		fi
		exit 1
	fi
	tail -n 3 "$fuzzlog" | grep -E '^fuzz: elapsed' | tail -n 1 || true
done
echo "fuzz: ${#targets[@]} targets in $((SECONDS - fuzz_start))s"
