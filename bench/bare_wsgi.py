"""The least a Python answer can cost here: a WSGI app with no framework and no
database, served by gunicorn with the app's own settings (gunicorn.conf.py). It reads
the request body and answers a constant JSON document, so `bench/zone_check.py` can
show how many requests per second any Python endpoint could reach on this machine
beside what the zone check reaches and what pgbench reaches for its statement."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

BODY = b'{"results":[]}'


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(BODY)))])
    return [BODY]
