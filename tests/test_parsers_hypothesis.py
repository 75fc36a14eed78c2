"""Property tests of the parsers that read what others wrote (issue 10, item 3): statement
dates in every form a bank writes them, VietQR payloads, and receipts' URLs. Each reads
back what its writer wrote, and refuses anything else with a ValueError, never another
exception."""
from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.imports.statements import date_from_text
from receipts.qr import parse_receipt_url, receipt_url
from receipts.vietqr import BANKS, build_vietqr, fold_memo, parse_vietqr

moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda d: d.replace(microsecond=0))


@given(moments, st.sampled_from(["%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d-%m-%Y", "%Y-%m-%d"]))
def test_dates_read_back_in_every_written_form(moment, form):
    expected = moment.replace(second=0) if form.endswith("%M") else moment
    if "%H" not in form:
        expected = expected.replace(hour=0, minute=0, second=0)
    assert date_from_text(moment.strftime(form)) == expected


@given(st.text(max_size=30))
def test_any_text_is_a_date_or_a_value_error(text):
    try:
        date_from_text(text)
    except ValueError:
        pass


@given(st.sampled_from(sorted(BANKS)), st.from_regex(r"[0-9A-Z]{1,19}", fullmatch=True),
       st.one_of(st.none(), st.integers(min_value=1, max_value=10**13 - 1)),
       st.one_of(st.none(), st.from_regex(r"UH P[0-9]{6}( [A-Z ]{0,10})?", fullmatch=True)))
def test_vietqr_payloads_read_back(bank_bin, account, amount, memo):
    payload = build_vietqr(bank_bin, account, amount, memo)
    read = parse_vietqr(payload)
    assert (read["bank_bin"], read["account"], read["amount_vnd"]) == (bank_bin, account, amount)
    assert read["memo"] == ((fold_memo(memo) or None) if memo else None)  # the memo as the code carries it


@given(st.text(max_size=120))
def test_any_text_is_a_vietqr_payload_or_a_value_error(text):
    try:
        parse_vietqr(text)
    except ValueError:
        pass


@given(st.integers(min_value=0, max_value=200), st.data())
def test_a_changed_character_fails_the_crc(position, data):
    payload = build_vietqr("970436", "0011001932418", 500_000, "UH P000123")
    i = position % len(payload)
    other = data.draw(st.sampled_from([c for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ " if c != payload[i]]))
    with pytest.raises(ValueError):
        parse_vietqr(payload[:i] + other + payload[i + 1:])


@given(st.sampled_from(["https://chungtay.example.vn", "http://127.0.0.1:5000", "https://x.vn/so-quy/"]),
       st.from_regex(r"[A-Z0-9]{2,16}-20[0-9]{2}-[0-9]{6}", fullmatch=True),
       st.from_regex(r"[A-Za-z0-9_-]{86}", fullmatch=True))
def test_receipt_urls_read_back(base, number, signature):
    assert parse_receipt_url(receipt_url(base, number, signature)) == (base.rstrip("/"), number, signature)


@given(st.text(max_size=200))
def test_any_text_is_a_receipt_url_or_a_value_error(text):
    try:
        parse_receipt_url(text)
    except ValueError:
        pass
