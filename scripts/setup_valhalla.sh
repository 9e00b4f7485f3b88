#!/usr/bin/env bash
# Create a Python 3.12 virtual environment with the pyvalhalla wheel (Valhalla's routing engine
# and its tile builder, for scripts/bench_valhalla.py); a no-op when it is there already.
#
#     scripts/setup_valhalla.sh [VENV_DIR]   # default $GEO_CACHE_DIR/valhalla/venv or
#                                            # .cache/valhalla/venv
#
# The wheel is built for CPython 3.12 (cp312-abi3), newer than the project's 3.11: the script
# looks for $PYTHON312, python3.12 on PATH, then pyenv's 3.12 builds. Prints the venv's python on
# stdout; exits 3 with a message on stderr when no Python 3.12 is found.
set -euo pipefail
cd "$(dirname "$0")/.."
PYVALHALLA_VERSION=3.9.1

if [ -n "${GEO_CACHE_DIR:-}" ]; then
    default_venv="$GEO_CACHE_DIR/valhalla/venv"
else
    default_venv=.cache/valhalla/venv
fi
venv=${1:-$default_venv}

is_312() { [ -x "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; }

if ! is_312 "$venv/bin/python"; then
    python=""
    for candidate in "${PYTHON312:-}" "$(command -v python3.12 || true)" \
                     "$HOME"/.pyenv/versions/3.12*/bin/python /root/.pyenv/versions/3.12*/bin/python; do
        if [ -n "$candidate" ] && is_312 "$candidate"; then
            python=$candidate
            break
        fi
    done
    if [ -z "$python" ]; then
        echo "setup_valhalla: no Python 3.12 found (set PYTHON312, put python3.12 on PATH or" \
             "install it with pyenv); pyvalhalla $PYVALHALLA_VERSION's wheel needs it" >&2
        exit 3
    fi
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
fi

stamp="$venv/.pyvalhalla-$PYVALHALLA_VERSION"
if [ ! -f "$stamp" ]; then
    echo "setup_valhalla: installing pyvalhalla==$PYVALHALLA_VERSION into $venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "pyvalhalla==$PYVALHALLA_VERSION" >&2
    touch "$stamp"
fi
echo "$venv/bin/python"
