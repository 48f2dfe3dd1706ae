#!/usr/bin/env bash
# Installs the Debian packages Opsdeck needs to build, run and test.
# Idempotent: packages already present are skipped by apt.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PKGS=(
  # Tauri build
  build-essential pkg-config curl wget file libssl-dev libwebkit2gtk-4.1-dev
  libxdo-dev libayatana-appindicator3-dev librsvg2-dev
  # real services for the tests
  docker.io etcd-server etcd-client openssl iproute2 protobuf-compiler libprotobuf-dev busybox-static librsvg2-bin time rpm debootstrap
  # a real SMTP server for the notification tests (scripts/services/smtp.sh)
  python3-aiosmtpd
  # a real container registry (Distribution v2) for the image scan tests (scripts/services/registry.sh)
  docker-registry
  # genuine OCI image layouts (skopeo copy docker-archive: oci:) for the --input tests
  skopeo
  # JUnit reports validated against docs/schema/junit.xsd
  libxml2-utils
  # end-to-end tests and keychain
  xvfb xauth webkit2gtk-driver dbus dbus-x11 gnome-keyring libsecret-tools
  # a CJK font, so the zh-CN screens render (the .deb depends on one too)
  fonts-wqy-microhei
  # the CLI's completion scripts and manual pages, checked by the shells and man that read them
  zsh fish man-db
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The quality gates of scripts/test.sh need rustfmt and clippy next to cargo.
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  if command -v rustup >/dev/null 2>&1; then
    rustup component add rustfmt clippy
  else
    echo "installing: rustfmt and clippy (Debian packages)"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rustfmt rust-clippy
  fi
fi
