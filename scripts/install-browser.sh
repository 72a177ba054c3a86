#!/usr/bin/env bash
# Debian's Chromium for the browser tests. Playwright drives it; `playwright install`
# (which downloads a browser build of its own) is never used.
set -uo pipefail
[ -x /usr/bin/chromium ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "No apt-get here: install Chromium yourself to run the browser tests." >&2; exit 1
fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
echo "==> Installing Chromium for the browser tests (first run only)"
$SUDO apt-get update -qq >/dev/null && \
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    chromium fonts-noto-cjk fonts-noto-color-emoji >/dev/null
[ -x /usr/bin/chromium ] || {
  echo "Chromium could not be installed; browser tests will be skipped." >&2; exit 1; }
