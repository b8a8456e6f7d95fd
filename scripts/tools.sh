#!/usr/bin/env bash
# Installs the pinned servers the test bed runs (MinIO, versitygw,
# nats-server) into ${FERRY_TOOLS:-$HOME/.cache/ferry/tools}/bin, building them
# with `go install` from the Go module proxy. A tool is rebuilt only when it is
# missing or its pin changed (bin/.NAME.version holds the pin it was built
# from).
#
# It also installs Debian's chromium package, which the status page's
# browser tests drive (internal/testbed/chromium.go), with apt-get when
# /usr/bin/chromium is missing.
#
# Prints one line per tool. The first run builds MinIO from source, which
# takes several minutes on a small machine; later runs are instant.
set -euo pipefail

TOOLS_DIR="${FERRY_TOOLS:-$HOME/.cache/ferry/tools}"
BIN="$TOOLS_DIR/bin"
LOGS="$TOOLS_DIR/logs"

# name  module-path@version (the pins; change a version here to upgrade)
TOOLS=(
	"minio github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
	"versitygw github.com/versity/versitygw/cmd/versitygw@v1.8.0"
	"nats-server github.com/nats-io/nats-server/v2@v2.15.2"
)

die() {
	echo "tools.sh: $*" >&2
	exit 1
}

command -v go >/dev/null 2>&1 || die "go is not on PATH; install Go first"
mkdir -p "$BIN" "$LOGS"

# Serialise concurrent runs (two shells running `make test`).
if command -v flock >/dev/null 2>&1; then
	exec 9>"$TOOLS_DIR/.lock"
	flock 9
fi

# built_from BINARY prints the main module version recorded in a Go binary.
built_from() {
	go version -m "$1" 2>/dev/null | awk '$1 == "mod" { print $3; exit }'
}

install_tool() {
	local name=$1 pin=$2
	local version=${pin##*@}
	local exe="$BIN/$name" stamp="$BIN/.$name.version" log="$LOGS/$name.log"

	if [[ -x $exe && -f $stamp && $(<"$stamp") == "$pin" ]]; then
		echo "$name $version: cached ($exe)"
		return
	fi
	# A binary already built from the pin (by hand, or by an older copy of
	# this script) is adopted instead of being rebuilt.
	if [[ -x $exe && $(built_from "$exe") == "$version" ]]; then
		echo "$pin" >"$stamp"
		echo "$name $version: adopted ($exe)"
		return
	fi

	echo "$name $version: installing with go install (may take minutes; log $log)"
	rm -f "$stamp"
	if ! (cd "$TOOLS_DIR" && GOBIN="$BIN" GOFLAGS='' GOWORK=off go install "$pin") >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "go install $pin failed (full log: $log)"
	fi
	echo "$pin" >"$stamp"
	echo "$name $version: installed ($exe)"
}

for tool in "${TOOLS[@]}"; do
	# shellcheck disable=SC2086 # split "name pin"
	install_tool $tool
done

# install_chromium installs Debian's chromium (and fonts with the metrics
# of Arial, Times and Courier, so that pages render as people expect) when
# /usr/bin/chromium is missing. Package lists are refreshed only if the
# first attempt fails, as it does on a fresh machine that never ran
# apt-get update.
install_chromium() {
	local exe=/usr/bin/chromium log="$LOGS/chromium.log"
	if [[ -n ${FERRY_CHROMIUM:-} ]]; then
		echo "chromium: $FERRY_CHROMIUM (from FERRY_CHROMIUM)"
		return
	fi
	if [[ -x $exe ]]; then
		echo "chromium: present ($exe)"
		return
	fi
	command -v apt-get >/dev/null 2>&1 ||
		die "$exe is missing and there is no apt-get: install Chromium and set FERRY_CHROMIUM to its path"
	local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q)
	if ((EUID != 0)); then
		command -v sudo >/dev/null 2>&1 || die "$exe is missing: as root, run apt-get install chromium"
		apt=(sudo "${apt[@]}")
	fi
	local install=("${apt[@]}" install -y --no-install-recommends chromium fonts-liberation)
	echo "chromium: installing with apt-get (log $log)"
	if ! "${install[@]}" >"$log" 2>&1; then
		if ! { "${apt[@]}" update && "${install[@]}"; } >>"$log" 2>&1; then
			tail -n 30 "$log" >&2
			die "apt-get install chromium failed (full log: $log)"
		fi
	fi
	[[ -x $exe ]] || die "apt-get installed chromium but $exe is missing (log: $log)"
	echo "chromium: installed ($exe)"
}

install_chromium
