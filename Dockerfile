# The same environment as scripts/setup.sh, running the main job on the embedded region.
FROM python:3.11-slim-bookworm
WORKDIR /app
COPY requirements.txt ./
COPY scripts/setup.sh scripts/
# the map's libraries, pinned by the lockfile (setup.sh runs npm ci)
COPY web/ui/package.json web/ui/package-lock.json web/ui/
RUN bash scripts/setup.sh
COPY . .
# compiles the service areas' loops into the image (the rest of setup is done above)
RUN bash scripts/setup.sh
ENV GEO_CACHE_DIR=/app/.cache/networks GEO_WEB_BIND=0.0.0.0:8000
EXPOSE 8000
# Builds the networks and the demo registry if missing, then serves with gunicorn
# (web:create_app(), one worker per core; see web/gunicorn_conf.py).
CMD ["bash", "scripts/run.sh"]
