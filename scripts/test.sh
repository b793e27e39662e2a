#!/usr/bin/env bash
# Install what the tests need, then run the whole suite (browser tests included).
#   bash scripts/test.sh [pytest options]
set -euo pipefail
cd "$(dirname "$0")/.."

need() { echo "scripts/test.sh: $*" >&2; exit 1; }

command -v node >/dev/null && command -v npm >/dev/null \
  || need "Node.js 20 and npm are needed (Debian: apt-get install nodejs npm)"

# Debian packages the tests drive for real: Chromium (browser tests), redis-server (cluster
# tests), PostgreSQL (the store on PostgreSQL), docker-compose (the compose file check;
# no Docker engine is needed for that), Janus (voice through an SFU: tests/janus_server.py) and
# coturn (voice relayed through TURN).
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v docker-compose >/dev/null || missing+=(docker-compose)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)  # the PostgreSQL store tests
command -v janus >/dev/null || missing+=(janus)  # the Janus voice tests
command -v turnserver >/dev/null || missing+=(coturn)  # voice relayed through TURN: tests/turn_server.py
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's ${missing[*]} for the tests..."
    apt-get update -qq
    for package in "${missing[@]}"; do
      # Chromium with its recommended fonts; docker-compose without the Docker engine it recommends.
      [ "$package" = chromium ] && recommends=() || recommends=(--no-install-recommends)
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${recommends[@]}" "$package" >/dev/null
    done
  else
    need "the tests need Debian's ${missing[*]}: sudo apt-get install ${missing[*]}, then run this again"
  fi
fi

python3 -m pip install -q --disable-pip-version-check -e '.[test,fast]'
# Lint, format and type-check first (seconds; set -e stops here on a finding): ruff over the code,
# mypy over the pure core ([tool.mypy] in pyproject.toml lists the packages).
python3 -m ruff check server tests fuzz benchmarks
python3 -m ruff format --check server tests fuzz benchmarks
python3 -m mypy
thirdspace build-client           # npm ci (three, esbuild, gltf-validator, iwer, typescript, eslint) and bundle
npm --prefix web_client run --silent check   # the client's JSDoc types (tsc --noEmit) and ESLint
npm ci --prefix benchmarks/peers --silent --no-audit --no-fund   # @colyseus/schema, for benchmarks/sync_scaling.py
exec python3 -m pytest "$@"
