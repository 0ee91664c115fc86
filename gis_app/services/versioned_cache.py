"""Answers built from the data, kept while the data version they were built at is current.

The public home page's data parts and the map's filter counts depend only on the data
(`data_version.current`, one index probe), the language, the visitor's visibility class
and today's date in Vietnam. Building them at 100k relics takes about a second of
database and Python time; a request that finds them here costs the version probe.

The cache is in the memory of each process (each gunicorn worker builds its own copy
once per data version): nothing to share or clean up, and every request still checks
the version, so a worker never serves an answer older than the last change it can see.
Entries also expire after `max_age` seconds, which bounds the staleness `data_version`
admits (two writers committing out of order leave the version unchanged).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class VersionedCache:
    """A small LRU map key -> (data version, built at, value), safe across threads."""

    def __init__(self, max_age: float = 300.0, max_entries: int = 64) -> None:
        self.max_age = max_age
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[int, float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}  # key -> held while building
        self.builds = 0  # how many times a value was built (for tests and benchmarks)

    def get(self, key: Hashable, version: int, build: Callable[[], T]) -> T:
        """The value cached under `key` at `version`, else `build()` (stored).

        One thread builds a missing value while the others asking for the same key
        wait for it (a cold cache under load builds once, not once per thread). A value
        is never served for another version, nor after `max_age` seconds."""
        found = self._fresh(key, version)
        if found is not None:
            return found[0]
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            found = self._fresh(key, version)  # built by the thread we waited for
            if found is not None:
                return found[0]
            value = build()
            self.builds += 1
            with self._lock:
                self._entries[key] = (version, time.monotonic(), value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
                self._building.pop(key, None)
        return value

    def _fresh(self, key: Hashable, version: int) -> tuple[Any] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == version \
                    and time.monotonic() - entry[1] < self.max_age:
                self._entries.move_to_end(key)
                return (entry[2],)
        return None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
