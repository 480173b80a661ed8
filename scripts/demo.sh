#!/usr/bin/env bash
# Set up (first run only) and run `outcrop demo`; extra arguments go to the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/outcrop demo "$@"
