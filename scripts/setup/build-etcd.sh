#!/usr/bin/env bash
# Builds an etcd server newer than Debian bookworm's etcd-server 3.4.23, for
# the workload control plane (scripts/services/kube-apiserver.sh --workloads)
# and the Config tests of etcd 3.7's RangeStream (OPSDECK_ETCD_NEWEST=1
# scripts/services/etcd.sh).
#
#   scripts/setup/build-etcd.sh            # prints ETCD_NEW_BIN=...
#   ETCD_VERSION=v3.6.7 OPSDECK_REBUILD=1 scripts/setup/build-etcd.sh
#
# Why: kube-apiserver serves "watch-list" streams (a watch that starts with
# the current state) only when etcd supports progress notifications
# (RequestWatchProgress: etcd >= 3.4.31 / 3.5.13). Against 3.4.23 it answers
# "a watch stream was requested by the client but the required storage
# feature RequestWatchProgress is disabled"; KWOK v0.8.0's informers
# (client-go v0.36) then see changes only on relists with back-off: pods
# took 10-25 s to start and stage rules fired late. With this etcd: none.
# The server's main lives in go.etcd.io/etcd/v3, a module with replace
# directives (not `go install`-able); its server library etcdmain is served
# by the proxy, so scripts/setup/go/etcd/main.go calls etcdmain.Main.
# Binary: ${OPSDECK_CACHE:-~/.cache/opsdeck}/bin/etcd-<version>.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
. "$HERE/common.sh"

ETCD_VERSION="${ETCD_VERSION:-v3.7.3}"
[[ "$ETCD_VERSION" =~ ^v3\.[0-9]+\.[0-9]+$ ]] || die "ETCD_VERSION must look like v3.6.7, got '$ETCD_VERSION'"
BIN="$OPSDECK_BIN_DIR/etcd-$ETCD_VERSION"
built() { [[ -x "$BIN" ]]; }
emit() { echo "ETCD_NEW_BIN=$BIN"; }
build_once etcd built emit
require_go 24
start=$(date +%s)
SRC="$OPSDECK_CACHE/src/etcd-$ETCD_VERSION"
rm -rf "$SRC"; mkdir -p "$SRC"; cd "$SRC"
cp "$HERE/go/etcd/main.go" main.go
printf 'module opsdeck.local/etcd\n\ngo 1.24\n' > go.mod
log "fetching go.etcd.io/etcd/server/v3@$ETCD_VERSION"
go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2 \
  || die "go get go.etcd.io/etcd/server/v3@$ETCD_VERSION failed (is the Go module proxy reachable?)"
ldflags="-s -w"
go build -trimpath -ldflags "$ldflags" -o "$BIN.tmp" . || die "go build of etcd $ETCD_VERSION failed"
mv -f "$BIN.tmp" "$BIN"
"$BIN" --version >&2
log "built in $(( $(date +%s) - start ))s"
emit
