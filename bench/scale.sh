#!/usr/bin/env bash
# bench/scale.sh [BED_DIR] [BUCKET]
#
# Reconcile an in-sync bucket (BUCKET on server a -> BUCKET on server b of
# the test bed in BED_DIR) with ferry, then with rclone, and report each
# tool's wall time, peak RSS and S3 requests by kind. The requests are
# counted by an s3count proxy in front of each server
# (internal/testbed/cmd/s3count), which is read-only here: anything but GET
# and HEAD is refused, so the bed is never changed. See bench/README.md.
#
# BED_DIR defaults to $FERRY_TESTBED, BUCKET to "big". The report goes to
# bench/results/scale-YYYY-MM-DD.md (OUT=FILE to write elsewhere).
# FERRY_BIN=PATH runs that ferry binary instead of building ./cmd/ferry.
set -euo pipefail

# The ferry command under test. {FERRY}, {BUCKET}, {PROXY_A}, {PROXY_B} and
# {TMP} (the script's temporary directory) are replaced before it runs.
# Its output must end with a JSON summary line;
# if that line has "copied"/"failed", both must be 0.
FERRY_ARGS=("{FERRY}" backfill "s3://{BUCKET}" "s3://{BUCKET}"
	--src-profile tb-a --dst-profile tb-b --data-dir "{TMP}/ferry-data"
	--src-endpoint-url "{PROXY_A}" --dst-endpoint-url "{PROXY_B}" --json)

# The rclone runs: name and extra flags of each `rclone sync src:B dst:B`.
# The fair comparison (--checksum: ETags from the listing) runs first; the
# default (size and modification time: a HEAD per object on each side) is
# much slower on a big bucket.
RCLONE_RUNS=(
	"rclone --checksum|--dry-run --checksum"
	"rclone (size+modtime)|--dry-run"
)

die() {
	echo "scale.sh: $*" >&2
	exit 1
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
bed=${1:-${FERRY_TESTBED:-}}
bucket=${2:-big}
[[ -n $bed ]] || die "usage: bench/scale.sh BED_DIR [BUCKET] (or set FERRY_TESTBED)"
[[ -f $bed/env && -f $bed/aws-credentials ]] || die "$bed is not a test bed (no env or aws-credentials)"
bed=$(cd "$bed" && pwd)
out=${OUT:-$root/bench/results/scale-$(date +%F).md}

# The bed's env file: AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE and the
# server URLs.
# shellcheck source=/dev/null
source "$bed/env"
url_a=${FERRY_TB_A_URL:?"$bed/env sets no FERRY_TB_A_URL"}
url_b=${FERRY_TB_B_URL:?"$bed/env sets no FERRY_TB_B_URL"}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ferry-scale.XXXXXX")
cleanup() {
	proxy_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# cred PROFILE KEY prints KEY of [PROFILE] in the bed's credentials file.
# Only ever captured into a variable, never echoed.
cred() { bed_cred "$AWS_SHARED_CREDENTIALS_FILE" "$1" "$2"; }

# --- tools -------------------------------------------------------------------

echo "scale.sh: building s3count${FERRY_BIN:+ (ferry: $FERRY_BIN)}" >&2
(cd "$root" && go build -o "$tmp/s3count" ./internal/testbed/cmd/s3count)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n ${FERRY_BIN:-} ]]; then
	[[ -x $FERRY_BIN ]] || die "FERRY_BIN=$FERRY_BIN is not executable"
	cp "$FERRY_BIN" "$tmp/ferry"
	ferry_from="the prebuilt binary \`$FERRY_BIN\` (FERRY_BIN; tree at commit $commit)"
else
	echo "scale.sh: building ferry" >&2
	(cd "$root" && go build -o "$tmp/ferry" ./cmd/ferry)
	if [[ -n $(git -C "$root" status --porcelain -- '*.go' go.mod go.sum 2>/dev/null) ]]; then
		commit="$commit with uncommitted changes"
	fi
	ferry_from="built from the tree, commit $commit"
fi

if ! command -v rclone >/dev/null; then
	echo "scale.sh: installing rclone (Debian package)" >&2
	if [[ $(id -u) -eq 0 ]]; then
		apt-get install -y rclone >&2
	else
		sudo apt-get install -y rclone >&2
	fi
fi
command -v /usr/bin/time >/dev/null || die "/usr/bin/time is missing (apt-get install time)"
command -v jq >/dev/null || die "jq is missing"
command -v curl >/dev/null || die "curl is missing"

# --- proxies -----------------------------------------------------------------

proxy_start "$tmp/s3count" "$tmp" a "$url_a" -read-only || die "no proxy for server a"
proxy_start "$tmp/s3count" "$tmp" b "$url_b" -read-only || die "no proxy for server b"
proxy_a=$(head -n1 "$tmp/a.addr")
proxy_b=$(head -n1 "$tmp/b.addr")
echo "scale.sh: proxies $proxy_a -> $url_a, $proxy_b -> $url_b" >&2

# --- runs --------------------------------------------------------------------

runs=() # run names, in order; files $tmp/run-N.{time,out,err,a.json,b.json}

# measure NAME CMD...: run CMD under /usr/bin/time with the counts reset,
# then save the counts of both proxies.
measure() {
	local name=$1 n=${#runs[@]} rc=0
	shift
	runs+=("$name")
	proxy_reset "$proxy_a" "$proxy_b"
	echo "scale.sh: [$name] $*" >&2
	/usr/bin/time -f '%e %M' -o "$tmp/run-$n.time" "$@" >"$tmp/run-$n.out" 2>"$tmp/run-$n.err" || rc=$?
	proxy_counts "$proxy_a" >"$tmp/run-$n.a.json"
	proxy_counts "$proxy_b" >"$tmp/run-$n.b.json"
	echo "$rc" >"$tmp/run-$n.rc"
	echo "scale.sh: [$name] exit $rc, $(tail -n1 "$tmp/run-$n.time") (s KiB); counts a: $(cat "$tmp/run-$n.a.json") b: $(cat "$tmp/run-$n.b.json")" >&2
	if [[ $rc -ne 0 ]]; then
		tail -n 20 "$tmp/run-$n.err" >&2
	fi
	return "$rc"
}

# ferry
ferry_cmd=()
for arg in "${FERRY_ARGS[@]}"; do
	arg=${arg//\{FERRY\}/$tmp/ferry}
	arg=${arg//\{BUCKET\}/$bucket}
	arg=${arg//\{PROXY_A\}/$proxy_a}
	arg=${arg//\{PROXY_B\}/$proxy_b}
	arg=${arg//\{TMP\}/$tmp}
	ferry_cmd+=("$arg")
done
ferry_rc=0
measure "ferry" "${ferry_cmd[@]}" || ferry_rc=$?
ferry_summary=$(grep '^{' "$tmp/run-0.out" | tail -n1 || true)
ferry_objects=$(jq -r '.listed // empty' <<<"${ferry_summary:-null}" 2>/dev/null || true)
ferry_ok=yes
if [[ $ferry_rc -ne 0 ]]; then
	ferry_ok="no: exit status $ferry_rc"
elif [[ -z $ferry_summary ]]; then
	ferry_ok="no summary line"
elif ! jq -e '(.copied // 0) == 0 and (.failed // 0) == 0' <<<"$ferry_summary" >/dev/null; then
	ferry_ok="no: the summary reports copies or failures"
fi
echo "scale.sh: ferry summary: $ferry_summary" >&2

# rclone: remotes from the environment, keys from the bed's credentials
# file. rclone 1.60 cannot cope with AWS_CA_BUNDLE (set on this machine) on a
# plain-HTTP endpoint, so it runs without it.
rclone_env=(
	env -u AWS_CA_BUNDLE
	RCLONE_CONFIG="$tmp/rclone.conf"
	RCLONE_CONFIG_SRC_TYPE=s3 RCLONE_CONFIG_SRC_PROVIDER=Minio RCLONE_CONFIG_SRC_ENDPOINT="$proxy_a"
	RCLONE_CONFIG_SRC_REGION=us-east-1 RCLONE_CONFIG_SRC_ENV_AUTH=false
	RCLONE_CONFIG_DST_TYPE=s3 RCLONE_CONFIG_DST_PROVIDER=Minio RCLONE_CONFIG_DST_ENDPOINT="$proxy_b"
	RCLONE_CONFIG_DST_REGION=us-east-1 RCLONE_CONFIG_DST_ENV_AUTH=false
)
: >"$tmp/rclone.conf"
RCLONE_CONFIG_SRC_ACCESS_KEY_ID=$(cred tb-a aws_access_key_id)
RCLONE_CONFIG_SRC_SECRET_ACCESS_KEY=$(cred tb-a aws_secret_access_key)
RCLONE_CONFIG_DST_ACCESS_KEY_ID=$(cred tb-b aws_access_key_id)
RCLONE_CONFIG_DST_SECRET_ACCESS_KEY=$(cred tb-b aws_secret_access_key)
[[ -n $RCLONE_CONFIG_SRC_ACCESS_KEY_ID && -n $RCLONE_CONFIG_SRC_SECRET_ACCESS_KEY ]] || die "no keys for tb-a in $AWS_SHARED_CREDENTIALS_FILE"
[[ -n $RCLONE_CONFIG_DST_ACCESS_KEY_ID && -n $RCLONE_CONFIG_DST_SECRET_ACCESS_KEY ]] || die "no keys for tb-b in $AWS_SHARED_CREDENTIALS_FILE"
export RCLONE_CONFIG_SRC_ACCESS_KEY_ID RCLONE_CONFIG_SRC_SECRET_ACCESS_KEY
export RCLONE_CONFIG_DST_ACCESS_KEY_ID RCLONE_CONFIG_DST_SECRET_ACCESS_KEY

rclone_lines=()
for spec in "${RCLONE_RUNS[@]}"; do
	name=${spec%%|*}
	read -r -a flags <<<"${spec#*|}"
	cmd=(rclone sync "src:$bucket" "dst:$bucket" "${flags[@]}" -v --stats 1h)
	rclone_lines+=("${cmd[*]}")
	measure "$name" "${rclone_env[@]}" "${cmd[@]}" || true
done
unset RCLONE_CONFIG_SRC_ACCESS_KEY_ID RCLONE_CONFIG_SRC_SECRET_ACCESS_KEY
unset RCLONE_CONFIG_DST_ACCESS_KEY_ID RCLONE_CONFIG_DST_SECRET_ACCESS_KEY

# --- report ------------------------------------------------------------------

# objects_of N: how many objects run N compared.
objects_of() {
	local n=$1
	if [[ ${runs[$n]} == ferry ]]; then
		echo "${ferry_objects:-?}"
		return
	fi
	# rclone's final stats: "Checks:  1000000 / 1000000, 100%"
	local c
	c=$(grep -Eo 'Checks:[[:space:]]+[0-9]+' "$tmp/run-$n.err" | tail -n1 | grep -Eo '[0-9]+$' || true)
	echo "${c:-?}"
}

# counts N: "LIST HEAD GET PUT OTHER" of run N, both proxies together.
counts() {
	request_kinds "$tmp/run-$1.a.json" "$tmp/run-$1.b.json" | jq -r '[.LIST, .HEAD, .GET, .PUT, .other] | map(tostring) | join(" ")'
}

minio_bin=${FERRY_TOOLS:-$HOME/.cache/ferry/tools}/bin/minio
minio_version=$("$minio_bin" --version 2>/dev/null | head -n1 || echo "unknown")
minio_pin=$(cat "$(dirname "$minio_bin")/.minio.version" 2>/dev/null || echo "unknown")
mem_total=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

# display: the command line as run, with $tmp shown as $TMP.
display() { local s="$*"; echo "${s//$tmp/\$TMP}"; }

mkdir -p "$(dirname "$out")"
{
	echo "# Scale benchmark: reconciling an in-sync bucket"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), \`bench/scale.sh\`; ferry $ferry_from."
	echo "Bucket \`$bucket\` on MinIO a (source) and b (destination) of the test bed in \`$bed\`,"
	echo "read through one read-only s3count proxy per server, which counts requests by S3 operation."
	echo
	echo "| tool | wall time (s) | peak RSS (MiB) | LIST | HEAD (object) | GET (object) | PUT (object) | other | objects |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for n in "${!runs[@]}"; do
		read -r wall kib < <(tail -n1 "$tmp/run-$n.time")
		read -r list head get put other < <(counts "$n")
		rc=$(cat "$tmp/run-$n.rc")
		name=${runs[$n]}
		if [[ $rc -gt 128 ]]; then
			name="$name (killed by $(kill -l "$((rc - 128))" 2>/dev/null || echo "signal $((rc - 128))"), incomplete)"
		elif [[ $rc -ne 0 ]]; then
			name="$name (exit $rc)"
		fi
		printf '| %s | %s | %.1f | %s | %s | %s | %s | %s | %s |\n' \
			"$name" "$wall" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" "$list" "$head" "$get" "$put" "$other" "$(objects_of "$n")"
	done
	echo
	echo "Requests are the sum over both servers: LIST is every List* operation,"
	echo "HEAD is HeadObject, GET is GetObject, PUT is PutObject, CopyObject and UploadPart(Copy),"
	echo "other is the rest (HeadBucket, ...). A write the read-only proxies refused still counts."
	echo "objects is what the tool reports: ferry's \`listed\`, rclone's \`Checks\`."
	echo "Ferry's summary check (0 copied, 0 failed): $ferry_ok."
	echo
	echo "Requests per server:"
	echo
	echo "| tool | a (source) | b (destination) |"
	echo "|---|---|---|"
	for n in "${!runs[@]}"; do
		echo "| ${runs[$n]} | $(request_breakdown "$tmp/run-$n.a.json") | $(request_breakdown "$tmp/run-$n.b.json") |"
	done
	echo
	echo "ferry's summary line:"
	echo
	echo '```'
	echo "$ferry_summary"
	echo '```'
	echo
	echo "## Machine"
	echo
	echo "- CPU: $cpu, $(nproc) cores (nproc); memory $mem_total; kernel $(uname -r)"
	echo "- MinIO: \`$minio_version\`, pin \`$minio_pin\` (both servers on this machine)"
	echo "- $(rclone version 2>/dev/null | head -n1); $(go version)"
	echo
	echo "## Commands"
	echo
	echo "Each ran under \`/usr/bin/time -f '%e %M'\` (wall seconds, peak RSS KiB), with the"
	echo "proxies' counts reset before it. \$TMP is the script's temporary directory."
	echo
	echo '```sh'
	echo "# proxies"
	echo "s3count -read-only -target $url_a   # -> $proxy_a"
	echo "s3count -read-only -target $url_b   # -> $proxy_b"
	echo
	echo "# ferry (AWS_CONFIG_FILE=$AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE=$AWS_SHARED_CREDENTIALS_FILE)"
	display "${ferry_cmd[@]}"
	echo
	echo "# rclone: AWS_CA_BUNDLE unset; remotes from the environment, keys of tb-a/tb-b from"
	echo "# $AWS_SHARED_CREDENTIALS_FILE (RCLONE_CONFIG_{SRC,DST}_ACCESS_KEY_ID, _SECRET_ACCESS_KEY)"
	for line in "${rclone_lines[@]}"; do
		echo "$(display "${rclone_env[@]}") \\"
		echo "  $line"
	done
	echo '```'
} >"$out"

echo "scale.sh: wrote $out" >&2
cat "$out"
[[ $ferry_ok == yes ]] || die "ferry: $ferry_ok"
