"""gunicorn settings for the web service: one worker process per core, a few threads each
(requests wait on the database and on numpy, which release the GIL), on $GEO_WEB_BIND."""

import multiprocessing
import os

bind = os.environ.get("GEO_WEB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GEO_WEB_WORKERS", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GEO_WEB_THREADS", 4))
timeout = 120  # an import of a large file
graceful_timeout = 20
accesslog = os.environ.get("GEO_WEB_ACCESS_LOG")  # unset: no access log
wsgi_app = "web:create_app()"
