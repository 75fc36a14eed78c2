from tests.helpers import build_world

def test_probe(ctx):
    w = build_world(ctx)
    for lang in ("vi", "en"):
        r = w.recorder.post("/contributions", {"campaign_id": w.campaign_id, "fund_id": w.fund_id, "kind": "cash", "method": "bank_transfer", "amount_vnd": 1.5, "received_on": "2025-03-01", "colour": "x", "memo": "y"*2000, "pledge_id": "a"}, lang=lang)
        print(lang, r.status_code, r.get_data(as_text=True))
        h = w.household(approved=False)
        r = w.recorder.post("/allocations", {"fund_id": w.fund_id, "household_id": h, "kind": "cash", "amount_vnd": 1000}, lang=lang)
        print(lang, r.status_code, r.get_data(as_text=True))
        r = w.recorder.get("/contributions", lang=lang, page=0)
        print(lang, r.status_code, r.get_data(as_text=True))
        r = w.recorder.client.post("/api/v1/contributions", data="{", headers={**w.recorder._headers(lang=lang), "Content-Type": "application/json"})
        print(lang, r.status_code, r.get_data(as_text=True))
