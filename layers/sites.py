from layers import (
    PUBLISHED_SITE,
    SITE_IN_REGISTER,
    SITES_AS_OF,
    Layer,
    LegendEntry,
    PopupField,
)

LAYER = Layer(
    name="sites",
    title={"vi": "Di tích", "en": "Relics"},
    items={"vi": "di tích", "en": "relics"},
    description={"vi": "Di tích lịch sử – văn hóa đã xếp hạng hoặc kiểm kê",
                 "en": "Ranked or inventoried historical-cultural relics"},
    geometry_type="Point",
    source="sites",
    feature_id="src.heritage_id",  # VN-HY-DT-nnnnnn, permanent
    as_of_source=SITES_AS_OF,  # status, position and names as they stood that day
    properties={
        "heritage_id": "src.heritage_id",
        "name_vi": "src.name_vi",
        "name_en": "src.name_en",
        "rank": "src.rank",
        "types": "src.types",
        "ranking_decision_no": "src.ranking_decision_no",
        "accuracy": "src.accuracy",
        # Today's commune (or ward, town) whose shape holds the relic (services/admin_units).
        "commune": "(SELECT u.name FROM admin_units u WHERE u.id = src.admin_unit_id)",
        "commune_code": "(SELECT u.code FROM admin_units u WHERE u.id = src.admin_unit_id)",
    },
    public_filter=PUBLISHED_SITE,
    official_filter=SITE_IN_REGISTER,
    property_types={"types": "array"},
    popup_title="name_vi",
    popup=(
        PopupField("name_en", {"vi": "Tên tiếng Anh", "en": "English name"}),
        PopupField("rank", {"vi": "Xếp hạng", "en": "Rank"}, vocab="rank"),
        PopupField("types", {"vi": "Loại hình", "en": "Type"}, vocab="relic_type"),
        PopupField("ranking_decision_no", {"vi": "Quyết định xếp hạng",
                                           "en": "Ranking decision"}),
        PopupField("heritage_id", {"vi": "Mã định danh", "en": "Heritage identifier"}),
    ),
    link="/sites/{heritage_id}",
    # Base style: ranked, level not yet verified (rank NULL).
    style={"color": "#3e1a4f", "fillColor": "#8e5aa8", "fillOpacity": 0.9, "weight": 2,
           "radius": 7},
    style_by={"property": "rank", "values": {
        "special_national": {"fillColor": "#b71c1c", "color": "#7f0000", "radius": 10},
        "national": {"fillColor": "#e53935", "color": "#7f0000", "radius": 8},
        "provincial": {"fillColor": "#fb8c00", "color": "#6d3b00"},
        "inventoried": {"fillColor": "#fdd835", "color": "#5d4f00", "radius": 6},
    }},
    legend=(
        LegendEntry({"vi": "Di tích quốc gia đặc biệt", "en": "Special national relic"},
                    {"color": "#7f0000", "fillColor": "#b71c1c", "radius": 10}),
        LegendEntry({"vi": "Di tích quốc gia", "en": "National relic"},
                    {"color": "#7f0000", "fillColor": "#e53935", "radius": 8}),
        LegendEntry({"vi": "Di tích cấp tỉnh", "en": "Provincial relic"},
                    {"color": "#6d3b00", "fillColor": "#fb8c00", "radius": 8}),
        LegendEntry({"vi": "Di tích kiểm kê", "en": "Inventoried relic"},
                    {"color": "#5d4f00", "fillColor": "#fdd835", "radius": 6}),
        LegendEntry({"vi": "Đã xếp hạng, chưa xác minh cấp", "en": "Ranked, level not verified"},
                    {"color": "#3e1a4f", "fillColor": "#8e5aa8", "radius": 7}),
    ),
    min_zoom=9,
    order=90,
)

# Relic markers on the home map (gis_app/maps.py, tourist=): a round badge with a white
# glyph (16x16 SVG path), its colour by the first recorded type, its diameter in pixels by
# rank. Every colour keeps white glyphs above 7:1 and the badge above 3:1 against the
# light basemap (WCAG 1.4.11).
MARKER = {
    "type_property": "types",
    "size_property": "rank",
    "icons": {
        "historical": {"color": "#8b1a1a",  # a temple roof over two pillars
                       "path": "M8 1 1 6h2v1h10V6h2zM4 8h2v5H4zm6 0h2v5h-2zM2 14h12v1.5H2z"},
        "architectural_artistic": {"color": "#5b1f80",  # a gate with curved eaves
                                   "path": "M1 4q7-4 14 0v1.5H1zm2 2.5h2V15H3zm8 0h2V15h-2z"
                                           "M6.5 7.5h3V15h-3z"},
        "archaeological": {"color": "#5d4037",  # an excavated pot
                           "path": "M5 1h6v2l-1 1q3 2 3 6t-5 5q-5-1-5-5t3-6L5 3z"},
        "scenic": {"color": "#1b5e20",  # mountains over water
                   "path": "M1 12 6 4l3 4.5L11 6l4 6zM1 13.5h14V15H1z"},
        "mixed": {"color": "#0b4a8b",  # a star
                  "path": "M8 1l2 4.6 5 .5-3.8 3.3 1.2 4.9L8 11.8 3.6 14.3l1.2-4.9L1 6.1"
                          "l5-.5z"},
        "unknown": {"color": "#37474f",  # a dot
                    "path": "M8 4a4 4 0 1 1 0 8 4 4 0 1 1 0-8z"},
    },
    "sizes": {"special_national": 38, "national": 32, "provincial": 28, "inventoried": 24},
    "default_size": 28,
    # The home map's legend: icons by type, sizes by rank.
    "legend": [
        {"label": {"vi": "Di tích lịch sử", "en": "Historical relic"},
         "style": {"icon": "historical"}},
        {"label": {"vi": "Kiến trúc nghệ thuật", "en": "Architectural-artistic relic"},
         "style": {"icon": "architectural_artistic"}},
        {"label": {"vi": "Khảo cổ", "en": "Archaeological site"},
         "style": {"icon": "archaeological"}},
        {"label": {"vi": "Danh lam thắng cảnh", "en": "Scenic landscape"},
         "style": {"icon": "scenic"}},
        {"label": {"vi": "Hỗn hợp", "en": "Mixed"},
         "style": {"icon": "mixed"}},
        {"label": {"vi": "Chưa xác định loại hình", "en": "Type not recorded"},
         "style": {"icon": "unknown"}},
        {"label": {"vi": "Di tích quốc gia đặc biệt (biểu tượng lớn nhất)",
                   "en": "Special national relic (largest icon)"},
         "style": {"icon": "unknown", "rank": "special_national"}},
        {"label": {"vi": "Di tích quốc gia", "en": "National relic"},
         "style": {"icon": "unknown", "rank": "national"}},
        {"label": {"vi": "Di tích cấp tỉnh", "en": "Provincial relic"},
         "style": {"icon": "unknown", "rank": "provincial"}},
        {"label": {"vi": "Di tích kiểm kê (biểu tượng nhỏ nhất)",
                   "en": "Inventoried relic (smallest icon)"},
         "style": {"icon": "unknown", "rank": "inventoried"}},
    ],
}
