"""gunicorn settings for the Docker image and the load run:
``gunicorn -c python:helpdesk.gunicorn_conf``.

Threaded workers: a slow request (a full-text search over a million tickets) holds one thread,
not a whole process, so quick pages are not queued behind it. Each process still runs Python
on one core at a time; WEB_CONCURRENCY processes use the cores.
"""

import os

wsgi_app = "helpdesk.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
accesslog = "-"
# Longer than an agent's pause between clicks: a kept-alive connection closed by the server
# just as the client reuses it would fail that request.
keepalive = 75
