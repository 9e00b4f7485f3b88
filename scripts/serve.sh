#!/usr/bin/env bash
# Start the web service with gunicorn (one worker per core) on $GEO_WEB_BIND (default
# 127.0.0.1:8000). The registry is $GEO_DB_URL (default instance/registry.sqlite), the network
# cache $GEO_CACHE_DIR. On the first start the service creates the user 'admin' and prints its
# one-time password.
set -euo pipefail
cd "$(dirname "$0")/.."
export GEO_WEB_BIND=${GEO_WEB_BIND:-127.0.0.1:8000}
echo "Service starting: open http://$GEO_WEB_BIND/ in a browser for the map (API: /api/docs,"
echo "layers for GIS clients: /collections)"
exec .venv/bin/gunicorn --config web/gunicorn_conf.py
