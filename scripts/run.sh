#!/usr/bin/env bash
# Quick start, part 1: set up, then run the main job on the embedded Liechtenstein region:
# build the drive and walk networks (cached after the first run) and route one example trip.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export GEO_CACHE_DIR=${GEO_CACHE_DIR:-$PWD/.cache/networks}
.venv/bin/python -m geo network build --mode drive
.venv/bin/python -m geo network build --mode walk
echo "Example trip: central Vaduz to Schaan, by car and on foot"
.venv/bin/python -m geo route --mode drive --from 47.1410,9.5209 --to 47.1650,9.5100
.venv/bin/python -m geo route --mode walk --from 47.1410,9.5209 --to 47.1650,9.5100
