#!/usr/bin/env bash
# Quick start, part 1: set up, then run the main job on the embedded Liechtenstein region:
# build the drive and walk networks (cached after the first run), route one example trip,
# dispatch for one example incident on the demo registry (built from real OSM features, with
# demo team attributes, into instance/registry.sqlite the first time: explicitly, here; the
# analyses never make a demo on their own), coverage, siting 3 more shelters and evacuating the
# demo flood band, then start the web service (scripts/serve.sh),
# which prints its address and, on the first start, the first login.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export GEO_CACHE_DIR=${GEO_CACHE_DIR:-$PWD/.cache/networks}
geo() { .venv/bin/python -m geo "$@"; }
geo network build --mode drive
geo network build --mode walk
echo
echo "Example trip: central Vaduz to Schaan, by car and on foot"
geo route --mode drive --from 47.1410,9.5209 --to 47.1650,9.5100
geo route --mode walk --from 47.1410,9.5209 --to 47.1650,9.5100
echo
if [ ! -f instance/registry.sqlite ] && [ -z "${GEO_DB_URL:-}" ]; then
    echo "Building the demo registry of Liechtenstein (real OSM features, demo team attributes)"
    geo registry demo
fi
echo
echo "Example incident in Schaan: the 3 nearest available teams, 500 water, shelters with room"
geo dispatch --at 47.1650,9.5100 --k 3 --items water=500
echo
echo "Walking coverage of the population by the demo shelters"
geo coverage --breaks 5,10,15
echo
echo "Siting: where 3 more shelters put the most people within a 10-minute walk"
geo site --problem mclp --p 3 --keep-existing
echo
echo "Evacuation: the people inside the demo's Rhine flood band to safe shelters with room"
geo evacuate --hazard H-flood-rhine || echo "(this registry has no demo flood band H-flood-rhine: skipped)"
echo
if [ "${GEO_RUN_NO_SERVICE:-}" = 1 ]; then
    exit 0
fi
echo "Starting the web service (Ctrl-C stops it); on the first start it prints the first login."
echo "Later starts: sign in with the password you chose (reset it with"
echo "  .venv/bin/flask --app web user password admin)"
exec bash scripts/serve.sh
