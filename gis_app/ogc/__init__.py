"""OGC API – Features (Part 1 Core, Part 2 CRS) under /ogc/, built from `layers/`.

`views.py` is the HTTP side (format negotiation, links, HTML/JSON), `query.py` the SQL,
`params.py` the query parameters, `crs.py` the served CRS, `openapi.py` the document.
Every layer declared in `layers/` is a collection: adding a layer adds no endpoint.
"""
