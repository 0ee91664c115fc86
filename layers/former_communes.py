from layers import Layer, PopupField

LAYER = Layer(
    name="former_communes",
    title={"vi": "Xã, thị trấn trước 01/7/2025", "en": "Communes before 1 Jul 2025"},
    geometry_type="MultiPolygon",
    source="""(SELECT id, geom, code, name, level, valid_from, valid_to, accuracy
                 FROM admin_units
                WHERE level IN ('commune', 'ward', 'town') AND geom IS NOT NULL
                  AND valid_to IS NOT NULL)""",
    properties={"name": "src.name", "code": "src.code", "level": "src.level",
                "valid_to": "src.valid_to", "accuracy": "src.accuracy"},
    property_types={"valid_to": "date"},
    temporal=("src.valid_from", "src.valid_to"),
    popup_title="name",
    popup=(PopupField("level", {"vi": "Cấp", "en": "Level"}, vocab="admin_level"),
           PopupField("valid_to", {"vi": "Hiệu lực đến", "en": "Valid until"}),
           PopupField("accuracy", {"vi": "Độ chính xác", "en": "Accuracy"}, vocab="accuracy")),
    style={"color": "#5d4037", "weight": 1, "dashArray": "4 3", "fillOpacity": 0},
    visible=False,
    order=20,
)
