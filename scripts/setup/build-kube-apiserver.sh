#!/usr/bin/env bash
# Kept for existing callers: builds (or finds cached) kube-apiserver only.
# scripts/setup/build-kube.sh builds any control-plane component, from one
# wrapper module per Kubernetes version; see there.
#   scripts/setup/build-kube-apiserver.sh         # prints KUBE_APISERVER_BIN=...
exec "$(dirname "${BASH_SOURCE[0]}")/build-kube.sh" kube-apiserver
