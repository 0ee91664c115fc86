"""The data version: a number that grows whenever any audited record changes.

It is the newest `revisions` id (every audited table writes a revision row from its
trigger, migration 0001), so it costs one index probe. Answers built from the data
(GeoJSON, tiles, downloads, reports) are cached and given an ETag by it: a cached
answer is good while the version it was built at is still the current one.

Limit: two writing transactions that commit out of order (the one holding the lower
revision id commits last) leave the version unchanged by the later commit. Caches keyed
by the version then serve the earlier answer until the next change; keep their lifetime
bounded (minutes) where that matters.
"""
from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

SQL = "SELECT coalesce(max(id), 0) FROM revisions"


def current(db: Session | Connection) -> int:
    """The current data version (0 on an empty register)."""
    return int(db.execute(text(SQL)).scalar_one())


STAMP_SQL = "SELECT id, changed_at FROM revisions ORDER BY id DESC LIMIT 1"


def stamp(db: Session | Connection) -> str:
    """The data version with the time of its revision ("1234@2026-12-03T06:45:00+00:00"):
    unlike the bare number, it also tells apart two databases that reached the same
    version with different data (a recreated database, a restore of an older backup
    after newer work), so a cache on disk keyed by it outlives such changes safely."""
    row = db.execute(text(STAMP_SQL)).first()
    return "0" if row is None else f"{row[0]}@{row[1].isoformat()}"


def stamp_key(db: Session | Connection) -> str:
    """`stamp` as a short token for file names, URLs and ETags, e.g. "1234-9f86d081884c":
    the version, then 12 hex digits of a hash of the stamp. Disk caches (tiles,
    downloads) are keyed by it, so a database restored or recreated elsewhere never
    serves files built from other data that reached the same version number."""
    return key_of(stamp(db))


def key_of(stamp_text: str) -> str:
    """The `stamp_key` of a stamp ("0" for an empty register)."""
    version = stamp_text.split("@", 1)[0]
    if version == stamp_text:
        return version
    return f"{version}-{hashlib.sha256(stamp_text.encode()).hexdigest()[:12]}"
