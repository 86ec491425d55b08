# Postgres from Debian's packages on 127.0.0.1:5432, trust auth on loopback, database "test".
# Sourced by scripts/services.sh.

postgres_cluster() { # prints "<version> <name>" of the cluster on port 5432, creating one when there is none
  local line
  line=$(pg_lsclusters -h 2>/dev/null | awk '$3 == 5432 { print $1, $2; exit }')
  if [ -z "$line" ]; then
    local version
    version=$(ls /usr/lib/postgresql | sort -V | tail -1)
    pg_createcluster --port 5432 "$version" main >/dev/null
    line="$version main"
  fi
  echo "$line"
}

postgres_trust_loopback() { # <version> <name>: trust auth for TCP on loopback, first in pg_hba.conf
  local hba="/etc/postgresql/$1/$2/pg_hba.conf"
  grep -q "^# slo-scout: trust loopback" "$hba" && return 1
  local tmp
  tmp=$(mktemp)
  {
    echo "# slo-scout: trust loopback (test and development machines only)"
    echo "host all all 127.0.0.1/32 trust"
    echo "host all all ::1/128 trust"
    cat "$hba"
  } >"$tmp"
  cat "$tmp" >"$hba"
  rm -f "$tmp"
}

postgres_up() {
  command -v pg_createcluster >/dev/null || apt_install postgresql
  local version name
  read -r version name < <(postgres_cluster)
  local changed=""
  postgres_trust_loopback "$version" "$name" && changed=1
  if pg_isready -h 127.0.0.1 -p 5432 -q; then
    [ -n "$changed" ] && pg_ctlcluster --skip-systemctl-redirect "$version" "$name" reload
  else
    pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start
    wait_until 30 pg_isready -h 127.0.0.1 -p 5432 -q || return 1
  fi
  if ! psql -h 127.0.0.1 -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
    createdb -h 127.0.0.1 -U postgres test
  fi
}

postgres_down() {
  local line
  line=$(pg_lsclusters -h 2>/dev/null | awk '$3 == 5432 { print $1, $2; exit }')
  [ -n "$line" ] || return 0
  # shellcheck disable=SC2086
  pg_ctlcluster --skip-systemctl-redirect $line stop 2>/dev/null || true
  say postgres "stopped"
}

postgres_status() {
  if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    local version
    version=$(psql -h 127.0.0.1 -U postgres -d test -Atc "SHOW server_version" 2>/dev/null | awk '{print $1}')
    say postgres "Postgres ${version:-?} on 127.0.0.1:5432, database test"
  else
    say postgres "not running"
    return 1
  fi
}
