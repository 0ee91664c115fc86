from layers import NO_SITE_OR_IN_REGISTER, NO_SITE_OR_PUBLISHED, Layer, LegendEntry, PopupField

LAYER = Layer(
    name="landscapes",
    title={"vi": "Cảnh quan", "en": "Landscapes"},
    geometry_type="MultiPolygon",
    source="""(SELECT l.id, l.geom, l.kind, l.name_vi, l.name_en, l.accuracy,
                      s.heritage_id, s.status, s.sensitive
                 FROM landscapes l LEFT JOIN sites s ON s.id = l.site_id)""",
    properties={
        "name_vi": "src.name_vi",
        "name_en": "src.name_en",
        "kind": "src.kind",
        "heritage_id": "src.heritage_id",
        "accuracy": "src.accuracy",
    },
    public_filter=NO_SITE_OR_PUBLISHED,
    official_filter=NO_SITE_OR_IN_REGISTER,
    popup_title="name_vi",
    popup=(
        PopupField("name_en", {"vi": "Tên tiếng Anh", "en": "English name"}),
        PopupField("kind", {"vi": "Loại", "en": "Kind"}, vocab="landscape_kind"),
        PopupField("accuracy", {"vi": "Độ chính xác", "en": "Accuracy"}, vocab="accuracy"),
    ),
    link="/sites/{heritage_id}",
    style={"color": "#2e7d32", "fillColor": "#66bb6a", "fillOpacity": 0.35, "weight": 1},
    style_by={"property": "kind", "values": {
        "pond": {"color": "#1565c0", "fillColor": "#64b5f6"},
        "river_bank": {"color": "#00838f", "fillColor": "#80deea"},
    }},
    legend=(
        LegendEntry({"vi": "Vườn, cây cổ thụ", "en": "Garden, ancient tree"},
                    {"color": "#2e7d32", "fillColor": "#66bb6a", "fillOpacity": 0.35}),
        LegendEntry({"vi": "Ao, hồ", "en": "Pond"},
                    {"color": "#1565c0", "fillColor": "#64b5f6", "fillOpacity": 0.35}),
    ),
    min_zoom=13,
    order=40,
)
