"""Hand-written facts behind the Khoái Châu demo set (see data/README.md).

Every coordinate here is APPROXIMATE: a rough sketch of the district outline and of
commune centres, and relics placed near their commune's centre. Nothing is surveyed.
"""
from __future__ import annotations

PORTAL = ("Cổng TTĐT huyện Khoái Châu, 'Di tích lịch sử văn hóa' (20/04/2011): list of 34 "
          "relics ranked national or provincial, with their communes")
SPECIAL = "Decision 1473/QĐ-TTg (26/11/2024): Đa Hòa – Dạ Trạch special national relic"
MERGER = ("2025 commune merger as published by the press (Resolution 1666/NQ-UBTVQH15); "
          "only the old communes of Khoái Châu are drawn")
SKETCH = "hand-sketched outline, not surveyed"

# Rough outline of the former Khoái Châu district (lon, lat): Red River on the west.
DISTRICT_OUTLINE = [
    (105.915, 20.900), (105.965, 20.905), (105.975, 20.868), (106.035, 20.845),
    (106.035, 20.800), (106.010, 20.758), (105.965, 20.758), (105.915, 20.805),
    (105.908, 20.860), (105.915, 20.900),
]

# Communes and the town before 1 July 2025 (names as on the district portal, 2011):
# code (placeholder, the official 5-digit codes were not verified), name, level,
# approximate centre. Mergers between 2019 and 2024 are not modelled.
OLD_COMMUNES = [
    ("KC-TT", "Khoái Châu", "town", (105.985, 20.838)),
    ("KC-01", "Bình Minh", "commune", (105.925, 20.886)),
    ("KC-02", "Dạ Trạch", "commune", (105.925, 20.860)),
    ("KC-03", "Hàm Tử", "commune", (105.928, 20.835)),
    ("KC-04", "Tứ Dân", "commune", (105.935, 20.812)),
    ("KC-05", "Đông Kết", "commune", (105.958, 20.828)),
    ("KC-06", "Tân Châu", "commune", (105.948, 20.792)),
    ("KC-07", "Đông Ninh", "commune", (105.968, 20.775)),
    ("KC-08", "Đại Tập", "commune", (105.990, 20.765)),
    ("KC-09", "Tân Dân", "commune", (105.950, 20.893)),
    ("KC-10", "Ông Đình", "commune", (105.948, 20.873)),
    ("KC-11", "An Vĩ", "commune", (105.965, 20.860)),
    ("KC-12", "Dân Tiến", "commune", (105.985, 20.862)),
    ("KC-13", "Đồng Tiến", "commune", (106.005, 20.855)),
    ("KC-14", "Việt Hòa", "commune", (106.025, 20.843)),
    ("KC-15", "Bình Kiều", "commune", (105.945, 20.850)),
    ("KC-16", "Liên Khê", "commune", (105.968, 20.845)),
    ("KC-17", "Phùng Hưng", "commune", (105.972, 20.825)),
    ("KC-18", "Đông Tảo", "commune", (106.005, 20.832)),
    ("KC-19", "Hồng Tiến", "commune", (106.025, 20.818)),
    ("KC-20", "Chí Tân", "commune", (105.985, 20.810)),
    ("KC-21", "Thuần Hưng", "commune", (106.010, 20.800)),
    ("KC-22", "Thành Công", "commune", (105.965, 20.805)),
    ("KC-23", "Đại Hưng", "commune", (105.990, 20.788)),
    ("KC-24", "Nhuế Dương", "commune", (106.012, 20.778)),
]

# Communes since 1 July 2025 covering parts of the former district: code
# (placeholder), name, old communes of Khoái Châu merged into it. Members from other
# districts are not drawn; old communes whose successor was not verified are left out.
NEW_COMMUNES = [
    ("HY-KC", "Khoái Châu", ["KC-TT", "KC-16", "KC-17", "KC-05"]),
    ("HY-CN", "Châu Ninh", ["KC-08", "KC-04", "KC-06", "KC-07"]),
    ("HY-VT", "Việt Tiến", ["KC-13", "KC-12", "KC-14"]),
    ("HY-TVV", "Triệu Việt Vương", ["KC-09", "KC-10", "KC-11"]),
    ("HY-CM", "Chí Minh", ["KC-21"]),
    ("HY-HL", "Hoàn Long", ["KC-18"]),
    ("HY-BD", "Bình Định", ["KC-19"]),
    ("HY-MS", "Mễ Sở", ["KC-01"]),
]

# Relics: heritage id, name, English name, commune code, types, rank, ranking
# decision, offset from the commune centre (degrees), source, extra.
# rank None = ranked (national or provincial) per the portal; level not verified.
SITES = [
    dict(heritage_id="VN-HY-DT-000001", name_vi="Đền Đa Hòa", name_en="Đa Hòa Temple",
         other_names=["Đền Chử Đồng Tử – Tiên Dung (Đa Hòa)"], commune="KC-01",
         types=["historical", "architectural_artistic"], rank="special_national",
         ranking_decision_no="1473/QĐ-TTg", ranking_decision_date="2024-11-26",
         offset=(-0.004, 0.002), source=f"{SPECIAL}; {PORTAL}",
         description_vi="Đền thờ Chử Đồng Tử – Tiên Dung bên bờ sông Hồng, thuộc cụm di "
                        "tích quốc gia đặc biệt Đa Hòa – Dạ Trạch.",
         description_en="Temple of Chử Đồng Tử and Princess Tiên Dung on the Red River bank, "
                        "part of the Đa Hòa – Dạ Trạch special national relic."),
    dict(heritage_id="VN-HY-DT-000002", name_vi="Đền Dạ Trạch", name_en="Dạ Trạch Temple",
         other_names=["Đền Hóa", "Dạ Trạch Hóa Từ"], commune="KC-02",
         types=["historical", "architectural_artistic"], rank="special_national",
         ranking_decision_no="1473/QĐ-TTg", ranking_decision_date="2024-11-26",
         offset=(-0.003, -0.002), period="Thời Nguyễn (trùng tu 1890)",
         source=f"{SPECIAL}; earlier 'historical site' by Decision 28-VH/QĐ (18/01/1988); "
                "festival 10–12 of the 2nd lunar month (ditichhungyen)",
         description_vi="Đền thờ Chử Đồng Tử, Tiên Dung và Tây Sa công chúa ở thôn Yên Vĩnh; "
                        "gắn với truyền thuyết đầm Nhất Dạ.",
         description_en="Temple of Chử Đồng Tử, Princess Tiên Dung and Princess Tây Sa in "
                        "Yên Vĩnh hamlet, linked to the legend of the Nhất Dạ swamp."),
    dict(heritage_id="VN-HY-DT-000003", name_vi="Đền Hàm Tử", name_en="Hàm Tử Temple",
         commune="KC-03", types=["historical"], rank=None, offset=(-0.002, 0.001),
         source=PORTAL),
    dict(heritage_id="VN-HY-DT-000004", name_vi="Đền Thiết Trụ", name_en="Thiết Trụ Temple",
         commune="KC-01", types=["historical"], rank=None, offset=(0.004, -0.003),
         source=PORTAL),
    dict(heritage_id="VN-HY-DT-000005", name_vi="Chùa Lạc Thủy", name_en="Lạc Thủy Pagoda",
         commune="KC-05", types=["architectural_artistic"], rank=None, offset=(0.002, 0.002),
         source=PORTAL),
    dict(heritage_id="VN-HY-DT-000006", name_vi="Văn chỉ Bình Dân",
         name_en="Bình Dân Confucian shrine", commune="KC-09", types=["historical"],
         rank=None, offset=(0.002, -0.002), source=PORTAL),
    dict(heritage_id="VN-HY-DT-000007", name_vi="Đình Yên Khê",
         name_en="Yên Khê Communal House", commune="KC-14", types=["architectural_artistic"],
         rank=None, offset=(-0.002, 0.002), source=PORTAL),
    dict(heritage_id="VN-HY-DT-000008", name_vi="Đền Hương Quất", name_en="Hương Quất Temple",
         commune="KC-22", types=["historical"], rank=None, offset=(0.002, 0.002),
         source=PORTAL),
    dict(heritage_id="VN-HY-DT-000009", name_vi="Đình Quan Xuyên",
         name_en="Quan Xuyên Communal House", commune="KC-22",
         types=["architectural_artistic"], rank=None, offset=(-0.003, -0.002), source=PORTAL),
    dict(heritage_id="VN-HY-DT-000010", name_vi="Đền Ngọc Nha Hạ",
         name_en="Ngọc Nha Hạ Temple", commune="KC-TT", types=["historical"], rank=None,
         offset=(0.002, -0.002), source=PORTAL),
    dict(heritage_id="VN-HY-DT-000011", name_vi="Đền Đông Kim", name_en="Đông Kim Temple",
         commune="KC-18", types=["historical"], rank=None, offset=(0.002, 0.001),
         source=PORTAL),
    dict(heritage_id="VN-HY-DT-000012", name_vi="Đình Phương Trù",
         name_en="Phương Trù Communal House", commune="KC-04",
         types=["architectural_artistic"], rank=None, offset=(0.002, -0.002), source=PORTAL),
]

LANDSCAPES = [
    dict(heritage_id="VN-HY-DT-000002", kind="pond", name_vi="Đầm Dạ Trạch (một phần)",
         name_en="Dạ Trạch swamp (part)", offset=(0.004, -0.003), radius_m=180,
         source="legend of the Nhất Dạ swamp (disanlangviet.com); shape generated"),
    dict(heritage_id="VN-HY-DT-000001", kind="river_bank", name_vi="Bãi sông Hồng trước đền",
         name_en="Red River bank before the temple", offset=(-0.004, 0.0), radius_m=150,
         source="shape generated"),
    dict(heritage_id="VN-HY-DT-000001", kind="garden", name_vi="Vườn cây đền Đa Hòa",
         name_en="Đa Hòa temple garden", offset=(0.0012, 0.0008), radius_m=35,
         source="shape generated"),
]

FACILITIES = [
    dict(heritage_id="VN-HY-DT-000001", kind="parking", name_vi="Bãi đỗ xe đền Đa Hòa",
         name_en="Đa Hòa temple car park", offset=(0.0015, -0.0012)),
    dict(heritage_id="VN-HY-DT-000001", kind="information", name_vi="Bảng giới thiệu di tích",
         name_en="Relic information board", offset=(0.0006, -0.0004)),
    dict(heritage_id="VN-HY-DT-000001", kind="boat_landing", name_vi="Bến đò Đa Hòa",
         name_en="Đa Hòa boat landing", offset=(-0.0045, 0.0005)),
    dict(heritage_id="VN-HY-DT-000002", kind="management_office",
         name_vi="Ban quản lý di tích Dạ Trạch", name_en="Dạ Trạch relic management office",
         offset=(0.0008, 0.0009)),
    dict(heritage_id="VN-HY-DT-000002", kind="toilet", name_vi="Nhà vệ sinh công cộng",
         name_en="Public toilets", offset=(0.0011, -0.0006)),
]

# Approximate lines (lon, lat) for the app's own basemap.
RIVERS = [
    dict(name_vi="Sông Hồng", name_en="Red River",
         points=[(105.900, 20.930), (105.908, 20.900), (105.905, 20.870), (105.902, 20.845),
                 (105.910, 20.815), (105.935, 20.790), (105.958, 20.768), (105.975, 20.745)]),
]
ROADS = [
    dict(name_vi="Quốc lộ 39", name_en="National Road 39", ref="QL39",
         points=[(105.930, 20.895), (105.960, 20.878), (105.985, 20.850), (106.000, 20.830),
                 (106.030, 20.815)]),
    dict(name_vi="Đường đê tả sông Hồng", name_en="Red River left-bank dyke road",
         ref="ĐT378", points=[(105.915, 20.895), (105.914, 20.865), (105.912, 20.840),
                              (105.920, 20.812), (105.945, 20.790), (105.968, 20.765)]),
]

INTANGIBLE = [
    dict(heritage_id="VN-HY-PVT-000001",
         name_vi="Lễ hội Chử Đồng Tử – Tiên Dung (đền Dạ Trạch)",
         name_en="Chử Đồng Tử – Tiên Dung festival (Dạ Trạch temple)",
         ich_type="traditional_festival", community="Nhân dân xã Dạ Trạch",
         site_heritage_ids=["VN-HY-DT-000002", "VN-HY-DT-000001"],
         events=[dict(name_vi="Lễ hội đền Dạ Trạch", name_en="Dạ Trạch temple festival",
                      lunar_month=2, lunar_day=10, duration_days=3)],
         source="festival dates 10–12 of the 2nd lunar month (ditichhungyen.4devvn.com); "
                "national listing not verified"),
]
