#!/usr/bin/env bash
# A minimal Debian 12 root filesystem (debootstrap --variant=minbase), as a tar
# for `docker import`, built once and cached by suite under ~/.cache/opsdeck/images.
# The mirror is the one this machine's apt already uses.
#   scripts/images/debian-rootfs.sh   -> prints the tar's path
set -euo pipefail
SUITE="${SUITE:-bookworm}"
CACHE="${OPSDECK_CACHE:-$HOME/.cache/opsdeck}/images"
OUT="$CACHE/debian-$SUITE-minbase.tar"
[[ -s "$OUT" ]] && { echo "$OUT"; exit 0; }
command -v debootstrap >/dev/null || { echo "debian-rootfs: install debootstrap (scripts/install-deps.sh)" >&2; exit 1; }
[[ "$(id -u)" == 0 ]] || { echo "debian-rootfs: debootstrap needs root" >&2; exit 1; }

# The first Debian archive URI apt is configured with (deb822 or one-line format).
mirror="$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v -- '-security' | head -n1 || true)"
[[ -n "$mirror" ]] || mirror="$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | grep -v -- '-security' | head -n1 || true)"
[[ -n "$mirror" ]] || { echo "debian-rootfs: no Debian mirror in /etc/apt sources" >&2; exit 1; }

mkdir -p "$CACHE"
work="$(mktemp -d "$CACHE/.debootstrap.XXXXXX")"
trap 'rm -rf "$work"' EXIT
debootstrap --variant=minbase "$SUITE" "$work/root" "$mirror" >"$work/log" 2>&1 || { tail -n 20 "$work/log" >&2; exit 1; }
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
tar -C "$work/root" --numeric-owner -cf "$work/rootfs.tar" .
mv "$work/rootfs.tar" "$OUT"
echo "$OUT"
