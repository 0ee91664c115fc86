from layers import (
    PUBLISHED_SITE,
    SITE_IN_REGISTER,
    SITES_AS_OF,
    Layer,
    LegendEntry,
    PopupField,
)


def valid_on(alias: str = "z", on: str = ":today") -> str:
    """SQL: the zone version `alias` is in force on the date `on` (a bind or SQL date
    expression). A zone of a relic is a chain of dated versions (services/zones.py);
    NULL bounds are open. Every read of "the zones" goes through this."""
    return (f"(({alias}.valid_from IS NULL OR {alias}.valid_from <= {on}) "
            f"AND ({alias}.valid_to IS NULL OR {alias}.valid_to >= {on}))")


ZONE_COLUMNS = """z.id, z.geom, z.zone, z.decision_no, z.decision_date, z.valid_from,
                  z.valid_to, z.accuracy, s.heritage_id, s.name_vi AS site_name_vi,
                  s.name_en AS site_name_en, s.status, s.sensitive"""

LAYER = Layer(
    name="protection_zones",
    title={"vi": "Khu vực bảo vệ di tích", "en": "Protection zones"},
    items={"vi": "khu vực bảo vệ", "en": "protection zones"},
    description={"vi": "Khu vực bảo vệ I, II và vùng đệm của di tích, đang có hiệu lực "
                       "(Luật Di sản văn hóa)",
                 "en": "Relic protection zones I and II and buffer zones in force (Law on "
                       "Cultural Heritage)"},
    geometry_type="MultiPolygon",
    source=f"""(SELECT {ZONE_COLUMNS}
                 FROM protection_zones z JOIN sites s ON s.id = z.site_id
                WHERE {valid_on("z", ":today")})""",
    # On a past day: the versions in force that day (:today is that day), of the relics
    # as they stood then (a relic retired since still shows its zones of that day).
    as_of_source=f"""(SELECT {ZONE_COLUMNS}
                        FROM protection_zones z JOIN {SITES_AS_OF} s ON s.id = z.site_id
                       WHERE {valid_on("z", ":today")})""",
    # The relic's identifier and the zone ("VN-HY-DT-000001-II"): one zone of a kind per
    # relic is in force at a time, and its versions share the id.
    feature_id="src.heritage_id || '-' || src.zone",
    properties={
        "zone": "src.zone",
        "heritage_id": "src.heritage_id",
        "site_name_vi": "src.site_name_vi",
        "site_name_en": "src.site_name_en",
        "decision_no": "src.decision_no",
        "valid_from": "src.valid_from",
        "accuracy": "src.accuracy",
    },
    temporal=("src.valid_from", "src.valid_to"),  # the zone version's validity
    public_filter=PUBLISHED_SITE,
    official_filter=SITE_IN_REGISTER,
    property_types={"valid_from": "date"},
    popup_title="site_name_vi",
    popup=(
        PopupField("zone", {"vi": "Khu vực", "en": "Zone"}, vocab="zone"),
        PopupField("decision_no", {"vi": "Quyết định khoanh vùng", "en": "Zoning decision"}),
        PopupField("valid_from", {"vi": "Hiệu lực từ", "en": "Valid from"}),
        PopupField("accuracy", {"vi": "Độ chính xác", "en": "Accuracy"}, vocab="accuracy"),
    ),
    link="/sites/{heritage_id}",
    style={"color": "#c62828", "weight": 2, "fillOpacity": 0.25},
    style_by={"property": "zone", "values": {
        "I": {"color": "#c62828", "fillColor": "#e53935", "fillOpacity": 0.35},
        "II": {"color": "#ef6c00", "fillColor": "#ffb74d", "fillOpacity": 0.2,
               "dashArray": "6 4"},
        "buffer": {"color": "#6a1b9a", "fillColor": "#ce93d8", "fillOpacity": 0.12,
                   "dashArray": "2 4"},
    }},
    legend=(
        LegendEntry({"vi": "Khu vực bảo vệ I", "en": "Protection zone I"},
                    {"color": "#c62828", "fillColor": "#e53935", "fillOpacity": 0.35}),
        LegendEntry({"vi": "Khu vực bảo vệ II", "en": "Protection zone II"},
                    {"color": "#ef6c00", "fillColor": "#ffb74d", "fillOpacity": 0.2,
                     "dashArray": "6 4"}),
        LegendEntry({"vi": "Vùng đệm", "en": "Buffer zone"},
                    {"color": "#6a1b9a", "fillColor": "#ce93d8", "fillOpacity": 0.12,
                     "dashArray": "2 4"}),
    ),
    min_zoom=12,
    order=50,
)
