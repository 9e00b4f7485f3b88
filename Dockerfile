# The same environment as scripts/setup.sh, running the main job on the embedded region.
FROM python:3.11-slim-bookworm
WORKDIR /app
COPY requirements.txt ./
COPY scripts/setup.sh scripts/
RUN bash scripts/setup.sh
COPY . .
ENV GEO_CACHE_DIR=/app/.cache/networks
CMD ["bash", "scripts/run.sh"]
