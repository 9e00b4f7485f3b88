#!/usr/bin/env bash
# Quick start, part 2: set up, lint, check import layers and types, then run the whole test
# suite (slow tests included). The registry tests also run on a throwaway PostgreSQL + PostGIS
# server: scripts/setup_postgres.sh installs it, and GEO_REQUIRE_POSTGRES=1 makes a missing one
# fail those tests rather than skip them; likewise Chromium for the map UI's browser tests.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not slow"` while developing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m ruff check geo web tests scripts
.venv/bin/lint-imports
.venv/bin/python -m mypy
bash scripts/setup_postgres.sh
export GEO_REQUIRE_POSTGRES=1
# The map UI's tests run in Debian's headless Chromium (tests/browser; -m "not browser" skips).
bash scripts/setup_browser.sh
export GEO_REQUIRE_BROWSER=1
exec .venv/bin/python -m pytest "$@"
