"""Labels (vi, en) of the controlled vocabularies stored as codes."""
from __future__ import annotations

VOCAB: dict[str, dict[str, tuple[str, str]]] = {
    "rank": {
        "special_national": ("Di tích quốc gia đặc biệt", "Special national relic"),
        "national": ("Di tích quốc gia", "National relic"),
        "provincial": ("Di tích cấp tỉnh", "Provincial relic"),
        "inventoried": ("Di tích trong danh mục kiểm kê", "Inventoried relic (not ranked)"),
    },
    "relic_type": {
        "historical": ("Lịch sử", "Historical"),
        "architectural_artistic": ("Kiến trúc nghệ thuật", "Architectural-artistic"),
        "archaeological": ("Khảo cổ", "Archaeological"),
        "scenic": ("Danh lam thắng cảnh", "Scenic landscape"),
        "mixed": ("Hỗn hợp", "Mixed"),
    },
    "zone": {
        "I": ("Khu vực bảo vệ I", "Protection zone I"),
        "II": ("Khu vực bảo vệ II", "Protection zone II"),
        "buffer": ("Vùng đệm", "Buffer zone"),
    },
    "landscape_kind": {
        "pond": ("Ao, hồ", "Pond"),
        "tree": ("Cây cổ thụ", "Ancient tree"),
        "garden": ("Vườn", "Garden"),
        "river_bank": ("Bãi sông", "River bank"),
        "other": ("Khác", "Other"),
    },
    "facility_kind": {
        "parking": ("Bãi đỗ xe", "Car park"),
        "toilet": ("Nhà vệ sinh", "Toilets"),
        "road_access": ("Đường vào", "Access road"),
        "boat_landing": ("Bến thuyền", "Boat landing"),
        "information": ("Bảng thông tin", "Information board"),
        "exhibition": ("Nhà trưng bày", "Exhibition house"),
        "management_office": ("Ban quản lý", "Management office"),
        "ticket_office": ("Quầy vé", "Ticket office"),
        "boundary_marker": ("Mốc giới", "Boundary marker"),
        "fire_equipment": ("Thiết bị phòng cháy", "Fire equipment"),
        "camera": ("Camera giám sát", "Surveillance camera"),
        "asset": ("Tài sản", "Asset"),
        "other": ("Khác", "Other"),
    },
    # Types of intangible heritage (models.base ICH_TYPES; Law on Cultural Heritage 2024
    # Art. 10).
    "ich_type": {
        "oral_traditions": ("Ngữ văn dân gian", "Oral traditions and expressions"),
        "folk_performing_arts": ("Nghệ thuật trình diễn dân gian", "Folk performing arts"),
        "social_customs_beliefs": ("Tập quán xã hội và tín ngưỡng",
                                   "Social customs and beliefs"),
        "traditional_festival": ("Lễ hội truyền thống", "Traditional festival"),
        "folk_knowledge": ("Tri thức dân gian", "Folk knowledge"),
        "traditional_crafts": ("Nghề thủ công truyền thống", "Traditional craftsmanship"),
    },
    "admin_level": {
        "province": ("Tỉnh", "Province"),
        "district": ("Huyện", "District"),
        "town": ("Thị trấn", "Town"),
        "commune": ("Xã", "Commune"),
        "ward": ("Phường", "Ward"),
    },
    "role": {
        "public": ("Công chúng", "Public"),
        "commune_editor": ("Biên tập viên cấp xã", "Commune editor"),
        "district_reviewer": ("Cán bộ thẩm định", "District reviewer"),
        "admin": ("Quản trị viên", "Administrator"),
    },
    # Life cycle of a record (models.relics SITE_STATUS).
    "record_status": {
        "draft": ("Bản nháp", "Draft"),
        "published": ("Đã công bố", "Published"),
        "archived": ("Lưu trữ", "Archived"),
        "retired": ("Đã đưa ra khỏi danh mục", "Retired"),
        "merged": ("Đã hợp nhất vào di tích khác", "Merged into another relic"),
    },
    "artifact_kind": {
        "relic_object": ("Di vật", "Relic object"),
        "antiquity": ("Cổ vật", "Antiquity"),
        "national_treasure": ("Bảo vật quốc gia", "National treasure"),
        "object": ("Hiện vật", "Object"),
    },
    "artifact_origin": {
        "original": ("Nguyên gốc tại di tích", "Original to the relic"),
        "donated": ("Hiến tặng", "Donated"),
        "excavated": ("Khai quật", "Excavated"),
        "exchanged": ("Trao đổi", "Exchanged"),
        "recovered": ("Thu hồi", "Recovered"),
        "purchased": ("Mua", "Purchased"),
        "other": ("Khác", "Other"),
    },
    "conservation_kind": {
        "preventive": ("Bảo quản phòng ngừa", "Preventive conservation"),
        "remedial": ("Bảo quản trị liệu", "Remedial conservation"),
    },
    "accuracy": {
        "surveyed": ("Đo đạc", "Surveyed"),
        "digitised": ("Số hóa từ bản đồ", "Digitised from a map"),
        "approximate": ("Gần đúng (chưa đo đạc)", "Approximate (not surveyed)"),
    },
    # Condition assessments (models.base CONDITIONS, ELEMENTS, THREATS, TRENDS).
    "condition": {
        "good": ("Tốt", "Good"),
        "fair": ("Khá", "Fair"),
        "poor": ("Xuống cấp", "Poor"),
        "very_poor": ("Xuống cấp nghiêm trọng", "Very poor"),
        "ruined": ("Đổ nát", "Ruined"),
    },
    "element": {
        "roof": ("Mái", "Roof"),
        "structure": ("Kết cấu", "Structure"),
        "decoration": ("Trang trí", "Decoration"),
        "artifacts": ("Hiện vật", "Artifacts"),
        "landscape": ("Cảnh quan", "Landscape"),
        "environment": ("Môi trường", "Environment"),
        "infrastructure": ("Hạ tầng", "Infrastructure"),
    },
    "threat": {
        "flood": ("Ngập lụt", "Flooding"),
        "damp": ("Ẩm mốc", "Damp"),
        "termites": ("Mối mọt", "Termites"),
        "encroachment": ("Lấn chiếm", "Encroachment"),
        "unlicensed_construction": ("Xây dựng trái phép", "Unlicensed construction"),
        "vandalism": ("Phá hoại", "Vandalism"),
        "theft": ("Trộm cắp", "Theft"),
        "fire": ("Cháy", "Fire"),
        "pollution": ("Ô nhiễm", "Pollution"),
        "tourism_pressure": ("Áp lực du lịch", "Tourism pressure"),
        "neglect": ("Thiếu chăm sóc", "Neglect"),
        "other": ("Khác", "Other"),
    },
    # Licences of photos and documents (digital_records.licence). The Creative Commons
    # names are the same in both languages; a free-text value typed before this list
    # existed is kept and shown as typed (label() returns it unchanged).
    "licence": {
        "CC BY 4.0": ("CC BY 4.0", "CC BY 4.0"),
        "CC BY-SA 4.0": ("CC BY-SA 4.0", "CC BY-SA 4.0"),
        "CC0 1.0": ("CC0 1.0", "CC0 1.0"),
        "public_domain": ("Phạm vi công cộng", "Public domain"),
        "all_rights_reserved": ("Giữ bản quyền (dùng khi được phép)",
                                "All rights reserved (used with permission)"),
        "unknown": ("Chưa rõ giấy phép", "Licence unknown"),
    },
    "trend": {
        "improving": ("Đang tốt lên", "Improving"),
        "stable": ("Ổn định", "Stable"),
        "worsening": ("Đang xấu đi", "Worsening"),
        "unknown": ("Chưa rõ", "Unknown"),
    },
}


# Other ways survey files write the codes of a vocabulary, besides each code and its vi/en
# labels (which are always accepted). Matching folds case, diacritics, Đ/Ð, spaces and
# the punctuation around words ("Lịch sử-văn hoá" = "lich su - van hoa"), and ignores a
# leading "di tích" / "cấp" / "khu vực bảo vệ" word (see importers/mapping.py), so each
# form is written once here, with its diacritics. Sources: ../shared/domain/heritage-law.md
# (Decree 98/2010 Art. 11 and Law 45/2024 Art. 21 types, the three ranks and the
# inventory list, Law 2009 Art. 32 zones) and the forms seen in relic lists.
VARIANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "relic_type": {
        # "Di tích lịch sử - văn hóa" is the commonest label in relic lists. The
        # classification (Decree 98/2010 Art. 11; Law 45/2024 Art. 21) has no cultural
        # type: a relic listed as "historical-cultural" is of the historical type, the
        # only type whose label it carries (docs/importing.md). A survey that means
        # otherwise maps the value by hand (--value types "Lịch sử - văn hóa=CODE").
        "historical": ("Lịch sử - văn hóa", "Lịch sử văn hóa", "Lịch sử, văn hóa",
                       "Lịch sử - văn hoá", "LSVH", "LS-VH", "LS", "Lịch sử cách mạng",
                       "Lịch sử - cách mạng", "Di tích lịch sử", "Historic",
                       "Historical-cultural"),
        "architectural_artistic": ("Kiến trúc - nghệ thuật", "Kiến trúc, nghệ thuật",
                                   "Kiến trúc", "KTNT", "KT-NT", "Nghệ thuật kiến trúc",
                                   "Architectural", "Architecture"),
        "archaeological": ("Khảo cổ học", "Khảo cổ - học", "KC", "KCH", "Archaeology"),
        "scenic": ("Danh lam", "Thắng cảnh", "Danh thắng", "DLTC",
                   "Scenic", "Scenic landscape", "Landscape"),
        "mixed": ("Di tích hỗn hợp", "HH", "Mixed"),
    },
    "rank": {
        "special_national": ("Quốc gia đặc biệt", "QGĐB", "QG đặc biệt",
                             "Di tích quốc gia đặc biệt", "Đặc biệt", "Special national",
                             "Special"),
        "national": ("Quốc gia", "QG", "Di tích quốc gia", "National"),
        "provincial": ("Tỉnh", "Cấp tỉnh", "Di tích cấp tỉnh", "Tỉnh, thành phố",
                       "Provincial"),
        # Inventoried, not ranked (danh mục kiểm kê; Law 45/2024): listed relics that
        # are not (yet) ranked are written "chưa xếp hạng" as often as "kiểm kê".
        "inventoried": ("Chưa xếp hạng", "Chưa được xếp hạng", "Chưa XH", "CXH",
                        "Kiểm kê", "Đã kiểm kê", "Danh mục kiểm kê", "Trong danh mục kiểm kê",
                        "DMKK", "KK", "Không xếp hạng", "Inventoried", "Not ranked",
                        "Unranked"),
    },
    "zone": {
        "I": ("Khu vực I", "Khu vực 1", "KV I", "KVI", "KV1", "KV 1", "KVBV I", "KVBVI",
              "KVBV1", "KVBV 1", "Khu I", "1", "Zone I", "Zone 1"),
        "II": ("Khu vực II", "Khu vực 2", "KV II", "KVII", "KV2", "KV 2", "KVBV II",
               "KVBVII", "KVBV2", "KVBV 2", "Khu II", "2", "Zone II", "Zone 2"),
        "buffer": ("Vùng đệm", "VĐ", "VD", "Khu vực đệm", "Buffer"),
    },
    "landscape_kind": {
        "pond": ("Ao", "Hồ", "Ao hồ", "Hồ nước", "Giếng", "Lake"),
        "tree": ("Cây", "Cây cổ", "Cây di sản", "Tree"),
        "garden": ("Vườn cây", "Vườn cảnh", "Khuôn viên"),
        "river_bank": ("Bãi bồi", "Bờ sông", "Ven sông"),
    },
    "facility_kind": {
        "parking": ("Bãi xe", "Bãi đỗ", "Bãi đậu xe", "Nhà xe", "Parking"),
        "toilet": ("WC", "Nhà WC", "Khu vệ sinh", "Vệ sinh", "Toilet"),
        "road_access": ("Đường", "Đường dẫn", "Lối vào", "Ngõ vào"),
        "boat_landing": ("Bến", "Bến đò", "Bến sông"),
        "information": ("Bảng tin", "Biển giới thiệu", "Bảng giới thiệu", "Biển thông tin"),
        "exhibition": ("Nhà trưng bầy", "Phòng trưng bày", "Trưng bày"),
        "management_office": ("BQL", "Nhà ban quản lý", "Văn phòng ban quản lý"),
        "ticket_office": ("Quầy bán vé", "Phòng vé", "Bán vé"),
        "boundary_marker": ("Mốc", "Cột mốc", "Mốc ranh giới", "Cọc mốc"),
        "fire_equipment": ("PCCC", "Bình cứu hỏa", "Phòng cháy chữa cháy"),
        "camera": ("Camera", "Camera an ninh"),
    },
    # How inventories of intangible heritage write its type (the category without its
    # word for "type", or the practice it is known by).
    "ich_type": {
        "traditional_festival": ("Lễ hội", "Lễ hội dân gian", "Festival"),
        "social_customs_beliefs": ("Tín ngưỡng", "Tập quán xã hội", "Phong tục",
                                   "Tập quán xã hội và tín ngưỡng dân gian",
                                   "Tín ngưỡng dân gian"),
        "folk_performing_arts": ("Nghệ thuật trình diễn", "Diễn xướng dân gian",
                                 "Nghệ thuật biểu diễn dân gian"),
        "traditional_crafts": ("Nghề thủ công", "Nghề truyền thống",
                               "Nghề thủ công truyền thống", "Làng nghề"),
        "oral_traditions": ("Ngữ văn", "Văn học dân gian", "Tiếng nói, chữ viết"),
        "folk_knowledge": ("Tri thức", "Tri thức dân gian về y dược"),
    },
}


def label(vocab: str, code: str | None, lang: str) -> str:
    """The label of `code` in `lang` ('vi' or 'en'); the code itself if unknown."""
    if code is None:
        return ""
    pair = VOCAB.get(vocab, {}).get(code)
    if pair is None:
        return code
    return pair[0] if lang == "vi" else pair[1]


def labels(vocab: str, lang: str) -> dict[str, str]:
    return {code: (vi if lang == "vi" else en) for code, (vi, en) in VOCAB.get(vocab, {}).items()}
