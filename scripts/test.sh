#!/usr/bin/env bash
# Set up .venv and run the whole test suite; integration tests start real servers themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh embedded,dev
bash scripts/install-browser.sh || echo "install-browser failed: the explorer browser test will skip" >&2
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
