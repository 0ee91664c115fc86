"""gunicorn settings of `make run` (and of the test that serves the app the same way).

Several workers: anything per process (a secret key, a cache of who is signed in) would
differ between them, so the app keeps such state in var/ or in PostgreSQL.
"""
workers = 2
threads = 4
accesslog = "-"
# %(p)s, the worker's pid as <1234>, shows which process answered.
access_log_format = '%(h)s %(p)s "%(r)s" %(s)s %(b)s %(M)sms'
