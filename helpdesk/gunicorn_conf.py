"""gunicorn settings for the Docker image and the load run:
``gunicorn -c python:helpdesk.gunicorn_conf``.

Synchronous workers, one request per process at a time: the load run measured threads as
slower here, because the pages are CPU-bound Python and threads of one process share the
GIL, so each database round trip waits for it again (inbox p50 inside gunicorn 574 ms with
4 threads per worker against 124 ms with one, same load and machine).
"""

import os

wsgi_app = "helpdesk.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = "-"
