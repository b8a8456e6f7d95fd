#!/usr/bin/env bash
# bench/bench.sh: ferry beside the tools users would pick instead, measured
# in one run on this machine, on a test bed of its own (`make bench`).
#
# Cases (each RUNS times, default 3; the report gives median, min, max):
#   small  10,000 x 4 KiB objects, server a -> server b: objects/s
#   large  8 x 256 MiB objects, server a -> server b: MB/s and peak RSS
#   copy   10,000 x 4 KiB within server a (server-side copy): objects/s
#   limit  the servers' own rate for the same work (raw concurrent PUTs by
#          tbseed), so each figure is also a fraction of what they allow
# Peers: rclone (Debian), mc mirror (pinned, bench/tools.sh), aws s3 sync
# (Debian's awscli; it cannot copy between two endpoints, so only `copy`).
# Not here yet: event latency against MinIO's own replication, and the
# reconcile of a large in-sync bucket (bench/scale.sh measures that one).
#
# Output: bench/results/raw-DATE.jsonl (one line per measurement), then
# bench/RESULTS.md and bench/results.png through bench/cmd/benchreport.
# Not part of the test suite: it takes about 15 minutes and needs a quiet
# machine (nothing else running: the servers share its cores).
set -euo pipefail

RUNS=${RUNS:-3}
SMALL_N=${SMALL_N:-10000}
LARGE_N=${LARGE_N:-8}
LARGE_MIB=${LARGE_MIB:-256}
CONC=${CONC:-16} # the parallelism every tool is given where it has a flag

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
die() {
	echo "bench.sh: $*" >&2
	exit 1
}
log() { echo "bench: $*" >&2; }

date=$(date +%F)
raw=${RAW:-$root/bench/results/raw-$date.jsonl}
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench.XXXXXX")
bed=$work/bed
cleanup() {
	FERRY_TB_PORT_A=25000 FERRY_TB_PORT_B=25100 FERRY_TB_PORT_VGW=25200 FERRY_TB_PORT_NATS=25300 \
		FERRY_TB_PORT_HOOK=25350 scripts/testbed.sh down "$bed" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

# --- tools --------------------------------------------------------------
scripts/tools.sh >&2
bench/tools.sh >&2
tools=${FERRY_TOOLS:-$HOME/.cache/ferry/tools}/bin
MC=$tools/mc
AWS=/usr/bin/aws
RCLONE=$(command -v rclone || true)
# rclone 1.60 refuses to start when AWS_CA_BUNDLE is set (it is on this
# machine): "unsupported transport". Its remotes are plain http here.
rclone_run() { env -u AWS_CA_BUNDLE "$RCLONE" "$@"; }
go build -o "$work/ferry" ./cmd/ferry
go build -o "$work/tbseed" ./internal/testbed/cmd/tbseed
FERRY=$work/ferry
TBSEED=$work/tbseed

FERRY_TB_PORT_A=25000 FERRY_TB_PORT_B=25100 FERRY_TB_PORT_VGW=25200 FERRY_TB_PORT_NATS=25300 \
	FERRY_TB_PORT_HOOK=25350 scripts/testbed.sh up "$bed" >&2
# shellcheck source=/dev/null
source "$bed/env"
cred() { awk -v p="[tb-$1]" -v k="$2" '$0==p{f=1;next} /^\[/{f=0} f&&$1==k{print $3}' "$bed/aws-credentials"; }
key_a=$(cred a aws_access_key_id) secret_a=$(cred a aws_secret_access_key)
key_b=$(cred b aws_access_key_id) secret_b=$(cred b aws_secret_access_key)

# Peers' configurations, in the work directory.
export RCLONE_CONFIG=$work/rclone.conf
cat >"$RCLONE_CONFIG" <<EOF
[a]
type = s3
provider = Minio
access_key_id = $key_a
secret_access_key = $secret_a
endpoint = $FERRY_TB_A_URL
[b]
type = s3
provider = Minio
access_key_id = $key_b
secret_access_key = $secret_b
endpoint = $FERRY_TB_B_URL
EOF
export MC_CONFIG_DIR=$work/mc
if [[ -x $MC ]]; then
	"$MC" alias set a "$FERRY_TB_A_URL" "$key_a" "$secret_a" >/dev/null
	"$MC" alias set b "$FERRY_TB_B_URL" "$key_b" "$secret_b" >/dev/null
fi

# --- measuring ----------------------------------------------------------
: >"$raw"
emit() { echo "$1" >>"$raw"; }
skip() { # case title tool why
	emit "$(printf '{"case":"%s","title":"%s","tool":"%s","skipped":"%s"}' "$1" "$2" "$3" "$4")"
}

# timed CASE TITLE TOOL RUN UNITS METRIC -- command...: runs the command
# under /usr/bin/time and emits METRIC = UNITS / seconds.
timed() {
	local case=$1 title=$2 tool=$3 run=$4 units=$5 metric=$6
	shift 7
	local t0 t1 secs rss
	t0=$(date +%s.%N)
	if ! /usr/bin/time -f '%M' -o "$work/time" "$@" >"$work/out" 2>&1; then
		log "$tool failed in $case run $run:"
		tail -5 "$work/out" >&2
		skip "$case" "$title" "$tool" "failed: $(tail -1 "$work/out" | tr -d '"\\' | cut -c1-120)"
		return
	fi
	t1=$(date +%s.%N)
	secs=$(echo "$t1 - $t0" | bc -l)
	rss=$(echo "$(tail -1 "$work/time") / 1024" | bc -l)
	emit "$(printf '{"case":"%s","title":"%s","tool":"%s","run":%d,"metric":"%s","value":%.2f,"higher_better":true,"seconds":%.3f,"rss_mib":%.1f}' \
		"$case" "$title" "$tool" "$run" "$metric" "$(echo "$units / $secs" | bc -l)" "$secs" "$rss")"
	log "$case $tool run $run: $(printf '%.2f' "$(echo "$units / $secs" | bc -l)") $metric in $(printf '%.1f' "$secs") s"
}

mb() { "$TBSEED" -bed "$bed" mb "$1" "$2" >/dev/null; }

# copiers CASE TITLE RUN UNITS METRIC SRC TO: ferry, rclone and mc mirror
# each copy bucket SRC of server a into a new bucket CASE-TOOL-RUN on
# server TO (a or b).
copiers() {
	local case=$1 title=$2 run=$3 units=$4 metric=$5 src=$6 to=$7
	mb "$to" "$case-ferry-$run"
	timed "$case" "$title" ferry "$run" "$units" "$metric" -- \
		"$FERRY" sync "s3://$src" "s3://$case-ferry-$run" --src-profile tb-a --dst-profile "tb-$to" --concurrency "$CONC"
	if [[ -n $RCLONE ]]; then
		mb "$to" "$case-rclone-$run"
		timed "$case" "$title" rclone "$run" "$units" "$metric" -- \
			env -u AWS_CA_BUNDLE "$RCLONE" sync "a:$src" "$to:$case-rclone-$run" --transfers "$CONC" --checkers "$CONC"
	fi
	if [[ -x $MC ]]; then
		mb "$to" "$case-mc-$run"
		timed "$case" "$title" "mc mirror" "$run" "$units" "$metric" -- \
			"$MC" mirror --quiet "a/$src" "$to/$case-mc-$run"
	fi
}

# small: many small objects between two servers.
title_small="$SMALL_N x 4 KiB, server a -> server b"
mb a small-src
log "seeding $SMALL_N small objects"
"$TBSEED" -bed "$bed" fill -n "$SMALL_N" -size 4096 -c 64 a small-src >&2
for run in $(seq "$RUNS"); do
	mb b "limit-small-$run"
	timed small "$title_small" "limit: raw PUT" "$run" "$SMALL_N" objects/s -- \
		"$TBSEED" -bed "$bed" fill -n "$SMALL_N" -size 4096 -c "$CONC" b "limit-small-$run"
	copiers small "$title_small" "$run" "$SMALL_N" objects/s small-src b
done
skip small "$title_small" "aws s3 sync" "copies within one endpoint only: aws s3 sync cannot read one server and write another"

# large: a few big objects between two servers.
title_large="$LARGE_N x $LARGE_MIB MiB, server a -> server b"
total_mb=$(echo "$LARGE_N * $LARGE_MIB * 1048576 / 1000000" | bc -l)
mb a large-src
log "seeding $LARGE_N x $LARGE_MIB MiB"
"$TBSEED" -bed "$bed" fill -n "$LARGE_N" -size $((LARGE_MIB << 20)) -c 4 a large-src >&2
for run in $(seq "$RUNS"); do
	mb b "limit-large-$run"
	timed large "$title_large" "limit: raw PUT" "$run" "$total_mb" MB/s -- \
		"$TBSEED" -bed "$bed" fill -n "$LARGE_N" -size $((LARGE_MIB << 20)) -c "$LARGE_N" b "limit-large-$run"
	copiers large "$title_large" "$run" "$total_mb" MB/s large-src b
done
skip large "$title_large" "aws s3 sync" "copies within one endpoint only"

# copy: within one server, where the server can copy by itself.
title_copy="$SMALL_N x 4 KiB within server a"
for run in $(seq "$RUNS"); do
	copiers copy "$title_copy" "$run" "$SMALL_N" objects/s small-src a
	if [[ -x $AWS ]]; then
		mb a "copy-aws-$run"
		timed copy "$title_copy" "aws s3 sync" "$run" "$SMALL_N" objects/s -- \
			env AWS_ACCESS_KEY_ID="$key_a" AWS_SECRET_ACCESS_KEY="$secret_a" AWS_DEFAULT_REGION=us-east-1 \
			AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
			"$AWS" s3 sync s3://small-src "s3://copy-aws-$run" --endpoint-url "$FERRY_TB_A_URL" --only-show-errors
	fi
done

for c in latency reconcile; do
	skip "$c" "-" "all" "not in bench.sh yet (issue 7 is open; bench/scale.sh measures the reconcile)"
done

# --- report ---------------------------------------------------------------
ver() { "$@" 2>/dev/null | head -1 | tr -d '"\\' || echo unknown; }
cat >"$work/meta.json" <<EOF
{"date":"$date","command":"make bench (RUNS=$RUNS)",
 "machine":"$(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); servers and tools share the cores",
 "versions":{"ferry":"$(git rev-parse --short HEAD)","rclone":"$(ver rclone_run version)","mc":"$(cat "$tools/.mc.version" 2>/dev/null || echo unknown)","aws":"$(ver "$AWS" --version)","minio":"$(cat "$tools/.minio.version" 2>/dev/null || echo unknown)"},
 "targets":[{"case":"small","metric":"objects/s","text":"at least 1.5x rclone","peer":"rclone","ratio":1.5},
            {"case":"large","metric":"MB/s","text":"at least the best peer and 80% of the limit","best_peer":true,"limit_fraction":0.8}],
 "notes":["rclone runs with AWS_CA_BUNDLE unset (rclone 1.60 cannot start with it set).","Each tool is given $CONC-way parallelism where it has a flag for it (ferry --concurrency, rclone --transfers/--checkers); mc mirror has none and runs with its own default.",
          "The limit is tbseed putting the same objects with $CONC (small) or $LARGE_N (large) concurrent PUTs, on the same server."]}
EOF
go run ./bench/cmd/benchreport -in "$raw" -meta "$work/meta.json" -out bench/RESULTS.md -png bench/results.png
log "wrote $raw, bench/RESULTS.md and bench/results.png"
