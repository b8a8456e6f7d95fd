#!/usr/bin/env bash
# bench/tools.sh: the peers bench/bench.sh measures ferry against, pinned.
# mc (MinIO's client) is built with go install into the tools folder of
# scripts/tools.sh (a few minutes the first time); rclone and the AWS CLI
# come from Debian's packages, with the few commands bench.sh uses. Not
# needed by the test suite.
set -euo pipefail

BIN=${FERRY_TOOLS:-$HOME/.cache/ferry/tools}/bin
MC_PIN=github.com/minio/mc@v0.0.0-20250313080218-cf909e1063a9
mkdir -p "$BIN"

if [[ -x $BIN/mc && -f $BIN/.mc.version && $(<"$BIN/.mc.version") == "$MC_PIN" ]]; then
	echo "mc: cached ($BIN/mc)"
else
	echo "mc: installing $MC_PIN with go install (minutes)"
	GOBIN=$BIN go install "$MC_PIN"
	echo "$MC_PIN" >"$BIN/.mc.version"
fi

missing=()
command -v rclone >/dev/null || missing+=(rclone)
[[ -x /usr/bin/aws ]] || missing+=(awscli)
command -v bc >/dev/null || missing+=(bc)
command -v jq >/dev/null || missing+=(jq)     # bench.sh's JSON
command -v curl >/dev/null || missing+=(curl) # ferry's /readyz, s3count's counts
[[ -x /usr/bin/time ]] || missing+=(time)     # peak RSS
if ((${#missing[@]})); then
	echo "apt: installing ${missing[*]}"
	sudo=""
	[[ $(id -u) == 0 ]] || sudo=sudo
	$sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
		{ $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
fi
echo "rclone: $(rclone version | head -1)"
echo "aws: $(/usr/bin/aws --version 2>&1)"
