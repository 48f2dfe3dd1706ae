#!/usr/bin/env bash
# Small root filesystems for scanner tests, as tars for `docker import`,
# cached under ~/.cache/opsdeck/images by the hash of this script:
#   alpine   busybox + Alpine 3.20 os-release + an apk database
#   rocky    busybox + Rocky Linux 9.3 os-release + an rpm database written
#            by the real rpm (packages built with rpmbuild, installed --justdb)
#   busybox  busybox alone (no os-release, no package database)
#   scripts/images/fixture-rootfs.sh KIND   -> prints the tar's path
set -euo pipefail
KIND="${1:?usage: fixture-rootfs.sh alpine|rocky|busybox}"
CACHE="${OPSDECK_CACHE:-$HOME/.cache/opsdeck}/images"
VERSION="$(sha256sum "$0" | cut -c1-12)"
OUT="$CACHE/fixture-$KIND-$VERSION.tar"
[[ -s "$OUT" ]] && { echo "$OUT"; exit 0; }
BUSYBOX="$(command -v busybox || true)"
[[ -x "$BUSYBOX" ]] || { echo "fixture-rootfs: install busybox-static (scripts/install-deps.sh)" >&2; exit 1; }

mkdir -p "$CACHE"
work="$(mktemp -d "$CACHE/.fixture.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root/bin" "$root/etc" "$root/tmp"
cp "$BUSYBOX" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"

apk_package() { # name version origin
  printf 'C:Q1fixture=\nP:%s\nV:%s\nA:x86_64\nS:1000\nI:2000\nT:%s fixture\no:%s\n\n' "$1" "$2" "$1" "$3"
}

rpm_packages() {
  local top="$work/rpmbuild"
  mkdir -p "$top/SPECS"
  spec() { # name epoch version release [subpackage]
    local epoch=""; [[ "$2" != 0 ]] && epoch="Epoch: $2"
    local sub=""; [[ -n "${5:-}" ]] && sub=$'%package '"$5"$'\nSummary: fixture\n%description '"$5"$'\nfixture\n%files '"$5"
    cat >"$top/SPECS/$1.spec" <<SPEC
Name: $1
$epoch
Version: $3
Release: $4
Summary: fixture
License: MIT
BuildArch: noarch
%description
fixture
%files
$sub
SPEC
    rpmbuild --quiet -bb --define "_topdir $top" "$top/SPECS/$1.spec" >/dev/null
  }
  spec openssl 1 3.0.7 24.el9 libs
  spec bash 0 5.1.8 6.el9
  spec glibc 0 2.34 100.el9
  mkdir -p "$root/var/lib/rpm"
  rpm --root "$root" --dbpath /var/lib/rpm --initdb
  rpm --root "$root" --dbpath /var/lib/rpm -i --justdb --nodeps --noscripts --notriggers --ignorearch "$top"/RPMS/noarch/*.rpm
  rm -f "$root/var/lib/rpm/"*-wal "$root/var/lib/rpm/"*-shm "$root/var/lib/rpm/.rpm.lock"
}

case "$KIND" in
  alpine)
    printf 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n' >"$root/etc/os-release"
    mkdir -p "$root/lib/apk/db"
    { apk_package musl 1.2.5-r0 musl
      apk_package busybox 1.36.1-r29 busybox
      apk_package libcrypto3 3.3.0-r2 openssl
      apk_package libssl3 3.3.0-r2 openssl
      apk_package zlib 1.3.1-r1 zlib
      apk_package apk-tools 2.14.4-r0 apk-tools; } >"$root/lib/apk/db/installed"
    ;;
  rocky)
    printf 'NAME="Rocky Linux"\nVERSION="9.3 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\nPRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"\n' >"$root/etc/os-release"
    command -v rpmbuild >/dev/null || { echo "fixture-rootfs: install rpm (scripts/install-deps.sh)" >&2; exit 1; }
    rpm_packages
    ;;
  busybox) ;;
  *) echo "fixture-rootfs: unknown kind $KIND" >&2; exit 1 ;;
esac
tar -C "$root" --numeric-owner --owner=0 --group=0 -cf "$work/rootfs.tar" .
mv "$work/rootfs.tar" "$OUT"
echo "$OUT"
