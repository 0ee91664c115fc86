"""One file sent with a form, saved to a scratch folder for a reader, then gone."""
from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import request

from gis_app.errors import InputError

# Room for the form's other fields beside the file in the request body.
FORM_OVERHEAD = 64 * 1024


@contextmanager
def one_upload(max_bytes: int, too_big: Callable[[], InputError],
               missing: InputError, prefix: str) -> Iterator[Path]:
    """The request's `file`, saved under its own (base) name in a scratch folder that is
    removed afterwards. Raises `too_big()` over `max_bytes`, `missing` without a file."""
    if request.content_length and request.content_length > max_bytes + FORM_OVERHEAD:
        raise too_big()
    storage = request.files.get("file")
    if storage is None or not storage.filename:
        raise missing
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        path = Path(tmp) / (Path(storage.filename).name or "upload")
        storage.save(path)
        if path.stat().st_size > max_bytes:
            raise too_big()
        yield path
