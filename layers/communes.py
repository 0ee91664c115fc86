from layers import Layer, PopupField

LAYER = Layer(
    name="communes",
    title={"vi": "Xã, phường (từ 01/7/2025)", "en": "Communes (since 1 Jul 2025)"},
    geometry_type="MultiPolygon",
    source="""(SELECT id, geom, code, name, level, valid_from, accuracy
                 FROM admin_units
                WHERE level IN ('commune', 'ward', 'town') AND geom IS NOT NULL
                  AND valid_to IS NULL)""",
    feature_id="src.code",  # the national administrative unit code
    properties={"name": "src.name", "code": "src.code", "level": "src.level",
                "valid_from": "src.valid_from", "accuracy": "src.accuracy"},
    property_types={"valid_from": "date"},
    temporal=("src.valid_from", "NULL"),  # in force since valid_from
    popup_title="name",
    popup=(PopupField("level", {"vi": "Cấp", "en": "Level"}, vocab="admin_level"),
           PopupField("code", {"vi": "Mã", "en": "Code"})),
    style={"color": "#757575", "weight": 1.5, "fillColor": "#f5f0e6", "fillOpacity": 0.6},
    basemap=True,
    order=10,
)
