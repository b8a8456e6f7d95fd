#!/usr/bin/env bash
# The local test bed: three real S3 servers and a NATS server on loopback.
#
#   scripts/testbed.sh up   [DIR]         start them (no-op if already running)
#   scripts/testbed.sh down [--wipe] [DIR] stop them; --wipe also deletes DIR
#   scripts/testbed.sh env  [DIR]         print the path of DIR/env
#
# DIR defaults to $PWD/.testbed. Servers (ports overridable by environment):
#   a    MinIO      127.0.0.1:${FERRY_TB_PORT_A:-19000}   (console: port+1)
#   b    MinIO      127.0.0.1:${FERRY_TB_PORT_B:-19100}   (console: port+1)
#   vgw  versitygw  127.0.0.1:${FERRY_TB_PORT_VGW:-19200} (posix backend, versioning on)
#   nats nats-server 127.0.0.1:${FERRY_TB_PORT_NATS:-19300} (JetStream; monitoring: port+1)
#   natsc1..natsc3  a 3-node JetStream cluster for scale-out tests: ports
#        port+2, port+4, port+6 (monitoring +1 each), cluster routes port+8..port+10
# MinIO a sends bucket notifications to webhook targets hook1..hook3 at
# http://127.0.0.1:${FERRY_TB_PORT_HOOK:-19350}+0..2/events (nothing listens
# there: tests do) and to the NATS JetStream target "js" (subject
# minio.a.events), keeping undelivered events in DIR/a-events.
# Each S3 server has its own root credentials, generated at the first `up` and
# kept in DIR/secrets (never printed), with the webhook tokens. `up` writes
# DIR/aws-config and DIR/aws-credentials (profiles tb-a, tb-b, tb-vgw) and
# DIR/env (exports for tests: `source "$(scripts/testbed.sh env)"`). See
# docs/testing.md.
set -euo pipefail

# nats first: MinIO a publishes to it.
SERVERS=(nats natsc1 natsc2 natsc3 a b vgw)
NATS_NODES=(natsc1 natsc2 natsc3)
S3_SERVERS=(a b vgw)
KMS_KEY_NAME=ferry-key
HOOKS=3                      # webhook targets hook1..hook$HOOKS of MinIO a
NATS_TARGET=js               # MinIO a's NATS target: arn:minio:sqs::js:nats
NATS_CLUSTER_TARGET=jsc      # the same to the cluster (node natsc1): arn:minio:sqs::jsc:nats
NATS_SUBJECT=minio.a.events  # the subject it publishes to
NATS_STREAM=MINIO_A          # the stream tests use for that subject
# Bumped when MinIO a's notification settings change: a bed started with other
# settings must be restarted (down, up) to pick them up.
NOTIFY_STAMP="notify-v2"
REGION=us-east-1
HOST=127.0.0.1
WAIT_SECONDS=60

die() {
	echo "testbed: $*" >&2
	exit 1
}

say() {
	echo "testbed: $*"
}

usage() {
	sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p;}' "$0" >&2
	exit 2
}

# ---------------------------------------------------------------- arguments

cmd=${1:-}
[[ -n $cmd ]] || usage
shift
wipe=false
if [[ $cmd == down && ${1:-} == --wipe ]]; then
	wipe=true
	shift
fi
[[ $# -le 1 ]] || usage
# Absolute and normalised: DIR is matched against the servers' command lines.
DIR=$(realpath -m -- "${1:-$PWD/.testbed}")

TOOLS_BIN="${FERRY_TOOLS:-$HOME/.cache/ferry/tools}/bin"

# ------------------------------------------------------------------ helpers

port_of() {
	case $1 in
	a) echo "${FERRY_TB_PORT_A:-19000}" ;;
	b) echo "${FERRY_TB_PORT_B:-19100}" ;;
	vgw) echo "${FERRY_TB_PORT_VGW:-19200}" ;;
	nats) echo "${FERRY_TB_PORT_NATS:-19300}" ;;
	natsc1) echo $((${FERRY_TB_PORT_NATS:-19300} + 2)) ;;
	natsc2) echo $((${FERRY_TB_PORT_NATS:-19300} + 4)) ;;
	natsc3) echo $((${FERRY_TB_PORT_NATS:-19300} + 6)) ;;
	esac
}

# phase_of NAME is when the server starts: the NATS nodes, then the S3 servers.
phase_of() {
	case $1 in
	nats*) echo nats ;;
	*) echo s3 ;;
	esac
}

# route_port NODE is the cluster port of a NATS node.
route_port() {
	local base=${FERRY_TB_PORT_NATS:-19300}
	case $1 in
	natsc1) echo $((base + 8)) ;;
	natsc2) echo $((base + 9)) ;;
	natsc3) echo $((base + 10)) ;;
	esac
}

# hook_port N is the port of MinIO a's webhook target hookN.
hook_port() {
	echo $((${FERRY_TB_PORT_HOOK:-19350} + $1 - 1))
}

# ports_of NAME lists every port the server listens on.
ports_of() {
	local p
	p=$(port_of "$1")
	case $1 in
	a | b) echo "$p $((p + 1))" ;;
	nats) echo "$p $((p + 1))" ;;
	natsc*) echo "$p $((p + 1)) $(route_port "$1")" ;;
	vgw) echo "$p" ;;
	esac
}

access_key_of() {
	case $1 in
	a) echo ferryaccessA ;;
	b) echo ferryaccessB ;;
	vgw) echo ferryaccessVGW ;;
	esac
}

# pid_alive NAME succeeds if DIR/NAME.pid names a live server of this DIR.
# The command line check guards against a recycled pid.
pid_alive() {
	local pidfile="$DIR/$1.pid" pid
	[[ -f $pidfile ]] || return 1
	pid=$(<"$pidfile")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	if [[ -r /proc/$pid/cmdline ]]; then
		local cmdline
		cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
		[[ $cmdline == *"$DIR/"* ]] || return 1
	fi
	return 0
}

# port_busy PORT succeeds if something accepts TCP connections on it.
port_busy() {
	(exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# http_status PORT PATH prints the HTTP status code of a GET, or nothing.
# Plain bash, so the bed needs no curl.
http_status() {
	(
		exec 3<>"/dev/tcp/$HOST/$1" || exit 0
		printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' "$2" "$HOST" "$1" >&3
		IFS=' ' read -r -t 2 _ code _ <&3 || true
		echo "${code:-}"
	) 2>/dev/null
}

random_alnum() {
	local n=$1 s=
	while ((${#s} < n)); do
		s+=$(head -c 64 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
	done
	echo "${s:0:n}"
}

find_tool() {
	if [[ -x $TOOLS_BIN/$1 ]]; then
		echo "$TOOLS_BIN/$1"
	elif command -v "$1" >/dev/null 2>&1; then
		command -v "$1"
	else
		die "$1 not found in $TOOLS_BIN or PATH: run scripts/tools.sh first"
	fi
}

# -------------------------------------------------------------------- up

# ensure_secrets creates DIR/secrets once: one secret per server and the
# MinIO static KMS key. Mode 600, never echoed.
ensure_secrets() {
	local f="$DIR/secrets"
	if [[ ! -f $f ]]; then
		(
			umask 077
			{
				echo "# generated by scripts/testbed.sh; test-only credentials"
				echo "SECRET_a=$(random_alnum 32)"
				echo "SECRET_b=$(random_alnum 32)"
				echo "SECRET_vgw=$(random_alnum 32)"
				echo "KMS_SECRET_KEY=$KMS_KEY_NAME:$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
			} >"$f.tmp"
			mv "$f.tmp" "$f"
		)
	fi
	# Webhook tokens came later: add them to an older secrets file.
	local n
	for ((n = 1; n <= HOOKS; n++)); do
		grep -q "^HOOK_TOKEN_$n=" "$f" || echo "HOOK_TOKEN_$n=$(random_alnum 24)" >>"$f"
	done
	# shellcheck disable=SC1090
	source "$f"
}

secret_of() {
	local v="SECRET_$1"
	echo "${!v}"
}

check_ports_free() {
	local name=$1 p
	for p in $(ports_of "$name"); do
		if port_busy "$p"; then
			die "port $HOST:$p (server $name) is already in use by another program." \
				"Stop it, or pick other ports with FERRY_TB_PORT_A/_B/_VGW/_NATS" \
				"(another test bed? scripts/testbed.sh down ITS_DIR)"
		fi
	done
	# Nothing of the bed listens on the webhook ports: the tests do. Something
	# else there would receive MinIO a's events.
	if [[ $name == a ]]; then
		for ((p = 1; p <= HOOKS; p++)); do
			if port_busy "$(hook_port $p)"; then
				die "port $HOST:$(hook_port $p) (webhook target hook$p of server a) is already in use by another program." \
					"Stop it, or pick other ports with FERRY_TB_PORT_HOOK"
			fi
		done
	fi
}

# notify_env prints the NAME=value settings that make MinIO a send bucket
# notifications to the webhook targets hook1..hookN and the NATS JetStream
# target js. Lowercase target ids give ARNs like arn:minio:sqs::hook1:webhook.
# A queue dir per target makes MinIO keep events it cannot deliver and
# re-send them (every 3 s) until the receiver is back.
notify_env() {
	local n id token
	for ((n = 1; n <= HOOKS; n++)); do
		id=hook$n
		token="HOOK_TOKEN_$n"
		mkdir -p "$DIR/a-events/$id"
		echo "MINIO_NOTIFY_WEBHOOK_ENABLE_$id=on"
		echo "MINIO_NOTIFY_WEBHOOK_ENDPOINT_$id=http://$HOST:$(hook_port $n)/events"
		echo "MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_$id=${!token}"
		echo "MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_$id=$DIR/a-events/$id"
	done
	id=$NATS_TARGET
	mkdir -p "$DIR/a-events/$id"
	echo "MINIO_NOTIFY_NATS_ENABLE_$id=on"
	echo "MINIO_NOTIFY_NATS_ADDRESS_$id=$HOST:$(port_of nats)"
	echo "MINIO_NOTIFY_NATS_SUBJECT_$id=$NATS_SUBJECT"
	echo "MINIO_NOTIFY_NATS_JETSTREAM_$id=on"
	echo "MINIO_NOTIFY_NATS_QUEUE_DIR_$id=$DIR/a-events/$id"
	id=$NATS_CLUSTER_TARGET
	mkdir -p "$DIR/a-events/$id"
	echo "MINIO_NOTIFY_NATS_ENABLE_$id=on"
	echo "MINIO_NOTIFY_NATS_ADDRESS_$id=$HOST:$(port_of natsc1)"
	echo "MINIO_NOTIFY_NATS_SUBJECT_$id=$NATS_SUBJECT"
	echo "MINIO_NOTIFY_NATS_JETSTREAM_$id=on"
	echo "MINIO_NOTIFY_NATS_QUEUE_DIR_$id=$DIR/a-events/$id"
}

start_server() {
	local name=$1 port log="$DIR/logs/$1.log"
	port=$(port_of "$name")
	mkdir -p "$DIR/logs"
	echo "---- $(date -u +%FT%TZ) starting $name on $HOST:$port" >>"$log"

	local -a run=()
	command -v setsid >/dev/null 2>&1 && run=(setsid)
	case $name in
	a | b)
		mkdir -p "$DIR/$name-data"
		local -a notify=()
		if [[ $name == a ]]; then
			mapfile -t notify < <(notify_env)
			echo "$NOTIFY_STAMP" >"$DIR/a.notify"
		fi
		env MINIO_ROOT_USER="$(access_key_of "$name")" \
			MINIO_ROOT_PASSWORD="$(secret_of "$name")" \
			MINIO_KMS_SECRET_KEY="$KMS_SECRET_KEY" \
			MINIO_UPDATE=off \
			"${notify[@]}" \
			"${run[@]}" "$MINIO" server \
			--address "$HOST:$port" \
			--console-address "$HOST:$((port + 1))" \
			--quiet --anonymous \
			"$DIR/$name-data" </dev/null >>"$log" 2>&1 &
		;;
	vgw)
		mkdir -p "$DIR/vgw-data" "$DIR/vgw-versions"
		ROOT_ACCESS_KEY_ID=$(access_key_of vgw) \
			ROOT_SECRET_ACCESS_KEY=$(secret_of vgw) \
			"${run[@]}" "$VERSITYGW" \
			--port "$HOST:$port" \
			--region "$REGION" \
			--quiet \
			posix \
			--versioning-dir "$DIR/vgw-versions" \
			"$DIR/vgw-data" </dev/null >>"$log" 2>&1 &
		;;
	nats)
		mkdir -p "$DIR/nats-data"
		"${run[@]}" "$NATS_SERVER" \
			--addr "$HOST" --port "$port" \
			--http_port "$((port + 1))" \
			--server_name ferry-testbed \
			--jetstream --store_dir "$DIR/nats-data" \
			</dev/null >>"$log" 2>&1 &
		;;
	natsc*)
		# One cluster of three: each node routes to the other two.
		mkdir -p "$DIR/$name-data"
		local node routes=()
		for node in "${NATS_NODES[@]}"; do
			[[ $node == "$name" ]] || routes+=("nats-route://$HOST:$(route_port "$node")")
		done
		"${run[@]}" "$NATS_SERVER" \
			--addr "$HOST" --port "$port" \
			--http_port "$((port + 1))" \
			--server_name "ferry-testbed-$name" \
			--cluster_name ferry-testbed \
			--cluster "nats://$HOST:$(route_port "$name")" \
			--routes "$(
				IFS=,
				echo "${routes[*]}"
			)" \
			--jetstream --store_dir "$DIR/$name-data" \
			</dev/null >>"$log" 2>&1 &
		;;
	esac
	echo $! >"$DIR/$name.pid"
}

# ready NAME succeeds once the server answers HTTP.
ready() {
	local port code
	port=$(port_of "$1")
	case $1 in
	a | b)
		code=$(http_status "$port" /minio/health/ready)
		[[ $code == 200 ]]
		;;
	vgw)
		code=$(http_status "$port" /)
		[[ -n $code ]]
		;;
	nats)
		# 200 once JetStream is up.
		code=$(http_status "$((port + 1))" '/healthz?js-enabled-only=true')
		[[ $code == 200 ]]
		;;
	natsc*)
		# 200 once JetStream is up and current with the cluster's meta
		# leader: the cluster can create streams.
		code=$(http_status "$((port + 1))" /healthz)
		[[ $code == 200 ]]
		;;
	esac
}

wait_ready() {
	local name=$1 deadline=$((SECONDS + WAIT_SECONDS))
	until ready "$name"; do
		if ! pid_alive "$name"; then
			echo "testbed: server $name exited during startup; last lines of $DIR/logs/$name.log:" >&2
			tail -n 30 "$DIR/logs/$name.log" >&2 || true
			return 1
		fi
		if ((SECONDS >= deadline)); then
			echo "testbed: server $name not ready after ${WAIT_SECONDS}s; last lines of $DIR/logs/$name.log:" >&2
			tail -n 30 "$DIR/logs/$name.log" >&2 || true
			return 1
		fi
		sleep 0.2
	done
}

write_files() {
	local name port
	(
		umask 077
		{
			echo "# generated by scripts/testbed.sh"
			for name in "${S3_SERVERS[@]}"; do
				echo "[tb-$name]"
				echo "aws_access_key_id = $(access_key_of "$name")"
				echo "aws_secret_access_key = $(secret_of "$name")"
				echo
			done
		} >"$DIR/aws-credentials"
	)
	{
		echo "# generated by scripts/testbed.sh"
		for name in "${S3_SERVERS[@]}"; do
			port=$(port_of "$name")
			echo "[profile tb-$name]"
			echo "region = $REGION"
			echo "endpoint_url = http://$HOST:$port"
			echo
		done
	} >"$DIR/aws-config"
	{
		echo "# generated by scripts/testbed.sh: source it to use the test bed"
		echo "export FERRY_TESTBED='$DIR'"
		echo "export AWS_CONFIG_FILE='$DIR/aws-config'"
		echo "export AWS_SHARED_CREDENTIALS_FILE='$DIR/aws-credentials'"
		echo "export AWS_EC2_METADATA_DISABLED=true"
		echo "export FERRY_TB_KMS_KEY=$KMS_KEY_NAME"
		echo "export FERRY_TB_A_URL=http://$HOST:$(port_of a)"
		echo "export FERRY_TB_B_URL=http://$HOST:$(port_of b)"
		echo "export FERRY_TB_VGW_URL=http://$HOST:$(port_of vgw)"
		echo "# NATS with JetStream. MinIO a publishes bucket events (target"
		echo "# arn:minio:sqs::$NATS_TARGET:nats) to FERRY_TB_NATS_SUBJECT; tests keep them in stream FERRY_TB_NATS_STREAM."
		echo "export FERRY_TB_NATS_URL=nats://$HOST:$(port_of nats)"
		echo "# The three nodes of the bed's JetStream cluster, for scale-out tests; MinIO a publishes"
		echo "# the same events there through target FERRY_TB_NATS_CLUSTER_TARGET (to natsc1)."
		echo "export FERRY_TB_NATS_CLUSTER=nats://$HOST:$(port_of natsc1),nats://$HOST:$(port_of natsc2),nats://$HOST:$(port_of natsc3)"
		echo "export FERRY_TB_NATS_CLUSTER_TARGET=$NATS_CLUSTER_TARGET"
		echo "export FERRY_TB_NATS_TARGET=$NATS_TARGET"
		echo "export FERRY_TB_NATS_SUBJECT=$NATS_SUBJECT"
		echo "export FERRY_TB_NATS_STREAM=$NATS_STREAM"
		echo "# MinIO a's webhook targets hook1..hookN (arn:minio:sqs::hookN:webhook) post to"
		echo "# http://$HOST:(FERRY_TB_HOOK_PORT+N-1)/events; their tokens are in DIR/secrets."
		echo "export FERRY_TB_HOOK_PORT=$(hook_port 1)"
		echo "export FERRY_TB_HOOKS=$HOOKS"
	} >"$DIR/env"
}

cmd_up() {
	MINIO=$(find_tool minio)
	VERSITYGW=$(find_tool versitygw)
	NATS_SERVER=$(find_tool nats-server)
	[[ $DIR != *"'"* ]] || die "DIR must not contain a single quote: $DIR"
	mkdir -p "$DIR"
	ensure_secrets

	local name started=()
	if pid_alive a && [[ $(cat "$DIR/a.notify" 2>/dev/null) != "$NOTIFY_STAMP" ]]; then
		die "server a in $DIR runs with old notification settings; restart the bed:" \
			"scripts/testbed.sh down $DIR && scripts/testbed.sh up $DIR"
	fi
	for name in "${SERVERS[@]}"; do
		if ! pid_alive "$name"; then
			check_ports_free "$name"
			started+=("$name")
		fi
	done
	# The NATS cluster first, until JetStream has a leader: MinIO a sets up
	# its NATS JetStream target at start and does not try again later.
	local phase
	for phase in nats s3; do
		for name in "${started[@]}"; do
			[[ $(phase_of "$name") == "$phase" ]] && start_server "$name"
		done
		for name in "${SERVERS[@]}"; do
			[[ $(phase_of "$name") == "$phase" ]] || continue
			if ! wait_ready "$name"; then
				stop_servers >/dev/null
				die "up failed; stopped the test bed in $DIR"
			fi
		done
	done
	# Keep the files of a running bed: its ports are the ones it started with.
	if ((${#started[@]} > 0)) || [[ ! -f $DIR/env ]]; then
		write_files
	fi
	if ((${#started[@]} == 0)); then
		say "already running in $DIR"
	else
		say "up in $DIR: a=$HOST:$(port_of a) b=$HOST:$(port_of b) vgw=$HOST:$(port_of vgw)" \
			"nats=$HOST:$(port_of nats) cluster=$(port_of natsc1),$(port_of natsc2),$(port_of natsc3) hooks=$HOST:$(hook_port 1)-$(hook_port "$HOOKS") (started: ${started[*]})"
	fi
}

# ------------------------------------------------------------------- down

# stop_servers sends TERM to every running server of DIR, waits up to 10s for
# them to exit (MinIO takes about 2s), then KILLs what is left.
stop_servers() {
	local name pid i left
	local -A pids=()
	for name in "${SERVERS[@]}"; do
		if pid_alive "$name"; then
			pids[$name]=$(<"$DIR/$name.pid")
			kill -TERM "${pids[$name]}" 2>/dev/null || true
		fi
	done
	for ((i = 0; i < 100; i++)); do
		left=0
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null && left=1
		done
		((left)) || break
		sleep 0.1
	done
	for name in "${SERVERS[@]}"; do
		pid=${pids[$name]:-}
		if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
			echo "testbed: $name (pid $pid) ignored TERM; killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
		rm -f "$DIR/$name.pid"
		[[ -z $pid ]] || say "stopped $name"
	done
	((${#pids[@]} > 0)) || say "not running in $DIR"
}

cmd_down() {
	if [[ ! -d $DIR ]]; then
		say "nothing to stop in $DIR"
		return
	fi
	stop_servers
	if $wipe; then
		# Only delete a directory that looks like a test bed (or is empty).
		if [[ -z $(ls -A "$DIR") ]]; then
			rmdir "$DIR"
		elif [[ -f $DIR/secrets || -f $DIR/env || -d $DIR/logs ]]; then
			rm -rf "$DIR"
			say "wiped $DIR"
		else
			die "not wiping $DIR: it does not look like a test bed directory"
		fi
	fi
}

# -------------------------------------------------------------------- env

cmd_env() {
	[[ -f $DIR/env ]] || die "no test bed in $DIR (run: scripts/testbed.sh up $DIR)"
	echo "$DIR/env"
}

case $cmd in
up) cmd_up ;;
down) cmd_down ;;
env) cmd_env ;;
*) usage ;;
esac
