#!/usr/bin/env bash
# Real language-package artifacts for the image tests (tests/tests/images_lang.rs),
# fetched from the package registries with their own clients and built here,
# cached under ~/.cache/opsdeck/images/lang (printed on stdout):
#   py-base/   urllib3 1.26.18 installed by pip (--target): *.dist-info/METADATA
#   py-app/    requests 2.31.0 installed by pip
#   npm/       lodash 4.17.20 installed by npm: node_modules/lodash/package.json, package-lock.json
#   maven/     snakeyaml-1.33.jar from Maven Central (META-INF/maven/.../pom.properties)
#   go/gobin   a Go program built here (/usr/local/go) that uses golang.org/x/text v0.3.7
#   rust/      a Cargo.lock resolving smallvec 1.6.0 from crates.io
#   rust-bin/svc  the same crate built with cargo-auditable (its .dep-v0 section)
# OPSDECK_REBUILD=1 makes them again.
set -euo pipefail
out="${OPSDECK_CACHE:-$HOME/.cache/opsdeck}/images/lang"
if [[ -f "$out/.done" && -z "${OPSDECK_REBUILD:-}" ]]; then
  echo "$out"
  exit 0
fi
rm -rf "$out" && mkdir -p "$out"
export PATH="/usr/local/go/bin:$PATH"
{
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --no-compile --target "$out/py-base" 'urllib3==1.26.18'
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --no-compile --target "$out/py-app" 'requests==2.31.0'
  rm -rf "$out"/py-*/bin

  mkdir -p "$out/npm"
  (cd "$out/npm" && echo '{"name":"svc","version":"1.0.0","private":true}' > package.json &&
    npm install --silent --no-audit --no-fund 'lodash@4.17.20')

  mkdir -p "$out/maven"
  mvn -q dependency:copy -Dartifact=org.yaml:snakeyaml:1.33 -DoutputDirectory="$out/maven"

  mkdir -p "$out/go-src"
  cat > "$out/go-src/main.go" <<'GO'
package main

import (
	"fmt"

	"golang.org/x/text/language"
)

func main() { fmt.Println(language.MustParse("zh-Hans-CN")) }
GO
  (cd "$out/go-src" && go mod init example.com/svc >/dev/null 2>&1 && go get golang.org/x/text@v0.3.7 >/dev/null 2>&1 &&
    mkdir -p "$out/go" && CGO_ENABLED=0 go build -trimpath -o "$out/go/gobin" .)

  mkdir -p "$out/rust/src"
  printf '[package]\nname = "svc"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nsmallvec = "=1.6.0"\n' > "$out/rust/Cargo.toml"
  echo 'fn main() { let v: smallvec::SmallVec<[u8; 4]> = smallvec::smallvec![1, 2]; println!("{}", v.len()); }' > "$out/rust/src/main.rs"
  cargo auditable --version >/dev/null 2>&1 || cargo install --quiet --locked cargo-auditable
  (cd "$out/rust" && cargo generate-lockfile --quiet &&
    CARGO_TARGET_DIR="$out/rust-target" cargo auditable build --quiet --release &&
    mkdir -p "$out/rust-bin" && cp "$out/rust-target/release/svc" "$out/rust-bin/svc" && rm -rf "$out/rust-target")
} >&2
touch "$out/.done"
echo "$out"
