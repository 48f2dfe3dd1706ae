#!/usr/bin/env bash
# Real application dependencies for the Images scale benchmark
# (tests/src/bin/bench-images-scale.rs), fetched with the ecosystems' own
# clients and cached under ~/.cache/opsdeck/images/bench-apps (printed on stdout):
#   py/    a Flask web app's packages, installed by pip (--target) as they would be
#          into /usr/local/lib/python3.11/dist-packages: flask, requests and
#          their dependencies (*.dist-info/METADATA, RECORD)
#   npm/   an Express app: package.json, package-lock.json, node_modules (npm install)
# OPSDECK_REBUILD=1 makes them again. Versions are pinned at the top level;
# dependencies resolve to what the registries serve on the day it runs.
set -euo pipefail
out="${OPSDECK_CACHE:-$HOME/.cache/opsdeck}/images/bench-apps"
if [[ -f "$out/.done" && -z "${OPSDECK_REBUILD:-}" ]]; then
  echo "$out"
  exit 0
fi
rm -rf "$out" && mkdir -p "$out"
{
  python3 -m pip install --quiet --disable-pip-version-check --no-compile --target "$out/py" \
    'flask==3.1.3' 'requests==2.31.0' 'urllib3==1.26.18' 'gunicorn==23.0.0'
  rm -rf "$out/py/bin"
  cat > "$out/py/app.py" <<'PY'
import requests
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return requests.get("http://localhost:9/health", timeout=1).text
PY
  mkdir -p "$out/npm"
  (cd "$out/npm" && echo '{"name":"web","version":"1.0.0","private":true}' > package.json &&
    npm install --silent --no-audit --no-fund 'express@4.21.2' 'lodash@4.17.20' 'axios@1.7.9' &&
    echo 'require("express")().get("/", (q, r) => r.send("ok")).listen(8080);' > server.js)
} >&2
touch "$out/.done"
echo "$out"
