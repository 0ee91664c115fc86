"""Engine and sessions (SQLAlchemy 2 + GeoAlchemy2): one session per request.

With `READ_DATABASE_URL` (`GIS_READ_DATABASE_URL`, a streaming standby of DATABASE_URL)
the anonymous GETs of the public map and its APIs (REPLICA_BLUEPRINTS) read from it;
everything else (signing in, anything a signed-in user does, every write, the CLI and
background jobs) uses DATABASE_URL. A standby may lag: what the public sees can be a
moment behind what an official just saved.

The lean path (`Database.lean`): the public's hottest reads (a layer's GeoJSON, the
single zone check) take a pooled psycopg connection in autocommit instead of an ORM
session: one round trip per statement (no BEGIN / set_config / ROLLBACK), prepared
statements, the visitor's statement timeout set once per connection.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from flask import Flask, current_app, g, has_app_context, has_request_context, request, session
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session

EXT = "gis_db"

# Blueprints whose GET/HEAD requests only read, and read only what the public may see:
# the map and relic pages, the festival calendar, the map's APIs, the layers' GeoJSON,
# OpenAPI, search, permanent identifiers (/id/). (Sign-in writes user_sessions and
# sign-in attempts: not here.)
REPLICA_BLUEPRINTS = frozenset({"public", "api_explore", "api_layers", "api_openapi",
                                "api_search", "ids", "api_tiles", "ogc", "opendata"})
# Keys in the (signed cookie) session that mean someone is signed in: Flask-Login's user
# id and the server-side session token (gis_app.auth.SESSION_TOKEN).
SIGNED_IN_KEYS = ("_user_id", "sid")
# The longest a query of a visitor who is not signed in may run: the public map, search
# and the zone check answer in milliseconds; a query that runs longer is a problem to
# stop, not to wait for. Officials' analyses, the CLI and background jobs are not bounded.
PUBLIC_STATEMENT_TIMEOUT_MS = 10_000


class Database:
    """Holds the engine; tests may bind it to one connection inside a transaction."""

    def __init__(self, url: str, read_url: str | None = None) -> None:
        self.engine: Engine = _engine(url)
        self.read_engine: Engine | None = _engine(read_url) if read_url else None
        self.bind: Engine | Connection = self.engine
        self._urls = (url, read_url)
        self._lean: dict[bool, Engine] = {}
        self._lean_lock = threading.Lock()

    @contextmanager
    def lean(self, read_only: bool = False) -> Iterator[psycopg.Connection]:
        """A psycopg connection for one anonymous read, in autocommit, its statements
        bounded by PUBLIC_STATEMENT_TIMEOUT_MS; with `read_only` on the read replica
        if there is one. Pooled apart from the sessions' connections (whose
        transactions it must not share). While tests bind the database to one
        connection, that connection (inside the test's transaction) is used instead.
        """
        if isinstance(self.bind, Connection):
            yield self.bind.connection.driver_connection
            return
        use_replica = read_only and self._urls[1] is not None
        engine = self._lean.get(use_replica) or self._lean_engine(use_replica)
        pooled = engine.raw_connection()  # sqlalchemy.exc.OperationalError if it is down
        try:
            yield pooled.driver_connection
        except psycopg.Error:
            if pooled.driver_connection.closed or pooled.driver_connection.broken:
                pooled.invalidate()  # the server went away: do not pool it again
            raise
        finally:
            pooled.close()

    def _lean_engine(self, use_replica: bool) -> Engine:
        with self._lean_lock:
            if use_replica not in self._lean:
                url = self._urls[1] if use_replica else self._urls[0]
                # Prepared statements with a plan per call: a generic plan of the
                # bbox query (planned for no box in particular) took 2-4x longer on a
                # district-sized box than its custom plan; parsing is still saved.
                self._lean[use_replica] = _engine(
                    url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None,
                    options=f"-c jit=off -c plan_cache_mode=force_custom_plan "
                            f"-c statement_timeout={PUBLIC_STATEMENT_TIMEOUT_MS}")
            return self._lean[use_replica]

    def dispose(self) -> None:
        """Close every pooled connection (e.g. in a worker after fork)."""
        for engine in (self.engine, self.read_engine, *self._lean.values()):
            if engine is not None:
                engine.dispose()

    def session(self, read_only: bool = False) -> Session:
        """A session on the primary; with `read_only` on the read replica if there is
        one (never while tests bind the database to one connection)."""
        if isinstance(self.bind, Connection):
            return Session(bind=self.bind, join_transaction_mode="create_savepoint")
        if read_only and self.read_engine is not None:
            return Session(bind=self.read_engine)
        return Session(bind=self.bind)


def _engine(url: str, options: str = "-c jit=off", **kwargs: object) -> Engine:
    # No pre-ping: it costs a round trip per request; stale connections are
    # recycled instead.
    # JIT off: it compiled the public map's small queries for ~650 ms each once the
    # register grew; this workload is many short queries, never worth compiling.
    return create_engine(url, pool_recycle=1800, pool_size=5, max_overflow=10,
                         connect_args={"options": options}, **kwargs)


def init_app(app: Flask) -> None:
    app.extensions[EXT] = Database(app.config["DATABASE_URL"],
                                   app.config.get("READ_DATABASE_URL"))
    app.teardown_appcontext(close_session)


def public_read() -> bool:
    """Whether this request may read from the replica: an anonymous GET or HEAD of a
    REPLICA_BLUEPRINTS page or API."""
    return (has_request_context() and request.method in ("GET", "HEAD")
            and request.blueprint in REPLICA_BLUEPRINTS and not _signed_in())


def _signed_in() -> bool:
    return any(key in session for key in SIGNED_IN_KEYS)


def database() -> Database:
    return current_app.extensions[EXT]


def get_session() -> Session:
    """The request's session, created on first use and closed at teardown."""
    if "db_session" not in g:
        db_session = database().session(read_only=public_read())
        if has_request_context() and not _signed_in():
            # A visitor's queries are bounded (for the session's first transaction:
            # SET LOCAL ends with it); set where the session starts, so a request that
            # never reads the database pays nothing.
            db_session.execute(text("SELECT set_config('statement_timeout', :ms, true)"),
                               {"ms": str(PUBLIC_STATEMENT_TIMEOUT_MS)})
        g.db_session = db_session
    return g.db_session


def session_if_any() -> Session | None:
    """The current session inside an app context (e.g. for a lookup hook), else None."""
    return get_session() if has_app_context() else None


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
