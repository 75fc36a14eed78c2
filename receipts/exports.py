"""Export files: CSV, JSONL and XLSX written streaming from row tuples, and read back.

Independent of Flask and the database: a writer takes the columns (name, header, type) and
an iterable of tuples in column order, writes one file in constant memory and returns
what it wrote (rows, bytes, SHA-256, and optionally totals per commodity). CSV and JSONL
are produced by ExportStream, chunk by chunk, whether they go to a file or straight into
a web answer, so both carry the same bytes and the same count, hash and totals. The reader
here is the one `python -m receipts verify-export` uses, so each format's rules (BOM,
guarded text, number cells, sheet split) live in this module only.

No floats, ever: integers (đồng, counts) are Python ints, quantities are decimal strings
or Decimals; a float in a row is a TypeError, not a rounding.

Format rules:
- CSV: UTF-8 with a BOM (Excel otherwise reads UTF-8 as the ANSI code page and breaks
  every Vietnamese letter), a header row, CRLF line ends (RFC 4180 and the csv module's
  default; a line break inside a quoted field stays LF, so CRLF alone ends a record).
  Dates "YYYY-MM-DD", date-times "YYYY-MM-DD HH:MM:SS" in UTC (forms Excel parses).
  A text cell that Excel would run as a formula (first character = + - @ TAB CR) is
  prefixed with an apostrophe, and so is one that starts with an apostrophe, so the guard
  is undone exactly by dropping one leading apostrophe (OWASP "CSV injection").
- JSONL: one object per line, keys in column order, UTF-8 without escapes; integers are
  JSON integers, quantities decimal strings (a JSON number with a fraction is read as a
  float by most parsers), dates ISO 8601, date-times "YYYY-MM-DDTHH:MM:SSZ".
- XLSX: XlsxWriter in constant_memory mode (rows go to disk as written, strings inline);
  integers and quantities are number cells, dates and date-times real dates with a date
  format, a bold frozen header with a filter, widths by type and the first rows' text.
  Excel keeps 15 significant digits: an integer of 16 digits or more, or a quantity with
  more than 15 significant digits, is written as a right-aligned text cell holding the
  exact digits instead of a number Excel would silently round. Past 1,048,575 data rows
  the rows continue on a new sheet with the header repeated.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

TEXT, INTEGER, VND, QUANTITY, DATE, DATETIME = "text", "integer", "vnd", "quantity", "date", "datetime"
TYPES = (TEXT, INTEGER, VND, QUANTITY, DATE, DATETIME)
INTEGER_TYPES = (INTEGER, VND)
FORMATS = ("csv", "jsonl", "xlsx")
STREAMED_FORMATS = ("csv", "jsonl")  # written front to back: they can go out while being written

XLSX_MAX_DATA_ROWS = 1_048_575  # Excel's 1,048,576 rows, less the header
EXCEL_DIGITS = 15  # Excel's precision: more significant digits than this are rounded
_EXCEL_INT_LIMIT = 10 ** EXCEL_DIGITS
_FORMULA_START = frozenset("=+-@\t\r'")  # apostrophe too: keeps the guard reversible
_QUANTITY = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")
_BUFFER = 1 << 20
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Column:
    name: str  # the JSONL key, and how the manifest and totals name the column
    header: str  # the header text in CSV and XLSX (Vietnamese, for people)
    type: str = TEXT

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"column {self.name!r}: unknown type {self.type!r}")

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "header": self.header, "type": self.type}


@dataclass(frozen=True)
class TotalsBy:
    """Sum column `amount` (integer or quantity) per distinct value of column `by`."""
    by: str = "commodity"
    amount: str = "units"


@dataclass
class WrittenFile:
    name: str
    format: str
    rows: int
    bytes: int
    sha256: str
    totals: dict[str, str] | None = None  # per commodity, decimal strings
    sheets: int | None = None  # XLSX only
    text_numbers: int = 0  # XLSX only: numbers beyond Excel's 15 digits, written as text

    def as_manifest_entry(self) -> dict[str, Any]:
        entry = {"name": self.name, "format": self.format, "rows": self.rows, "bytes": self.bytes,
                 "sha256": self.sha256}
        if self.totals is not None:
            entry["totals"] = self.totals
        return entry


def file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def format_of(path: Path | str) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"{Path(path).name}: not one of the export formats ({', '.join(FORMATS)})")
    return suffix


# --- values -------------------------------------------------------------------------------

def _integer(value: Any) -> int:
    if value.__class__ is not int:  # bool, float, Decimal and str are refused alike
        raise TypeError(f"an integer column got {type(value).__name__} {value!r}")
    return value


def _quantity(value: Any) -> str:
    """The canonical decimal string of a quantity (no exponent, no '+')."""
    if value.__class__ is str:
        if not _QUANTITY.fullmatch(value):
            raise ValueError(f"a quantity column got {value!r}, not a decimal string")
        return value
    if value.__class__ is Decimal and value.is_finite():
        return format(value, "f")
    if value.__class__ is int:
        return str(value)
    raise TypeError(f"a quantity column got {type(value).__name__} {value!r}: quantities are decimal strings")


def _date(value: Any) -> date:
    if value.__class__ is not date:
        raise TypeError(f"a date column got {type(value).__name__} {value!r}")
    return value


def _utc(value: Any) -> datetime:
    """Aware date-times in UTC; naive ones are taken as UTC already (as the ledger stores them)."""
    if value.__class__ is not datetime:
        raise TypeError(f"a date-time column got {type(value).__name__} {value!r}")
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _text(value: Any) -> str:
    if value.__class__ is not str:
        raise TypeError(f"a text column got {type(value).__name__} {value!r}")
    return value


def _csv_cell(kind: str):
    """value → what the csv module writes, for one column type (None → empty cell)."""
    def text(v):
        if v is None:
            return ""
        v = _text(v)
        return "'" + v if v and v[0] in _FORMULA_START else v

    def integer(v):
        return "" if v is None else _integer(v)  # csv writes an int with repr(): exact

    def quantity(v):
        return "" if v is None else _quantity(v)

    def day(v):
        return "" if v is None else _date(v).isoformat()

    moment = _repeating(lambda v: _utc(v).isoformat(sep=" "), none="")
    return {TEXT: text, INTEGER: integer, VND: integer, QUANTITY: quantity, DATE: day, DATETIME: moment}[kind]


def _repeating(convert, *, none):
    """A date-time column's converter that remembers its last value: the postings of one
    transaction, and the thousands of gifts of one statement import, share their moment,
    and converting it (to UTC, then to text) cost more than the rest of the row. Equal
    date-times of one class are the same instant (aware) or the same UTC wall time (naive),
    so the same text; None is `none`."""
    last = [None, None]

    def cell(v):
        if v is None:
            return none
        if v == last[0] and v.__class__ is last[0].__class__:
            return last[1]
        text = convert(v)
        last[0], last[1] = v, text
        return text

    return cell


def _json_cell(kind: str):
    """value → the JSON value for one column type (None → null)."""
    if kind == DATETIME:
        return _repeating(lambda v: _utc(v).isoformat() + "Z", none=None)
    convert = {TEXT: _text, INTEGER: _integer, VND: _integer, QUANTITY: _quantity,
               DATE: lambda v: _date(v).isoformat()}[kind]
    return lambda v: None if v is None else convert(v)


def _row_converter(columns: Sequence[Column], fmt: str):
    """One function per column list: row tuple → the cells the format writes, type-checked
    (a list for CSV, a dict in column order for JSONL).

    Generated so that a row costs one call: each cell's common valid case is inline, and
    everything else (None, guarded text, date-times, wrong types) goes to the column
    type's _csv_cell or _json_cell, which hold the rules. No row data and no column name
    enters the generated code (names are looked up in its scope).
    """
    slow_cell = _csv_cell if fmt == "csv" else _json_cell
    text_ok = "{v}.__class__ is str and {v}[:1] not in GUARDED" if fmt == "csv" else "{v}.__class__ is str"
    fast = {TEXT: ("{v}", text_ok), INTEGER: ("{v}", "{v}.__class__ is int"),
            VND: ("{v}", "{v}.__class__ is int"), DATE: ("{v}.isoformat()", "{v}.__class__ is date"),
            QUANTITY: ("{v}", "{v}.__class__ is str and QUANTITY({v})")}
    names = [f"c{i}" for i in range(len(columns))]
    scope: dict[str, Any] = {"GUARDED": _FORMULA_START, "date": date, "QUANTITY": _QUANTITY.fullmatch}
    cells = []
    for i, (v, column) in enumerate(zip(names, columns, strict=True)):
        slow = f"slow_{v}"
        scope[slow] = slow_cell(column.type)
        scope[f"key_{i}"] = column.name
        if column.type in fast:
            value, test = fast[column.type]
            cells.append(f"{value.format(v=v)} if {test.format(v=v)} else {slow}({v})")
        else:
            cells.append(f"{slow}({v})")
    unpack = ", ".join(names) + ("," if len(names) == 1 else "")
    if fmt == "csv":
        body = "[" + ", ".join(f"({cell})" for cell in cells) + "]"
    else:
        body = "{" + ", ".join(f"key_{i}: ({cell})" for i, cell in enumerate(cells)) + "}"
    source = f"def convert(row):\n    {unpack} = row\n    return {body}\n"
    exec(compile(source, f"<{fmt} row>", "exec"), scope)  # noqa: S102 (built from column types only)
    return scope["convert"]


def unguard_csv_text(value: str) -> str:
    """The text a CSV cell holds, without the formula guard the writer added."""
    return value[1:] if value.startswith("'") else value


# --- totals -------------------------------------------------------------------------------

class _Tally:
    """Sums per commodity while the rows stream by: ints stay ints, quantities Decimals."""

    def __init__(self, columns: Sequence[Column], spec: TotalsBy):
        names = [c.name for c in columns]
        for name in (spec.by, spec.amount):
            if name not in names:
                raise ValueError(f"totals: no column {name!r}")
        self.by, self.amount = names.index(spec.by), names.index(spec.amount)
        self.kind = columns[self.amount].type
        if self.kind not in INTEGER_TYPES + (QUANTITY,):
            raise ValueError(f"totals: column {spec.amount!r} is {self.kind}, not a number")
        self.sums: dict[str, int | Decimal] = {}

    def add(self, key: Any, amount: Any) -> None:
        if amount is None:
            return
        if self.kind == QUANTITY:
            amount = Decimal(amount) if amount.__class__ is not Decimal else amount
        self.sums[key] = self.sums.get(key, 0) + amount

    def result(self) -> dict[str, str]:
        return {str(k): format_amount(v) for k, v in sorted(self.sums.items(), key=lambda kv: str(kv[0]))}


def format_amount(value: int | Decimal) -> str:
    return str(value) if value.__class__ is int else format(value, "f")


def parse_amount(value: Any, kind: str) -> int | Decimal | None:
    """An amount as a file stores it (str, int, or an XLSX float/int) → int or Decimal."""
    if value is None or value == "":
        return None
    if value.__class__ is float:  # openpyxl reads number cells as floats: exact up to 15 digits
        value = repr(value)
    if kind in INTEGER_TYPES:
        if value.__class__ is int:
            return value
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
        if number != number.to_integral_value():
            raise ValueError(f"{value!r} is not an integer")
        return int(number)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None


# --- writers ------------------------------------------------------------------------------

def _finish(path: Path, fmt: str, rows: int, tally: _Tally | None, **extra) -> WrittenFile:
    return WrittenFile(path.name, fmt, rows, path.stat().st_size, file_sha256(path),
                       tally.result() if tally else None, **extra)


class ExportStream:
    """A CSV or JSONL export as bytes, chunk by chunk: for a web answer that streams, or
    for a file (write_csv and write_jsonl write exactly these bytes). Rows are converted,
    counted, summed and hashed as they pass, so once the last chunk is out, `written` is
    the WrittenFile (rows, bytes, SHA-256, totals) a manifest names: what was sent is what
    was hashed, with no second pass."""

    def __init__(self, name: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]], *,
                 totals: TotalsBy | None = None, chunk_size: int = 64 * 1024):
        self.name, self.format = name, format_of(name)
        if self.format not in STREAMED_FORMATS:
            raise ValueError(f"{name}: only {' and '.join(STREAMED_FORMATS)} stream (XLSX is a zip)")
        self.columns, self.rows, self.totals, self.chunk_size = columns, rows, totals, chunk_size
        self.written: WrittenFile | None = None  # set when the last chunk has been produced

    def __iter__(self) -> Iterator[bytes]:
        columns, fmt = self.columns, self.format
        convert = _row_converter(columns, fmt)
        tally = _Tally(columns, self.totals) if self.totals else None
        digest, size, count = hashlib.sha256(), 0, 0
        buffer = io.StringIO()
        if fmt == "csv":
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow([c.header for c in columns])
            write = writer.writerow
            first = BOM
        else:
            encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode

            def write(cells):
                buffer.write(encode(cells) + "\n")
            first = b""
        digest.update(first)
        size += len(first)
        if first:
            yield first
        limit = self.chunk_size
        for row in self.rows:
            try:
                write(convert(row))
            except ValueError:
                if len(row) != len(columns):
                    raise ValueError(f"row {count + 1} has {len(row)} values for {len(columns)} columns") from None
                raise
            if tally:
                tally.add(row[tally.by], row[tally.amount])
            count += 1
            if buffer.tell() >= limit:
                chunk = buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
                digest.update(chunk)
                size += len(chunk)
                yield chunk
        chunk = buffer.getvalue().encode("utf-8")
        if chunk:
            digest.update(chunk)
            size += len(chunk)
            yield chunk
        self.written = WrittenFile(self.name, fmt, count, size, digest.hexdigest(),
                                   tally.result() if tally else None)


def _write_stream(path: Path | str, columns: Sequence[Column], rows: Iterable[Sequence[Any]],
                  totals: TotalsBy | None) -> WrittenFile:
    path = Path(path)
    stream = ExportStream(path.name, columns, rows, totals=totals, chunk_size=_BUFFER)
    with open(path, "wb") as f:
        for chunk in stream:
            f.write(chunk)
    return stream.written


def write_csv(path: Path | str, columns: Sequence[Column], rows: Iterable[Sequence[Any]], *,
              totals: TotalsBy | None = None) -> WrittenFile:
    return _write_stream(path, columns, rows, totals)


def write_jsonl(path: Path | str, columns: Sequence[Column], rows: Iterable[Sequence[Any]], *,
                totals: TotalsBy | None = None) -> WrittenFile:
    return _write_stream(path, columns, rows, totals)


_WIDTHS = {INTEGER: 10, VND: 16, QUANTITY: 14, DATE: 12, DATETIME: 20}
_WIDTH_SAMPLE = 500  # rows whose text sets the text columns' widths


def _sheet_name(title: str, number: int) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\ ."""
    title = re.sub(r"[\[\]:*?/\\]", " ", title).strip() or "Sheet"
    suffix = "" if number == 1 else f" ({number})"
    return title[:31 - len(suffix)] + suffix


def write_xlsx(path: Path | str, columns: Sequence[Column], rows: Iterable[Sequence[Any]], *,
               totals: TotalsBy | None = None, sheet_title: str = "Dữ liệu",
               rows_per_sheet: int = XLSX_MAX_DATA_ROWS) -> WrittenFile:
    import xlsxwriter  # only this writer needs it

    if not 1 <= rows_per_sheet <= XLSX_MAX_DATA_ROWS:
        raise ValueError(f"rows_per_sheet must be 1..{XLSX_MAX_DATA_ROWS}")
    path = Path(path)
    tally = _Tally(columns, totals) if totals else None
    # Typed write_* calls below never guess: these options only make sure of it.
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                           "strings_to_formulas": False, "strings_to_urls": False})
    bold = book.add_format({"bold": True})
    number_formats = {INTEGER: book.add_format({"num_format": "0"}),
                      VND: book.add_format({"num_format": "#,##0"}),
                      QUANTITY: None,  # General: shows the digits stored
                      DATE: book.add_format({"num_format": "yyyy-mm-dd"}),
                      DATETIME: book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})}
    exact_text = book.add_format({"align": "right"})
    widths = [max(_WIDTHS.get(c.type, 10), len(c.header) + 2) for c in columns]
    sheets: list = []
    text_numbers = 0

    def new_sheet():
        sheet = book.add_worksheet(_sheet_name(sheet_title, len(sheets) + 1))
        for col, column in enumerate(columns):
            sheet.write_string(0, col, column.header, bold)
        sheet.freeze_panes(1, 0)
        sheets.append(sheet)
        return sheet

    def bind(sheet):
        # The undecorated methods that XlsxWriter's public write_* call once they have
        # parsed "A1" notation, which (row, col) calls never need: ~8% of the time per cell.
        return (getattr(sheet, "_write_string", sheet.write_string),
                getattr(sheet, "_write_number", sheet.write_number),
                getattr(sheet, "_write_datetime", sheet.write_datetime))

    kinds = [c.type for c in columns]
    plan = [(col, kind, number_formats.get(kind)) for col, kind in enumerate(kinds)]
    text_columns = [col for col, kind in enumerate(kinds) if kind == TEXT]
    count = 0
    sheet = new_sheet()
    write_string, write_number, write_datetime = bind(sheet)
    row_in_sheet = 0
    for row in rows:
        if len(row) != len(kinds):
            raise ValueError(f"row {count + 1} has {len(row)} values for {len(kinds)} columns")
        if row_in_sheet == rows_per_sheet:
            sheet.autofilter(0, 0, row_in_sheet, len(kinds) - 1)
            sheet = new_sheet()
            write_string, write_number, write_datetime = bind(sheet)
            row_in_sheet = 0
        row_in_sheet += 1
        r = row_in_sheet
        for (col, kind, fmt), v in zip(plan, row, strict=True):
            if v is None:
                continue
            if kind == TEXT:
                write_string(r, col, _text(v))
            elif kind == VND or kind == INTEGER:
                v = _integer(v)
                if -_EXCEL_INT_LIMIT < v < _EXCEL_INT_LIMIT:
                    write_number(r, col, v, fmt)
                else:
                    write_string(r, col, str(v), exact_text)
                    text_numbers += 1
            elif kind == DATE:
                write_datetime(r, col, _date(v), fmt)
            elif kind == QUANTITY:
                text = _quantity(v)
                number = Decimal(text)  # XlsxWriter formats a Decimal's digits exactly ("%.16G")
                if len(number.as_tuple().digits) <= EXCEL_DIGITS:
                    write_number(r, col, number)
                else:
                    write_string(r, col, text, exact_text)
                    text_numbers += 1
            else:
                write_datetime(r, col, _utc(v), fmt)
        if tally:
            tally.add(row[tally.by], row[tally.amount])
        if count < _WIDTH_SAMPLE:
            for col in text_columns:
                if row[col] is not None and len(row[col]) + 2 > widths[col]:
                    widths[col] = len(row[col]) + 2
        count += 1
    sheet.autofilter(0, 0, max(row_in_sheet, 1), len(kinds) - 1)
    # Column widths are written when the workbook closes, so they can be set last, from the
    # header and the first rows' text.
    for done in sheets:
        for col, width in enumerate(widths):
            done.set_column(col, col, min(width, 60))
    book.close()
    return _finish(path, "xlsx", count, tally, sheets=len(sheets), text_numbers=text_numbers)


WRITERS = {"csv": write_csv, "jsonl": write_jsonl, "xlsx": write_xlsx}


def write_export(path: Path | str, columns: Sequence[Column], rows: Iterable[Sequence[Any]], *,
                 totals: TotalsBy | None = None, **options) -> WrittenFile:
    """Write `rows` in the format the file name's suffix names (.csv, .jsonl, .xlsx)."""
    return WRITERS[format_of(path)](path, columns, rows, totals=totals, **options)


# --- readers (for verification) -----------------------------------------------------------

class FormatError(ValueError):
    """The file does not have its format's shape (no BOM, wrong header, a bad line)."""


class ReaderMissing(RuntimeError):
    """The reader this format needs is not installed (openpyxl for XLSX)."""


def read_records(path: Path, columns: Sequence[Column]) -> Iterator[list[Any]]:
    """The data rows of an export file as lists in column order, header checked.

    Values are as the format stores them: CSV text (formula guard undone), JSONL values,
    XLSX cell values (numbers as int/float, exact-digit text for long numbers).
    """
    fmt = format_of(path)
    if fmt == "csv":
        return _read_csv(path, columns)
    if fmt == "jsonl":
        return _read_jsonl(path, columns)
    return _read_xlsx(path, columns)


def _read_csv(path: Path, columns: Sequence[Column]) -> Iterator[list[Any]]:
    with open(path, "rb") as raw:
        if raw.read(3) != BOM:
            raise FormatError("does not start with the UTF-8 BOM")
    headers = [c.header for c in columns]
    text_columns = [i for i, c in enumerate(columns) if c.type == TEXT]
    with open(path, encoding="utf-8-sig", newline="", buffering=_BUFFER) as f:
        reader = csv.reader(f, strict=True)
        try:
            first = next(reader, None)
            if first != headers:
                raise FormatError(f"the header row is {first!r}, not {headers!r}")
            for record in reader:
                if len(record) != len(headers):
                    raise FormatError(f"line {reader.line_num}: {len(record)} fields, not {len(headers)}")
                for i in text_columns:
                    record[i] = unguard_csv_text(record[i])
                yield record
        except (csv.Error, UnicodeDecodeError) as exc:
            raise FormatError(f"line {reader.line_num}: {exc}") from None


def _read_jsonl(path: Path, columns: Sequence[Column]) -> Iterator[list[Any]]:
    names = [c.name for c in columns]
    with open(path, encoding="utf-8", newline="\n", buffering=_BUFFER) as f:
        for number, line in enumerate(f, 1):
            try:
                record = json.loads(line, parse_float=Decimal)
            except (ValueError, UnicodeDecodeError):
                raise FormatError(f"line {number}: not JSON") from None
            if not isinstance(record, dict) or list(record) != names:
                raise FormatError(f"line {number}: the keys are not the columns {names}")
            yield list(record.values())


def _read_xlsx(path: Path, columns: Sequence[Column]) -> Iterator[list[Any]]:
    try:
        from openpyxl import load_workbook
    except ImportError:
        raise ReaderMissing("openpyxl is not installed") from None
    headers = tuple(c.header for c in columns)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl's own errors alike: not a readable workbook
        raise FormatError(f"not a readable workbook ({exc})") from None
    try:
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            first = next(rows, None)
            if first is None or tuple(first[:len(headers)]) != headers:
                raise FormatError(f"sheet {sheet.title!r}: the header row is {first!r}, not {headers!r}")
            for record in rows:
                yield list(record[:len(headers)]) + [None] * (len(headers) - len(record))
    finally:
        book.close()
