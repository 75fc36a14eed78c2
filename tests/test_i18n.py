"""Translations: API errors in Vietnamese (the default) or English, and a complete catalogue.

The Vietnamese catalogue is ledger/translations/vi/LC_MESSAGES/messages.po; the API reads
the compiled .mo (`make translations`, or `pybabel compile -d ledger/translations`).
English needs no catalogue: the msgids are English.
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import marshmallow.fields
import marshmallow.validate
import pytest
import webargs.core
import webargs.fields
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from marshmallow import Schema

from ledger.journal.quantities import format_units
from tests.helpers import build_world

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "ledger" / "translations"
POT = TRANSLATIONS / "messages.pot"
VI_PO = TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po"
VI_MO = VI_PO.with_suffix(".mo")

# %(name)s, %(n)d ... (gettext interpolation) and {name} (marshmallow's str.format).
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdiouxXeEfFgGcr]|\{[^{}]*\}")


def _read(path: Path):
    with path.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def vi() -> dict[str, str]:
    """msgid -> Vietnamese msgstr, from the .po the .mo is compiled from."""
    assert VI_MO.exists() and VI_MO.stat().st_mtime >= VI_PO.stat().st_mtime, (
        "compile the catalogue first: pybabel compile -d ledger/translations")
    return {m.id: m.string for m in _read(VI_PO) if m.id}


def _in_own_context(app, call):
    """Send one request in an app context of its own, as in production. Under the `ctx`
    fixture all requests would share one app context, and Flask-Babel caches the locale
    and translations on its `g`: the first request's language would stick."""
    with app.app_context():
        return call()


def _problem(resp, status):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    return resp.get_json()


# --- API responses --------------------------------------------------------------------

INVALID_CONTRIBUTION = {
    "amount_vnd": 1.5,           # ledger/fields.py MoneyVND "float"
    "colour": "red",             # marshmallow Schema "unknown"
    "pledge_id": "P-1",          # marshmallow Integer(strict) "invalid"
    "bank_reference": None,      # allowed: allow_none=True
    "donor_id": None,            # allowed: anonymous
}
EXPECTED_FIELD_MSGIDS = {
    "amount_vnd": "Money is a whole number of đồng; numbers with decimals are not accepted.",
    "colour": "Unknown field.",
    "pledge_id": "Not a valid integer.",
    "received_on": "Missing data for required field.",
    "campaign_id": "Field may not be null.",
}


def _post_invalid_contribution(w, lang):
    body = {"fund_id": w.fund_id, "kind": "cash", "method": "bank_transfer", "campaign_id": None,
            **INVALID_CONTRIBUTION}
    return w.recorder.post("/contributions", body, lang=lang)


def test_invalid_contribution_in_vietnamese(ctx, vi):
    w = build_world(ctx)
    body = _problem(_in_own_context(ctx, lambda: _post_invalid_contribution(w, "vi")), 422)
    assert body["title"] == "Yêu cầu có trường dữ liệu không hợp lệ"
    assert body["errors"] == {field: [vi[msgid]] for field, msgid in EXPECTED_FIELD_MSGIDS.items()}
    # Spelled out too, so a wrong catalogue cannot pass by itself.
    assert body["errors"]["amount_vnd"] == ["Số tiền phải là số nguyên đồng; không chấp nhận số thập phân."]
    assert body["errors"]["colour"] == ["Trường dữ liệu không xác định."]
    assert body["errors"]["received_on"] == ["Thiếu dữ liệu cho trường bắt buộc."]


def test_invalid_contribution_in_english(ctx, vi):
    w = build_world(ctx)
    body = _problem(_in_own_context(ctx, lambda: _post_invalid_contribution(w, "en")), 422)
    assert body["title"] == "The request has invalid fields"
    assert body["errors"] == {field: [msgid] for field, msgid in EXPECTED_FIELD_MSGIDS.items()}


@pytest.mark.parametrize("lang", ["vi", "en-US,en;q=0.9", "fr"])
def test_language_negotiation(ctx, vi, lang):
    """English only when asked for; anything else gets Vietnamese."""
    w = build_world(ctx)
    body = _problem(_in_own_context(ctx, lambda: _post_invalid_contribution(w, lang)), 422)
    msgid = EXPECTED_FIELD_MSGIDS["colour"]
    assert body["errors"]["colour"] == [msgid if lang.startswith("en") else vi[msgid]]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_household_not_approved(ctx, vi, lang):
    w = build_world(ctx)
    household = w.household(approved=False)
    body = _problem(_in_own_context(ctx, lambda: w.recorder.post(
        "/allocations", {"fund_id": w.fund_id, "household_id": household, "kind": "cash", "amount_vnd": 1_000},
        lang=lang)), 409)
    title, detail = "Refused by a rule of the ledger", "The household is not approved yet."
    if lang == "vi":
        title, detail = vi[title], vi[detail]
        assert detail == "Hộ gia đình chưa được phê duyệt."
    assert (body["title"], body["detail"]) == (title, detail)
    assert body["errors"] == {"household_id": ["surveyed"]}  # a status code, not a message


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_not_enough_available_keeps_its_numbers(ctx, vi, lang):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=500_000))
    household = w.household()
    body = _problem(_in_own_context(ctx, lambda: w.recorder.post(
        "/allocations", {"fund_id": w.fund_id, "household_id": household, "kind": "cash",
                         "amount_vnd": 2_000_000}, lang=lang)), 409)
    msgid = "Not enough available: %(wanted)s asked, %(available)s available for this use."
    values = {"wanted": format_units(2_000_000, "cash"), "available": format_units(500_000, "cash")}
    assert body["detail"] == (vi[msgid] if lang == "vi" else msgid) % values
    assert body["available"] == values["available"]
    if lang == "vi":
        assert body["detail"].startswith("Không đủ để phân bổ: yêu cầu ")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_not_found_is_translated_and_interpolated(ctx, vi, lang):
    w = build_world(ctx)
    body = _problem(_in_own_context(ctx, lambda: w.recorder.get("/households/987654", lang=lang)), 404)
    msgid = "Unknown household %(id)s."
    assert body["detail"] == (vi[msgid] if lang == "vi" else msgid) % {"id": 987654}
    assert body["title"] == (vi["Not found"] if lang == "vi" else "Not found")


def test_formatted_field_messages_are_translated(ctx, vi):
    w = build_world(ctx)
    body = _problem(_in_own_context(ctx, lambda: w.contribute(memo="x" * 1001)), 422)
    assert body["errors"]["memo"] == [vi["Use at most {max} characters."].format(max=1000)]


# --- The catalogue --------------------------------------------------------------------

def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def test_every_message_has_a_vietnamese_translation():
    template, catalogue = _read(POT), _read(VI_PO)
    assert not catalogue.fuzzy
    problems = []
    for message in template:
        if not message.id:
            continue
        translated = catalogue.get(message.id)
        if translated is None or not translated.string:
            problems.append(f"untranslated: {message.id!r}")
        elif translated.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        elif _placeholders(message.id) != _placeholders(translated.string):
            problems.append(f"placeholders differ: {message.id!r} -> {translated.string!r}")
    stale = sorted({m.id for m in catalogue if m.id} - {m.id for m in template if m.id})
    problems += [f"not in messages.pot (run pybabel update): {msgid!r}" for msgid in stale]
    problems += [f"obsolete entry: {msgid!r}" for msgid in catalogue.obsolete]
    assert not problems, "\n".join(problems)


def test_translations_differ_from_english_and_keep_diacritics():
    """A copied msgid is not a translation; a Vietnamese phrase of three words or more
    without any diacritic is suspect (single words such as "Trang" or "Xem" have none)."""
    def words(text):
        return re.findall(r"[^\W\d_]+", PLACEHOLDER.sub("", text))

    same = [m.id for m in _read(VI_PO) if m.id and m.string == m.id and words(m.id)]
    assert not same, same
    bare = [m.string for m in _read(VI_PO)
            if m.id and re.fullmatch(r"[\x00-\x7f]*", m.string) and len(words(m.string)) >= 3]
    assert not bare, bare


def test_template_matches_the_code():
    """messages.pot is what `pybabel extract -F babel.cfg` finds in the code today."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {message for _file, _line, message, _comments, _context in
             extract_from_dir(ROOT, method_map, options_map,
                              keywords={"_l": None, "N_": None, "gettext": None, "lazy_gettext": None, "_": None})}
    found = {m if isinstance(m, str) else m[0] for m in found}
    in_template = {m.id if isinstance(m.id, str) else m.id[0] for m in _read(POT) if m.id}
    assert found == in_template, (
        f"re-extract and update: missing {sorted(found - in_template)}, "
        f"gone {sorted(in_template - found)}")


def _library_messages() -> set[str]:
    """The fixed texts marshmallow and webargs may send back for a field."""
    texts = set(Schema._default_error_messages.values())
    for module in (marshmallow.fields, webargs.fields):
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            texts.update(getattr(cls, "default_error_messages", {}).values())
    for _name, cls in inspect.getmembers(marshmallow.validate, inspect.isclass):
        if isinstance(getattr(cls, "default_message", None), str):
            texts.add(cls.default_message)
    texts.add(webargs.core.Parser.DEFAULT_VALIDATION_MESSAGE)
    # Texts with {placeholders} are formatted before gettext sees them: listed concretely.
    return {t for t in texts if "{" not in t}


def test_library_messages_are_in_the_catalogue(vi):
    missing = sorted(_library_messages() - vi.keys())
    assert not missing, f"add to ledger/translations/library_messages.py and translate: {missing}"
