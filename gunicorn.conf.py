"""gunicorn settings for the survey engine (see docs/deployment.md).

    gunicorn -c gunicorn.conf.py wsgi:app

gunicorn also reads this file by itself when started from this folder. Every setting can be
changed from the environment, so the same file serves one small SQLite server and a row of
app servers in front of one PostgreSQL:

- ``GUNICORN_BIND`` (or ``HOST``/``PORT``): where to listen, default ``127.0.0.1:8000``
  (behind a reverse proxy on the same machine);
- ``WEB_CONCURRENCY``: worker processes, default two per CPU core plus one, at most 8;
- ``GUNICORN_THREADS``: threads per worker, default 4 (``gthread`` workers; 1 gives ``sync``);
- ``GUNICORN_TIMEOUT``: seconds a worker may stay silent before it is replaced, default 30;
- ``GUNICORN_MAX_REQUESTS``: requests after which a worker is recycled, default 100,000;
- ``GUNICORN_PRELOAD=1``: load the app once in the master before forking (PostgreSQL only);
- ``GUNICORN_ACCESS_LOG=1``: log every request to stdout (see the note on access codes);
- ``GUNICORN_CONTROL_SOCKET``: path of gunicorn's control socket, off by default.
"""

from __future__ import annotations

import os

_cores = os.cpu_count() or 1
_database_url = os.environ.get("DATABASE_URL", "sqlite:")

bind = os.environ.get(
    "GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
# Each request is short (one page, one small transaction). Two processes per core plus one
# keep the CPUs busy while some requests wait on the database; more than 8 only adds lock
# contention on SQLite and connections on PostgreSQL.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * _cores + 1, 8)))
# Threads (gthread workers) keep tablets' connections alive between pages and let a worker
# serve another request while one waits on the database. The load benchmark
# (benchmarks/run_load.py) measured about twice the throughput of sync workers on two cores,
# the same for the one-INSERT floor.
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread" if threads > 1 else "sync"

# A pupil page answers in milliseconds; a worker silent for 30 s is stuck and is replaced.
# The longest legitimate request is an export, which should not run inside a request anyway.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM (a deploy) workers finish the page they are saving before they exit.
graceful_timeout = 20
# An idle kept-alive connection is closed after 5 s; a tablet thinking longer opens a new
# one (browsers retry such a request by themselves). Behind a proxy this is its upstream link.
keepalive = 5
# Recycle workers now and then so slow memory growth never builds up; the jitter keeps them
# from all restarting at once. Not too often: a worker takes a few CPU seconds to boot (the
# app imports pandas and matplotlib), and at 5,000 the load benchmark's workers restarted
# every 3 minutes. GUNICORN_MAX_REQUESTS=0 switches recycling off.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = max_requests // 10

# Preloading shares one app (and one database engine) between forked workers. SQLite
# connections must never cross a fork, and the app is small, so the default is off. With
# PostgreSQL it may be switched on to save memory; post_fork below then drops the
# inherited connection pool so every worker opens its own connections.
preload_app = os.environ.get("GUNICORN_PRELOAD") == "1" and not _database_url.startswith("sqlite")

# gunicorn 24+ opens a control socket at one fixed path per user, so two servers on one
# machine (a second site, a test run) would fight over it. Off unless a path is given.
_control = os.environ.get("GUNICORN_CONTROL_SOCKET")
if _control:
    control_socket = _control
else:
    control_socket_disable = True

# Heartbeat files in memory, not on a possibly slow disk (containers).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - gunicorn's heartbeat files

# Off by default: a card's link (/s/<code>) carries the clear access code, which the
# database keeps only as a keyed hash. Switch it on only to debug, and delete the log after.
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG") == "1" else None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def post_fork(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    """With a preloaded app, every worker starts with its own database connections."""
    if not preload_app:
        return
    from surveyapp.extensions import db

    app = server.app.wsgi()
    with app.app_context():
        db.engine.dispose(close=False)
