"""Export file formats and the signed manifest (receipts.exports, receipts.export_manifest).

Pure: no database, no Flask. Each tampering of a signed export must fail with its reason.
"""
from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from receipts.__main__ import main as receipts_cli
from receipts.export_manifest import (
    MANIFEST,
    SIGNATURE,
    build_manifest,
    load_key_arguments,
    verify_export,
    write_manifest,
)
from receipts.exports import (
    BOM,
    DATE,
    DATETIME,
    INTEGER,
    QUANTITY,
    VND,
    Column,
    TotalsBy,
    read_records,
    write_csv,
    write_export,
    write_jsonl,
    write_xlsx,
)
from receipts.merkle import MemoryTree
from receipts.note import checkpoint_body, sign_note
from receipts.payload import canonical_bytes
from receipts.signing import SigningKey, b64url, public_key_pem, raw_public_bytes

try:  # in the dev extra; without it only the XLSX read-back tests skip
    import openpyxl
except ImportError:
    openpyxl = None
needs_openpyxl = pytest.mark.skipif(openpyxl is None, reason="openpyxl is not installed")

COLUMNS = [
    Column("seq", "Số giao dịch", INTEGER),
    Column("date", "Ngày", DATE),
    Column("recorded_at", "Ghi sổ lúc (UTC)", DATETIME),
    Column("account", "Tài khoản"),
    Column("commodity", "Loại"),
    Column("units", "Số lượng", VND),
    Column("quantity", "Khối lượng", QUANTITY),
    Column("contribution", "Biên nhận"),
]
TOTALS = TotalsBy("commodity", "units")
ICT = timezone(timedelta(hours=7))
ROWS = [
    (0, date(2025, 3, 1), datetime(2025, 3, 1, 9, 30, tzinfo=ICT), "Quỹ Vì người nghèo phường Hoàn Kiếm",
     "VND", 5_000_000, "5000000", "HNVNN-2025-000001"),
    (1, date(2025, 3, 2), datetime(2025, 3, 2, 1, 0, 5), "Công ty Cổ phần Sữa Việt Nam – Nguyễn Thị Ánh Tuyết",
     "VND", -5_000_000, "12.500", None),
    (2, date(2025, 3, 3), datetime(2025, 3, 3, 0, 0, tzinfo=UTC), "=SUM(A1:A9) hộ ông Lò Văn Ửng",
     "XM-PCB40", 12_500, Decimal("0.001"), "HNVNN-2025-000002"),
    (3, date(2025, 12, 31), datetime(2025, 12, 31, 23, 59, 59), "Đường, ống nước; \"ngoặc\"\nxuống dòng",
     "VND", 123_456_789_012_345_678, "1234567890.12345678", "HNVNN-2025-000003"),
]


def _rows(n: int):
    """n rows, lazily, cycling through ROWS with fresh sequence numbers."""
    for i in range(n):
        row = ROWS[i % len(ROWS)]
        yield (i,) + row[1:]


# --- CSV ----------------------------------------------------------------------------------

def test_csv_starts_with_bom_and_round_trips_vietnamese(tmp_path):
    written = write_csv(tmp_path / "p.csv", COLUMNS, ROWS, totals=TOTALS)
    data = (tmp_path / "p.csv").read_bytes()
    assert data.startswith(BOM + "Số giao dịch".encode())
    assert data.count(b"\r\n") == 5  # CRLF ends records; the LF inside a quoted field stays LF
    assert written.rows == 4 and written.bytes == len(data)
    assert written.sha256 == hashlib.sha256(data).hexdigest()
    with open(tmp_path / "p.csv", encoding="utf-8-sig", newline="") as f:
        records = list(csv.reader(f))
    assert records[0] == [c.header for c in COLUMNS]
    assert records[1][3] == "Quỹ Vì người nghèo phường Hoàn Kiếm"
    assert records[2][3] == "Công ty Cổ phần Sữa Việt Nam – Nguyễn Thị Ánh Tuyết"
    assert records[4][3] == "Đường, ống nước; \"ngoặc\"\nxuống dòng"
    # Dates ISO, date-times in UTC in the form Excel parses; None is an empty cell.
    assert records[1][1:3] == ["2025-03-01", "2025-03-01 02:30:00"]
    assert records[2][7] == ""


def test_csv_integers_stay_integers_and_quantities_decimal_strings(tmp_path):
    write_csv(tmp_path / "p.csv", COLUMNS, ROWS)
    with open(tmp_path / "p.csv", encoding="utf-8-sig", newline="") as f:
        records = list(csv.reader(f))[1:]
    assert [r[5] for r in records] == ["5000000", "-5000000", "12500", "123456789012345678"]
    assert [r[6] for r in records] == ["5000000", "12.500", "0.001", "1234567890.12345678"]
    assert not any("e" in r[5].lower() or "." in r[5] for r in records)


def test_csv_guards_formulas_reversibly(tmp_path):
    write_csv(tmp_path / "p.csv", COLUMNS, ROWS)
    raw = list(csv.reader(open(tmp_path / "p.csv", encoding="utf-8-sig", newline="")))
    assert raw[3][3] == "'=SUM(A1:A9) hộ ông Lò Văn Ửng"  # Excel shows text, runs nothing
    records = list(read_records(tmp_path / "p.csv", COLUMNS))
    assert records[2][3] == "=SUM(A1:A9) hộ ông Lò Văn Ửng"


@pytest.mark.parametrize("writer", [write_csv, write_jsonl, write_xlsx])
@pytest.mark.parametrize("bad", [12.5, True, "12", Decimal("12")])
def test_floats_and_strings_are_refused_in_integer_columns(tmp_path, writer, bad):
    row = list(ROWS[0])
    row[5] = bad
    with pytest.raises(TypeError):
        writer(tmp_path / f"p.{writer.__name__[6:]}", COLUMNS, [tuple(row)])


@pytest.mark.parametrize("writer", [write_csv, write_jsonl, write_xlsx])
def test_a_float_quantity_is_refused(tmp_path, writer):
    row = list(ROWS[0])
    row[6] = 0.1
    with pytest.raises(TypeError):
        writer(tmp_path / f"p.{writer.__name__[6:]}", COLUMNS, [tuple(row)])


# --- JSONL --------------------------------------------------------------------------------

def test_jsonl_round_trip(tmp_path):
    written = write_jsonl(tmp_path / "p.jsonl", COLUMNS, ROWS, totals=TOTALS)
    lines = (tmp_path / "p.jsonl").read_text(encoding="utf-8").splitlines()
    assert written.rows == len(lines) == 4
    assert "Quỹ Vì người nghèo" in lines[0]  # ensure_ascii=False: no \\u escapes
    first = json.loads(lines[0])
    assert list(first) == [c.name for c in COLUMNS]
    assert first == {"seq": 0, "date": "2025-03-01", "recorded_at": "2025-03-01T02:30:00Z",
                     "account": "Quỹ Vì người nghèo phường Hoàn Kiếm", "commodity": "VND",
                     "units": 5000000, "quantity": "5000000", "contribution": "HNVNN-2025-000001"}
    last = json.loads(lines[3])
    assert last["units"] == 123_456_789_012_345_678 and type(last["units"]) is int
    assert last["quantity"] == "1234567890.12345678"
    assert json.loads(lines[1])["contribution"] is None


# --- XLSX ---------------------------------------------------------------------------------

@needs_openpyxl
def test_xlsx_typed_cells_header_and_widths(tmp_path):
    written = write_xlsx(tmp_path / "p.xlsx", COLUMNS, ROWS, totals=TOTALS)
    assert (written.rows, written.sheets, written.text_numbers) == (4, 1, 2)
    book = openpyxl.load_workbook(tmp_path / "p.xlsx")
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == [c.header for c in COLUMNS]
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["D"].width > sheet.column_dimensions["A"].width
    assert sheet["A2"].value == 0 and sheet["F2"].data_type == "n" and sheet["F2"].value == 5_000_000
    assert sheet["F2"].number_format == "#,##0"
    assert sheet["B2"].is_date and sheet["B2"].value == datetime(2025, 3, 1)
    assert sheet["B2"].number_format == "yyyy-mm-dd"
    assert sheet["C2"].is_date and sheet["C2"].value == datetime(2025, 3, 1, 2, 30)
    assert sheet["D3"].value == "Công ty Cổ phần Sữa Việt Nam – Nguyễn Thị Ánh Tuyết"
    assert sheet["D4"].value == "=SUM(A1:A9) hộ ông Lò Văn Ửng" and sheet["D4"].data_type != "f"
    assert sheet["G3"].data_type == "n" and Decimal(repr(sheet["G3"].value)) == Decimal("12.5")
    assert sheet["G4"].data_type == "n" and Decimal(repr(sheet["G4"].value)) == Decimal("0.001")
    # Beyond Excel's 15 digits: exact digits as text, not a silently rounded number.
    assert sheet["F5"].data_type == "s" and sheet["F5"].value == "123456789012345678"
    assert sheet["G5"].value == "1234567890.12345678"
    assert sheet["H3"].value is None


@needs_openpyxl
def test_xlsx_splits_across_sheets_with_the_header_repeated(tmp_path):
    written = write_xlsx(tmp_path / "p.xlsx", COLUMNS, _rows(25), rows_per_sheet=10, sheet_title="Bút toán")
    assert (written.rows, written.sheets) == (25, 3)
    book = openpyxl.load_workbook(tmp_path / "p.xlsx", read_only=True)
    assert book.sheetnames == ["Bút toán", "Bút toán (2)", "Bút toán (3)"]
    counts, seqs = [], []
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[0]) == [c.header for c in COLUMNS]
        counts.append(len(rows) - 1)
        seqs += [r[0] for r in rows[1:]]
    assert counts == [10, 10, 5] and seqs == list(range(25))
    assert len(list(read_records(tmp_path / "p.xlsx", COLUMNS))) == 25


def test_xlsx_is_written_in_constant_memory_mode(tmp_path):
    write_xlsx(tmp_path / "p.xlsx", COLUMNS, ROWS)
    with zipfile.ZipFile(tmp_path / "p.xlsx") as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        assert 't="inlineStr"' in sheet  # strings inline, no shared-string table held in memory
        assert "xl/sharedStrings.xml" not in z.namelist()


# --- manifest -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ledger_key():
    return SigningKey.generate()


ORIGIN = "minhbach.example.vn/log"


def _checkpoint(key: SigningKey, size: int = 5):
    tree = MemoryTree([f"entry {i}".encode() for i in range(size)])
    root = tree.root()
    note = sign_note(checkpoint_body(ORIGIN, size, root), ORIGIN, key)
    return {"origin": ORIGIN, "size": size, "root_hash": root, "note": note}


def _export(directory: Path, key: SigningKey, n: int = 30, formats=("csv", "jsonl", "xlsx")) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    files = [write_export(directory / f"postings.{fmt}", COLUMNS, _rows(n), totals=TOTALS) for fmt in formats]
    manifest = build_manifest(export="postings", filters={"campaign": "CT2025", "from": "2025-03-01"},
                              created_at="2026-11-22T05:00:00Z", columns=COLUMNS, files=files,
                              checkpoint=_checkpoint(key), key_id=key.key_id, totals_by=TOTALS)
    write_manifest(directory, manifest, key)
    return directory


@pytest.fixture
def export_dir(tmp_path, ledger_key):
    return _export(tmp_path / "export", ledger_key)


def _keys(key: SigningKey):
    return load_key_arguments([b64url(raw_public_bytes(key.public_key))])


def test_manifest_contents(export_dir, ledger_key):
    data = (export_dir / MANIFEST).read_bytes()
    manifest = json.loads(data)
    assert canonical_bytes(manifest) == data
    assert manifest["export"] == "postings" and manifest["filters"]["campaign"] == "CT2025"
    assert manifest["checkpoint"]["size"] == 5 and manifest["key_id"] == ledger_key.key_id
    entries = {f["name"]: f for f in manifest["files"]}
    assert set(entries) == {"postings.csv", "postings.jsonl", "postings.xlsx"}
    for name, entry in entries.items():
        assert entry["sha256"] == hashlib.sha256((export_dir / name).read_bytes()).hexdigest()
        assert entry["rows"] == 30
    # 30 rows cycle ROWS (8, 8, 7, 7 of each): totals are exact decimal strings.
    expected = 8 * 5_000_000 - 8 * 5_000_000 + 7 * 123_456_789_012_345_678
    assert entries["postings.csv"]["totals"] == {"VND": str(expected), "XM-PCB40": str(7 * 12_500)}


def test_verify_export_ok(export_dir, ledger_key):
    check = verify_export(export_dir, _keys(ledger_key))
    assert check.problems == [] and check.unchecked == [] and check.exit_code == 0


def test_without_a_key_the_files_are_checked_but_the_answer_is_cannot_check(export_dir, ledger_key):
    check = verify_export(export_dir, {})
    assert check.problems == [] and check.exit_code == 3
    assert "transparency/keys" in check.unchecked[0] and ledger_key.key_id in check.unchecked[0]
    (export_dir / "postings.jsonl").write_bytes(b"")
    assert verify_export(export_dir, {}).exit_code == 1  # altered files fail even without a key


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _problems(directory, key):
    check = verify_export(directory, _keys(key))
    assert check.exit_code == 1, check
    return "\n".join(check.problems)


@pytest.mark.parametrize("name", ["postings.csv", "postings.jsonl", "postings.xlsx"])
def test_a_changed_byte_in_any_file_fails(export_dir, ledger_key, name):
    path = export_dir / name
    _flip_byte(path, path.stat().st_size // 2)
    problems = _problems(export_dir, ledger_key)
    assert f"{name}: SHA-256" in problems and "altered" in problems


def test_a_removed_row_fails_with_the_count_and_totals(export_dir, ledger_key):
    path = export_dir / "postings.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:5] + lines[6:]), encoding="utf-8")
    problems = _problems(export_dir, ledger_key)
    assert "postings.jsonl: SHA-256" in problems
    assert "postings.jsonl: 29 rows, the manifest says 30" in problems
    assert "postings.jsonl: total of VND" in problems


def test_a_removed_csv_row_fails(export_dir, ledger_key):
    path = export_dir / "postings.csv"
    data = path.read_bytes()
    start = data.index(b"\r\n") + 2  # drop the first data row
    path.write_bytes(data[:start] + data[data.index(b"\r\n", start) + 2:])
    problems = _problems(export_dir, ledger_key)
    assert "postings.csv: 29 rows, the manifest says 30" in problems


def test_a_changed_manifest_total_fails(export_dir, ledger_key):
    manifest = json.loads((export_dir / MANIFEST).read_bytes())
    manifest["files"][0]["totals"]["VND"] = str(int(manifest["files"][0]["totals"]["VND"]) + 1)
    (export_dir / MANIFEST).write_bytes(canonical_bytes(manifest))
    problems = _problems(export_dir, ledger_key)
    assert "the signature does not match manifest.json: altered or forged" in problems
    assert "postings.csv: total of VND: the rows sum to" in problems


def test_a_changed_manifest_field_fails(export_dir, ledger_key):
    manifest = json.loads((export_dir / MANIFEST).read_bytes())
    manifest["filters"]["campaign"] = "CT2026"
    (export_dir / MANIFEST).write_bytes(canonical_bytes(manifest))
    assert "the signature does not match" in _problems(export_dir, ledger_key)


def test_a_reformatted_manifest_fails_as_not_canonical(export_dir, ledger_key):
    manifest = json.loads((export_dir / MANIFEST).read_bytes())
    (export_dir / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    assert "not in canonical form" in _problems(export_dir, ledger_key)


def test_a_signature_from_another_key_fails(tmp_path, ledger_key):
    impostor = SigningKey.generate()
    directory = _export(tmp_path / "forged", impostor)
    problems = _problems(directory, ledger_key)
    assert f"signed with key {impostor.key_id!r}, which is not among the keys given" in problems
    # ...and an impostor who claims the ledger's key id is caught by the signature itself.
    manifest = json.loads((directory / MANIFEST).read_bytes())
    manifest["key_id"] = ledger_key.key_id
    manifest["checkpoint"].pop("note")
    data = canonical_bytes(manifest)
    (directory / MANIFEST).write_bytes(data)
    from receipts.export_manifest import signed_message
    (directory / SIGNATURE).write_text(impostor.sign(signed_message(data)) + "\n")
    assert "the signature does not match manifest.json" in _problems(directory, ledger_key)


def test_a_forged_checkpoint_note_fails(tmp_path, ledger_key):
    directory = tmp_path / "cp"
    directory.mkdir()
    files = [write_csv(directory / "postings.csv", COLUMNS, _rows(3), totals=TOTALS)]
    checkpoint = _checkpoint(SigningKey.generate())  # signed by someone else
    manifest = build_manifest(export="postings", filters={}, created_at="2026-11-22T05:00:00Z", columns=COLUMNS,
                              files=files, checkpoint=checkpoint, key_id=ledger_key.key_id, totals_by=TOTALS)
    write_manifest(directory, manifest, ledger_key)
    assert "checkpoint note: the note carries no signature by a known key" in _problems(directory, ledger_key)


def test_missing_and_extra_files_fail_by_name(export_dir, ledger_key):
    (export_dir / "postings.xlsx").unlink()
    (export_dir / "notes.txt").write_text("thêm")
    problems = _problems(export_dir, ledger_key)
    assert "postings.xlsx: missing" in problems
    assert "notes.txt: not listed in the manifest (an extra file)" in problems


def test_a_missing_signature_fails(export_dir, ledger_key):
    (export_dir / SIGNATURE).unlink()
    assert "manifest.json.sig: missing" in _problems(export_dir, ledger_key)


def test_a_manifest_cannot_name_a_path_outside_the_directory(export_dir, ledger_key):
    manifest = json.loads((export_dir / MANIFEST).read_bytes())
    manifest["files"][0]["name"] = "../postings.csv"
    write_manifest(export_dir, manifest, ledger_key)  # even signed, the verifier refuses it
    assert "is not a plain file name" in _problems(export_dir, ledger_key)


def test_build_manifest_refuses_floats(tmp_path, ledger_key):
    files = [write_csv(tmp_path / "p.csv", COLUMNS, ROWS)]
    with pytest.raises(TypeError):
        build_manifest(export="postings", filters={"min": 0.5}, created_at="2026-11-22T05:00:00Z",
                       columns=COLUMNS, files=files, checkpoint=None, key_id=ledger_key.key_id)


# --- the command line ---------------------------------------------------------------------

def test_cli_exit_codes(export_dir, ledger_key, tmp_path, capsys):
    pem = tmp_path / "ledger-key.pem"
    pem.write_text(public_key_pem(ledger_key.public_key))
    assert receipts_cli(["verify-export", str(export_dir), "--public-key", str(pem)]) == 0
    assert "GENUINE: export 'postings'" in capsys.readouterr().out
    keys_json = tmp_path / "keys.json"  # the saved answer of GET /api/v1/transparency/keys
    keys_json.write_text(json.dumps({"origin": ORIGIN, "keys": [
        {"key_id": ledger_key.key_id, "public_key": b64url(raw_public_bytes(ledger_key.public_key))}]}))
    assert receipts_cli(["verify-export", str(export_dir), "--key", str(keys_json)]) == 0
    assert receipts_cli(["verify-export", str(export_dir)]) == 3
    assert "CANNOT CHECK" in capsys.readouterr().out
    assert receipts_cli(["verify-export", str(tmp_path / "nowhere"), "-k", str(pem)]) == 3
    assert receipts_cli(["verify-export", str(export_dir), "-k", "not-a-key!"]) == 3
    other = tmp_path / "other.pem"
    other.write_text(public_key_pem(SigningKey.generate().public_key))
    assert receipts_cli(["verify-export", str(export_dir), "-k", str(other)]) == 1
    _flip_byte(export_dir / "postings.csv", 10)
    assert receipts_cli(["verify-export", str(export_dir), "-k", str(pem)]) == 1
    assert "NOT GENUINE: postings.csv: SHA-256" in capsys.readouterr().out


def test_cli_as_a_process(export_dir, ledger_key, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(export_dir, copy)
    key = b64url(raw_public_bytes(ledger_key.public_key))
    # "--public-key=KEY": a base64url key may begin with "-", which argparse would take for an option.
    run = subprocess.run([sys.executable, "-m", "receipts", "verify-export", str(copy), f"--public-key={key}"],
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "postings.xlsx (30 rows)" in run.stdout


def test_without_openpyxl_xlsx_rows_are_skipped_with_a_note(export_dir, ledger_key, monkeypatch):
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import openpyxl now raises ImportError
    check = verify_export(export_dir, _keys(ledger_key))
    assert check.exit_code == 0
    assert check.notes == ["postings.xlsx: rows not re-counted (openpyxl is not installed; pip install openpyxl); "
                           "its SHA-256 was checked"]


@pytest.mark.parametrize("writer", [write_csv, write_jsonl, write_xlsx])
def test_a_row_of_the_wrong_length_or_a_bad_quantity_is_refused(tmp_path, writer):
    path = tmp_path / f"p.{writer.__name__[6:]}"
    with pytest.raises(ValueError, match="row 2 has 7 values for 8 columns"):
        writer(path, COLUMNS, [ROWS[0], ROWS[1][:7]])
    row = list(ROWS[0])
    row[6] = "1e5"  # a quantity is a plain decimal string
    with pytest.raises(ValueError, match="not a decimal string"):
        writer(path, COLUMNS, [tuple(row)])


def test_a_single_column_export(tmp_path):
    column = [Column("name", "Tên")]
    assert write_csv(tmp_path / "p.csv", column, [("Nguyễn Văn A",), ("@x",)]).rows == 2
    assert [r[0] for r in read_records(tmp_path / "p.csv", column)] == ["Nguyễn Văn A", "@x"]
    assert write_jsonl(tmp_path / "p.jsonl", column, [("Nguyễn Văn A",)]).rows == 1


@pytest.mark.parametrize("writer", [write_csv, write_jsonl])
def test_repeated_moments_are_written_as_each_instant_in_utc(tmp_path, writer):
    """Consecutive rows often share a moment (a transaction's postings): each row still gets
    its own instant in UTC, whether it repeats, is the same instant in another zone, or
    is a naive time, a None or a wrong type after it."""
    columns = [Column("seq", "Số", INTEGER), Column("at", "Lúc", DATETIME)]
    noon_ict = datetime(2025, 3, 1, 12, 0, tzinfo=ICT)
    moments = [noon_ict, noon_ict, noon_ict.astimezone(UTC), datetime(2025, 3, 1, 5, 0), None,
               datetime(2025, 3, 1, 12, 0), datetime(2025, 3, 1, 12, 0, 1, tzinfo=UTC), noon_ict]
    path = tmp_path / ("m.csv" if writer is write_csv else "m.jsonl")
    writer(path, columns, list(enumerate(moments)))
    if writer is write_csv:
        got = [row[1] for row in list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))[1:]]
        want = ["2025-03-01 05:00:00"] * 4 + ["", "2025-03-01 12:00:00", "2025-03-01 12:00:01",
                                              "2025-03-01 05:00:00"]
    else:
        got = [json.loads(line)["at"] for line in path.read_text(encoding="utf-8").splitlines()]
        want = ["2025-03-01T05:00:00Z"] * 4 + [None, "2025-03-01T12:00:00Z", "2025-03-01T12:00:01Z",
                                               "2025-03-01T05:00:00Z"]
    assert got == want
    with pytest.raises(TypeError):
        writer(path, columns, [(0, noon_ict), (1, date(2025, 3, 1))])
