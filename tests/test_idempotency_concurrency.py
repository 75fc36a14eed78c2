"""Idempotency-Key semantics, and writers racing: on PostgreSQL (row lock) and SQLite
(BEGIN IMMEDIATE) alike, no over-allocation and exactly one effect per key."""
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from ledger.allocations.models import Allocation
from ledger.contributions.models import Contribution
from ledger.extensions import db
from ledger.journal.service import verify_journal
from tests.helpers import Api, build_world


def body(w, **overrides):
    b = {"campaign_id": w.campaign_id, "fund_id": w.fund_id, "donor_id": w.donor_id, "kind": "cash",
         "method": "bank_transfer", "amount_vnd": 2_000_000, "received_on": "2025-03-01"}
    b.update(overrides)
    return b


def count(model):
    db.session.rollback()  # see what the other threads committed
    return db.session.scalar(select(func.count()).select_from(model))


def test_same_key_same_body_answers_the_first_answer_once(ctx):
    w = build_world(ctx)
    first = w.recorder.post("/contributions", body(w), key="bank-ref-001")
    again = w.recorder.post("/contributions", body(w), key="bank-ref-001")
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert count(Contribution) == 1
    other = w.recorder.post("/contributions", body(w, amount_vnd=3_000_000), key="bank-ref-001")
    assert other.status_code == 422 and other.content_type == "application/problem+json"
    assert count(Contribution) == 1
    # a refused request keeps no answer: the same key may be used once the input is right
    bad = w.recorder.post("/contributions", body(w, amount_vnd=-1), key="bank-ref-002")
    assert bad.status_code == 422
    good = w.recorder.post("/contributions", body(w), key="bank-ref-002")
    assert good.status_code == 201 and count(Contribution) == 2
    # keys belong to their user: the admin's same key is a new request
    assert w.admin.post("/contributions", body(w), key="bank-ref-001").status_code == 201
    assert count(Contribution) == 3


def test_sixteen_threads_racing_on_one_key_make_one_contribution(ctx):
    w = build_world(ctx)
    payload = body(w)

    def send(_):
        api = Api(ctx.test_client(), w.recorder.token)
        resp = api.post("/contributions", payload, key="same-transfer-FT25060")
        return resp.status_code, resp.get_json().get("contribution_id")

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(send, range(16)))
    assert {status for status, _ in results} == {201}, results
    assert len({cid for _, cid in results}) == 1
    assert count(Contribution) == 1
    assert verify_journal() == []


def test_sixteen_threads_allocating_from_a_small_pool_never_over_allocate(ctx):
    w = build_world(ctx)
    for _ in range(3):
        w.recorder.ok(w.contribute(amount_vnd=2_000_000), 201)  # pool: 6,000,000
    households = [w.household(head_name=f"Hộ số {i}") for i in range(16)]

    def allocate(household_id):
        api = Api(ctx.test_client(), w.recorder.token)
        return api.post("/allocations", {"fund_id": w.fund_id, "household_id": household_id,
                                         "kind": "cash", "amount_vnd": 1_000_000}).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(allocate, households))
    assert sorted(statuses) == [201] * 6 + [409] * 10, statuses
    assert count(Allocation) == 6
    assert w.recorder.ok(w.recorder.get(f"/funds/{w.fund_id}"))["balances"] == []
    assert verify_journal() == []


def test_receipt_numbers_have_no_gaps_under_concurrent_recording(ctx):
    """16 writers at once: numbers 1..n with no gap or duplicate, each with its signed receipt."""
    from receipts.envelope import GENUINE, Envelope, verify_envelope
    from receipts.signing import load_public_key

    w = build_world(ctx)

    def record(i):
        api = Api(ctx.test_client(), w.recorder.token)
        return api.post("/contributions", body(w, amount_vnd=100_000 + i)).get_json()["receipt"]["number"]

    with ThreadPoolExecutor(16) as pool:
        numbers = list(pool.map(record, range(48)))
    assert sorted(numbers) == [f"HNVNN-2025-{n:06d}" for n in range(1, 49)]
    client = ctx.test_client()
    keys = {k["key_id"]: load_public_key(k["public_key"])
            for k in client.get("/api/v1/transparency/keys").get_json()["keys"]}
    for number in numbers:
        answer = client.get(f"/api/v1/receipts/{number}").get_json()
        assert answer["payload"]["number"] == number
        assert verify_envelope(Envelope(answer["payload"], answer["signature"]), keys).status == GENUINE


def test_a_pledge_cancelled_while_a_gift_to_it_is_being_recorded_waits_for_the_gift(ctx, monkeypatch):
    """The gift reads its pledge under the ledger lock and the cancellation takes the same
    lock: the cancellation cannot commit between the gift's check and its commit, which
    would leave a gift recorded against a pledge already cancelled."""
    import threading

    from ledger.pledges import service as pledges

    w = build_world(ctx)
    p = w.recorder.ok(w.recorder.post("/pledges", {
        "campaign_id": w.campaign_id, "fund_id": w.fund_id, "donor_id": w.donor_id, "kind": "cash",
        "amount_vnd": 10_000_000, "due_on": "2099-12-31"}), 201)
    checked, release = threading.Event(), threading.Event()
    real_check = pledges.check_pledge_fulfilment

    def check_then_pause(*args, **kwargs):
        pledge = real_check(*args, **kwargs)
        checked.set()
        assert release.wait(30)
        return pledge

    monkeypatch.setattr(pledges, "check_pledge_fulfilment", check_then_pause)
    answers = {}

    def give():
        api = Api(ctx.test_client(), w.recorder.token)
        answers["gift"] = api.post("/contributions", body(w, pledge_id=p["pledge_id"]))

    def cancel():
        api = Api(ctx.test_client(), w.recorder.token)
        answers["cancel"] = api.post(f"/pledges/{p['pledge_id']}/cancel", {"reason": "Doanh nghiệp rút"})

    gift, canceller = threading.Thread(target=give), threading.Thread(target=cancel)
    gift.start()
    assert checked.wait(30)
    canceller.start()
    canceller.join(1.5)
    still_waiting = canceller.is_alive()
    release.set()
    gift.join(30)
    canceller.join(30)
    assert still_waiting, "the cancellation committed while a gift to the pledge was being recorded"
    assert answers["gift"].status_code == 201, answers["gift"].get_json()
    assert answers["cancel"].status_code == 200, answers["cancel"].get_json()  # cancelled after a partial gift
    got = w.recorder.ok(w.recorder.get(f"/pledges/{p['pledge_id']}"))
    assert (got["status"], got["fulfilled"]) == ("cancelled", "2000000")
    # and once cancelled, no gift is recorded against it
    late = w.recorder.post("/contributions", body(w, pledge_id=p["pledge_id"]))
    assert late.status_code == 409 and count(Contribution) == 1
