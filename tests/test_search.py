"""Search by name: without diacritics, in any case and tone placement, with a typo."""
from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from gis_app.errors import InputError
from gis_app.services.sites import search_sites
from tests.factories import make_site


def names(db: Session, query: str, role: str | None = None) -> list[str]:
    return [r["name_vi"] for r in search_sites(db, query, role)]


@pytest.mark.parametrize("query", ["da hoa", "Đa Hòa", "ĐA HÒA", "Đa Hoà", "  da   HOA "])
def test_folds_diacritics_case_and_tone_placement(db: Session, query: str) -> None:
    assert names(db, query)[0] == "Đền Đa Hòa"


def test_other_names_are_searched(db: Session) -> None:
    # "Đền Chử Đồng Tử (Đa Hòa)" is another name of Đền Đa Hòa in the demo set.
    assert names(db, "chu dong tu") == ["Đền Đa Hòa"]


def test_a_typo_still_finds_the_relic_after_exact_matches(db: Session) -> None:
    assert names(db, "da tracj")[0] == "Đền Dạ Trạch"
    assert names(db, "ham tu") == ["Đền Hàm Tử"]


def test_matches_start_at_a_word_and_wildcards_are_literal(db: Session) -> None:
    assert "Văn chỉ Bình Dân" not in names(db, "hoa")  # not "k-hoa-i" in its other name
    assert names(db, "%") == [] and names(db, "_") == []
    assert names(db, "") == []


def test_the_public_never_finds_drafts_or_sensitive_relics(db: Session) -> None:
    make_site(db, 105.95, 20.8, name="Di chỉ Nhà Trần", sensitive=True)
    make_site(db, 105.95, 20.81, name="Đình Nhà Bè", status="draft")
    assert names(db, "nha") == []
    assert set(names(db, "nha", role="district_reviewer")) == {"Di chỉ Nhà Trần",
                                                              "Đình Nhà Bè"}


def test_overlong_query_is_refused(db: Session) -> None:
    with pytest.raises(InputError, match="too long"):
        search_sites(db, "a" * 101)


def test_site_list_page_and_api(client) -> None:
    page = client.get("/sites?q=da+hoa").get_data(as_text=True)
    assert "Đền Đa Hòa" in page and "Đình Lôi Cầu" not in page
    assert 'value="da hoa"' in page
    empty = client.get("/sites?q=khong+co+gi").get_data(as_text=True)
    assert "Không có di tích nào phù hợp." in empty
    body = client.get("/api/search?q=ĐA%20HÒA").get_json()
    assert body["results"][0]["heritage_id"] == "VN-HY-DT-000001"
    assert body["results"][0]["exact"] is True
    assert client.get("/api/search?q=" + "x" * 200).status_code == 400
