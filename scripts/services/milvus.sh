# shellcheck shell=bash
# Milvus standalone (embedded etcd, RocksMQ, local storage) on 127.0.0.1:19530, from the PyPI package
# `milvus`, which bundles a Milvus server binary. Sourced by scripts/services.sh.
#
# The venv and the unpacked binary live in $CACHE_DIR (once per machine); the instance (config, data,
# logs, pid) in $MILVUS_DIR. MILVUS_PORT and MILVUS_DIR let test/helpers/milvus-server.ts start a throwaway
# second instance with this same script.
#
# 2.3.5 is the newest `milvus` on PyPI (the server reports "v2.3.5-lite"). Why not milvus-lite: 2.5.x
# serves gRPC on TCP but refuses HNSW ("local mode only support FLAT IVF_FLAT AUTOINDEX") and answers
# CheckHealth with an empty message; 3.x is a Python re-implementation rather than the Milvus server.

MILVUS_VERSION="2.3.5"
MILVUS_PORT="${MILVUS_PORT:-19530}"
MILVUS_DIR="${MILVUS_DIR:-$STATE_DIR/milvus}"
MILVUS_VENV="$CACHE_DIR/milvus-$MILVUS_VERSION/venv"
MILVUS_BIN="$CACHE_DIR/milvus-$MILVUS_VERSION/bin"

milvus_pid() {
  local pid
  pid=$(cat "$MILVUS_DIR/milvus.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Prints the server's version and returns 0 when CheckHealth says healthy, through the Node SDK the
# adapter uses (so "answers" means "answers the client SLO-Scout runs").
milvus_answers() { node "$ROOT/scripts/services/milvus/probe.mjs" "127.0.0.1:$MILVUS_PORT"; }

# Milvus' own readiness endpoint on its metrics port: cheap enough to poll while the server starts.
milvus_ready() {
  local metrics
  metrics=$(cut -d' ' -f1 "$MILVUS_DIR/ports" 2>/dev/null) || return 1
  [ "$(curl -fsS --max-time 2 "http://127.0.0.1:$metrics/healthz" 2>/dev/null)" = "OK" ]
}

milvus_install() {
  [ -x "$MILVUS_VENV/bin/python" ] && "$MILVUS_VENV/bin/python" -c "import milvus" 2>/dev/null && return 0
  python3 -c "import venv, ensurepip" 2>/dev/null || apt_install python3 python3-venv
  rm -rf "$MILVUS_VENV"
  python3 -m venv "$MILVUS_VENV"
  "$MILVUS_VENV/bin/pip" install -q --disable-pip-version-check "milvus==$MILVUS_VERSION"
}

milvus_up() {
  [ -n "$(milvus_pid)" ] && milvus_ready && return 0
  if ! port_free "$MILVUS_PORT" && [ -z "$(milvus_pid)" ]; then
    # A Milvus started elsewhere (another checkout's .services/) serves the tests just as well.
    milvus_answers >/dev/null 2>&1 && return 0
    echo "milvus: 127.0.0.1:$MILVUS_PORT is taken by another process (not started by this script)" >&2
    return 1
  fi
  command -v curl >/dev/null || apt_install curl
  milvus_install
  mkdir -p "$MILVUS_DIR"
  if [ -z "$(milvus_pid)" ]; then
    "$MILVUS_VENV/bin/python" "$ROOT/scripts/services/milvus/configure.py" \
      "$(dirname "$MILVUS_BIN")" "$MILVUS_DIR" "$MILVUS_PORT" >"$MILVUS_DIR/ports"
    # In its own session, so the server outlives the shell (and the CI step) that started it.
    (
      cd "$MILVUS_DIR" || exit 1
      DEPLOY_MODE=STANDALONE METRICS_PORT="$(cut -d' ' -f1 "$MILVUS_DIR/ports")" \
        MILVUSCONF="$MILVUS_DIR/configs" LD_LIBRARY_PATH="$MILVUS_BIN${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        setsid nohup "$MILVUS_BIN/milvus" run standalone >"$MILVUS_DIR/logs/stdout.log" 2>&1 </dev/null &
      echo $! >"$MILVUS_DIR/milvus.pid"
    )
  fi
  # healthz turns OK before the proxy serves requests (after a restart it waits for the old session in
  # etcd to expire, about 10 s), so readiness is the SDK's CheckHealth answering. A server that exits
  # while starting (a port taken meanwhile, a bad config) fails at once instead of after the timeout.
  if ! wait_until 180 milvus_started; then
    echo "milvus: not ready on 127.0.0.1:$MILVUS_PORT after 180 s; see $MILVUS_DIR/logs/" >&2
    return 1
  fi
  if [ -z "$(milvus_pid)" ]; then
    echo "milvus: the server exited while starting; see $MILVUS_DIR/logs/stdout.log:" >&2
    tail -5 "$MILVUS_DIR/logs/stdout.log" >&2
    return 1
  fi
}

# True once the server answers, or once it has exited (milvus_up tells the two apart).
milvus_started() { [ -z "$(milvus_pid)" ] || { milvus_ready && milvus_answers; }; }

milvus_down() {
  local pid
  pid=$(milvus_pid) || true
  if [ -n "$pid" ]; then
    kill "$pid"
    # A graceful stop flushes RocksMQ and etcd; give it 30 s before forcing it.
    wait_until 30 sh -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$MILVUS_DIR/milvus.pid"
  say milvus "stopped"
}

milvus_status() {
  local version pid
  if version=$(milvus_answers 2>/dev/null); then
    pid=$(milvus_pid) || pid="not started by this script"
    say milvus "Milvus $version on 127.0.0.1:$MILVUS_PORT (pid $pid)"
  else
    say milvus "not running"
    return 1
  fi
}
