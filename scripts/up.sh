#!/usr/bin/env bash
# Set up .venv and run the whole stack on the embedded default: graph server, broker, schema, sample
# journey, HTTP API and consumer. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh embedded
exec .venv/bin/journeys up "$@"
