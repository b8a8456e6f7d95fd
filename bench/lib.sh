# bench/lib.sh: shell functions shared by bench/bench.sh and bench/scale.sh.
# Source it (bash); it sets nothing but functions and PROXY_PIDS.
# shellcheck shell=bash

# bed_cred FILE PROFILE KEY prints KEY of [PROFILE] in an AWS shared
# credentials FILE. Only ever captured into a variable, never echoed.
bed_cred() {
	awk -v sect="[$2]" -v key="$3" '
		/^[ \t]*\[/ { gsub(/[ \t]/, ""); in_sect = ($0 == sect); next }
		in_sect {
			line = $0
			sub(/^[ \t]*/, "", line)
			if (index(line, key) == 1) {
				rest = substr(line, length(key) + 1)
				if (rest ~ /^[ \t]*=/) {
					sub(/^[ \t]*=[ \t]*/, "", rest)
					sub(/[ \t\r]*$/, "", rest)
					print rest
					exit
				}
			}
		}' "$1"
}

# --- s3count proxies ----------------------------------------------------------
# An s3count proxy (internal/testbed/cmd/s3count) in front of a server counts
# its requests by S3 operation; -read-only refuses anything but GET and HEAD.

PROXY_PIDS=()

# proxy_start S3COUNT DIR NAME TARGET [FLAGS...]: start S3COUNT in front of
# TARGET; its URL goes to DIR/NAME.addr, its log to DIR/NAME.log.
proxy_start() {
	local bin=$1 dir=$2 name=$3 target=$4 i
	shift 4
	rm -f "$dir/$name.addr"
	"$bin" "$@" -target "$target" -addr-file "$dir/$name.addr" >"$dir/$name.final.json" 2>"$dir/$name.log" &
	PROXY_PIDS+=("$!")
	for ((i = 0; i < 100; i++)); do
		[[ -s $dir/$name.addr ]] && return 0
		sleep 0.1
	done
	cat "$dir/$name.log" >&2
	echo "s3count for $target did not start" >&2
	return 1
}

# proxy_stop stops every proxy proxy_start started.
proxy_stop() {
	local pid
	for pid in "${PROXY_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PROXY_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	PROXY_PIDS=()
}

curl_local() { curl --noproxy '*' -fsS "$@"; }

# proxy_reset URL...: set the counts of these proxies to zero.
proxy_reset() {
	local u
	for u in "$@"; do
		curl_local -X POST -o /dev/null "$u/__reset"
	done
}

# proxy_counts URL: the proxy's counts, a JSON object operation -> requests.
proxy_counts() { curl_local "$1/__counts"; }

# The request kinds the reports use, from s3count's operation names: LIST is
# every List* operation, HEAD is HeadObject, GET is GetObject, PUT is every
# write of object data (PutObject, CopyObject, UploadPart, UploadPartCopy),
# other is the rest (HeadBucket, multipart bookkeeping, refused writes, ...).
# shellcheck disable=SC2016
REQUEST_KINDS_JQ='
	(map(to_entries) | add // []) as $e
	| def sum(f): [$e[] | select(.key | f) | .value] | add // 0;
	def put: . == "PutObject" or . == "CopyObject" or . == "UploadPart" or . == "UploadPartCopy";
	{ LIST: sum(startswith("List")), HEAD: sum(. == "HeadObject"), GET: sum(. == "GetObject"), PUT: sum(put),
	  other: sum((startswith("List") or . == "HeadObject" or . == "GetObject" or put) | not) }'

# request_kinds FILE...: the counts of FILEs (proxy_counts output) summed
# into one JSON object {"LIST":n,"HEAD":n,"GET":n,"PUT":n,"other":n}.
request_kinds() { jq -cs "$REQUEST_KINDS_JQ" "$@"; }

# request_breakdown FILE: "Op n, Op n" sorted by operation.
request_breakdown() {
	jq -r 'to_entries | sort_by(.key) | map("\(.key) \(.value)") | join(", ") | if . == "" then "none" else . end' "$1"
}
