"""The admin's pages for campaigns and funds: create, refuse bad input keeping it, and
every other role reads the lists but cannot create."""
from __future__ import annotations

import re

import pytest

from ledger.campaigns.models import Campaign
from ledger.extensions import db
from ledger.funds.models import Fund
from tests.helpers import make_user
from tests.web_helpers import login, page_token, text_of


def form_tokens(client, path: str) -> dict:
    html = text_of(client.get(path))
    return dict(re.findall(r'name="(csrf_token|form_token)" type="hidden" value="([^"]*)"', html))


def test_an_admin_creates_a_campaign_and_a_fund(ctx):
    make_user("boss", "admin")
    client = ctx.test_client()
    login(client, "boss")
    resp = client.post("/staff/campaigns", data={
        **form_tokens(client, "/staff/campaigns"), "code": "CT2025", "name": "Chung tay xóa nhà tạm, nhà dột nát",
        "area_code": "01", "starts_on": "01/01/2025", "ends_on": "", "norm_new_build_vnd": "60.000.000",
        "norm_repair_vnd": "30 000 000"})
    assert resp.status_code == 303
    campaign = db.session.query(Campaign).one()
    assert (campaign.code, campaign.norm_repair_vnd) == ("CT2025", 30_000_000)
    assert "Chung tay xóa nhà tạm" in text_of(client.get("/staff/campaigns"))
    resp = client.post("/staff/funds", data={**form_tokens(client, "/staff/funds"), "code": "HNVNN",
                                             "name": "Quỹ Vì người nghèo TP Hà Nội", "area_code": "01",
                                             "parent_fund_id": ""})
    assert resp.status_code == 303
    assert db.session.query(Fund).one().code == "HNVNN"


def test_bad_input_is_refused_where_it_is_and_kept(ctx):
    make_user("boss", "admin")
    client = ctx.test_client()
    login(client, "boss")
    resp = client.post("/staff/funds", data={**form_tokens(client, "/staff/funds"), "code": "HNVNN",
                                             "name": "Quỹ phường", "area_code": "99999", "parent_fund_id": ""})
    assert resp.status_code == 422
    html = text_of(resp)
    assert 'value="Quỹ phường"' in html and 'value="99999"' in html
    assert db.session.query(Fund).count() == 0
    resp = client.post("/staff/campaigns", data={**form_tokens(client, "/staff/campaigns"), "code": "CT",
                                                 "name": "", "area_code": "01", "starts_on": "31/02/2025"})
    assert resp.status_code == 422 and db.session.query(Campaign).count() == 0


@pytest.mark.parametrize("role", ["recorder", "approver", "auditor"])
def test_other_roles_read_the_lists_but_create_nothing(ctx, role):
    make_user("someone", role, "01")
    client = ctx.test_client()
    login(client, "someone")
    for path in ("/staff/campaigns", "/staff/funds"):
        page = client.get(path)
        assert page.status_code == 200 and "form_token" not in text_of(page)
        resp = client.post(path, data={"csrf_token": page_token(client, "/staff/"), "code": "X", "name": "X",
                                       "area_code": "01", "starts_on": "01/01/2025"})
        assert resp.status_code == 403
    assert db.session.query(Campaign).count() == 0 and db.session.query(Fund).count() == 0


def test_areas_are_found_without_diacritics_and_an_admin_adds_a_legacy_unit(ctx):
    from ledger.areas.models import Area

    make_user("boss", "admin")
    client = ctx.test_client()
    login(client, "boss")
    assert "Phường Ba Đình" in text_of(client.get("/staff/areas?q=ba dinh"))
    resp = client.post("/staff/areas", data={**form_tokens(client, "/staff/areas"), "code": "271",
                                             "name": "Huyện Ba Vì (cũ)", "division_type": "huyện",
                                             "parent_code": "01"})
    assert resp.status_code == 303
    added = db.session.get(Area, "271")
    try:
        assert added.legacy and added.parent_code == "01"
    finally:  # areas outlive each test (the fixture keeps them): leave none behind
        db.session.delete(added)
        db.session.commit()
    refused = client.post("/staff/areas", data={**form_tokens(client, "/staff/areas"), "code": "272",
                                                "name": "Huyện X", "division_type": "huyện", "parent_code": "77777"})
    assert refused.status_code == 422 and db.session.get(Area, "272") is None
    make_user("rec", "recorder", "01")
    other = ctx.test_client()
    login(other, "rec")
    assert "form_token" not in text_of(other.get("/staff/areas"))
    resp = other.post("/staff/areas", data={"csrf_token": page_token(other, "/staff/"), "code": "273",
                                            "name": "Huyện Y", "division_type": "huyện"})
    assert resp.status_code == 403 and db.session.get(Area, "273") is None
