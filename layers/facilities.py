from layers import NO_SITE_OR_IN_REGISTER, NO_SITE_OR_PUBLISHED, Layer, PopupField

LAYER = Layer(
    name="facilities",
    title={"vi": "Hạ tầng, trưng bày, quản lý", "en": "Facilities"},
    geometry_type="Geometry",
    source="""(SELECT f.id, f.geom, f.kind, f.name_vi, f.name_en, f.accuracy,
                      k.category, s.heritage_id, s.status, s.sensitive
                 FROM facilities f JOIN facility_kinds k ON k.code = f.kind
                 LEFT JOIN sites s ON s.id = f.site_id)""",
    properties={
        "name_vi": "src.name_vi",
        "name_en": "src.name_en",
        "kind": "src.kind",
        "category": "src.category",
        "heritage_id": "src.heritage_id",
    },
    public_filter=NO_SITE_OR_PUBLISHED,
    official_filter=NO_SITE_OR_IN_REGISTER,
    popup_title="name_vi",
    popup=(
        PopupField("name_en", {"vi": "Tên tiếng Anh", "en": "English name"}),
        PopupField("kind", {"vi": "Loại", "en": "Kind"}, vocab="facility_kind"),
    ),
    link="/sites/{heritage_id}",
    style={"color": "#0d47a1", "fillColor": "#42a5f5", "fillOpacity": 0.8, "weight": 1,
           "radius": 5},
    min_zoom=14,
    order=95,
)
