# Redis from Debian's packages on 127.0.0.1:6379, without persistence. Sourced by scripts/services.sh.

redis_answers() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

redis_up() {
  command -v redis-server >/dev/null || apt_install redis-server
  redis_answers && return 0
  mkdir -p "$STATE_DIR/redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir "$STATE_DIR/redis" --logfile "$STATE_DIR/redis/redis.log" --pidfile "$STATE_DIR/redis/redis.pid"
  wait_until 30 redis_answers
}

redis_down() {
  redis_answers && redis-cli -h 127.0.0.1 -p 6379 shutdown nosave >/dev/null 2>&1
  say redis "stopped"
}

redis_status() {
  if redis_answers; then
    say redis "Redis $(redis-cli -h 127.0.0.1 -p 6379 info server | awk -F: '/^redis_version/ { print $2 }' | tr -d '\r') on 127.0.0.1:6379, no persistence"
  else
    say redis "not running"
    return 1
  fi
}
