#!/usr/bin/env bash
# bench/bench.sh: ferry beside the tools users would pick instead, measured
# in one run on this machine, on a test bed of its own (`make bench`).
#
# Cases (each RUNS times, default 3; the report gives median, min, max):
#   small      10,000 x 4 KiB objects, server a -> server b: objects/s
#   large      8 x 256 MiB objects, server a -> server b: MB/s and peak RSS
#   copy       10,000 x 4 KiB within server a (server-side copy): objects/s
#   limit      the servers' own rate for the same work (raw concurrent PUTs by
#              tbseed), so each figure is also a fraction of what they allow
#   latency    event-driven replication at a steady 100 objects/s for 30 s:
#              PUT on a to listed on b, p50/p95/p99 ms (bench/cmd/benchlat):
#              ferry run (MinIO webhook target without and with queue_dir)
#              against MinIO's own bucket replication, and the floor of a
#              replicator started by the PUT (benchlat's own GET+PUT)
#   reconcile  100,000 in-sync objects, server a -> server b, nothing to
#              copy: wall time, peak RSS and S3 requests by kind, ferry sync
#              against rclone sync (default and --checksum)
# Peers: rclone (Debian), mc mirror (pinned, bench/tools.sh), aws s3 sync
# (Debian's awscli; it cannot copy between two endpoints, so only `copy`),
# MinIO's bucket replication (mc replicate add).
#
# Settings (environment): RUNS, CONC, CASES (a subset of "small large copy
# latency reconcile"), SMALL_N, LARGE_N, LARGE_MIB, LAT_RATE, LAT_SECONDS,
# LAT_SIZE, LAT_POLL, LAT_TOOLS, LAT_BREAKDOWN, RECONCILE_N, RECONCILE_SEED,
# RCLONE_DEFAULT_RUNS;
# RAW, OUT and PNG say where the results go. See bench/README.md.
#
# Output: bench/results/raw-DATE.jsonl (one line per measurement), then
# bench/RESULTS.md and bench/results.png through bench/cmd/benchreport.
# Not part of the test suite: it takes about 45 minutes and needs a quiet
# machine (nothing else running: the servers share its cores).
set -euo pipefail

RUNS=${RUNS:-3}
CONC=${CONC:-16} # the parallelism every tool is given where it has a flag
all_cases="small large copy latency reconcile"
CASES=${CASES:-$all_cases}
SMALL_N=${SMALL_N:-10000}
LARGE_N=${LARGE_N:-8}
LARGE_MIB=${LARGE_MIB:-256}
LAT_RATE=${LAT_RATE:-100}     # objects PUT per second
LAT_SECONDS=${LAT_SECONDS:-30} # for this long, per run
LAT_SIZE=${LAT_SIZE:-4096}
LAT_POLL=${LAT_POLL:-20ms} # how often benchlat lists the destination
# ferry: webhook target without queue_dir; ferry-queue-dir: the bed's hook1,
# which has one; minio: MinIO's bucket replication; direct: the limit.
LAT_TOOLS=${LAT_TOOLS:-ferry ferry-queue-dir minio direct}
LAT_BREAKDOWN=${LAT_BREAKDOWN:-1} # 1: one more run of each stage alone, for the notes
RECONCILE_N=${RECONCILE_N:-100000}
RECONCILE_SEED=${RECONCILE_SEED:-disk} # disk: bench/cmd/benchseed; put: tbseed fill -mirror
# rclone's default mode HEADs every object on both sides: minutes per run at
# 100,000 objects, so it runs fewer times than the others.
RCLONE_DEFAULT_RUNS=${RCLONE_DEFAULT_RUNS:-1}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
die() {
	echo "bench.sh: $*" >&2
	exit 1
}
log() { echo "bench: $*" >&2; }
want() { [[ " $CASES " == *" $1 "* ]]; }

date=$(date +%F)
raw=${RAW:-$root/bench/results/raw-$date.jsonl}
out_md=${OUT:-$root/bench/RESULTS.md}
out_png=${PNG:-$root/bench/results.png}
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench.XXXXXX")
bed=$work/bed
# The bed's ports: 25xxx. MinIO a's webhook target "lat" (no queue_dir)
# posts to LAT_PORT; the bed's own hook1..3 (with queue_dir) to 25350..2.
bed_ports=(FERRY_TB_PORT_A=25000 FERRY_TB_PORT_B=25100 FERRY_TB_PORT_VGW=25200 FERRY_TB_PORT_NATS=25300 FERRY_TB_PORT_HOOK=25350)
LAT_PORT=25360
ferry_pid=""
cleanup() {
	if [[ -n $ferry_pid ]]; then
		kill "$ferry_pid" 2>/dev/null || true
		wait "$ferry_pid" 2>/dev/null || true
	fi
	proxy_stop
	env "${bed_ports[@]}" scripts/testbed.sh down "$bed" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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
for cmd in ferry:./cmd/ferry tbseed:./internal/testbed/cmd/tbseed s3count:./internal/testbed/cmd/s3count \
	benchlat:./bench/cmd/benchlat benchseed:./bench/cmd/benchseed; do
	go build -o "$work/${cmd%%:*}" "${cmd#*:}"
done
FERRY=$work/ferry
TBSEED=$work/tbseed

# MinIO a also gets a webhook target "lat" without a queue directory, for
# the latency case: with one, MinIO stores each event and sends what is
# stored every 3 s. Given through testbed.sh's environment, which the
# servers inherit (b gets the target too, unused).
lat_token=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)
env "${bed_ports[@]}" MINIO_NOTIFY_WEBHOOK_ENABLE_lat=on \
	MINIO_NOTIFY_WEBHOOK_ENDPOINT_lat="http://127.0.0.1:$LAT_PORT/events" \
	MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_lat="$lat_token" \
	scripts/testbed.sh up "$bed" >&2
# shellcheck source=/dev/null
source "$bed/env"
cred() { bed_cred "$bed/aws-credentials" "tb-$1" "$2"; }
key_a=$(cred a aws_access_key_id) secret_a=$(cred a aws_secret_access_key)
key_b=$(cred b aws_access_key_id) secret_b=$(cred b aws_secret_access_key)

# Peers' configurations, in the work directory.
export RCLONE_CONFIG=$work/rclone.conf
rclone_remote() { # NAME ENDPOINT KEY SECRET
	printf '[%s]\ntype = s3\nprovider = Minio\naccess_key_id = %s\nsecret_access_key = %s\nendpoint = %s\nregion = us-east-1\n' \
		"$1" "$3" "$4" "$2" >>"$RCLONE_CONFIG"
}
: >"$RCLONE_CONFIG"
rclone_remote a "$FERRY_TB_A_URL" "$key_a" "$secret_a"
rclone_remote b "$FERRY_TB_B_URL" "$key_b" "$secret_b"
export MC_CONFIG_DIR=$work/mc
if [[ -x $MC ]]; then
	"$MC" alias set a "$FERRY_TB_A_URL" "$key_a" "$secret_a" >/dev/null
	"$MC" alias set b "$FERRY_TB_B_URL" "$key_b" "$secret_b" >/dev/null
fi

# --- measuring ----------------------------------------------------------
mkdir -p "$(dirname "$raw")"
: >"$raw"
notes=() # the report's notes, besides the fixed ones (JSON strings)
emit() { echo "$1" >>"$raw"; }
skip() { # case title tool why
	emit "$(jq -cn --arg c "$1" --arg t "$2" --arg tool "$3" --arg why "$4" '{case: $c, title: $t, tool: $tool, skipped: $why}')"
}

# run_timed CMD...: runs CMD under /usr/bin/time, its output in
# $work/out; sets secs (wall) and rss (peak MiB). Fails as CMD does.
run_timed() {
	local t0 t1
	t0=$(date +%s.%N)
	/usr/bin/time -f '%M' -o "$work/time" "$@" >"$work/out" 2>&1 || return
	t1=$(date +%s.%N)
	secs=$(echo "$t1 - $t0" | bc -l)
	rss=$(echo "$(tail -1 "$work/time") / 1024" | bc -l)
}

# failed CASE TITLE TOOL RUN: logs and records a failed run.
failed() {
	log "$3 failed in $1 run $4:"
	tail -5 "$work/out" >&2
	skip "$1" "$2" "$3" "failed: $(tail -1 "$work/out" | cut -c1-120)"
}

# timed CASE TITLE TOOL RUN UNITS METRIC -- command...: runs the command
# under /usr/bin/time and emits METRIC = UNITS / seconds.
timed() {
	local case=$1 title=$2 tool=$3 run=$4 units=$5 metric=$6
	shift 7
	if ! run_timed "$@"; then
		failed "$case" "$title" "$tool" "$run"
		return
	fi
	emit "$(printf '{"case":"%s","title":"%s","tool":"%s","run":%d,"metric":"%s","value":%.2f,"higher_better":true,"seconds":%.3f,"rss_mib":%.1f}' \
		"$case" "$title" "$tool" "$run" "$metric" "$(echo "$units / $secs" | bc -l)" "$secs" "$rss")"
	log "$case $tool run $run: $(printf '%.2f' "$(echo "$units / $secs" | bc -l)") $metric in $(printf '%.1f' "$secs") s"
}

mb() { "$TBSEED" -bed "$bed" mb "$@" >/dev/null; }

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
if want small || want copy; then
	mb a small-src
	log "seeding $SMALL_N small objects"
	"$TBSEED" -bed "$bed" fill -n "$SMALL_N" -size 4096 -c 64 a small-src >&2
fi
if want small; then
	for run in $(seq "$RUNS"); do
		mb b "limit-small-$run"
		timed small "$title_small" "limit: raw PUT" "$run" "$SMALL_N" objects/s -- \
			"$TBSEED" -bed "$bed" fill -n "$SMALL_N" -size 4096 -c "$CONC" b "limit-small-$run"
		copiers small "$title_small" "$run" "$SMALL_N" objects/s small-src b
	done
	skip small "$title_small" "aws s3 sync" "copies within one endpoint only: aws s3 sync cannot read one server and write another"
fi

# large: a few big objects between two servers.
if want large; then
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
fi

# copy: within one server, where the server can copy by itself.
if want copy; then
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
fi

# --- latency ------------------------------------------------------------
# benchlat PUTs LAT_RATE objects/s for LAT_SECONDS to a fresh bucket on a
# and times each from its PUT's answer to the first LIST of the destination
# on b that shows it (bench/cmd/benchlat). Each run has fresh buckets.
title_lat="$LAT_RATE objects/s for $LAT_SECONDS s, $LAT_SIZE B each: PUT on server a -> listed on server b"
hook1_port=$FERRY_TB_HOOK_PORT # the bed's webhook target hook1, with a queue_dir
hook1_token() { grep '^HOOK_TOKEN_1=' "$bed/secrets" | cut -d= -f2-; }

# ferry_start CONFIG TOKEN LISTEN: ferry run in the background, until /readyz.
ferry_start() {
	local i
	FERRY_WEBHOOK_TOKEN=$2 "$FERRY" run --config "$1" >"$work/ferry-run.log" 2>&1 &
	ferry_pid=$!
	for ((i = 0; i < 300; i++)); do
		[[ $(curl --noproxy '*' -fsS "http://$3/readyz" 2>/dev/null) == ready ]] && return 0
		kill -0 "$ferry_pid" 2>/dev/null || break
		sleep 0.1
	done
	tail -5 "$work/ferry-run.log" >&2
	return 1
}
ferry_stop() {
	[[ -n $ferry_pid ]] || return 0
	kill -TERM "$ferry_pid" 2>/dev/null || true
	wait "$ferry_pid" 2>/dev/null || true
	ferry_pid=""
}

# ferry_config NAME SRC DST LISTEN: a config replicating a/SRC to b/DST
# with the webhook intake on LISTEN, in $work/NAME.yaml.
ferry_config() {
	cat >"$work/$1.yaml" <<-EOF
		source: {bucket: $2, profile: tb-a}
		destinations: [{bucket: $3, profile: tb-b}]
		run:
		  listen: $4
		  data_dir: $work/$1-data
		  reconcile_interval: 0s
	EOF
}

# benchlat TOOL RUN ARGS...: one latency measurement (lines appended to the
# raw file unless ARGS has its own -out), its summary in lat-summary.jsonl.
benchlat() {
	local tool=$1 run=$2
	shift 2
	log "latency $tool run $run"
	if ! "$work/benchlat" -bed "$bed" -rate "$LAT_RATE" -duration "${LAT_SECONDS}s" -size "$LAT_SIZE" -poll "$LAT_POLL" \
		-case latency -title "$title_lat" -tool "$tool" -run "$run" -out "$raw" -summary "$work/lat-summary.jsonl" \
		"$@" 2>"$work/out"; then
		failed latency "$title_lat" "$tool" "$run"
		return 1
	fi
	grep '^benchlat: .* run ' "$work/out" | tail -1 >&2 || true
}

# lat_ferry RUN TOOL TARGET PORT TOKEN NOTE [BENCHLAT ARGS...]: ferry run
# fed by MinIO a's webhook TARGET (posting to PORT), a/SRC -> b/DST.
lat_ferry() {
	local run=$1 tool=$2 target=$3 port=$4 token=$5 note=$6 name
	shift 6
	name=lat-$target-$port-$run
	mb a "$name-src"
	mb b "$name-dst"
	ferry_config "$name" "$name-src" "$name-dst" "127.0.0.1:$port"
	if ! ferry_start "$work/$name.yaml" "$token" "127.0.0.1:$port"; then
		ferry_stop
		skip latency "$title_lat" "$tool" "ferry run did not start"
		return
	fi
	benchlat "$tool" "$run" -src "a/$name-src" -dst "b/$name-dst" -notify "arn:minio:sqs::$target:webhook" -note "$note" "$@" || true
	ferry_stop
}

lat_minio() {
	local run=$1 name=lat-minio-$1
	mb -versioning a "$name-src"
	mb -versioning b "$name-dst"
	if ! "$MC" replicate add "a/$name-src" --remote-bucket "http://$key_b:$secret_b@${FERRY_TB_B_URL#http://}/$name-dst" \
		--priority 1 >"$work/out" 2>&1; then
		failed latency "$title_lat" "minio replication" "$run"
		return
	fi
	benchlat "minio replication" "$run" -src "a/$name-src" -dst "b/$name-dst" \
		-note "mc replicate add (asynchronous bucket replication; versioning on both buckets, as it requires)" || true
}

lat_direct() {
	local run=$1 name=lat-direct-$1
	mb a "$name-src"
	mb b "$name-dst"
	benchlat "limit: direct GET+PUT" "$run" -mode direct -src "a/$name-src" -dst "b/$name-dst" \
		-note "benchlat itself GETs each object from a and PUTs it to b as soon as its PUT is answered: the floor of any replicator the PUT starts, detection included" || true
}

note_ferry="ferry run, webhook intake (16 workers), fed by MinIO a's webhook target without queue_dir: MinIO posts each event at once"
note_ferry_q="the same fed by a webhook target with queue_dir (what docs/run.md recommends, so events wait while ferry is down): MinIO stores each event and sends the stored ones every 3 s, one POST at a time"
if want latency; then
	for run in $(seq "$RUNS"); do
		for t in $LAT_TOOLS; do
			case $t in
			ferry) lat_ferry "$run" ferry lat "$LAT_PORT" "$lat_token" "$note_ferry" ;;
			ferry-queue-dir)
				lat_ferry "$run" "ferry, queue_dir target" hook1 "$hook1_port" "$(hook1_token)" "$note_ferry_q"
				;;
			minio)
				if [[ -x $MC ]]; then lat_minio "$run"; else skip latency "$title_lat" "minio replication" "mc not installed"; fi
				;;
			direct) lat_direct "$run" ;;
			*) die "LAT_TOOLS: unknown $t (want ferry ferry-queue-dir minio direct)" ;;
			esac
		done
	done

	# Where ferry's latency goes, one run of each stage alone: MinIO's
	# webhook answered at once by benchlat (without, then with queue_dir),
	# and ferry behind benchlat as a timing relay.
	if [[ $LAT_BREAKDOWN == 1 ]]; then
		bd=$work/breakdown.jsonl
		mb a lat-hook-src
		benchlat "webhook" 1 -mode hook -src a/lat-hook-src -listen "127.0.0.1:$LAT_PORT" -token "$lat_token" \
			-notify arn:minio:sqs::lat:webhook -out "$work/bd-lines.jsonl" -summary "$bd" || true
		benchlat "webhook, queue_dir" 1 -mode hook -src a/lat-hook-src -listen "127.0.0.1:$hook1_port" \
			-token "$(hook1_token)" \
			-notify arn:minio:sqs::hook1:webhook -out "$work/bd-lines.jsonl" -summary "$bd" || true
		lat_ferry 1 "ferry, relayed" lat $((LAT_PORT + 1)) "$lat_token" "" -listen "127.0.0.1:$LAT_PORT" \
			-forward "http://127.0.0.1:$((LAT_PORT + 1))/events" -out "$work/bd-lines.jsonl" -summary "$bd"
		if [[ -s $bd ]]; then
			notes+=("$(jq -s --arg s "$LAT_SECONDS" --arg r "$LAT_RATE" '
				def f: "p50 \(.p50) / p99 \(.p99) ms";
				(map({key: .tool, value: .}) | from_entries) as $t
				| "Where ferry\u0027s latency goes (one run of each, \($r) objects/s for \($s) s): " + ([]
				+ if $t.webhook then ["MinIO\u0027s webhook target alone, answered at once: PUT answered -> event \($t.webhook.latency_ms | f) without queue_dir"] else [] end
				+ if $t["webhook, queue_dir"] then ["\($t["webhook, queue_dir"].latency_ms | f) with queue_dir (MinIO sends what its queue directory holds every 3 s, one POST at a time)"] else [] end
				+ if $t["ferry, relayed"].stages_ms then ($t["ferry, relayed"].stages_ms as $g
					| ["ferry behind a timing relay: PUT answered -> event at ferry \($g.put_to_event | f), event -> queued (ferry\u0027s 200, after the SQLite commit with fsync) \($g.event_to_queued | f), queued -> listed on b (claim, HEAD a, GET a, HEAD b, PUT b, detection) \($g.queued_to_seen | f); total \($t["ferry, relayed"].latency_ms | f)"])
				  else [] end
				| join("; ")) + "."' "$bd")")
		fi
	fi
	if [[ -s $work/lat-summary.jsonl ]]; then
		notes+=("$(jq -s --arg poll "$LAT_POLL" '
			[.[] | select(.list_rtt_ms) | .list_rtt_ms.p50] | sort | (if length > 0 then .[length / 2 | floor] else null end) as $rtt
			| "Latency: t0 is the PUT\u0027s answer (benchlat sends object i at start + i/rate, whatever earlier PUTs take); arrival is the first LIST of the destination that shows the key, listed every \($poll) from the lowest key not yet seen, so each figure is late by up to \($poll) plus one LIST round trip (p50 \($rtt // "?") ms over the runs); every 10th arrival is read back with a HEAD. Percentiles are nearest-rank over the run\u0027s objects; one that never arrives counts as the time waited (60 s)."' \
			"$work/lat-summary.jsonl")")
	fi
fi

# --- reconcile ----------------------------------------------------------
# RECONCILE_N identical objects in bucket "reconcile" on a and b; each tool
# finds that nothing needs copying. Wall time and peak RSS from RUNS direct
# runs; requests from one more run per tool through read-only s3count
# proxies (the proxies slow listing down on 2 cores, so those runs are not
# timed).
if want reconcile; then
	title_rec="$RECONCILE_N in-sync objects of 256 B, server a -> server b: nothing to copy"
	log "seeding $RECONCILE_N in-sync objects ($RECONCILE_SEED)"
	if [[ $RECONCILE_SEED == disk ]]; then
		"$work/benchseed" -bed "$bed" -n "$RECONCILE_N" -size 256 reconcile >&2
	else
		mb a reconcile
		mb b reconcile
		"$TBSEED" -bed "$bed" fill -n "$RECONCILE_N" -size 256 -c 64 -mirror b/reconcile a reconcile >&2
	fi
	proxy_start "$work/s3count" "$work" proxy-a "$FERRY_TB_A_URL" -read-only
	proxy_start "$work/s3count" "$work" proxy-b "$FERRY_TB_B_URL" -read-only
	proxy_a=$(head -n1 "$work/proxy-a.addr")
	proxy_b=$(head -n1 "$work/proxy-b.addr")
	rclone_remote pa "$proxy_a" "$key_a" "$secret_a"
	rclone_remote pb "$proxy_b" "$key_b" "$secret_b"

	rec_tools=(ferry)
	[[ -n $RCLONE ]] && rec_tools+=(rclone "rclone --checksum")
	# rec TOOL DIRECT|PROXIED: the tool's reconcile, run under /usr/bin/time.
	rec() {
		local a=$FERRY_TB_A_URL b=$FERRY_TB_B_URL ra=a rb=b
		if [[ $2 == proxied ]]; then a=$proxy_a b=$proxy_b ra=pa rb=pb; fi
		case $1 in
		ferry)
			run_timed "$FERRY" sync s3://reconcile s3://reconcile --src-profile tb-a --dst-profile tb-b \
				--src-endpoint-url "$a" --dst-endpoint-url "$b" --concurrency "$CONC" --json || return
			jq -e --argjson n "$RECONCILE_N" 'select(.summary) | .listed == $n and .copied == 0 and .failed == 0' "$work/out" >/dev/null ||
				{ echo "ferry's summary is not $RECONCILE_N listed, 0 copied, 0 failed: $(tail -1 "$work/out")" >>"$work/out" && return 1; }
			;;
		rclone*)
			local extra=()
			[[ $1 == *--checksum ]] && extra=(--checksum)
			run_timed env -u AWS_CA_BUNDLE "$RCLONE" sync "$ra:reconcile" "$rb:reconcile" --dry-run --checkers "$CONC" \
				"${extra[@]}" -v --stats 1h || return
			grep -Eq "Checks:[[:space:]]+$RECONCILE_N / $RECONCILE_N" "$work/out" ||
				{ echo "rclone did not check $RECONCILE_N objects: $(grep -E 'Checks:' "$work/out" | tail -1)" >>"$work/out" && return 1; }
			;;
		esac
	}
	declare -A rec_requests=()
	for t in "${rec_tools[@]}"; do
		proxy_reset "$proxy_a" "$proxy_b"
		log "reconcile $t: counting requests"
		if rec "$t" proxied; then
			proxy_counts "$proxy_a" >"$work/counts-a.json"
			proxy_counts "$proxy_b" >"$work/counts-b.json"
			rec_requests[$t]=$(request_kinds "$work/counts-a.json" "$work/counts-b.json")
			log "reconcile $t: requests ${rec_requests[$t]} ($(printf '%.1f' "$secs") s through the proxies)"
		else
			failed reconcile "$title_rec" "$t" 0
		fi
	done
	for run in $(seq "$RUNS"); do
		for t in "${rec_tools[@]}"; do
			[[ $t != rclone || $run -le $RCLONE_DEFAULT_RUNS ]] || continue
			if ! rec "$t" direct; then
				failed reconcile "$title_rec" "$t" "$run"
				continue
			fi
			req=null
			[[ $run == 1 ]] && req=${rec_requests[$t]:-null}
			emit "$(jq -cn --arg title "$title_rec" --arg tool "$t" --argjson run "$run" --argjson secs "$secs" \
				--argjson rss "$rss" --argjson req "$req" '{case: "reconcile", title: $title, tool: $tool, run: $run,
				metric: "seconds", value: ($secs * 1000 | round / 1000), higher_better: false,
				rss_mib: ($rss * 10 | round / 10)} + (if $req then {requests: $req} else {} end)')"
			log "reconcile $t run $run: $(printf '%.2f' "$secs") s, $(printf '%.1f' "$rss") MiB"
		done
	done
	proxy_stop
	seeding="bench/cmd/benchseed: 1,000 objects PUT to a, the rest written into both servers' data directories as copies (ETags repeat every 1,000 objects)"
	[[ $RECONCILE_SEED == disk ]] || seeding="tbseed fill -mirror: every object PUT to both servers"
	notes+=("$(jq -n --arg n "$RECONCILE_N" --arg s "$seeding" --arg c "$CONC" --arg runs "$RUNS" --arg slow "$((RCLONE_DEFAULT_RUNS < RUNS ? RCLONE_DEFAULT_RUNS : RUNS))" \
		'"Reconcile: \($n) objects in 1,000 folders, the same on both servers (seeded by \($s)). ferry sync (--concurrency \($c), no --dry-run: it must report \($n) listed, 0 copied, 0 failed), rclone sync --dry-run --checkers \($c) (default: size and modification time, which rclone reads with a HEAD per object on each side) and with --checksum (size and ETag from the listings, what ferry compares). Wall time and peak RSS: \($runs) direct runs (rclone\u0027s default mode: \($slow)); the request counts come from one more run of each tool through read-only s3count proxies (internal/testbed/cmd/s3count), shown in run 1. The target is for 1M objects; bench/scale.sh measures that size (ferry merges the two listings as it reads them, so its memory does not grow with the bucket)."')")
fi

# --- report ---------------------------------------------------------------
ver() { "$@" 2>/dev/null | head -1 || echo unknown; }
targets='[{"case":"small","metric":"objects/s","text":"at least 1.5x rclone","peer":"rclone","ratio":1.5},
	{"case":"large","metric":"MB/s","text":"at least the best peer and 80% of the limit","best_peer":true,"limit_fraction":0.8},
	{"case":"latency","metric":"p99 ms","text":"event p99 below MinIO'"'"'s native replication and below 1 s","peer":"minio replication","ratio":1.0,"max":1000},
	{"case":"reconcile","metric":"seconds","text":"1M objects in under 100 MiB RSS with no HEAD per object (measured at '"$RECONCILE_N"' objects)","max_rss_mib":100,"max_requests":{"HEAD":0}}]'
printf '%s\n' "${notes[@]}" >"$work/notes.json"
jq -n --arg date "$date" --arg command "make bench (RUNS=$RUNS$([[ $CASES == "$all_cases" ]] || echo ", CASES=$CASES"))" \
	--arg machine "$(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); servers and tools share the cores" \
	--arg ferry "$(git rev-parse --short HEAD)" --arg rclone "$(ver rclone_run version)" \
	--arg mc "$(cat "$tools/.mc.version" 2>/dev/null || echo unknown)" --arg aws "$(ver "$AWS" --version)" \
	--arg minio "$(cat "$tools/.minio.version" 2>/dev/null || echo unknown)" --argjson targets "$targets" \
	--arg conc "$CONC" --arg ln "$LARGE_N" --slurpfile extra "$work/notes.json" '
	{date: $date, command: $command, machine: $machine,
	 versions: {ferry: $ferry, rclone: $rclone, mc: $mc, aws: $aws, minio: $minio},
	 targets: $targets,
	 notes: (["rclone runs with AWS_CA_BUNDLE unset (rclone 1.60 cannot start with it set).",
	          "Each tool is given \($conc)-way parallelism where it has a flag for it (ferry --concurrency, rclone --transfers/--checkers); mc mirror has none and runs with its own default.",
	          "The limit is tbseed putting the same objects with \($conc) (small) or \($ln) (large) concurrent PUTs, on the same server."] + $extra)}' \
	>"$work/meta.json"
go run ./bench/cmd/benchreport -in "$raw" -meta "$work/meta.json" -out "$out_md" -png "$out_png"
# The analysis of where ferry is behind, written by hand from the runs and
# profiles, goes with every report.
if [[ -f bench/findings.md ]]; then
	{
		echo
		cat bench/findings.md
	} >>"$out_md"
fi
log "wrote $raw, $out_md and $out_png"
