#!/usr/bin/env bash
# Set up .venv and run the whole test suite; integration tests start real servers themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh embedded,dev
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
