from layers import Layer

LAYER = Layer(
    name="roads",
    title={"vi": "Đường chính", "en": "Main roads"},
    geometry_type="MultiLineString",
    source="(SELECT id, geom, name_vi, name_en, ref FROM basemap_features WHERE kind = 'road')",
    properties={"name_vi": "src.name_vi", "name_en": "src.name_en", "ref": "src.ref"},
    style={"color": "#e0a030", "weight": 3, "opacity": 0.9},
    basemap=True,
    order=14,
)
