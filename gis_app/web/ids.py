"""Permanent identifiers: `/id/<heritage identifier>` for every kind of record, with content
negotiation, and the small public pages of intangible heritage and artifacts.

- `Accept: text/html` (browsers, and the default) -> 303 to the record's page;
  `application/json` -> a JSON document of the public fields and links;
  `application/geo+json` -> a GeoJSON Feature whose `id` is the identifier.
  `?f=html|json|geojson` overrides the Accept header (for links pasted by hand).
- A merged relic -> 301 to `/id/<survivor>` (the same `?f=`); a retired one -> 410 with its
  reason and decision in the representation asked for; never minted, or not visible to
  the visitor (drafts, sensitive relics) -> 404; not the shape of an identifier -> 404
  saying the shape; lower case -> 301 to the canonical identifier.
Every answer carries `Vary: Accept`. Who sees what is services.visibility, through
services.permanent_ids.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, redirect, render_template, request, url_for

from gis_app.auth import current_role
from gis_app.db import get_session
from gis_app.errors import InputError, RecordMoved, RecordNotFound
from gis_app.services import permanent_ids
from gis_app.services.permanent_ids import PUBLIC_KIND, HeritageRecord

bp = Blueprint("ids", __name__)

# ?f= values and the media types they stand for, in the order preferred for `*/*`.
REPRESENTATIONS = {"html": "text/html", "json": "application/json",
                   "geojson": "application/geo+json"}
PAGE_ENDPOINTS = {"site": "public.site_page", "intangible": "ids.intangible_page",
                  "artifact": "ids.artifact_page"}
OGC_ITEM = "ogc/collections/sites/items/{heritage_id}"  # served by the OGC API blueprint


def _representation() -> str:
    """'html', 'json' or 'geojson': `?f=` when given, else the Accept header (HTML when
    nothing else is preferred). Raises InputError for an unknown `f`."""
    asked = request.args.get("f")
    if asked is not None:
        if asked not in REPRESENTATIONS:
            g.wants_json = request.accept_mimetypes.best_match(
                list(REPRESENTATIONS.values()), default="text/html") != "text/html"
            raise InputError(
                f"f={asked[:20]!r} is not a representation: use f=html, f=json or f=geojson "
                f"(or leave it out and send an Accept header).",
                f"f={asked[:20]!r} không phải dạng trả về hợp lệ: dùng f=html, f=json hoặc "
                f"f=geojson (hoặc bỏ đi và gửi tiêu đề Accept).")
        return asked
    best = request.accept_mimetypes.best_match(list(REPRESENTATIONS.values()),
                                               default="text/html")
    return next(name for name, mime in REPRESENTATIONS.items() if mime == best)


def _kept_args(**extra: str) -> dict[str, str]:
    """The query arguments an identifier's redirects keep (`f`, `lang`)."""
    kept = {k: v for k, v in request.args.items() if k in ("f", "lang")}
    kept.update(extra)
    return kept


@bp.after_request
def vary_on_accept(response: Response) -> Response:
    """The same address answers HTML, JSON or GeoJSON (and redirects) by Accept."""
    if request.endpoint == "ids.resolve":
        response.vary.add("Accept")
        if "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = ("public, max-age=300" if current_role() is None
                                                 else "private, no-cache")
    return response


@bp.get("/id/<raw>")
def resolve(raw: str) -> Response:
    """Resolve a permanent identifier (see the module docstring)."""
    representation = _representation()
    g.wants_json = representation != "html"  # errors answer in the representation asked
    heritage_id = permanent_ids.canonical(raw)
    if heritage_id is None:
        raise permanent_ids.not_an_identifier(raw)
    if heritage_id != raw:
        return redirect(url_for("ids.resolve", raw=heritage_id, **_kept_args()), 301)
    try:
        record = permanent_ids.find_record(get_session(), heritage_id, current_role())
    except RecordMoved as moved:
        return redirect(url_for("ids.resolve", raw=moved.details["heritage_id"],
                                **_kept_args()), 301)
    if representation == "html":
        lang = {"lang": request.args["lang"]} if request.args.get("lang") else {}
        return redirect(url_for(PAGE_ENDPOINTS[record.kind], heritage_id=heritage_id,
                                **lang), 303)
    if representation == "json":
        response = jsonify(to_document(record))
    else:
        response = jsonify(to_feature(record))
        response.mimetype = "application/geo+json"
    return response


def _links(record: HeritageRecord) -> dict[str, Any]:
    hid = record.heritage_id
    links: dict[str, Any] = {
        "self": url_for("ids.resolve", raw=hid, f="json", _external=True),
        "html": url_for(PAGE_ENDPOINTS[record.kind], heritage_id=hid, _external=True),
        "geojson": url_for("ids.resolve", raw=hid, f="geojson", _external=True),
    }
    if record.kind == "site":
        links["ogc_item"] = request.url_root + OGC_ITEM.format(heritage_id=hid)
        bbox = record.related.get("zones_bbox")
        if bbox:  # the layer API's zones around the relic (its neighbours' too)
            links["zones"] = url_for("api_layers.items", name="protection_zones",
                                     bbox=",".join(f"{v:.6f}" for v in bbox), _external=True)
    return links


def _with_uris(fields: dict[str, Any]) -> dict[str, Any]:
    """Related records (an artifact's relic, an intangible heritage's relics) get their
    permanent URIs."""
    out = dict(fields)
    if out.get("relic"):
        out["relic"] = {**out["relic"], "uri": _uri(out["relic"]["heritage_id"])}
    if out.get("relics"):
        out["relics"] = [{**r, "uri": _uri(r["heritage_id"])} for r in out["relics"]]
    return out


def _uri(heritage_id: str) -> str:
    return url_for("ids.resolve", raw=heritage_id, _external=True)


def to_document(record: HeritageRecord) -> dict[str, Any]:
    """The JSON document of a record: identifier, URI, kind, status, public fields, links."""
    return {"id": record.heritage_id, "uri": _uri(record.heritage_id),
            "kind": PUBLIC_KIND[record.kind], "status": record.status,
            **_with_uris(record.fields), "links": _links(record)}


def to_feature(record: HeritageRecord) -> dict[str, Any]:
    """The GeoJSON Feature of a record (RFC 7946): `id` is the identifier; a relic is its
    point (its zones are a link), an intangible heritage the places practised (or null),
    an artifact null (it is where its relic is: a link)."""
    links = _links(record)
    out = [{"rel": "self", "href": links["geojson"], "type": "application/geo+json"},
           {"rel": "alternate", "href": links["self"], "type": "application/json"},
           {"rel": "alternate", "href": links["html"], "type": "text/html"}]
    out += [{"rel": rel, "href": links[rel], "type": "application/geo+json"}
            for rel in ("ogc_item", "zones") if rel in links]
    return {
        "type": "Feature", "id": record.heritage_id, "geometry": record.geometry,
        "properties": {"uri": _uri(record.heritage_id), "kind": PUBLIC_KIND[record.kind],
                       "status": record.status, **_with_uris(record.fields)},
        "links": out,
    }


# --- the public pages of records that have no other ----------------------------------

def _page_record(kind: str, raw: str) -> HeritageRecord | Response:
    heritage_id = permanent_ids.canonical(raw)
    if heritage_id is None:
        raise permanent_ids.not_an_identifier(raw)
    if heritage_id != raw:
        return redirect(url_for(PAGE_ENDPOINTS[kind], heritage_id=heritage_id,
                                **_kept_args()), 301)
    record = permanent_ids.find_record(get_session(), heritage_id, current_role())
    if record.kind != kind:
        raise RecordNotFound(
            f"{heritage_id} is not the identifier of {_KIND_EN[kind]}: open /id/{heritage_id}.",
            f"{heritage_id} không phải mã định danh của {_KIND_VI[kind]}: hãy mở "
            f"/id/{heritage_id}.")
    return record


_KIND_EN = {"intangible": "an intangible heritage", "artifact": "an artifact"}
_KIND_VI = {"intangible": "di sản phi vật thể", "artifact": "hiện vật"}


@bp.get("/intangible/<heritage_id>")
def intangible_page(heritage_id: str) -> str | Response:
    """An intangible heritage for visitors: names, type, community, description, listing,
    the relics where it is practised, the permanent link."""
    record = _page_record("intangible", heritage_id)
    if isinstance(record, Response):
        return record
    return render_template("ids/intangible.html", record=record, fields=record.fields,
                           uri=_uri(record.heritage_id))


@bp.get("/artifacts/<heritage_id>")
def artifact_page(heritage_id: str) -> str | Response:
    """An artifact for visitors: names, kind, period, material, dimensions, description,
    the relic that holds it, the permanent link."""
    record = _page_record("artifact", heritage_id)
    if isinstance(record, Response):
        return record
    return render_template("ids/artifact.html", record=record, fields=record.fields,
                           uri=_uri(record.heritage_id))
