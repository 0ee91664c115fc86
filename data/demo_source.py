"""Hand-written facts behind the Khoái Châu demo set (built by data/build_demo.py).

Everything here is plain data. Each record names its `source`; where a fact could not be
checked the field is None or the source says "inferred" / "not verified".

Coordinates are WGS84 (lon, lat) and APPROXIMATE: the district outline, commune centres,
relic positions, rivers and roads were placed by hand from written descriptions (which
commune borders which, "about 250 m from the dyke", ...). Nothing is surveyed; errors of
several hundred metres are expected. GADM boundaries (non-commercial licence) were only
looked at to check the rough shape, never copied.
"""

from __future__ import annotations

# --- Sources (short labels used below) ----------------------------------------------------

S_1473 = (
    "Decision 1473/QĐ-TTg 26/11/2024: Đa Hòa – Dạ Trạch historical and "
    "architectural-artistic site ranked special national relic (press: baovanhoa.vn "
    "via vietnam.vn)"
)
S_PORTAL = (
    "Cổng TTĐT huyện Khoái Châu, 'Di tích lịch sử văn hóa' (20/04/2011, "
    "khoaichau.hungyen.gov.vn): 34 relics ranked national or provincial, by commune"
)
S_UNITS = (
    "list of the 25 units of Khoái Châu district (1 town, 24 communes): idgol.com; "
    "same names in the GADM attribute table and on the district portal"
)
S_GSO = (
    "GSO commune code: 12214 Dạ Trạch, 12217 Hàm Tử, 12235 Bình Kiều and 12277 Nhuế "
    "Dương (district 330) read in code repositories; the other codes follow the same "
    "step-3 sequence (inferred) and agree with the 2025 codes that kept old codes"
)
S_1248 = (
    "NASC Resolution 1248/NQ-UBTVQH15 (2024) rearranged communes of Hưng Yên (press: "
    "news.laodong.vn); its Khoái Châu clauses were not read"
)
S_1666 = (
    "NASC Resolution 1666/NQ-UBTVQH15 (2025), in force 1 July 2025: merger list as "
    "published by VnExpress (shared/realdata vn2025_commune_merger_csv) and in code "
    "repositories; Resolution text: danhmucvanbanphapluatvietnam.blogspot.com"
)
S_NEWCODE = (
    "commune code from a code repository's 2025 ward table (not checked against "
    "Decision 19/2025/QĐ-TTg)"
)
S_ICH_2023 = (
    "National ICH list 2023 (MoCST decisions 152 and 153/QĐ-BVHTTDL announced "
    "01/03/2023, thoidai.com.vn; list of 10 items, ninhthuantourism.vn 09/02/2023). "
    "Which of the two decision numbers is this item's was not verified"
)
SKETCH = "drawn by hand from written descriptions; not surveyed"

# --- Province and district ---------------------------------------------------------------

PROVINCE = {
    "code": "33",
    "name": "Hưng Yên",
    "valid_from": "1997-01-01",
    "source": "province code 33 (GSO list as used in code repositories; the new Hưng Yên of "
    "1 July 2025, merged with Thái Bình, keeps 33); re-established 1 Jan 1997 "
    "(from memory, not verified here)",
}

DISTRICT = {
    "code": "330",
    "name": "Khoái Châu",
    "valid_from": "1999-07-24",
    "valid_to": "2025-06-30",
    "source": "GSO district code 330 (commune-code tables in code repositories; 326 is Văn "
    "Giang). Re-established when Châu Giang district was split (Decree 60/1999/NĐ-CP, "
    "24/07/1999: from memory, not verified). District level abolished 1 July 2025 "
    "(Law 72/2025/QH15). Outline " + SKETCH,
}

# Rough outline of the former district (lon, lat), clockwise from the north-west. The
# Red River forms the west and south-west side; Văn Giang lies north, Yên Mỹ north-east,
# Ân Thi east, Kim Động south.
DISTRICT_OUTLINE = [
    (105.925, 20.897),
    (105.936, 20.905),
    (105.952, 20.906),
    (105.967, 20.903),
    (105.966, 20.884),
    (105.972, 20.877),
    (105.985, 20.873),
    (106.000, 20.869),
    (106.012, 20.864),
    (106.026, 20.850),
    (106.042, 20.840),
    (106.038, 20.826),
    (106.036, 20.808),
    (106.018, 20.795),
    (106.015, 20.775),
    (106.010, 20.759),
    (105.985, 20.757),
    (105.966, 20.762),
    (105.958, 20.780),
    (105.935, 20.787),
    (105.917, 20.800),
    (105.911, 20.818),
    (105.913, 20.840),
    (105.927, 20.853),
    (105.930, 20.866),
    (105.925, 20.880),
    (105.921, 20.890),
]

# --- Communes before the 2024 and 2025 rearrangements -------------------------------------
# (code, name, level, approximate centre (lon, lat), valid_to, note). The centres are
# placed from neighbourhood descriptions (e.g. Tứ Dân: "north-east Hàm Tử, south-east
# Đông Kết, south-west Tân Châu", centre 20°50′20″N 105°55′37″E per tinbds.com; Dạ Trạch:
# "north Đông Tảo and Bình Minh, south Hàm Tử, east Tân Dân and Ông Đình, west the Red
# River", disanlangviet.com; the district office at plus code RXRG+3PM ≈ 105.977,
# 20.840). The eight communes reorganised in 2024 end on 2024-11-30 (date assumed).
REORG_2024 = "2024-11-30"
OLD_COMMUNES = [
    (
        "12205",
        "Khoái Châu",
        "town",
        (105.977, 20.838),
        "2025-06-30",
        "thị trấn, district seat (office at plus code RXRG+3PM)",
    ),
    ("12208", "Đông Tảo", "commune", (105.955, 20.888), "2025-06-30", None),
    ("12211", "Bình Minh", "commune", (105.937, 20.893), "2025-06-30", None),
    (
        "12214",
        "Dạ Trạch",
        "commune",
        (105.943, 20.873),
        REORG_2024,
        "area 373.26 ha, hamlets Yên Vĩnh and Đức Nhuận (disanlangviet.com)",
    ),
    ("12217", "Hàm Tử", "commune", (105.935, 20.856), REORG_2024, None),
    ("12220", "Ông Đình", "commune", (105.955, 20.860), "2025-06-30", None),
    ("12223", "Tân Dân", "commune", (105.966, 20.872), "2025-06-30", None),
    (
        "12226",
        "Tứ Dân",
        "commune",
        (105.927, 20.839),
        "2025-06-30",
        "centre 20°50′20″N 105°55′37″E (tinbds.com)",
    ),
    ("12229", "An Vĩ", "commune", (105.972, 20.855), "2025-06-30", None),
    ("12232", "Đông Kết", "commune", (105.943, 20.822), "2025-06-30", None),
    ("12235", "Bình Kiều", "commune", (105.952, 20.845), REORG_2024, None),
    ("12238", "Dân Tiến", "commune", (105.993, 20.843), "2025-06-30", None),
    ("12241", "Đồng Tiến", "commune", (106.010, 20.852), "2025-06-30", None),
    (
        "12244",
        "Hồng Tiến",
        "commune",
        (105.988, 20.861),
        REORG_2024,
        "hamlet Vân Nội (doingoaihungyen.vn)",
    ),
    ("12247", "Tân Châu", "commune", (105.925, 20.808), "2025-06-30", None),
    ("12250", "Liên Khê", "commune", (105.960, 20.830), "2025-06-30", None),
    ("12253", "Phùng Hưng", "commune", (105.977, 20.822), "2025-06-30", None),
    ("12256", "Việt Hòa", "commune", (106.028, 20.835), "2025-06-30", None),
    ("12259", "Đông Ninh", "commune", (105.945, 20.795), "2025-06-30", None),
    ("12262", "Đại Tập", "commune", (105.968, 20.778), "2025-06-30", None),
    ("12265", "Chí Tân", "commune", (105.985, 20.805), REORG_2024, None),
    ("12268", "Đại Hưng", "commune", (105.988, 20.775), REORG_2024, None),
    ("12271", "Thuần Hưng", "commune", (106.004, 20.800), "2025-06-30", None),
    ("12274", "Thành Công", "commune", (106.022, 20.815), REORG_2024, None),
    ("12277", "Nhuế Dương", "commune", (106.006, 20.770), REORG_2024, None),
]

# --- Communes created in 2024 and merged again on 1 July 2025 -----------------------------
# Their names are certain (they appear in Resolution 1666 and in code repositories); which
# old communes formed each is INFERRED from geography, and their codes are placeholders.
INTERIM_FROM = "2024-12-01"  # assumed effective date of Resolution 1248
INTERIM_COMMUNES = [
    (
        "KC-2024-PHT",
        "Phạm Hồng Thái",
        ["12214", "12217", "12235"],
        (
            "composition inferred (Dạ Trạch, Hàm Tử, Bình Kiều: the three reorganised communes "
            "adjoining Tân Dân, Ông Đình and An Vĩ, with which it formed Triệu Việt Vương)"
        ),
    ),
    (
        "KC-2024-CM",
        "Chí Minh",
        ["12265", "12268"],
        (
            "composition inferred (Chí Tân, Đại Hưng); the old xã Chí Minh covered Thuần Hưng and "
            "Đại Hưng (nhandan.com.vn)"
        ),
    ),
    (
        "KC-2024-NH",
        "Nguyễn Huệ",
        ["12274", "12277"],
        "composition inferred (Thành Công, Nhuế Dương)",
    ),
]

# --- Communes since 1 July 2025 covering the former district ------------------------------
# (code, name, old communes of Khoái Châu whose areas form it, note). merged_from lists
# the pre-2024 communes, so that each new commune is the union of their cells.
NEW_FROM = "2025-07-01"
NEW_COMMUNES = [
    (
        "12205",
        "Khoái Châu",
        ["12205", "12250", "12253", "12232"],
        "thị trấn Khoái Châu + Liên Khê, Phùng Hưng, Đông Kết",
    ),
    (
        "12223",
        "Triệu Việt Vương",
        ["12223", "12220", "12229", "12214", "12217", "12235"],
        (
            "Phạm Hồng Thái + Tân Dân, Ông Đình, An Vĩ; Phạm Hồng Thái's area drawn as Dạ Trạch, "
            "Hàm Tử, Bình Kiều (inferred)"
        ),
    ),
    (
        "12238",
        "Việt Tiến",
        ["12238", "12241", "12256", "12244"],
        (
            "Đồng Tiến, Dân Tiến, Việt Hòa; Hồng Tiến's area is included on the assumption that it "
            "went to Đồng Tiến in 2024 (not verified)"
        ),
    ),
    (
        "12247",
        "Châu Ninh",
        ["12262", "12226", "12247", "12259"],
        "Đại Tập, Tứ Dân, Tân Châu, Đông Ninh",
    ),
    (
        "12271",
        "Chí Minh",
        ["12271", "12265", "12268", "12274", "12277"],
        (
            "Thuần Hưng + Nguyễn Huệ + Chí Minh (2024); drawn as Thuần Hưng, Chí Tân, Đại Hưng, "
            "Thành Công, Nhuế Dương (inferred)"
        ),
    ),
    (
        "12049",
        "Mễ Sở",
        ["12211"],
        (
            "Bình Minh + Thắng Lợi and Mễ Sở of former Văn Giang district; only the Bình Minh part "
            "is drawn"
        ),
    ),
    (
        "12070",
        "Hoàn Long",
        ["12208"],
        (
            "Đông Tảo + Đồng Than and Hoàn Long of former Yên Mỹ district; only the Đông Tảo part "
            "is drawn"
        ),
    ),
]

# --- Relics ------------------------------------------------------------------------------
# lon/lat: placed by hand (see accuracy_note). zone_i_m: (length, width) of the generated
# zone I rectangle in metres; zone_ii_m: mean radius of zone II.
SITES = [
    {
        "heritage_id": "VN-HY-DT-000001",
        "name_vi": "Đền Đa Hòa",
        "name_en": "Đa Hòa Temple",
        "other_names": ["Đền Chử Đồng Tử (Đa Hòa)"],
        "commune": "12211",
        "types": ["historical", "architectural_artistic"],
        "rank": "special_national",
        "ranking_decision_no": "1473/QĐ-TTg",
        "ranking_decision_date": "2024-11-26",
        "period": "Thời Nguyễn (xây dựng lại năm 1894)",
        "materials": "Mái lợp ngói",
        "description_vi": "Đền thờ Chử Đồng Tử, Tiên Dung và Tây Sa công chúa ở thôn Đa Hòa, "
        "bên bờ sông Hồng, mặt nhìn sang bãi Tự Nhiên, nơi theo truyền thuyết "
        "Chử Đồng Tử gặp Tiên Dung. Năm 1894 Tiến sĩ Chu Mạnh Trinh hưng công "
        "xây dựng lại; khu đền rộng 18.720 m², gồm 18 nóc nhà lợp ngói.",
        "description_en": "Temple of Chử Đồng Tử, Princess Tiên Dung and Princess Tây Sa in Đa "
        "Hòa hamlet on the Red River, facing the Tự Nhiên sandbank where legend "
        "places the couple's meeting. Rebuilt in 1894 under the laureate Chu "
        "Mạnh Trinh; the precinct covers 18,720 m² with 18 tiled roofs.",
        "lon": 105.9300,
        "lat": 20.8940,
        "zone_i_m": (150, 125),
        "zone_ii_m": 300,
        "accuracy_note": "Placed by hand beside the Red River dyke in Bình Minh commune "
        "(descriptions: on the river bank, facing west to bãi Tự Nhiên); not "
        "surveyed, may be several hundred metres off.",
        "source": f"{S_1473}; description: lazi.vn, toplist.vn, hochu.vn (2018), "
        f"vietnamdiemhen.com; {S_PORTAL}",
    },
    {
        "heritage_id": "VN-HY-DT-000002",
        "name_vi": "Đền Dạ Trạch",
        "name_en": "Dạ Trạch Temple",
        "other_names": ["Đền Hóa Dạ Trạch", "Dạ Trạch Hóa Từ"],
        "commune": "12214",
        "types": ["historical", "architectural_artistic"],
        "rank": "special_national",
        "ranking_decision_no": "1473/QĐ-TTg",
        "ranking_decision_date": "2024-11-26",
        "period": None,
        "materials": None,
        "description_vi": "Đền thờ Chử Đồng Tử, Tiên Dung và Tây Sa công chúa (tên chữ Dạ Trạch "
        "Hóa Từ) ở thôn Yên Vĩnh, nơi theo truyền thuyết ba vị hóa về trời. "
        "Vùng đầm Dạ Trạch là căn cứ của Triệu Quang Phục chống quân Lương "
        "(thế kỷ VI); hậu cung đền có khám thờ Triệu Quang Phục.",
        "description_en": "Temple of Chử Đồng Tử, Tiên Dung and Tây Sa (Dạ Trạch Hóa Từ) in Yên "
        "Vĩnh hamlet, where legend says the three rose to heaven. The Dạ Trạch "
        "swamp was Triệu Quang Phục's 6th-century base against the Liang; the "
        "rear sanctuary holds an altar to him.",
        "lon": 105.9405,
        "lat": 20.8745,
        "zone_i_m": (90, 70),
        "zone_ii_m": 260,
        "accuracy_note": "Placed by hand in Yên Vĩnh hamlet, west part of Dạ Trạch commune near "
        "the river; not surveyed.",
        "source": f"{S_1473}; description: dulichvn.org.vn, disanlangviet.com, hochu.vn; "
        f"{S_PORTAL}",
    },
    {
        "heritage_id": "VN-HY-DT-000003",
        "name_vi": "Đền thờ Triệu Việt Vương",
        "name_en": "Temple of King Triệu Việt Vương",
        "other_names": [],
        "commune": "12214",
        "types": ["historical"],
        "rank": "provincial",
        "ranking_decision_no": "177/QĐ-CTUBND",
        "ranking_decision_date": "2020-01-20",
        "period": None,
        "materials": None,
        "description_vi": "Đền thờ Triệu Việt Vương Triệu Quang Phục ở thôn Yên Vĩnh, gần đầm "
        "Dạ Trạch; nơi tổ chức Lễ hội Triệu Việt Vương, phục dựng năm 2022.",
        "description_en": "Temple of King Triệu Việt Vương (Triệu Quang Phục) in Yên Vĩnh "
        "hamlet near the Dạ Trạch swamp; venue of the Triệu Việt Vương "
        "festival, revived in 2022.",
        "lon": 105.9450,
        "lat": 20.8705,
        "zone_i_m": (60, 45),
        "zone_ii_m": 190,
        "accuracy_note": "Placed by hand in Yên Vĩnh hamlet, a few hundred metres from Đền Dạ "
        "Trạch; the real distance between the two is not known.",
        "source": "Decision 177/QĐ-CTUBND 20/01/2020 of the Hưng Yên provincial chair "
        "(tuyengiao.hungyen.dcs.vn); festival: vietnam.vn/hungyen (2023), "
        "mekongasean.vn (2022)",
    },
    {
        "heritage_id": "VN-HY-DT-000004",
        "name_vi": "Đền Hàm Tử",
        "name_en": "Hàm Tử Temple",
        "other_names": [],
        "commune": "12217",
        "types": ["historical"],
        "rank": "national",
        "ranking_decision_no": "97/QĐ",
        "ranking_decision_date": "1992-01-21",
        "period": None,
        "materials": None,
        "description_vi": "Đền thờ ba anh em họ Trần (Trần Phúc, Trần Nghiêm, Trần Quang) người "
        "Hàm Tử, có công giúp Lý Thái Tổ đánh Chiêm Thành; đền cách đê sông "
        "Hồng khoảng 250 m. Tại Hàm Tử quan, cuối thế kỷ XIII quân dân nhà Trần "
        "đánh thắng quân Nguyên. Lễ hội ngày mồng 6 tháng 2 âm lịch.",
        "description_en": "Temple of the three Trần brothers of Hàm Tử who fought for Lý Thái "
        "Tổ; about 250 m from the Red River dyke. At Hàm Tử pass the Trần army "
        "defeated the Yuan in the late 13th century.",
        "lon": 105.9340,
        "lat": 20.8525,
        "zone_i_m": (70, 50),
        "zone_ii_m": 220,
        "accuracy_note": "Placed by hand in Hàm Tử hamlet about 250 m inland from the dyke "
        "(description: south-east of the hamlet); not surveyed.",
        "source": "ditichhungyen.4devvn.com (Hưng Yên relic catalogue app): ranked 'historical' "
        "by Decision 97/QĐ 21/01/1992; rank 'national' inferred (relics were ranked "
        f"only by the Ministry of Culture before the 2001 Heritage Law); {S_PORTAL}",
    },
    {
        "heritage_id": "VN-HY-DT-000005",
        "name_vi": "Văn chỉ Bình Dân",
        "name_en": "Bình Dân Confucian Shrine",
        "other_names": ["Văn từ phủ Khoái Châu"],
        "commune": "12223",
        "types": ["historical"],
        "rank": "national",
        "ranking_decision_no": "313-VH/QĐ",
        "ranking_decision_date": "1962-04-28",
        "period": "Trùng tu thời Nguyễn",
        "materials": None,
        "description_vi": "Văn chỉ huyện Đông Yên ở thôn Bình Dân, thờ Khổng Tử, Chu Văn An và "
        "các vị đỗ đại khoa; hai tấm bia tiến sĩ ghi danh hơn 30 vị đại khoa "
        "của huyện Đông Yên. Từng là nơi hội họp, tế cờ của nghĩa quân Bãi Sậy "
        "(Nguyễn Thiện Thuật); năm 1883 bị thực dân Pháp phá hủy.",
        "description_en": "Confucian shrine of former Đông Yên district in Bình Dân hamlet, "
        "honouring Confucius, Chu Văn An and the district's doctoral laureates "
        "(two stelae list over 30). Meeting place of the Bãi Sậy insurgents "
        "under Nguyễn Thiện Thuật; destroyed by the French in 1883.",
        "lon": 105.9635,
        "lat": 20.8745,
        "zone_i_m": (65, 50),
        "zone_ii_m": 200,
        "accuracy_note": "Placed by hand near the centre of Tân Dân commune; the position of "
        "Bình Dân hamlet was not verified.",
        "source": "Decision 313-VH/QĐ 28/04/1962 (Minister of Culture, national list) per "
        "ditichhungyen.4devvn.com; national rank also in 123docz.net (district culture "
        f"office table); danviet.vn (2023); {S_PORTAL}",
    },
    {
        "heritage_id": "VN-HY-DT-000006",
        "name_vi": "Đình An Dân",
        "name_en": "An Dân Communal House",
        "other_names": [],
        "commune": "12223",
        "types": ["architectural_artistic"],
        "rank": "provincial",
        "ranking_decision_no": None,
        "ranking_decision_date": None,
        "period": None,
        "materials": None,
        "description_vi": "Đình làng An Dân, xã Tân Dân; được xếp hạng di tích kiến trúc nghệ "
        "thuật cấp tỉnh năm 2014.",
        "description_en": "Communal house of An Dân village, Tân Dân commune; ranked a "
        "provincial architectural-artistic relic in 2014.",
        "lon": 105.9690,
        "lat": 20.8690,
        "zone_i_m": (55, 40),
        "zone_ii_m": 170,
        "accuracy_note": "Placed by hand near the centre of Tân Dân commune; the village "
        "position was not verified.",
        "source": "one of Decisions 1725–1729/QĐ-UBND (Oct 2014) of the Hưng Yên People's "
        "Committee (laocai.tintuc.vn citing toquoc.vn); its own number and date not "
        "verified",
    },
    {
        "heritage_id": "VN-HY-DT-000007",
        "name_vi": "Đình Vinh Quang",
        "name_en": "Vinh Quang Communal House",
        "other_names": [],
        "commune": "12205",
        "types": [],
        "rank": "provincial",
        "ranking_decision_no": "2336/QĐ-CTUBND",
        "ranking_decision_date": "2017-08-17",
        "period": None,
        "materials": None,
        "description_vi": "Đình Vinh Quang ở thị trấn Khoái Châu; được xếp hạng di tích cấp tỉnh "
        "năm 2017.",
        "description_en": "Vinh Quang communal house in Khoái Châu town; ranked a provincial "
        "relic in 2017.",
        "lon": 105.9800,
        "lat": 20.8360,
        "zone_i_m": (50, 40),
        "zone_ii_m": 160,
        "accuracy_note": "Placed by hand in Khoái Châu town, south-east of the district office; "
        "the real position was not verified.",
        "source": "Decision 2336/QĐ-CTUBND 17/08/2017 (hungyentourism.com.vn); relic type not "
        "stated there",
    },
    {
        "heritage_id": "VN-HY-DT-000008",
        "name_vi": "Đình Lôi Cầu",
        "name_en": "Lôi Cầu Communal House",
        "other_names": [],
        "commune": "12256",
        "types": ["historical"],
        "rank": "provincial",
        "ranking_decision_no": None,
        "ranking_decision_date": "2022-08-12",
        "period": None,
        "materials": None,
        "description_vi": "Đình thờ các thành hoàng làng Uy Linh Lang Đại vương, Đỗ Anh Vũ và "
        "hai nàng Lôi Hoa, Tiên Hoa công chúa; kiến trúc kiểu chữ Công.",
        "description_en": "Communal house honouring the village guardians Uy Linh Lang, Đỗ Anh "
        "Vũ and princesses Lôi Hoa and Tiên Hoa; built on an I-shaped (chữ "
        "Công) plan.",
        "lon": 106.0265,
        "lat": 20.8380,
        "zone_i_m": (55, 45),
        "zone_ii_m": 170,
        "accuracy_note": "Placed by hand near the centre of Việt Hòa commune; the village "
        "position was not verified.",
        "source": "Decision of the Hưng Yên provincial chair 12/08/2022, number not given "
        "(sovhttdl.hungyen.gov.vn)",
    },
]

# --- Landscapes --------------------------------------------------------------------------
# Position relative to the linked site (metres east, metres north) or absolute lon/lat;
# shapes are generated: radius_m for round shapes, or (length, width) for strips.
LANDSCAPES = [
    {
        "heritage_id": "VN-HY-DT-000003",
        "kind": "pond",
        "name_vi": "Đầm Dạ Trạch (một phần)",
        "name_en": "Dạ Trạch swamp (part)",
        "offset_m": (650, -450),
        "radius_m": 220,
        "source": "Triệu Quang Phục's base in the Dạ Trạch swamp (vietnam.vn/hungyen; "
        "disanlangviet.com); position and shape generated, extent unknown",
    },
    {
        "heritage_id": "VN-HY-DT-000001",
        "kind": "river_bank",
        "name_vi": "Bãi sông Hồng trước đền Đa Hòa",
        "name_en": "Red River bank before Đa Hòa Temple",
        "offset_m": (-330, 0),
        "strip_m": (420, 220),
        "source": "the temple faces the river and bãi Tự Nhiên (lazi.vn); strip generated",
    },
    {
        "heritage_id": "VN-HY-DT-000001",
        "kind": "tree",
        "name_vi": "Cây đa cổ thụ đền Đa Hòa",
        "name_en": "Old banyan at Đa Hòa Temple",
        "offset_m": (-40, 25),
        "radius_m": 12,
        "source": "two-storey stele house under an old banyan (lazi.vn); position generated",
    },
    {
        "heritage_id": None,
        "kind": "tree",
        "name_vi": "Cây đa Sài Thị",
        "name_en": "Sài Thị banyan",
        "lon": 106.0010,
        "lat": 20.8030,
        "radius_m": 15,
        "source": "site of the first Communist Party cell of Hưng Yên (12/1929), Thuần Hưng "
        "(nhandan.com.vn, baomoi); placed near the commune centre, rank not verified",
    },
]

# --- Facilities --------------------------------------------------------------------------
# Points unless radius_m is given (then a small generated polygon).
FACILITIES = [
    {
        "heritage_id": "VN-HY-DT-000001",
        "kind": "boat_landing",
        "name_vi": "Bến Bình Minh",
        "name_en": "Bình Minh landing",
        "offset_m": (-480, -120),
        "source": "tourist boats from Chương Dương Độ (Hà Nội) stop at bến Bình Minh "
        "(disanlangviet.com); position placed by hand",
    },
    {
        "heritage_id": "VN-HY-DT-000001",
        "kind": "management_office",
        "name_vi": "Ban Quản lý di tích xã Bình Minh",
        "name_en": "Bình Minh relic management board",
        "offset_m": (70, -60),
        "source": "board named in sovhttdl.hungyen.gov.vn (2022); position placed by hand",
    },
    {
        "heritage_id": "VN-HY-DT-000002",
        "kind": "management_office",
        "name_vi": "Ban Quản lý di tích xã Dạ Trạch",
        "name_en": "Dạ Trạch relic management board",
        "offset_m": (60, 50),
        "source": "board named in sovhttdl.hungyen.gov.vn (2022); position placed by hand",
    },
    {
        "heritage_id": "VN-HY-DT-000001",
        "kind": "parking",
        "name_vi": "Bãi đỗ xe (điểm minh họa)",
        "name_en": "Car park (illustrative)",
        "offset_m": (140, -110),
        "source": "illustrative demo feature: existence and position not verified",
    },
    {
        "heritage_id": "VN-HY-DT-000002",
        "kind": "information",
        "name_vi": "Bảng giới thiệu di tích (điểm minh họa)",
        "name_en": "Information board (illustrative)",
        "offset_m": (35, -40),
        "source": "illustrative demo feature: existence and position not verified",
    },
    {
        "heritage_id": None,
        "kind": "exhibition",
        "name_vi": "Nhà thờ bà Hoàng Thị Loan",
        "name_en": "Memorial house of Mrs Hoàng Thị Loan",
        "lon": 105.9890,
        "lat": 20.8625,
        "radius_m": 40,
        "source": "built 2005 on the old communal-house ground of Vân Nội hamlet, Hồng Tiến, "
        "about 5,000 m²; keeps documents and objects on the Hoàng family "
        "(doingoaihungyen.vn); placed near the commune centre",
    },
]

# --- Rivers and roads (lon, lat), drawn by hand -------------------------------------------
RIVERS = [
    {
        "name_vi": "Sông Hồng",
        "name_en": "Red River",
        "source": "forms the west boundary of the district (123docz.net, district description); "
        "course " + SKETCH,
        "points": [
            (105.921, 20.935),
            (105.917, 20.905),
            (105.914, 20.889),
            (105.921, 20.876),
            (105.923, 20.862),
            (105.915, 20.852),
            (105.905, 20.840),
            (105.903, 20.818),
            (105.910, 20.797),
            (105.928, 20.782),
            (105.950, 20.773),
            (105.958, 20.755),
            (105.956, 20.735),
        ],
    },
    {
        "name_vi": "Sông Giàn (Ngưu Giang)",
        "name_en": "Giàn River (Ngưu Giang)",
        "source": "Thuần Hưng lies along the Giàn river; the Nhuế Dương post stood on it "
        "(nhandan.com.vn); the Sài Thị banyan overlooks the Ngưu Giang (baomoi). "
        "Schematic course, " + SKETCH,
        "points": [
            (106.036, 20.830),
            (106.022, 20.818),
            (106.008, 20.806),
            (106.004, 20.790),
            (106.005, 20.772),
            (106.004, 20.756),
        ],
    },
]
ROADS = [
    {
        "name_vi": "Đường đê tả sông Hồng (ĐT.378)",
        "name_en": "Red River left-bank dyke road",
        "ref": "ĐT.378",
        "source": "road along the left dyke from Hà Nội to Bình Minh (disanlangviet.com); ref "
        "ĐT.378 as on the Gia Lâm side (360.hncity.org), not verified for this "
        "section; " + SKETCH,
        "points": [
            (105.934, 20.908),
            (105.935, 20.895),
            (105.936, 20.882),
            (105.935, 20.866),
            (105.931, 20.855),
            (105.918, 20.841),
            (105.916, 20.820),
            (105.921, 20.805),
            (105.937, 20.792),
            (105.958, 20.784),
            (105.964, 20.769),
            (105.968, 20.755),
        ],
    },
]

# --- Intangible heritage -----------------------------------------------------------------
INTANGIBLE = [
    {
        "heritage_id": "VN-HY-PVT-000001",
        "name_vi": "Lễ hội đền Hóa Dạ Trạch",
        "name_en": "Dạ Trạch Temple Festival (Chử Đồng Tử – Tiên Dung)",
        "ich_type": "traditional_festival",
        "national_listing_decision_no": None,
        "national_listing_date": None,
        "community": "Nhân dân thôn Yên Vĩnh, xã Dạ Trạch",
        "site_heritage_ids": ["VN-HY-DT-000002"],
        "description_vi": "Còn gọi là Lễ hội tổng Vĩnh, Lễ hội Chử Đồng Tử – Tiên Dung. Mồng 9 "
        "tháng 2 làm lễ Mục dục (mở cửa đền); mồng 10 rước kiệu ra sông Hồng "
        "lấy nước về lễ Thánh; lễ hội chính từ mồng 10 đến 12 tháng 2 âm lịch.",
        "description_en": "Also called the Vĩnh canton festival. Temple-opening rite on the 9th "
        "of the 2nd lunar month, water procession to the Red River on the "
        "10th, main festival 10th–12th.",
        "events": [
            {
                "name_vi": "Lễ Mục dục (mở cửa đền)",
                "name_en": "Temple-opening rite",
                "lunar_month": 2,
                "lunar_day": 9,
                "duration_days": 1,
            },
            {
                "name_vi": "Lễ hội chính, rước nước sông Hồng",
                "name_en": "Main festival and water procession",
                "lunar_month": 2,
                "lunar_day": 10,
                "duration_days": 3,
            },
            {
                "name_vi": "Lễ kỷ niệm ngày sinh Đức Thánh Chử",
                "name_en": "Birthday of Saint Chử Đồng Tử",
                "lunar_month": 8,
                "lunar_day": 12,
                "duration_days": 1,
            },
            {
                "name_vi": "Lễ kỷ niệm ngày hóa (Tam vị đồng thăng)",
                "name_en": "Day the three saints rose to heaven",
                "lunar_month": 11,
                "lunar_day": 17,
                "duration_days": 1,
            },
        ],
        "source": f"{S_ICH_2023}; rites and dates: hungyentourism.com.vn, dulichvn.org.vn, "
        "sovhttdl.hungyen.gov.vn (2022)",
    },
    {
        "heritage_id": "VN-HY-PVT-000002",
        "name_vi": "Lễ hội đền Đa Hòa",
        "name_en": "Đa Hòa Temple Festival (Chử Đồng Tử – Tiên Dung)",
        "ich_type": "traditional_festival",
        "national_listing_decision_no": None,
        "national_listing_date": None,
        "community": "Nhân dân thôn Đa Hòa (xã Bình Minh) và các làng thuộc tổng Mễ xưa",
        "site_heritage_ids": ["VN-HY-DT-000001"],
        "description_vi": "Tổ chức từ mồng 10 đến 12 tháng 2 âm lịch; quy mô hàng tổng (9 làng "
        "tổng Mễ xưa) ba năm một lần. Các làng rước kiệu Thành hoàng về đền Đa "
        "Hòa; ngày thứ hai rước nước và du thuyền trên sông Hồng.",
        "description_en": "Held on the 10th–12th of the 2nd lunar month; every third year at "
        "canton scale (nine villages of old Mễ canton). Villages carry their "
        "guardian spirits to the temple; water procession on the second day.",
        "events": [
            {
                "name_vi": "Lễ hội đền Đa Hòa",
                "name_en": "Đa Hòa Temple Festival",
                "lunar_month": 2,
                "lunar_day": 10,
                "duration_days": 3,
            }
        ],
        "source": f"{S_ICH_2023} (listed for xã Bình Minh, Khoái Châu and xã Mễ Sở, Văn Giang); "
        "thoidai.com.vn, sovhttdl.hungyen.gov.vn (2022)",
    },
    {
        "heritage_id": "VN-HY-PVT-000003",
        "name_vi": "Lễ hội Triệu Việt Vương",
        "name_en": "Triệu Việt Vương Festival",
        "ich_type": "traditional_festival",
        "national_listing_decision_no": None,
        "national_listing_date": None,
        "community": "Nhân dân xã Dạ Trạch",
        "site_heritage_ids": ["VN-HY-DT-000003"],
        "description_vi": "Lễ hội tưởng nhớ Triệu Việt Vương, phục dựng lần đầu năm 2022; năm "
        "2023 tổ chức từ ngày 12 đến 14 tháng 8 âm lịch tại đền thờ Triệu Việt "
        "Vương, thôn Yên Vĩnh, có đoàn rước từ khu bãi lau sậy về đền Hóa.",
        "description_en": "Festival for King Triệu Việt Vương, revived in 2022; in 2023 held "
        "on the 12th–14th of the 8th lunar month at his temple in Yên Vĩnh.",
        "events": [
            {
                "name_vi": "Lễ hội Triệu Việt Vương",
                "name_en": "Triệu Việt Vương Festival",
                "lunar_month": 8,
                "lunar_day": 12,
                "duration_days": 3,
            }
        ],
        "source": "vietnam.vn/hungyen (2023 edition, 12–14/8 lunar); mekongasean.vn (2022 "
        "edition on 13/8 lunar); not on the national list as far as checked",
    },
    {
        "heritage_id": "VN-HY-PVT-000004",
        "name_vi": "Lễ hội đền Hàm Tử",
        "name_en": "Hàm Tử Temple Festival",
        "ich_type": "traditional_festival",
        "national_listing_decision_no": None,
        "national_listing_date": None,
        "community": "Nhân dân thôn Hàm Tử",
        "site_heritage_ids": ["VN-HY-DT-000004"],
        "description_vi": "Lễ hội hằng năm của đền Hàm Tử vào ngày mồng 6 tháng 2 âm lịch.",
        "description_en": "Annual festival of Hàm Tử Temple on the 6th of the 2nd lunar month.",
        "events": [
            {
                "name_vi": "Lễ hội đền Hàm Tử",
                "name_en": "Hàm Tử Temple Festival",
                "lunar_month": 2,
                "lunar_day": 6,
                "duration_days": 1,
            }
        ],
        "source": "ditichhungyen.4devvn.com (Hưng Yên relic catalogue app)",
    },
]
