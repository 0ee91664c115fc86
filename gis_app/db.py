"""Engine and sessions (SQLAlchemy 2 + GeoAlchemy2): one session per request."""
from __future__ import annotations

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.orm import Session

EXT = "gis_db"


class Database:
    """Holds the engine; tests may bind it to one connection inside a transaction."""

    def __init__(self, url: str) -> None:
        # No pre-ping: it costs a round trip per request; stale connections are
        # recycled instead.
        # JIT off: it compiled the public map's small queries for ~650 ms each once the
        # register grew; this workload is many short queries, never worth compiling.
        self.engine: Engine = create_engine(url, pool_recycle=1800, pool_size=5,
                                            max_overflow=10,
                                            connect_args={"options": "-c jit=off"})
        self.bind: Engine | Connection = self.engine

    def session(self) -> Session:
        if isinstance(self.bind, Connection):
            return Session(bind=self.bind, join_transaction_mode="create_savepoint")
        return Session(bind=self.bind)


def init_app(app: Flask) -> None:
    app.extensions[EXT] = Database(app.config["DATABASE_URL"])
    app.teardown_appcontext(close_session)


def database() -> Database:
    return current_app.extensions[EXT]


def get_session() -> Session:
    """The request's session, created on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = database().session()
    return g.db_session


def session_if_any() -> Session | None:
    """The current session inside an app context (e.g. for a lookup hook), else None."""
    return get_session() if has_app_context() else None


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
