"""Which requests may read from the read replica (GIS_READ_DATABASE_URL): anonymous GETs
of the public map and its APIs only. The replica itself, streaming from a primary, is
exercised end to end by bench/read_replica.py."""
from __future__ import annotations

from gis_app.db import public_read


def _reads_replica(app, path: str, method: str = "GET", signed_in: bool = False) -> bool:
    with app.test_request_context(path, method=method):
        from flask import session
        if signed_in:
            session["_user_id"] = "1:abc"
            session["sid"] = "token"
        return public_read()


def test_anonymous_public_reads_may_use_the_replica(app):
    for path in ("/", "/sites", "/festivals", "/api/sites/filters", "/api/sites",
                 "/api/layers/sites.geojson", "/api/openapi.json", "/id/VN-HY-DT-000001",
                 "/intangible/VN-HY-PVT-000001", "/artifacts/VN-HY-HV-000001",
                 "/ogc/collections/sites/items?f=json", "/tiles.json", "/data"):
        assert _reads_replica(app, path), path


def test_signing_in_writing_and_signed_in_users_use_the_primary(app):
    assert not _reads_replica(app, "/login")  # the sign-in page and its form
    assert not _reads_replica(app, "/login", method="POST")
    assert not _reads_replica(app, "/", signed_in=True)
    assert not _reads_replica(app, "/api/sites", signed_in=True)
    assert not _reads_replica(app, "/api/zone-check", method="POST")
    assert not _reads_replica(app, "/admin/users")
