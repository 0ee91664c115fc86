"""Glue between the request and `services.versioned_cache`: the public map's answers
built once per (data version, visibility, language, Vietnam's day) and shared by every
request of this process, with weak ETags from the same key for 304 answers.

Used by `/` (web/public.py) and `/api/sites/filters` (api/explore.py). The per-request
cost of a hit is the data version probe (one index probe on `revisions`).
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import Flask, current_app, request

from gis_app.auth import current_role
from gis_app.clock import today_in_vietnam
from gis_app.db import database, get_session, public_read
from gis_app.i18n import current_lang
from gis_app.services import data_version
from gis_app.services.features import FULL_ACCESS_ROLES
from gis_app.services.versioned_cache import VersionedCache

EXT = "gis_public_cache"
T = TypeVar("T")


@dataclass(frozen=True)
class Cached(Generic[T]):
    value: T
    etag: str  # weak ETag value (without W/ and quotes)


def init_app(app: Flask) -> None:
    app.extensions[EXT] = VersionedCache(max_age=app.config["PUBLIC_CACHE_SECONDS"])


def cache() -> VersionedCache:
    return current_app.extensions[EXT]


def cached(name: str, build: Callable[[], T], *extra: Hashable) -> Cached[T]:
    """`build()` for this request's visibility (public or full), language and day, kept
    while the data version stays the same; `extra` adds to the key."""
    db = get_session()
    version = data_version.current(db)
    visibility = "full" if current_role() in FULL_ACCESS_ROLES else "public"
    # The replica and the primary each have their own version: kept apart, a signed-in
    # commune editor (primary) and the public (replica) do not evict each other's entry.
    source = "replica" if public_read() and database().read_engine is not None else "primary"
    # The root URL too: pages carry absolute links (canonical, hreflang) built from it.
    key = (name, visibility, current_lang(), today_in_vietnam().isoformat(), source,
           request.root_url, *extra)
    value = cache().get(key, version, build)
    return Cached(value, "-".join(str(k) for k in (*key[:4], version)))


def not_modified(etag: str) -> bool:
    """The request already holds this answer (If-None-Match with the weak ETag)."""
    return request.if_none_match.contains_weak(etag)
