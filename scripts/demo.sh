#!/usr/bin/env bash
# See ferry work: scripts/demo.sh (or make demo)
#
# Builds bin/ferry, starts the test bed in .testbed (left running), seeds
# bucket demo-src on MinIO A, creates demo-dst on MinIO B, syncs A -> B with
# ferry, syncs again (nothing to copy), and lists the destination.
# Stop the bed afterwards with: scripts/testbed.sh down   (--wipe deletes it)
set -euo pipefail

cd "$(dirname "$0")/.."

BED=$PWD/.testbed
SRC=demo-src
DST=demo-dst

step() {
	printf '\n==> %s\n' "$*"
}

step "build bin/ferry and bin/tbseed"
go build -o bin/ferry ./cmd/ferry
go build -o bin/tbseed ./internal/testbed/cmd/tbseed

step "tools and test bed (in $BED)"
scripts/tools.sh
scripts/testbed.sh up "$BED"
# shellcheck disable=SC1091
source "$BED/env"

step "seed s3://$SRC on A (profile tb-a), create s3://$DST on B (profile tb-b)"
bin/tbseed mb a "$SRC"
bin/tbseed seed -n 30 -big 12 a "$SRC"
bin/tbseed mb b "$DST"

step "ferry sync s3://$SRC s3://$DST --src-profile tb-a --dst-profile tb-b"
bin/ferry sync "s3://$SRC" "s3://$DST" --src-profile tb-a --dst-profile tb-b

step "same sync again: nothing left to copy"
bin/ferry sync "s3://$SRC" "s3://$DST" --src-profile tb-a --dst-profile tb-b

step "s3://$DST on B"
bin/tbseed list b "$DST"

step "one copied object in detail: content type, tags and metadata came along"
bin/tbseed list -long -prefix 'ünïcödé/日本語-002' b "$DST"

cat <<EOF

The test bed is still running (MinIO A ${FERRY_TB_A_URL}, MinIO B ${FERRY_TB_B_URL}, versitygw ${FERRY_TB_VGW_URL}).
Use it from a shell:  source "$BED/env"   (AWS profiles tb-a, tb-b, tb-vgw)
Stop it:              scripts/testbed.sh down          (add --wipe to delete $BED)
EOF
