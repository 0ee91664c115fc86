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
    "accuracy": {
        "surveyed": ("Đo đạc", "Surveyed"),
        "digitised": ("Số hóa từ bản đồ", "Digitised from a map"),
        "approximate": ("Gần đúng (chưa đo đạc)", "Approximate (not surveyed)"),
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
