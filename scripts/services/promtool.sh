# promtool from Debian's prometheus package (rule checks and rule unit tests). Not a server: the packaged
# daemon is kept from starting, since it would hold port 9090. Sourced by scripts/services.sh.

promtool_up() {
  command -v promtool >/dev/null || apt_install prometheus
  # Should an init system have started the packaged daemon anyway, stop it.
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
    systemctl stop prometheus
  elif [ -x /etc/init.d/prometheus ] && /etc/init.d/prometheus status >/dev/null 2>&1; then
    /etc/init.d/prometheus stop >/dev/null
  fi
  return 0
}

promtool_down() { return 0; }

promtool_status() {
  if command -v promtool >/dev/null; then
    say promtool "$(promtool --version 2>&1 | head -1)"
  else
    say promtool "not installed"
    return 1
  fi
}
