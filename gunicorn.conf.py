"""gunicorn settings of `make run` (and of the test that serves the app the same way).

Several workers: anything per process (a secret key, a cache of who is signed in) would
differ between them, so the app keeps such state in var/ or in PostgreSQL.

One worker process per core (at least 2, so that one busy worker never holds every
request), 4 threads each: a thread waiting for PostgreSQL lets another of its process
run; processes use the cores that Python's interpreter lock keeps threads off. On a
machine shared with PostgreSQL the database needs cores too: more workers than cores
only queue on them. `preload_app` stays off: it would import the app once before the
fork (less memory), but `systemctl reload` would then keep serving the old code after
an upgrade (README, "Workers").
"""
import os

workers = max(2, os.cpu_count() or 1)
threads = 4
accesslog = "-"
# %(p)s, the worker's pid as <1234>, shows which process answered.
access_log_format = '%(h)s %(p)s "%(r)s" %(s)s %(b)s %(M)sms'


def post_worker_init(worker):  # noqa: ARG001 - gunicorn's hook signature
    """Build what the app builds on first use (the CQL2 filter parser, ~0.9 s) before
    the worker takes its first request, so no visitor waits for it; the command line
    never pays for it."""
    from gis_app.services.cql2 import text_parser

    text_parser()
