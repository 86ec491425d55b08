#!/usr/bin/env bash
# The project's backing services, installed and started on loopback by the project itself:
#   scripts/services.sh up|down|status [name...]
# Names: postgres redis kafka milvus promtool minilm chromium (all when none is given; minilm is the real
# all-MiniLM-L6-v2 model as ONNX, for the embedding tests; chromium, the browser of the console's test).
# `up` installs what is missing (Debian packages, Maven Central jars, a PyPI venv), starts the service
# idempotently, waits until it answers and prints one line per service. Each service lives in
# scripts/services/<name>.sh and defines <name>_up, <name>_down and <name>_status (status prints one line
# and returns 0 when the service answers).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Runtime state (data directories, logs, generated config, copied jars): git-ignored, per checkout.
STATE_DIR="${SLO_SCOUT_SERVICES_STATE:-$ROOT/.services}"
# Downloads worth keeping between checkouts and CI runs on the same machine (a venv; Maven keeps ~/.m2).
CACHE_DIR="${SLO_SCOUT_SERVICES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slo-scout}"
ALL_SERVICES=(postgres redis kafka milvus promtool minilm chromium)
export ROOT STATE_DIR CACHE_DIR

say() { printf '%-9s %s\n' "$1:" "$2"; }

# wait_until <seconds> <command...>: retries every 0.5 s; returns 1 when the time runs out.
wait_until() {
  local seconds=$1
  shift
  local tries=$((seconds * 2))
  for _ in $(seq 1 "$tries"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}

apt_updated=""
# apt_install <package...>: installs Debian packages that are missing, running apt-get update once.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "$apt_updated" ]; then
    apt-get update -qq
    apt_updated=1
  fi
  # Packaged daemons must not start on install: the script starts each one itself, on loopback.
  local created_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  local log="$STATE_DIR/apt-install.log" status=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1 ||
    status=$?
  if [ -n "$created_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
  if [ $status -ne 0 ]; then
    echo "apt-get install ${missing[*]} failed (exit $status):" >&2
    tail -20 "$log" >&2
    return $status
  fi
}

# port_free <port>: true when nothing listens on 127.0.0.1:<port>.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

usage() {
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

main() {
  [ $# -ge 1 ] || usage 2
  local action=$1
  shift
  case "$action" in
    up | down | status) ;;
    -h | --help | help) usage 0 ;;
    *)
      echo "services.sh: unknown action '$action' (use up, down or status)" >&2
      exit 2
      ;;
  esac
  local names=("$@")
  [ ${#names[@]} -gt 0 ] || names=("${ALL_SERVICES[@]}")
  mkdir -p "$STATE_DIR" "$CACHE_DIR"
  local failed=0
  for name in "${names[@]}"; do
    if [ ! -f "$ROOT/scripts/services/$name.sh" ]; then
      echo "services.sh: unknown service '$name' (known: ${ALL_SERVICES[*]})" >&2
      exit 2
    fi
    # shellcheck source=/dev/null
    source "$ROOT/scripts/services/$name.sh"
    local started=$SECONDS
    if ! "${name}_${action}"; then
      failed=1
      if [ "$action" != status ]; then say "$name" "FAILED to $action ($((SECONDS - started)) s)"; fi
    elif [ "$action" = up ]; then
      echo "$("${name}_status" 2>&1 | head -1) [up in $((SECONDS - started)) s]"
    fi
  done
  return $failed
}

main "$@"
