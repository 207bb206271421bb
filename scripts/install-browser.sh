#!/usr/bin/env bash
# Headless Chromium for the explorer page test (Debian's `chromium` package). Idempotent: does nothing when
# /usr/bin/chromium exists; installs only as root (the test skips with the reason otherwise).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "install-browser: /usr/bin/chromium is missing and we are not root: skipping (the browser test will skip)" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: no apt-get here: skipping (the browser test will skip)" >&2
  exit 0
fi
echo "install-browser: installing Debian's chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version >&2
