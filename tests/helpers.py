"""Building blocks of the tests: users, a campaign with funds, and an API client."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from ledger.auth.service import create_user, issue_token

PASSWORD = "correct horse battery"
_keys = itertools.count(1)


@dataclass
class Api:
    """A test client that speaks JSON with a bearer token."""

    client: object
    token: str | None = None

    def _headers(self, key=None, lang="vi"):
        headers = {"Accept-Language": lang}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if key:
            headers["Idempotency-Key"] = key
        return headers

    def get(self, path, lang="vi", **params):
        return self.client.get("/api/v1" + path, headers=self._headers(lang=lang), query_string=params)

    def post(self, path, json=None, key=None, lang="vi"):
        return self.client.post("/api/v1" + path, json=json, headers=self._headers(key, lang))

    def patch(self, path, json=None, key=None, lang="vi"):
        return self.client.patch("/api/v1" + path, json=json, headers=self._headers(key, lang))

    def ok(self, resp, status=(200, 201)):
        assert resp.status_code in ((status,) if isinstance(status, int) else status), resp.get_data(as_text=True)
        return resp.get_json()


def make_user(username, role, area_code=None):
    return create_user(username, PASSWORD, role, area_code)


def api_for(app, username) -> Api:
    token, _ = issue_token(username, PASSWORD, 3600)
    return Api(app.test_client(), token)


@dataclass
class World:
    """A small campaign: Hà Nội with two communes, a province fund and a commune fund."""

    admin: Api
    recorder: Api
    approver: Api
    approver_id: int
    campaign_id: int
    fund_id: int
    commune_fund_id: int
    donor_id: int
    state_donor_id: int

    def contribute(self, api=None, **overrides):
        body = {"campaign_id": self.campaign_id, "fund_id": self.fund_id, "donor_id": self.donor_id,
                "kind": "cash", "method": "bank_transfer", "amount_vnd": 10_000_000, "received_on": "2025-03-01"}
        body.update(overrides)
        if body["kind"] != "cash":
            body.pop("amount_vnd", None)
        body = {k: v for k, v in body.items() if v is not None}
        return (api or self.recorder).post("/contributions", body)

    def household(self, commune="00004", approved=True, **overrides):
        body = {"campaign_id": self.campaign_id, "commune_code": commune, "head_name": "Nguyễn Văn An",
                "category": "poor", "support_type": "new_build", "surveyed_on": "2025-02-01"}
        body.update(overrides)
        h = self.recorder.ok(self.recorder.post("/households", body))
        if approved:
            self.recorder.ok(self.recorder.post(f"/households/{h['household_id']}/status",
                                                {"status": "approved", "on": "2025-02-10"}))
        return h["household_id"]

    def allocate(self, household_id, api=None, **overrides):
        body = {"fund_id": self.fund_id, "household_id": household_id, "kind": "cash", "amount_vnd": 1_000_000}
        body.update(overrides)
        if body["kind"] != "cash":
            body.pop("amount_vnd", None)
        return (api or self.recorder).post("/allocations", body)


    def approve(self, pending, api=None) -> dict:
        """Approve a request left waiting (a 202 answer, or its body) as a second user: the
        approver, or the admin when the approver asked. The approval's 200 answer."""
        if hasattr(pending, "status_code"):
            assert pending.status_code == 202, pending.get_data(as_text=True)
            pending = pending.get_json()
        assert pending["status"] == "pending", pending
        if api is None:
            api = self.admin if pending["requested_by_id"] == self.approver_id else self.approver
        return api.ok(api.post(f"/approvals/{pending['approval_id']}/approve"), 200)

    def approved(self, pending, api=None) -> dict:
        """The record a waiting request made or undid, once approved (as its own endpoint answers)."""
        return self.approve(pending, api)["record"]


def build_world(app) -> World:
    make_user("admin", "admin")
    make_user("recorder", "recorder", "01")
    approver_id = make_user("approver", "approver", "01").id
    admin = api_for(app, "admin")
    recorder = api_for(app, "recorder")
    approver = api_for(app, "approver")
    campaign = admin.ok(admin.post("/campaigns", {"code": "CT2025", "name": "Chung tay xóa nhà tạm, nhà dột nát",
                                                  "area_code": "01", "starts_on": "2025-01-01"}))
    fund = admin.ok(admin.post("/funds", {"code": "HNVNN", "name": "Quỹ Vì người nghèo TP Hà Nội", "area_code": "01"}))
    commune_fund = admin.ok(admin.post("/funds", {"code": "BADINH", "name": "Quỹ Vì người nghèo phường Ba Đình",
                                                  "area_code": "00004", "parent_fund_id": fund["fund_id"]}))
    donor = recorder.ok(recorder.post("/donors", {"kind": "business", "name": "Công ty Cổ phần Sữa Việt Nam",
                                                  "tax_code": "0300588569"}))
    state = recorder.ok(recorder.post("/donors", {"kind": "state", "name": "Ngân sách thành phố",
                                                  "state_level": "province"}))
    return World(admin, recorder, approver, approver_id, campaign["campaign_id"], fund["fund_id"],
                 commune_fund["fund_id"], donor["donor_id"], state["donor_id"])
