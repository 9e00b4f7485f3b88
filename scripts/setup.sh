#!/usr/bin/env bash
# Create .venv with the pinned dependencies; a no-op when requirements.txt has not changed.
# Works on a fresh Debian machine with Python 3.11 (installs python3-venv with apt when root).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: Python 3.11 or newer is needed ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    rm -rf .venv
    if ! "$PYTHON" -m venv .venv >/dev/null 2>&1; then
        rm -rf .venv
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "setup: installing python3-venv with apt-get" >&2
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
            "$PYTHON" -m venv .venv
        else
            echo "error: '$PYTHON -m venv' failed; install python3-venv (sudo apt-get install python3-venv)" >&2
            exit 1
        fi
    fi
fi

stamp=.venv/.requirements.sha256
wanted=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
    echo "setup: installing pinned dependencies into .venv (first run takes a minute)" >&2
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r requirements.txt
    echo "$wanted" > "$stamp"
fi

# The map UI's front-end libraries (Leaflet and plugins), pinned by web/ui/package-lock.json and
# served by the app itself: `npm ci` when the lockfile changed.
ui=web/ui
ui_stamp=$ui/node_modules/.lock.sha256
ui_wanted=$(sha256sum $ui/package-lock.json | cut -d' ' -f1)
if [ "$(cat "$ui_stamp" 2>/dev/null || true)" != "$ui_wanted" ]; then
    if ! command -v npm >/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "setup: installing Node.js and npm with apt-get (for the map's libraries)" >&2
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
        else
            echo "error: npm is needed to install the map's libraries (sudo apt-get install npm)" >&2
            exit 1
        fi
    fi
    echo "setup: installing the map's libraries with npm ci (pinned by package-lock.json)" >&2
    (cd $ui && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$ui_wanted" > "$ui_stamp"
fi

# Compile the service areas' loops once (numba keeps the machine code beside their modules), so
# that the first service area after an install does not wait ~20 s for it: again whenever those
# modules, their callers (which decide the types they are compiled for) or the dependencies
# change.
# (The Dockerfile runs this once before copying the code, for the dependencies' layer, and again
# after.)
kernels_stamp=geo/analysis/__pycache__/.warm-up.sha256
if [ -f geo/analysis/warm_up.py ]; then
    kernels_wanted=$(cat geo/analysis/grid_kernel.py geo/analysis/stretch_kernel.py \
        geo/analysis/lonlat_fit.py geo/analysis/warm_up.py geo/analysis/area_grid.py \
        geo/analysis/service_areas.py geo/routing/costs.py geo/routing/compiled_search.py \
        geo/routing/search.py requirements.txt \
        | sha256sum | cut -d' ' -f1)
else
    kernels_wanted=none
fi
if [ "$kernels_wanted" != none ] && [ "$(cat "$kernels_stamp" 2>/dev/null || true)" != "$kernels_wanted" ]; then
    echo "setup: compiling the service areas' loops (once, about 20 s)" >&2
    .venv/bin/python -m geo.analysis.warm_up
    mkdir -p "$(dirname "$kernels_stamp")"
    echo "$kernels_wanted" > "$kernels_stamp"
fi

# Byte-compile the project's own modules, as pip does for installed packages: where Python may
# not write its cache itself (PYTHONDONTWRITEBYTECODE, as on this project's build machines, or
# a read-only install), every command would otherwise compile all of them again at start-up
# (about 0.2 s of a command's start). Only changed files are compiled again.
.venv/bin/python -m compileall -q geo web
