"""Background jobs, queued in PostgreSQL: work that must not run inside a web request
(the dry run and the import of a large survey file).

A job is a row of `jobs` (migration 0018): queued -> running -> done (with a `result`)
or failed (with a message in vi/en). A worker claims the oldest queued job with
`FOR UPDATE SKIP LOCKED`, so several workers never take the same one; while it runs it
writes its progress (throttled) and a heartbeat. A job whose heartbeat stopped (its
process died) is queued again once, then failed with a message: never "running"
forever.

Who works: every app process runs one daemon thread (`start_worker`, started on the
first request after the process forked), so `make run` (gunicorn, two workers) needs no
extra process; SKIP LOCKED keeps each job to one of them. The thread runs each job
inside the context its starter gave (the app's `app_context`), so a handler may use
`current_app` (config, templates) as a request would.

Handlers take (session, payload, progress) and return the result (JSON-able); they run
in the session's transaction, and the job is marked done in that same transaction, so
an import and its "done" are committed together.

Work that many users may ask for at once (the annual report's PDF) is queued with
`enqueue_once` under a key: one job per key, however many requests and processes ask.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session
from sqlalchemy.sql import bindparam

from gis_app.errors import HeritageError, RecordNotFound

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0  # an idle worker looks for work this often (or when woken)
HEARTBEAT_SECONDS = 10.0
STALE_SECONDS = 90.0  # a running job without a heartbeat this long lost its worker
MAX_ATTEMPTS = 2
PROGRESS_SECONDS = 1.0  # progress is written at most this often
KEEP_DAYS = 30  # finished jobs are deleted after this

Progress = Callable[[int, int], None]
Context = Callable[[], contextlib.AbstractContextManager[Any]]
Handler = Callable[[Session, dict[str, Any], Progress], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}

_JSON = (bindparam("payload", type_=JSONB), bindparam("result", type_=JSONB))


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    status: str
    progress_done: int
    progress_total: int | None
    result: dict[str, Any] | None
    error_vi: str | None
    error_en: str | None
    attempts: int
    created_by: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    def error(self, lang: str) -> str | None:
        return self.error_vi if lang == "vi" else self.error_en

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(100 * self.progress_done / self.progress_total))


_COLUMNS = ("id, kind, payload, status, progress_done, progress_total, result, error_vi, "
            "error_en, attempts, created_by, created_at, started_at, finished_at")


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of `kind`."""
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn
    return register


def enqueue(db: Session, kind: str, payload: dict[str, Any], user_id: int | None, *,
            running: bool = False) -> int:
    """A new job; the caller commits. `running=True` records a job its caller runs
    itself at once (`run_claimed`): no worker will claim it."""
    statement = text(
        f"INSERT INTO jobs (kind, payload, status, created_by, started_at, heartbeat, "
        f"attempts) VALUES (:kind, :payload, :status, :user, {'now()' if running else 'NULL'}, "
        f"{'now()' if running else 'NULL'}, {1 if running else 0}) RETURNING id"
    ).bindparams(_JSON[0])
    job_id = int(db.execute(statement, {"kind": kind, "payload": payload, "user": user_id,
                                        "status": "running" if running else "queued"}
                            ).scalar_one())
    log.info("job #%d (%s) %s for user %s", job_id, kind, "started" if running else "queued",
             user_id)
    if not running:
        wake()
    return job_id


def enqueue_once(db: Session, kind: str, key: str, payload: dict[str, Any],
                 user_id: int | None, *, retry: bool = False) -> Job:
    """The job of `kind` for `key`: the one queued or running, else (unless the latest
    for the key failed and `retry` is off) a new one queued with `payload` (its "key"
    set to `key`). The caller commits; until then other callers for the same key wait
    (a transaction-scoped advisory lock), so concurrent requests in any process get
    the same job. A failed job is returned as it is, so its message can be shown; with
    `retry` a new one is queued in its place."""
    db.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:lock, 0))"),
               {"lock": f"jobs:{kind}:{key}"})
    latest = latest_by_key(db, kind, key)
    if latest is not None and (latest.status in ("queued", "running")
                               or (latest.status == "failed" and not retry)):
        return latest
    job_id = enqueue(db, kind, {**payload, "key": key}, user_id)
    return get_job(db, job_id)


def latest_by_key(db: Session, kind: str, key: str) -> Job | None:
    """The newest job of `kind` queued with `key` (`enqueue_once`), or None."""
    row = db.execute(text(f"SELECT {_COLUMNS} FROM jobs WHERE kind = :kind "
                          f"AND payload->>'key' = :key ORDER BY id DESC LIMIT 1"),
                     {"kind": kind, "key": key}).first()
    return Job(**row._mapping) if row else None


def get_job(db: Session, job_id: int, user_id: int | None = None,
            admin: bool = False) -> Job:
    """The job, if `user_id` created it (any job for an admin, or with user_id None).
    Raises RecordNotFound otherwise: another official's job does not exist for them."""
    row = db.execute(text(f"SELECT {_COLUMNS} FROM jobs WHERE id = :id"), {"id": job_id}).first()
    if row is None or not (admin or user_id is None or row.created_by == user_id):
        raise RecordNotFound(f"There is no job #{job_id}.", f"Không có tác vụ số {job_id}.",
                             log=f"job #{job_id} not found for user {user_id}")
    return Job(**row._mapping)


def claim(db: Session) -> Job | None:
    """Take the oldest queued job (running it is the caller's work), or None. The caller
    commits the claim before running the job."""
    row = db.execute(text(
        f"UPDATE jobs SET status = 'running', started_at = now(), heartbeat = now(), "
        f"attempts = attempts + 1 WHERE id = (SELECT id FROM jobs WHERE status = 'queued' "
        f"ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING {_COLUMNS}")).first()
    return Job(**row._mapping) if row else None


def recover_stale(db: Session, stale_seconds: float = STALE_SECONDS) -> tuple[int, int]:
    """Queue again (or fail, after MAX_ATTEMPTS) the running jobs whose heartbeat is
    older than `stale_seconds`; (queued again, failed). The caller commits."""
    params = {"age": stale_seconds, "max": MAX_ATTEMPTS}
    stale = "status = 'running' AND heartbeat < now() - make_interval(secs => :age)"
    failed = db.execute(text(
        f"UPDATE jobs SET status = 'failed', finished_at = now(), "
        f"error_en = 'The server stopped while working on this job (twice); start it again"
        f"' || CASE WHEN kind = 'import' THEN ' (upload the file again).' ELSE '.' END, "
        f"error_vi = 'Máy chủ đã dừng giữa chừng khi xử lý tác vụ này (hai lần); hãy làm lại"
        f"' || CASE WHEN kind = 'import' THEN ' (tải tệp lên lại).' ELSE '.' END "
        f"WHERE {stale} AND attempts >= :max"), params).rowcount
    requeued = db.execute(text(
        f"UPDATE jobs SET status = 'queued', heartbeat = NULL, progress_done = 0 "
        f"WHERE {stale} AND attempts < :max"), params).rowcount
    if failed or requeued:
        log.warning("stale jobs: %d queued again, %d failed", requeued, failed)
    return requeued, failed


class _ProgressWriter:
    """The handler's progress(done, total) callback: sums the batches and writes the
    total to the job row through its own session (committed, so pages see it), at most
    once per PROGRESS_SECONDS."""

    def __init__(self, job_id: int, make_session: Callable[[], Session]) -> None:
        self.job_id = job_id
        self.make_session = make_session
        self.done = 0
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        self.done += done
        now = time.monotonic()
        if now - self.last < PROGRESS_SECONDS and self.done < total:
            return
        self.last = now
        with self.make_session() as side:
            side.execute(text("UPDATE jobs SET progress_done = :done, progress_total = :total, "
                              "heartbeat = now() WHERE id = :id"),
                         {"done": min(self.done, total), "total": total, "id": self.job_id})
            side.commit()


def run_claimed(db: Session, job: Job | int, make_session: Callable[[], Session], *,
                heartbeat: bool = True) -> Job:
    """Run a job already marked running, in `db`'s transaction, and commit its end: done
    with the handler's result, or failed with the error's message (a HeritageError's
    vi/en; any other exception: a general message, logged with its traceback).

    With `heartbeat` a thread beats for the job through `make_session` while it runs, so
    a long job is not taken for a dead one (off where every session shares one
    connection, as in tests)."""
    job_id = job if isinstance(job, int) else job.id
    stop = threading.Event()
    if heartbeat:
        threading.Thread(target=_heartbeat, args=(job_id, make_session, stop),
                         daemon=True, name=f"job-{job_id}-heartbeat").start()
    try:
        return _run(db, job_id, make_session)
    finally:
        stop.set()


def _run(db: Session, job_id: int, make_session: Callable[[], Session]) -> Job:
    row = db.execute(text("SELECT kind, payload FROM jobs WHERE id = :id"),
                     {"id": job_id}).one()
    db.commit()
    fn = HANDLERS.get(row.kind)
    try:
        if fn is None:
            raise HeritageError(f"Unknown job kind {row.kind!r}.",
                                f"Loại tác vụ không xác định {row.kind!r}.")
        result = fn(db, dict(row.payload), _ProgressWriter(job_id, make_session))
        db.execute(text("UPDATE jobs SET status = 'done', result = :result, "
                        "progress_done = coalesce(progress_total, progress_done), "
                        "finished_at = now(), heartbeat = now() WHERE id = :id"
                        ).bindparams(_JSON[1]), {"result": result, "id": job_id})
        db.commit()
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the job
        db.rollback()
        if isinstance(exc, HeritageError):
            en, vi, details = exc.message_en, exc.message_vi, exc.details
            log.info("job #%d failed: %s", job_id, exc.log_message)
        else:
            en = "The job stopped on an unexpected error; it has been logged. Try again."
            vi = "Tác vụ dừng do lỗi ngoài dự kiến; lỗi đã được ghi lại. Hãy thử lại."
            details = {}
            log.exception("job #%d failed", job_id)
        db.execute(text("UPDATE jobs SET status = 'failed', error_en = :en, error_vi = :vi, "
                        "result = :result, finished_at = now() WHERE id = :id"
                        ).bindparams(_JSON[1]),
                   {"en": en, "vi": vi, "result": {"details": details}, "id": job_id})
        db.commit()
    return get_job(db, job_id)


def remove_old(db: Session, days: int = KEEP_DAYS) -> int:
    """Delete jobs finished more than `days` ago (their previews are large); how many.
    The caller commits."""
    return db.execute(text("DELETE FROM jobs WHERE finished_at < now() - "
                           "make_interval(days => :days)"), {"days": days}).rowcount


def work_once(make_session: Callable[[], Session], *, heartbeat: bool = True) -> Job | None:
    """Recover stale jobs, claim one and run it; the job run, or None when idle."""
    with make_session() as db:
        recover_stale(db)
        remove_old(db)
        job = claim(db)
        db.commit()
        if job is None:
            return None
        return run_claimed(db, job, make_session, heartbeat=heartbeat)


def _heartbeat(job_id: int, make_session: Callable[[], Session], stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            with make_session() as side:
                side.execute(text("UPDATE jobs SET heartbeat = now() WHERE id = :id "
                                  "AND status = 'running'"), {"id": job_id})
                side.commit()
        except Exception:  # noqa: BLE001 - the next beat tries again
            log.exception("heartbeat of job #%d", job_id)


# --- the worker thread of each app process ----------------------------------------------

_wake = threading.Event()
_worker: dict[int, threading.Thread] = {}  # by process id: a forked child starts its own
_lock = threading.Lock()


def wake() -> None:
    """Tell this process's worker to look for work now."""
    _wake.set()


def start_worker(make_session: Callable[[], Session], pid: int,
                 context: Context = contextlib.nullcontext) -> None:
    """Start this process's worker thread unless it runs already. Each job runs inside
    a fresh `context()` (e.g. the app's `app_context`: handlers then see `current_app`
    and a `g` of their own)."""
    with _lock:
        thread = _worker.get(pid)
        if thread is not None and thread.is_alive():
            return
        thread = threading.Thread(target=_work_forever, args=(make_session, context),
                                  daemon=True, name="jobs-worker")
        _worker[pid] = thread
        thread.start()
        log.info("job worker started in process %d", pid)


def _work_forever(make_session: Callable[[], Session], context: Context) -> None:
    while True:
        try:
            with context():
                job = work_once(make_session)
        except Exception:  # noqa: BLE001 - e.g. the database restarting: wait, retry
            log.exception("job worker")
            job = None
        if job is None:
            _wake.wait(POLL_SECONDS)
            _wake.clear()

