"""Reading banks' statements (issue 8): the pure parser in ledger.imports.statements, no app needed."""
from __future__ import annotations

import io
import json
import unicodedata
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from ledger.imports.statements import (
    PRESETS,
    ColumnMapping,
    ParsedStatement,
    StatementError,
    amount_from_text,
    date_from_text,
    detect_bank,
    find_pledge_code,
    line_identity,
    parse_statement,
    sender_name_from_memo,
)

# The two banks' samples of ../shared/data/statements are copied here (SAMPLES.md says
# what they are), beside the BIDV and Agribank samples generate.py writes: a clone of the
# repository alone runs every test.
OWN = SHARED = Path(__file__).resolve().parent / "data" / "statements"

SHARED_FILES = ["vietcombank-2025-03-part1.csv", "vietcombank-2025-03-part2.csv",
                "vietinbank-2025-03-part1.xlsx", "vietinbank-2025-03-part2.xlsx"]
OWN_FILES = ["bidv-2025-03.xlsx", "agribank-2025-03.csv"]


def expected(path: Path) -> dict:
    return json.loads(path.with_name(path.name.split(".")[0] + ".expected.json").read_text(encoding="utf-8"))


def parse(path: Path, **kw) -> ParsedStatement:
    return parse_statement(path.read_bytes(), path.name, **kw)


def figures(st: ParsedStatement) -> dict:
    credits = [x.amount_vnd for x in st.lines if x.amount_vnd > 0]
    debits = [x.amount_vnd for x in st.lines if x.amount_vnd < 0]
    return {"lines": len(st.lines), "credits": len(credits), "debits": len(debits),
            "credit_total_vnd": sum(credits), "debit_total_vnd": -sum(debits),
            "opening_vnd": st.opening_balance_vnd, "closing_vnd": st.closing_balance_vnd, "account": st.account_number}


def identities(st: ParsedStatement) -> list[str]:
    return [line_identity(st.bank, st.account_number, x) for x in st.lines]


def refused(data: bytes, filename: str = "x.csv", **kw) -> list:
    with pytest.raises(StatementError) as err:
        parse_statement(data, filename, **kw)
    assert err.value.problems and all(p.message and p.message_vi for p in err.value.problems)
    return err.value.problems


# --- the shared samples ------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHARED_FILES)
def test_shared_sample_matches_its_expected_figures(name):
    path = SHARED / name
    exp = expected(path)
    st = parse(path)
    assert figures(st) == {k: exp[k] for k in figures(st)}
    assert st.bank == name.split("-")[0] == detect_bank(path.read_bytes(), name)
    assert st.opening_balance_vnd + st.credit_total_vnd - st.debit_total_vnd == st.closing_balance_vnd
    assert st.warnings == ()
    assert all(x.amount_vnd != 0 for x in st.lines)
    assert all(x.memo == unicodedata.normalize("NFC", x.memo) and "\n" not in x.memo and "  " not in x.memo
               for x in st.lines)
    assert st.period_from <= st.period_to
    if st.bank == "vietcombank":
        assert [x.reference for x in st.lines] == exp["refs"]
        assert st.account_name == "UY BAN MAT TRAN TO QUOC VIET NAM TINH BAC KAN"
    else:   # VietinBank's export has no reference column: the references of the .json are not in the file
        assert all(x.reference is None for x in st.lines)
        assert all(x.payer_account is None or x.payer_account.endswith("***") for x in st.lines)
        assert st.account_name == "UBMTTQ VN TINH BAC GIANG"
        assert (st.period_from, st.period_to) == ((date(2025, 3, 1), date(2025, 3, 3)) if "part1" in name else
                                                  (date(2025, 3, 3), date(2025, 3, 4)))


def test_vietcombank_lines_read_exactly():
    st = parse(SHARED / SHARED_FILES[0])
    first = st.lines[0]
    assert first.row == 14      # the header's two-line cells make the first line start on text line 14
    assert first.posted_at == datetime(2025, 3, 1, 7, 2, 22)
    assert first.reference == "1034.68377"
    assert first.amount_vnd == 20_000 and first.balance_vnd == 1_250_020_000
    # wrapped at 60 characters ("dong ba" + "o xay nha"): joined with nothing between the pieces
    assert first.memo == "MBVCB.6969183373.736944.LY HUU NAM UH P000002 ung ho dong bao xay nha"
    assert st.lines[1].memo.endswith("ung ho xoa nha tam nha dot nat")
    debit = next(x for x in st.lines if x.amount_vnd < 0)
    assert (debit.amount_vnd, debit.memo) == (-22_000, "Chuyen tien ho tro xay nha ho ngheo xa Nong Thuong")
    assert all(x.payer_name is None for x in st.lines)


@pytest.mark.parametrize("bank", ["vietcombank", "vietinbank"])
def test_overlapping_statements_share_exactly_the_repeated_lines(bank):
    ext = "csv" if bank == "vietcombank" else "xlsx"
    one, two = SHARED / f"{bank}-2025-03-part1.{ext}", SHARED / f"{bank}-2025-03-part2.{ext}"
    st1, st2 = parse(one), parse(two)
    ids1, ids2 = identities(st1), identities(st2)
    assert len(set(ids1)) == len(ids1) and len(set(ids2)) == len(ids2)
    repeated = set(ids1) & set(ids2)
    assert len(repeated) == 60
    exp = expected(two)
    new_credits = [x for x, i in zip(st2.lines, ids2, strict=True) if i not in repeated and x.amount_vnd > 0]
    assert len(new_credits) == exp["new_credits"]
    assert sum(x.amount_vnd for x in new_credits) == exp["new_credit_total_vnd"]
    if bank == "vietcombank":
        assert sorted(x.reference for x, i in zip(st2.lines, ids2, strict=True) if i in repeated) == sorted(
            exp["duplicate_refs_of_earlier_file"])
    assert identities(parse(one)) == ids1       # stable from one reading to the next


def test_line_identity_depends_on_every_part():
    st = parse(SHARED / SHARED_FILES[0])
    line = st.lines[0]
    base = line_identity("vietcombank", "0011001932418", line)
    assert len(base) == 64 and int(base, 16) >= 0
    from dataclasses import replace
    changed = [line_identity("vietinbank", "0011001932418", line), line_identity("vietcombank", "1", line)] + [
        line_identity("vietcombank", "0011001932418", replace(line, **kw)) for kw in (
            {"reference": "x"}, {"posted_at": datetime(2025, 3, 1, 7, 2, 23)}, {"amount_vnd": 20_001},
            {"memo": line.memo + "."})]
    assert base not in changed and len(set(changed)) == len(changed)
    assert line_identity("vietcombank", "0011001932418", replace(line, row=99, balance_vnd=None)) == base


def test_sender_names_in_vietinbank_memos_agree_with_the_payer_column():
    found = 0
    for name in SHARED_FILES[2:]:
        st = parse(SHARED / name)
        for x in st.lines:
            sender = sender_name_from_memo(x.memo, st.bank)
            if sender is not None:
                assert sender == x.payer_name
                found += 1
    assert found > 600


def test_sender_names_in_vietcombank_memos():
    st = parse(SHARED / SHARED_FILES[0])
    names = {x.memo: sender_name_from_memo(x.memo, "vietcombank") for x in st.lines}
    assert names["MBVCB.6969183373.736944.LY HUU NAM UH P000002 ung ho dong bao xay nha"] == "LY HUU NAM"
    assert names["MBVCB.5498721283.174162.BUI KIM TAM ung ho"] == "BUI KIM TAM"
    assert names["MBVCB.6128700542.209496.CONG TY TNHH XAY DUNG BAC KAN ung ho xoa nha tam nha dot nat"] == (
        "CONG TY TNHH XAY DUNG BAC KAN")
    assert names["UNG HO XOA NHA TAM BAC KAN"] is None
    assert names["Chuyen tien ho tro xay nha ho ngheo xa Nong Thuong"] is None
    assert sum(1 for v in names.values() if v) > 300


@pytest.mark.parametrize(("memo", "bank", "name"), [
    ("MBVCB.6635018266.460020.VO KIM TRANG UNG HO XOA NHA TAM BAC KAN.CT tu 7999493941999 VO KIM TRANG toi 0011",
     "vietcombank", "VO KIM TRANG"),
    ("CT.9372589818.670610.HUYNH CONG VAN ung ho dong bao xay nha", "vietinbank", "HUYNH CONG VAN"),
    ("TKThe :0123456789, tai VCB. NGUYEN VAN AN chuyen tien UH P000012", "bidv", "NGUYEN VAN AN"),
    ("IBFT TRAN THI BINH ung ho; ND: xoa nha tam", "agribank", "TRAN THI BINH"),
    ("NGUYEN VAN AN chuyen khoan ung ho", "agribank", "NGUYEN VAN AN"),
    ("HOANG MINH YEN ủng hộ xóa nhà tạm", None, "HOANG MINH YEN"),
    ("ung ho", "vietcombank", None), ("QUY VI NGUOI NGHEO", None, None), ("", None, None),
    ("UH P000022 ung ho dong bao xay nha", "vietcombank", None),
])
def test_sender_name_from_memo(memo, bank, name):
    assert sender_name_from_memo(memo, bank) == name


@pytest.mark.parametrize(("memo", "code"), [
    ("MBVCB.1.2.LY HUU NAM UH P000002 ung ho", "P000002"), ("UHP000123", "P000123"), ("uh p000123 ung ho", "P000123"),
    ("ung ho P000123", "P000123"), ("ủng hộ P000123", "P000123"), ("UH: P000001", "P000001"),
    ("P000007", "P000007"), ("ung ho", None), ("SHOP000123", None), ("UH P0001234", "P0001234"), ("UH P1234567", "P1234567"), ("UH P0000012345", None), ("UH P00012", None),
    (None, None),
])
def test_find_pledge_code(memo, code):
    assert find_pledge_code(memo) == code


# --- the generated BIDV and Agribank samples --------------------------------------------------


@pytest.mark.parametrize("name", OWN_FILES)
def test_generated_sample_matches_its_expected_figures(name):
    path = OWN / name
    exp = expected(path)
    st = parse(path)
    assert figures(st) == {k: exp[k] for k in figures(st)}
    assert st.bank == name.split("-")[0] == detect_bank(path.read_bytes(), name)
    assert [x.reference for x in st.lines] == exp["refs"]
    assert [sender_name_from_memo(x.memo, st.bank) for x in st.lines] == exp["senders"]
    assert [find_pledge_code(x.memo) for x in st.lines] == exp["pledge_codes"]
    assert (st.period_from, st.period_to) == (date(2025, 3, 1), date(2025, 3, 3))
    assert st.warnings == ()
    if "memos" in exp:
        assert [x.memo for x in st.lines] == exp["memos"]      # one memo carried onto a second row


def test_bidv_typed_cells():
    st = parse(OWN / "bidv-2025-03.xlsx")
    assert st.account_name == "ỦY BAN MẶT TRẬN TỔ QUỐC VIỆT NAM TỈNH CAO BẰNG"
    assert st.lines[0].row == 10 and st.lines[0].posted_at == datetime(2025, 3, 1, 6, 43)
    assert st.lines[-1].row == 131     # a blank row and a repeated header row were passed over


def test_agribank_dates_without_time_are_midnight():
    st = parse(OWN / "agribank-2025-03.csv")
    assert all(x.posted_at.time() == datetime.min.time() for x in st.lines)
    assert st.account_name == "UBMTTQ XÃ HÒA AN"


def cp1258(text: str) -> bytes:
    """Vietnamese text in Windows-1258: base letters and separate tone marks."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", ch)
            tone = [m for m in marks if m in "\u0300\u0301\u0303\u0309\u0323"]
            shape = [m for m in marks if m not in tone]
            out += unicodedata.normalize("NFC", base + "".join(shape)).encode("cp1258")
            out += "".join(tone).encode("cp1258")
    return bytes(out)


def test_windows_1258_text_reads_like_utf8():
    path = OWN / "agribank-2025-03.csv"
    text = path.read_text(encoding="utf-8")
    data = cp1258(text)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    old, new = parse(path), parse_statement(data, "agribank.csv")
    assert new == old


@pytest.mark.parametrize("name", SHARED_FILES[:2] + OWN_FILES[1:])
def test_csv_with_bank_named_reads_the_same(name):
    path = SHARED / name if (SHARED / name).exists() else OWN / name
    assert parse(path, bank=name.split("-")[0]) == parse(path)


def test_bank_named_differently_warns():
    st = parse(OWN / "agribank-2025-03.csv", bank="bidv")
    assert st.bank == "bidv" and st.warnings and "agribank" in st.warnings[0].message


def test_unknown_preset_refused():
    problems = refused(b"x", bank="techcombank")
    assert "techcombank" in problems[0].message


def test_presets_are_the_four_banks():
    assert set(PRESETS) == {"vietcombank", "vietinbank", "bidv", "agribank"}


# --- amounts and dates --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value"), [
    ("1.000.000", 1_000_000), ("1,000,000", 1_000_000), ("1000000", 1_000_000), ("+1,000,000", 1_000_000),
    ("-20.000", -20_000), ("1 000 000", 1_000_000), ("1\u00a0000\u00a0000", 1_000_000), ("  20.000 ", 20_000),
    ("(20.000)", -20_000), ("20.000-", -20_000), ("1,000,000.00", 1_000_000), ("1.000.000,00", 1_000_000),
    ("1000000.00", 1_000_000), ("500.000 VND", 500_000), ("500.000đ", 500_000), ("−5.000", -5_000),
    ("1.000", 1_000), ("0", 0), (1_000_000, 1_000_000), (-11_000, -11_000), (1_000_000.0, 1_000_000),
])
def test_amount_forms(text, value):
    assert amount_from_text(text) == value
    assert type(amount_from_text(text)) is int


@pytest.mark.parametrize("text", [
    "", "   ", "abc", "1.000.000.5", "1000000.5", "1,5", "12.34", "1.00.000", "1,00,000", "1.000,000.5", "--5",
    "1e6", "nan", "1000000.5", 1_000_000.5, float("nan"), float("inf"), True, None, [1],
    "0.875", "0,875", "012.345",  # a first group of 0 groups no thousands: a fraction, or nothing
])
def test_amounts_refused(text):
    with pytest.raises(ValueError) as err:
        amount_from_text(text)
    assert str(err.value)


@pytest.mark.parametrize(("text", "value"), [
    ("01/03/2025", datetime(2025, 3, 1)), ("1/3/2025", datetime(2025, 3, 1)),
    ("01/03/2025 07:02", datetime(2025, 3, 1, 7, 2)), ("01/03/2025 07:02:22", datetime(2025, 3, 1, 7, 2, 22)),
    ("01-03-2025", datetime(2025, 3, 1)), ("01-03-2025 23:59:59", datetime(2025, 3, 1, 23, 59, 59)),
    ("01.03.2025", datetime(2025, 3, 1)), ("2025-03-01", datetime(2025, 3, 1)),
    ("2025-03-01 07:02:22", datetime(2025, 3, 1, 7, 2, 22)), ("2025-03-01T07:02:22", datetime(2025, 3, 1, 7, 2, 22)),
    ("2025-03-01T00:02:22Z", datetime(2025, 3, 1, 7, 2, 22)), ("01/03/2025 07:02 PM", datetime(2025, 3, 1, 19, 2)),
    (datetime(2025, 3, 1, 7, 2), datetime(2025, 3, 1, 7, 2)), (date(2025, 3, 1), datetime(2025, 3, 1)),
    (45717, datetime(2025, 3, 1)), (45717.5, datetime(2025, 3, 1, 12)),
])
def test_date_forms(text, value):
    assert date_from_text(text) == value


@pytest.mark.parametrize("text", ["", "31/02/2025", "01/03/25", "2025/13/01", "tomorrow", "01/03/2025 25:00", 12,
                                  None, "13-2025-01"])
def test_dates_refused(text):
    with pytest.raises(ValueError):
        date_from_text(text)


try:
    from hypothesis import given
    from hypothesis import strategies as st_
except ImportError:  # pragma: no cover
    given = None

if given is not None:
    @given(st_.integers(min_value=-10**15, max_value=10**15),
           st_.sampled_from(["dot", "comma", "plain", "space"]), st_.booleans())
    def test_amount_round_trip(n, style, plus):
        text = {"dot": f"{abs(n):,}".replace(",", "."), "comma": f"{abs(n):,}", "plain": str(abs(n)),
                "space": f"{abs(n):,}".replace(",", " ")}[style]
        text = ("-" if n < 0 else "+" if plus else "") + text
        assert amount_from_text(text) == n

    @given(st_.floats(allow_nan=True, allow_infinity=True).filter(lambda f: not f.is_integer()))
    def test_non_integral_floats_refused(f):
        with pytest.raises(ValueError):
            amount_from_text(f)
        with pytest.raises(ValueError):
            amount_from_text(repr(f))

    @given(st_.integers(min_value=-(2**53), max_value=2**53))
    def test_integral_floats_accepted(n):
        assert amount_from_text(float(n)) == n


# --- a user's own layout ------------------------------------------------------------------------

CUSTOM = (
    "Techcombank - Lich su giao dich\n"
    "Account: 19036612345678\n"
    "\n"
    "Booking date,Ref,Remitter,Remitter account,Description,Amount,Balance,Channel\n"
    "03/01/2025 09:15,TCB001,NGUYEN VAN AN,190366***,UH P000005 ung ho,\"+1,000,000\",\"11,000,000\",web\n"
    "03/02/2025 10:00,TCB002,,,Phi SMS,-11000,\"10,989,000\",\n"
    "\n"
    "03/03/2025,TCB003,TRAN THI BINH,,ung ho xoa nha tam,\"500,000\",\"11,489,000\",app\n"
)
MAPPING = ColumnMapping(date="Booking date", memo="Description", amount="Amount", reference="Ref",
                        balance="Balance", payer_name="Remitter", payer_account="Remitter account",
                        date_format="%m/%d/%Y")


def test_custom_mapping_reads_any_layout():
    st = parse_statement(CUSTOM.encode(), "tcb.csv", mapping=MAPPING)
    assert st.bank == "custom" and st.account_number == "19036612345678"
    assert [(x.row, x.posted_at, x.reference, x.amount_vnd, x.payer_name, x.payer_account, x.balance_vnd)
            for x in st.lines] == [
        (5, datetime(2025, 3, 1, 9, 15), "TCB001", 1_000_000, "NGUYEN VAN AN", "190366***", 11_000_000),
        (6, datetime(2025, 3, 2, 10, 0), "TCB002", -11_000, None, None, 10_989_000),
        (8, datetime(2025, 3, 3), "TCB003", 500_000, "TRAN THI BINH", None, 11_489_000)]
    assert st.opening_balance_vnd == 10_000_000 and st.closing_balance_vnd == 11_489_000
    assert (st.period_from, st.period_to) == (date(2025, 3, 1), date(2025, 3, 3))
    with_row = ColumnMapping.from_dict({**MAPPING.to_dict(), "header_row": 4})
    assert parse_statement(CUSTOM.encode(), "tcb.csv", mapping=with_row) == st


def test_custom_mapping_as_json():
    d = MAPPING.to_dict()
    assert ColumnMapping.from_dict(json.loads(json.dumps(d))) == MAPPING
    assert ColumnMapping.from_dict({"date": "Ngày", "memo": "Nội dung", "credit": "Có"}).debit is None
    with pytest.raises(StatementError):
        ColumnMapping.from_dict({"date": "Ngày", "memo": "Nội dung"})          # no amount column
    with pytest.raises(StatementError):
        ColumnMapping.from_dict({**d, "colour": "red"})


def test_custom_mapping_with_credit_and_debit_in_xlsx():
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["Ngay", "Dien giai", "Tien vao", "Tien ra"])
    ws.append([datetime(2025, 3, 1, 8), "ung ho", 100_000, None])
    ws.append([datetime(2025, 3, 1, 9), "phi", None, 11_000.0])
    out = io.BytesIO()
    book.save(out)
    mapping = ColumnMapping(date="ngày", memo="diễn giải", credit="TIỀN VÀO", debit="tiền ra")
    st = parse_statement(out.getvalue(), "x.xlsx", mapping=mapping)
    assert [x.amount_vnd for x in st.lines] == [100_000, -11_000]


def test_custom_mapping_missing_column_named():
    mapping = ColumnMapping.from_dict({**MAPPING.to_dict(), "balance": "Số dư", "header_row": 4})
    problems = refused(CUSTOM.encode(), mapping=mapping)
    assert problems[0].row == 4 and "balance" in problems[0].message and "Số dư" in problems[0].message_vi


def test_custom_mapping_wrong_date_format():
    mapping = ColumnMapping.from_dict({**MAPPING.to_dict(), "date_format": "%Y-%m-%d"})
    problems = refused(CUSTOM.encode(), mapping=mapping)
    assert [(p.row, p.column) for p in problems] == [(5, "Booking date (A)"), (6, "Booking date (A)"),
                                                      (8, "Booking date (A)")]


# --- files that cannot be read ------------------------------------------------------------------

HEADER = 'STT,"Ngày giao dịch\nTNX Date","Số CT\nDoc No","Số tiền ghi nợ\nDebit","Số tiền ghi có\nCredit","Số dư\nBalance","Nội dung chi tiết\nTransactions in detail"\n'
TITLE = "NGÂN HÀNG TMCP NGOẠI THƯƠNG VIỆT NAM - VIETCOMBANK\nSố tài khoản / Account number:,0011001932418\n\n"


def vcb(*rows: str) -> bytes:
    return ("\ufeff" + TITLE + HEADER + "".join(r + "\n" for r in rows)).encode("utf-8")


GOOD = "1,01/03/2025 07:02:22,1034.68377,,20.000,1.250.020.000,ung ho"


def test_small_vietcombank_file_reads():
    st = parse_statement(vcb(GOOD, "2,01/03/2025 08:00:00,1034.7,5.000,,1.250.015.000,phi"), "v.csv")
    assert [x.amount_vnd for x in st.lines] == [20_000, -5_000] and st.bank == "vietcombank"
    assert st.lines[0].row == 11      # 3 title lines, a header of 7 text lines


def test_bad_amount_refused_with_row_and_column():
    problems = refused(vcb(GOOD, "2,01/03/2025 08:00:00,1034.7,,20.000đ0,1.250.040.000,ung ho"))
    assert len(problems) == 1
    p = problems[0]
    assert p.row == 12 and p.column == "Số tiền ghi có Credit (E)"
    assert "20.000đ0" in p.message and "không đọc được" in p.message_vi
    assert p.text_vi.startswith("Dòng 12, cột «Số tiền ghi có Credit (E)»")


def test_every_problem_is_listed():
    problems = refused(vcb(
        GOOD,
        "2,32/03/2025 08:00:00,1034.7,,20.000,1.250.040.000,ngay sai",
        "3,01/03/2025 08:00:00,1034.8,5.000,20.000,1.250.040.000,ca hai",
        "4,01/03/2025 08:00:00,1034.9,,,1.250.040.000,khong co so tien",
        "5,01/03/2025 08:00:00,1035.0,0,0,1.250.040.000,so tien 0",
        "6,01/03/2025 08:00:00,1035.1,,1.000.000.5,1.250.040.000,le",
        "7,,1035.2,,10.000,1.250.050.000,thieu ngay",
    ))
    assert [(p.row, p.column) for p in problems] == [
        (12, "Ngày giao dịch TNX Date (B)"),
        (13, "Số tiền ghi có Credit (E) / Số tiền ghi nợ Debit (D)"),
        (14, "Số tiền ghi có Credit (E) / Số tiền ghi nợ Debit (D)"),
        (15, "Số tiền ghi có Credit (E) / Số tiền ghi nợ Debit (D)"),
        (16, "Số tiền ghi có Credit (E)"),
        (17, "Ngày giao dịch TNX Date (B)"),
    ]
    assert "both credit" in problems[1].message and "cả ghi có" in problems[1].message_vi
    assert "zero" in problems[2].message and "zero" in problems[3].message
    assert "missing date" in problems[5].message
    err = StatementError(problems)
    assert "row 12" in str(err) and "and 1 more" in str(err)


def test_missing_column_named():
    header = HEADER.replace(',"Số tiền ghi nợ\nDebit","Số tiền ghi có\nCredit"', "")
    data = ("\ufeff" + TITLE + header + "1,01/03/2025 07:02:22,1034.68377,1.250.020.000,ung ho\n").encode()
    problems = refused(data)
    assert problems[0].row == 4 and "amount" in problems[0].message and "số tiền" in problems[0].message_vi


def test_missing_memo_column_named():
    header = HEADER.replace(',"Nội dung chi tiết\nTransactions in detail"', "")
    problems = refused(("\ufeff" + TITLE + header).encode())
    assert "memo" in problems[0].message and "nội dung" in problems[0].message_vi


def test_utf16_refused():
    data = vcb(GOOD).decode("utf-8").encode("utf-16")
    problems = refused(data)
    assert "UTF-16" in problems[0].message and "UTF-8" in problems[0].message_vi


def test_windows_1258_text_without_header_refused():
    data = cp1258("Sao kê tài khoản\nChủ tài khoản: Ủy ban Mặt trận\nKhông có dữ liệu giao dịch\n")
    problems = refused(data)
    assert "no recognisable header" in problems[0].message and "cp1258" in problems[0].message
    assert "không tìm thấy dòng tiêu đề" in problems[0].message_vi


def test_text_without_header_refused():
    problems = refused(b"just,some,text\n1,2,3\n")
    assert "no recognisable header" in problems[0].message


@pytest.mark.parametrize(("data", "word"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), ".xls"), (b"<html><table><tr><td>x</td></tr></table>", "HTML"),
    (b"", "empty"), (b"PK\x03\x04broken", ".xlsx"),
])
def test_other_files_refused(data, word):
    assert word in refused(data)[0].message


def test_printed_total_that_does_not_add_up_refused():
    data = vcb(GOOD, "2,01/03/2025 08:00:00,1034.7,,30.000,1.250.050.000,ung ho",
               ",Tổng cộng / Total,,0,60.000,,")
    problems = refused(data)
    assert "credit total 60,000" in problems[0].message and "tổng ghi có" in problems[0].message_vi


def test_closing_balance_that_does_not_add_up_refused():
    title = TITLE + "Số dư đầu kỳ / Opening balance:,1.250.000.000\n"
    data = ("\ufeff" + title + HEADER + GOOD + "\n,Số dư cuối kỳ / Closing balance,,,,1.250.030.000,\n").encode()
    problems = refused(data)
    assert "closing balance 1,250,030,000" in problems[0].message


def test_a_missing_line_in_a_shared_sample_is_caught():
    text = (SHARED / SHARED_FILES[0]).read_bytes().decode("utf-8-sig")
    cut = text.replace("11,01/03/2025 08:07:03,6084.49043,,500.000,1.252.440.000,MBVCB.5498721283.174162.BUI KIM TAM ung ho\r\n", "")
    assert cut != text
    problems = refused(cut.encode())
    assert any("credit total" in p.message for p in problems)


def test_fractional_amount_in_an_excel_cell_refused():
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["Ngày giao dịch", "Số tham chiếu", "Ghi nợ", "Ghi có", "Mô tả"])
    ws.append([datetime(2025, 3, 1, 8), "R1", None, 1_000_000.5, "ung ho"])
    ws.append([datetime(2025, 3, 1, 9), "R2", None, 200_000.0, "ung ho"])
    out = io.BytesIO()
    book.save(out)
    problems = refused(out.getvalue(), "x.xlsx")
    assert [(p.row, p.column) for p in problems] == [(2, "Ghi có (D)")]
    assert "fraction" in problems[0].message


def test_problems_are_capped_but_counted():
    rows = [f"{n},01/03/2025 08:00:00,R{n},,x{n},1,memo" for n in range(450)]
    problems = refused(vcb(*rows))
    assert len(problems) == 201 and "250 more" in problems[-1].message


def test_newest_first_statement_balances():
    data = vcb("1,01/03/2025 09:00:00,R2,,30.000,1.250.050.000,b", "2,01/03/2025 08:00:00,R1,,20.000,1.250.020.000,a")
    st = parse_statement(data, "v.csv")
    assert (st.opening_balance_vnd, st.closing_balance_vnd) == (1_250_000_000, 1_250_050_000)
    assert st.warnings == ()


def test_running_balance_that_breaks_is_a_warning():
    data = vcb(GOOD, "2,01/03/2025 09:00:00,R2,,30.000,1.250.000.000,b")
    st = parse_statement(data, "v.csv")
    assert st.warnings and st.warnings[0].row == 12


def test_detect_bank_none_for_unknown():
    assert detect_bank(CUSTOM.encode(), "x.csv") is None
    assert detect_bank(b"\xff\xfe\x00\x00", "x.csv") is None


@pytest.mark.parametrize("name", ["vietinbank-2025-03-part1.xlsx", "bidv-2025-03.xlsx", "memo-xml.xlsx"])
def test_xlsx_fast_reader_agrees_with_openpyxl(monkeypatch, tmp_path, name):
    """The sheet XML is read directly for speed; openpyxl (the fallback) must read the same."""
    if name == "memo-xml.xlsx":
        book = openpyxl.Workbook()
        ws = book.active
        ws.append(["Ngày giao dịch", "Số tham chiếu", "Số tiền", "Mô tả", "Loại"])
        ws.append([datetime(2025, 3, 1, 8), 12345, 100_000, "A & B <c> \"d\" 'e'", True])
        ws.append(["02/03/2025", "R&2", "-5.000", "dòng một\ndòng hai", "=1+1"])
        ws.append([45718.25, None, 7_000.0, "ba", None])
        book.save(tmp_path / name)
        path = tmp_path / name
    else:
        path = SHARED / name if (SHARED / name).exists() else OWN / name
    fast = parse(path)
    from ledger.imports import statements

    def unreadable(data):
        raise KeyError("use openpyxl")
    monkeypatch.setattr(statements, "FastWorkbook", unreadable)
    assert parse(path) == fast
    if name == "memo-xml.xlsx":
        assert [x.memo for x in fast.lines] == ["A & B <c> \"d\" 'e'", "dòng một dòng hai", "ba"]
        assert [x.reference for x in fast.lines] == ["12345", "R&2", None]
        assert [x.posted_at for x in fast.lines] == [datetime(2025, 3, 1, 8), datetime(2025, 3, 2),
                                                    datetime(2025, 3, 2, 6)]


def excel_style_workbook() -> bytes:
    """A workbook as Excel writes it: shared strings (one in rich-text runs), date styles, a formula."""
    import zipfile
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    strings = ["Ngày giao dịch", "Số tham chiếu", "Ghi nợ", "Ghi có", "Diễn giải", "ung ho &amp; chung tay",
               "Sao kê tài khoản", "FT001"]
    sst = "".join(f"<si><t>{s}</t></si>" for s in strings) + (
        '<si><r><rPr><b/></rPr><t xml:space="preserve">NGUYEN VAN AN </t></r><r><t>ung ho</t></r></si>')
    rows = [
        '<row r="1"><c r="A1" t="s"><v>6</v></c></row>',
        '<row r="3" spans="1:5"><c r="A3" t="s"><v>0</v></c><c r="B3" t="s"><v>1</v></c><c r="C3" t="s"><v>2</v></c>'
        '<c r="D3" t="s"><v>3</v></c><c r="E3" t="s"><v>4</v></c></row>',
        '<row r="4"><c r="A4" s="1"><v>45717.3125</v></c><c r="B4" t="s"><v>7</v></c><c r="C4"/>'
        '<c r="D4"><v>100000</v></c><c r="E4" t="s"><v>5</v></c></row>',
        '<row r="5"><c r="A5" s="2"><v>45718</v></c><c r="B5" t="str"><f>"FT"&amp;"002"</f><v>FT002</v></c>'
        '<c r="C5"><f>5000*2</f><v>10000</v></c><c r="E5" t="s"><v>8</v></c></row>',
    ]
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook {ns} {rns}><sheets><sheet name="Sao ke" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>',
        "xl/sharedStrings.xml": f'<?xml version="1.0"?><sst {ns} count="9" uniqueCount="9">{sst}</sst>',
        "xl/styles.xml": f'<?xml version="1.0"?><styleSheet {ns}><numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy\\ hh:mm"/></numFmts>'
        '<fonts count="1"><font/></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/>'
        '<xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?><worksheet {ns} {rns}><dimension ref="A1"/><sheetData>{"".join(rows)}</sheetData></worksheet>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return out.getvalue()


@pytest.mark.filterwarnings("ignore:Workbook contains no default style")
def test_excel_shared_strings_and_date_styles(monkeypatch):
    data = excel_style_workbook()
    st = parse_statement(data, "excel.xlsx")
    assert [(x.row, x.posted_at, x.reference, x.amount_vnd, x.memo) for x in st.lines] == [
        (4, datetime(2025, 3, 1, 7, 30), "FT001", 100_000, "ung ho & chung tay"),
        (5, datetime(2025, 3, 2), "FT002", -10_000, "NGUYEN VAN AN ung ho")]
    from ledger.imports import statements

    def unreadable(data):
        raise KeyError("use openpyxl")
    monkeypatch.setattr(statements, "FastWorkbook", unreadable)
    assert parse_statement(data, "excel.xlsx") == st


def test_damaged_workbook_refused():
    data = excel_style_workbook()
    import zipfile
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for item in src.namelist():
            text = src.read(item)
            if item == "xl/worksheets/sheet1.xml":
                text = text.replace(b'<c r="B4" t="s"><v>7</v>', b'<c r="B4" t="s"><v>99</v>')
            z.writestr(item, text)
    problems = refused(out.getvalue(), "bad.xlsx")
    assert "damaged" in problems[0].message and "hỏng" in problems[0].message_vi


def test_a_zip_bomb_is_refused_before_it_is_unpacked(monkeypatch):
    """A "workbook" whose sheet unpacks a thousand times over is refused, saying why, before
    any reader unpacks it (the limits made small here so the test stays small)."""
    import zipfile

    from ledger.imports import statements

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<sheetData>" + b" " * (12 * 1024 * 1024))
    problems = refused(out.getvalue(), "bomb.xlsx")
    assert any("unsafe" in p.message and "không an toàn" in p.message_vi for p in problems)
    monkeypatch.setattr(statements, "MAX_XLSX_UNPACKED", 1000)  # the total limit alone
    assert any("unsafe" in p.message for p in refused(_xlsx([["Ngày", "Nội dung", "Số tiền"]]), "small.xlsx"))


def _xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
