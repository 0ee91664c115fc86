from layers import Layer

LAYER = Layer(
    name="rivers",
    title={"vi": "Sông", "en": "Rivers"},
    geometry_type="MultiLineString",
    source="(SELECT id, geom, name_vi, name_en FROM basemap_features WHERE kind = 'river')",
    properties={"name_vi": "src.name_vi", "name_en": "src.name_en"},
    style={"color": "#4fa3d9", "weight": 5, "opacity": 0.9},
    basemap=True,
    order=12,
)
