# Debian's chromium: the headless browser the web console's end-to-end test drives with playwright-core
# (which downloads no browser of its own and launches this binary). Not a server. The test finds it at
# CHROMIUM_PATH, else /usr/bin/chromium. Sourced by scripts/services.sh.

chromium_bin() { printf '%s' "${CHROMIUM_PATH:-/usr/bin/chromium}"; }

chromium_up() {
  [ -x "$(chromium_bin)" ] && return 0
  # A font, so the screenshot the test keeps shows text.
  apt_install chromium fonts-dejavu-core
}

chromium_down() { return 0; }

chromium_status() {
  local bin
  bin=$(chromium_bin)
  if [ -x "$bin" ]; then
    # Debian's wrapper script prints a warning of its own on stderr before the version.
    say chromium "$("$bin" --version 2>/dev/null | head -1) ($bin)"
  else
    say chromium "not installed at $bin"
    return 1
  fi
}
