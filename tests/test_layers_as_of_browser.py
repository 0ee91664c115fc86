"""The officials' map as of a date on a phone (390x844) in Chromium, against the live
server's committed database: the relic moved today is drawn where it stood yesterday,
and the page does not scroll sideways."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app.clock import today_in_vietnam
from gis_app.services.accounts import create_user
from gis_app.services.audit import set_actor
from tests.conftest import sign_in
from tests.factories import forget_story, make_site

PASSWORD = "a long enough password"
OLD = (105.9548, 20.8397)
NEW = (105.9552, 20.8401)


@pytest.mark.browser
def test_the_officials_map_as_of_yesterday_on_a_phone(phone_page, page_watch, live_server,
                                                      database_url):
    page = phone_page
    engine = create_engine(database_url)
    username = f"browser-asof-{os.getpid()}"
    with Session(engine) as s:
        first_revision = s.scalar(text("SELECT coalesce(max(id), 0) FROM revisions"))
        user = create_user(s, username, PASSWORD, "district_reviewer")
        hid = make_site(s, *OLD, name="Đình Hôm Qua", zone_radius_m=None)
        s.commit()
        s.execute(text("UPDATE revisions SET changed_at = now() - interval '3 days' "
                       "WHERE id > :r"), {"r": first_revision})
        s.commit()
        set_actor(s, user.id)
        s.execute(text("""UPDATE sites SET geom = ST_SetSRID(ST_MakePoint(:x, :y), 4326)
                           WHERE heritage_id = :h"""), {"x": NEW[0], "y": NEW[1], "h": hid})
        s.commit()
    yesterday = today_in_vietnam() - timedelta(days=1)
    try:
        sign_in(page, live_server, username, PASSWORD)
        with page.expect_response(lambda r: "/api/layers/sites.geojson" in r.url
                                  and f"as_of={yesterday.isoformat()}" in r.url) as answer:
            page.goto(f"{live_server}/officials/map?as_of={yesterday.isoformat()}")
        features = {f["properties"]["heritage_id"]: f for f in answer.value.json()["features"]}
        assert features[hid]["geometry"]["coordinates"] == list(OLD)
        page.wait_for_selector(".folium-map[data-hm-sites]", timeout=30000)
        assert f"Bản đồ cán bộ ngày {yesterday:%d/%m/%Y}" in page.locator("h1").inner_text()
        assert page.input_value("#as-of") == yesterday.isoformat()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page_watch.console_errors == []
        assert page_watch.off_host == []
    finally:
        forget_story(engine, [hid], username, first_revision)
