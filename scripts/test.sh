#!/usr/bin/env bash
# Install what the tests need, then run the whole suite (browser tests included).
#   bash scripts/test.sh [pytest options]
set -euo pipefail
cd "$(dirname "$0")/.."

need() { echo "scripts/test.sh: $*" >&2; exit 1; }

command -v node >/dev/null && command -v npm >/dev/null \
  || need "Node.js 20 and npm are needed (Debian: apt-get install nodejs npm)"

if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's chromium for the browser tests..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    need "the browser tests need Chromium: install Debian's package (sudo apt-get install chromium) and run this again"
  fi
fi

python3 -m pip install -q --disable-pip-version-check -e '.[test,fast]'
thirdspace build-client           # npm ci (three, esbuild, gltf-validator, iwer) and bundle
exec python3 -m pytest "$@"
