#!/usr/bin/env bash
# Create .venv and install the project with the given extras (idempotent; re-installs when pyproject changes).
# Usage: scripts/bootstrap.sh EXTRAS   e.g. "embedded" or "embedded,dev"
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-embedded}"
py="${PYTHON:-python3}"

if ! "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "journeys needs Python 3.11 or newer as '$py' (set PYTHON=...)" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$py" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    # Debian ships venv separately; install it when we are allowed to.
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      "$py" -m venv .venv
    else
      echo "could not create a virtualenv: install python3-venv (apt-get install python3-venv)" >&2
      exit 2
    fi
  fi
fi
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)-${extras//,/_}"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[${extras}]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
