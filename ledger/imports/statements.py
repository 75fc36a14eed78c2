"""Vietnamese bank statements (CSV and XLSX) read into plain, checked data.

Independent of Flask and the database: bytes in, a `ParsedStatement` out, or a
`StatementError` listing every problem found (row, column, reason, in Vietnamese and
English). The rows are read as a stream (csv over a text wrapper, openpyxl in read-only
mode) and each statement line is built as its row goes by, so a file of 200,000 lines is
held once, as its lines.

The layout of a file is found, not assumed: the header row is the first row whose cells
name at least a date, a memo and an amount (or credit/debit) column, in Vietnamese with or
without diacritics, with or without English (`presets.HEADER_WORDS`); rows above it are
title rows (account, name, period, opening balance); rows below it without a date are
blank, repeated headers, memo continuations or the total and closing-balance rows, where
reading stops. A user's `ColumnMapping` names the columns of any other layout.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import math
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from .presets import (
    ACCOUNT_NAME_LABELS,
    ACCOUNT_NUMBER_LABELS,
    CLOSING_WORDS,
    COLUMN_LABELS_VI,
    CURRENCY_LABELS,
    EXACT_HEADER_CELLS,
    HEADER_WORDS,
    NAME_STOP_PHRASES,
    OPENING_WORDS,
    PERIOD_WORDS,
    PRESETS,
    SUBTOTAL_WORDS,
    TOTAL_WORDS,
    BankPreset,
)
from .xlsx import FastWorkbook

__all__ = [
    "PRESETS", "BankPreset", "ColumnMapping", "ParsedStatement", "Problem", "StatementError",
    "StatementLine", "amount_from_text", "date_from_text", "detect_bank", "find_pledge_code",
    "line_identity", "parse_statement", "sender_name_from_memo",
]

VIETNAM_TIME = timezone(timedelta(hours=7))
MAX_PROBLEMS = 200          # problems kept in full; the rest are counted
HEADER_SEARCH_ROWS = 200    # the header row must be among the first rows
CSV_SAMPLE_BYTES = 256 * 1024


# ---------------------------------------------------------------------------------------------
# The data


@dataclass(frozen=True)
class Problem:
    """One thing that could not be read: where (row, column) and why."""

    row: int | None
    column: str | None
    message: str            # English, for logs
    message_vi: str = ""    # Vietnamese, for people (the web layer shows it)

    def __post_init__(self) -> None:
        if not self.message_vi:
            object.__setattr__(self, "message_vi", self.message)

    @property
    def text_vi(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"dòng {self.row}")
        if self.column:
            where.append(f"cột «{self.column}»")
        prefix = ", ".join(where)
        return (prefix[:1].upper() + prefix[1:] + ": " if where else "") + self.message_vi

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        return (", ".join(where) + ": " if where else "") + self.message


class StatementError(ValueError):
    """The statement cannot be read; `problems` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        shown = "; ".join(str(p) for p in self.problems[:5])
        more = len(self.problems) - 5
        return f"statement not readable ({len(self.problems)} problem(s)): {shown}" + (
            f"; and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class StatementLine:
    row: int                 # 1-based row in the file where the line starts (CSV: text line; XLSX: sheet row)
    posted_at: datetime      # naive, Vietnam local time; midnight when the file has dates only
    reference: str | None    # the bank's transaction reference / doc no; None if the layout has none
    amount_vnd: int          # signed: credit (money in) > 0, debit < 0; never 0
    memo: str                # the whole memo, pieces joined (see _join_memo_pieces), white space collapsed, NFC
    payer_name: str | None   # from a payer column when the layout has one
    payer_account: str | None  # as printed (may be masked "123456789***")
    balance_vnd: int | None  # running balance after the line, when given


@dataclass(frozen=True)
class ParsedStatement:
    bank: str                # preset name or "custom"
    account_number: str | None
    account_name: str | None
    opening_balance_vnd: int | None   # printed, else worked out from the first line's balance
    closing_balance_vnd: int | None   # printed, else the last line's balance
    period_from: date | None          # printed, else the first line's date
    period_to: date | None            # printed, else the last line's date
    lines: tuple[StatementLine, ...]
    warnings: tuple[Problem, ...] = ()  # things worth a look that do not stop the import

    @property
    def credit_total_vnd(self) -> int:
        return sum(line.amount_vnd for line in self.lines if line.amount_vnd > 0)

    @property
    def debit_total_vnd(self) -> int:
        return -sum(line.amount_vnd for line in self.lines if line.amount_vnd < 0)


@dataclass(frozen=True)
class ColumnMapping:
    """A user's layout: the header text of each column (as printed; case, diacritics and
    line breaks do not matter). `header_row` is the row of the header, numbered as in
    problems (CSV: text line; XLSX: sheet row); without it, the first row naming all the
    mapped columns is the header."""

    date: str
    memo: str
    amount: str | None = None     # one signed column (+ money in, - money out)
    credit: str | None = None
    debit: str | None = None
    reference: str | None = None
    balance: str | None = None
    payer_name: str | None = None
    payer_account: str | None = None
    date_format: str = "%d/%m/%Y"
    header_row: int | None = None

    def __post_init__(self) -> None:
        problems = []
        for name in ("date", "memo"):
            if not (getattr(self, name) or "").strip():
                problems.append(Problem(None, name, f"the mapping needs the {name} column",
                                        f"cấu hình cột phải có cột {COLUMN_LABELS_VI[name]}"))
        if not (self.amount or self.credit or self.debit):
            problems.append(Problem(None, "amount", "the mapping needs an amount column or credit/debit columns",
                                    "cấu hình cột phải có cột số tiền hoặc cột ghi có/ghi nợ"))
        if self.header_row is not None and (not isinstance(self.header_row, int) or self.header_row < 1):
            problems.append(Problem(None, "header_row", "header_row must be a row number from 1",
                                    "dòng tiêu đề phải là số dòng, từ 1"))
        if problems:
            raise StatementError(problems)

    @classmethod
    def from_dict(cls, d: dict) -> ColumnMapping:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise StatementError([Problem(None, k, f"unknown mapping field {k!r}",
                                          f"trường cấu hình cột không hợp lệ: {k}") for k in unknown])
        # Date and memo are always given, if empty: a mapping without them is refused by name.
        return cls(**{"date": None, "memo": None, **{k: v for k, v in d.items() if v is not None}})

    def to_dict(self) -> dict:
        return asdict(self)

    def columns(self) -> dict[str, str]:
        """Role -> header text, for the columns the mapping names."""
        return {name: getattr(self, name) for name in
                ("date", "memo", "amount", "credit", "debit", "reference", "balance", "payer_name",
                 "payer_account") if getattr(self, name)}


class _ReadError(ValueError):
    """A value that cannot be read, with the reason in both languages."""

    def __init__(self, message: str, message_vi: str):
        super().__init__(message)
        self.message_vi = message_vi


# ---------------------------------------------------------------------------------------------
# Text, amounts, dates

_SPACES = re.compile(r"\s+")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _fold(text: str) -> str:
    """Lower case, no diacritics, "đ" as "d" ("Số TK đối ứng" -> "so tk doi ung")."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _words(text: str) -> str:
    """The folded words of a cell: "Số TK\nđối ứng:" -> "so tk doi ung"."""
    return _NON_ALNUM.sub(" ", _fold(text)).strip()


def _has_phrase(words: str, phrase: str) -> bool:
    return f" {phrase} " in f" {words} "


def _clean(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S" if value.time() != datetime.min.time() else "%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_AMOUNT_STRIP = str.maketrans("", "", " \t\u00a0\u202f\u2009\u2007'")
_CURRENCY = re.compile(r"(?:vnd|vnđ|đồng|dong|đ|₫)$|^(?:vnd|vnđ|₫)", re.IGNORECASE)
# Thousands grouped by dots or commas; a first group of 0 is no grouping ("0.875" is not 875).
_FAST_AMOUNT = re.compile(r"\s*([+-]?)([1-9]\d{0,2}(?:\.\d{3})+|[1-9]\d{0,2}(?:,\d{3})+|\d+)\s*")
_GROUPED_DOT = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+")
_GROUPED_COMMA = re.compile(r"[1-9]\d{0,2}(?:,\d{3})+")
_WITH_POINT = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)\.(\d+)")   # 1,000,000.00
_WITH_COMMA = re.compile(r"(\d{1,3}(?:\.\d{3})+|\d+),(\d+)")   # 1.000.000,00


def amount_from_text(text: object) -> int:
    """A whole number of đồng from a cell: "1.000.000", "1,000,000", "1000000", "+1,000,000",
    "-20.000", "1 000 000", "(20.000)", an int, or an integral Excel float. Never a fraction
    of a đồng ("1000000.5" and 1000000.5 are refused; "1,000,000.00" is 1000000)."""
    if isinstance(text, bool):
        raise _ReadError(f"not an amount: {text!r}", f"không phải số tiền: {text!r}")
    if isinstance(text, int):
        return text
    if isinstance(text, float | Decimal):
        if not (text.is_finite() if isinstance(text, Decimal) else math.isfinite(text)):
            raise _ReadError(f"not an amount: {text!r}", f"không phải số tiền: {text!r}")
        if text != int(text):
            raise _ReadError(f"a fraction of a đồng: {text!r}", f"số tiền lẻ dưới một đồng: {text!r}")
        return int(text)
    if not isinstance(text, str):
        raise _ReadError(f"not an amount: {text!r}", f"không phải số tiền: {text!r}")
    m = _FAST_AMOUNT.fullmatch(text)
    if m:       # the common forms, quickly
        n = int(m.group(2).replace(".", "").replace(",", ""))
        return -n if m.group(1) == "-" else n
    raw = text
    s = text.translate(_AMOUNT_STRIP)
    s = _CURRENCY.sub("", s)
    if not s:
        raise _ReadError("empty amount", "thiếu số tiền")
    sign = 1
    if s[0] in "+-−":
        sign = -1 if s[0] != "+" else 1
        s = s[1:]
    elif s.startswith("(") and s.endswith(")"):
        sign, s = -1, s[1:-1]
    elif s.endswith("-"):
        sign, s = -1, s[:-1]
    s = _CURRENCY.sub("", s)
    if s.isdigit() and s.isascii():
        return sign * int(s)
    if _GROUPED_DOT.fullmatch(s):
        return sign * int(s.replace(".", ""))
    if _GROUPED_COMMA.fullmatch(s):
        return sign * int(s.replace(",", ""))
    m = _WITH_POINT.fullmatch(s) or _WITH_COMMA.fullmatch(s)
    if m:
        if set(m.group(2)) != {"0"}:
            raise _ReadError(f"a fraction of a đồng: {raw!r}", f"số tiền lẻ dưới một đồng: {raw!r}")
        return sign * int(m.group(1).replace(".", "").replace(",", ""))
    raise _ReadError(f"not an amount in đồng: {raw!r}", f"số tiền không đọc được: {raw!r}")


_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})"
                  r"(?:[ T,]+(\d{1,2})[:h](\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp][Mm])?)?")
_YMD = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
                  r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")


def _naive_local(value: datetime) -> datetime:
    if value.tzinfo is not None:
        return value.astimezone(VIETNAM_TIME).replace(tzinfo=None)
    return value


def date_from_text(text: object) -> datetime:
    """A naive local datetime from a cell: "dd/mm/yyyy", "dd/mm/yyyy HH:MM(:SS)", "dd-mm-yyyy",
    "yyyy-mm-dd", an Excel date cell (datetime or date) or an Excel date serial number."""
    if isinstance(text, datetime):
        return _naive_local(text)
    if isinstance(text, date):
        return datetime(text.year, text.month, text.day)
    if isinstance(text, int | float) and not isinstance(text, bool):
        if 20000 <= text < 80000:      # an Excel serial date (1954-2119) left unformatted
            from openpyxl.utils.datetime import from_excel
            return from_excel(text)
        raise _ReadError(f"not a date: {text!r}", f"ngày không đọc được: {text!r}")
    if not isinstance(text, str) or not text.strip():
        raise _ReadError("missing date", "thiếu ngày giao dịch")
    s = text.strip()
    n = len(s)
    if (n == 19 or n == 16 or n == 10) and s[2] == "/" and s[5] == "/":     # dd/mm/yyyy[ HH:MM[:SS]], quickly
        try:
            if n == 10 and s.isascii():
                return datetime(int(s[6:10]), int(s[3:5]), int(s[:2]))
            if s[10] == " " and s[13] == ":" and s.isascii() and (n == 16 or s[16] == ":"):
                return datetime(int(s[6:10]), int(s[3:5]), int(s[:2]), int(s[11:13]), int(s[14:16]),
                                int(s[17:19]) if n == 19 else 0)
        except ValueError:
            pass            # said properly below
    m = _DMY.fullmatch(s)
    if m:
        day, month, year = int(m.group(1)), int(m.group(2)), m.group(3)
        if len(year) != 4:
            raise _ReadError(f"a year must have four digits: {s!r}", f"năm phải có bốn chữ số: {s!r}")
        return _make_datetime(s, int(year), month, day, m.group(4), m.group(5), m.group(6), m.group(7))
    m = _YMD.fullmatch(s)
    if m:
        value = _make_datetime(s, int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4), m.group(5),
                               m.group(6), None)
        if m.group(7):
            offset = datetime.fromisoformat("2000-01-01T00:00:00" + m.group(7).replace("Z", "+00:00")).tzinfo
            value = _naive_local(value.replace(tzinfo=offset))
        return value
    raise _ReadError(f"not a date (dd/mm/yyyy expected): {s!r}", f"ngày không đọc được (cần dd/mm/yyyy): {s!r}")


def _make_datetime(s, year, month, day, hour, minute, second, ampm) -> datetime:
    h = int(hour or 0)
    if ampm:
        if not 1 <= h <= 12:
            raise _ReadError(f"not a time: {s!r}", f"giờ không hợp lệ: {s!r}")
        h = h % 12 + (12 if ampm.lower() == "pm" else 0)
    try:
        return datetime(year, month, day, h, int(minute or 0), int(second or 0))
    except ValueError:
        raise _ReadError(f"no such date: {s!r}", f"ngày không tồn tại: {s!r}") from None


def _date_with_format(fmt: str) -> Callable[[object], datetime]:
    def parse(value: object) -> datetime:
        if isinstance(value, datetime | date):
            return date_from_text(value)
        s = _cell_text(value)
        if not s:
            raise _ReadError("missing date", "thiếu ngày giao dịch")
        for f in (fmt, fmt + " %H:%M:%S", fmt + " %H:%M"):
            try:
                return _naive_local(datetime.strptime(s, f))
            except ValueError:
                continue
        raise _ReadError(f"not a date in the form {fmt}: {s!r}", f"ngày không đúng dạng {fmt}: {s!r}")
    return parse


# ---------------------------------------------------------------------------------------------
# Memos

# Six digits (P000123), more once pledges pass 999,999 (Pledge.code pads to six).
_PLEDGE_CODE = re.compile(r"(?:\bu(?:ng)?\s*h(?:o)?\s*:?\s*|(?<![a-z0-9]))p(\d{6,9})(?!\d)")


def find_pledge_code(memo: str | None) -> str | None:
    """The pledge code in a memo ("UH P000123", "UHP000123", "ủng hộ P000123", "p000123") as "P000123"."""
    if not memo:
        return None
    m = _PLEDGE_CODE.search(_fold(memo))
    return f"P{m.group(1)}" if m else None


_CT_TU = re.compile(r"\bCT\s+tu\s+\d+\s+(.+?)\s+toi\s+\d", re.IGNORECASE)
_ANY_PREFIX = [p.memo_prefix for p in PRESETS.values() if p.memo_prefix is not None]


def _is_name_token(token: str) -> bool:
    return token == token.upper() and token != token.lower() and not any(c.isdigit() for c in token)


def sender_name_from_memo(memo: str | None, bank: str | None = None) -> str | None:
    """The sender's name in a transfer memo, as printed ("MBVCB.6969183373.736944.LY HUU NAM UH
    P000002 ung ho ..." -> "LY HUU NAM"); None when the memo does not show one for sure."""
    if not memo:
        return None
    m = _CT_TU.search(memo)
    if m and all(_is_name_token(t) for t in m.group(1).split()):
        return _clean(m.group(1))
    preset = PRESETS.get(bank or "")
    prefixes = [preset.memo_prefix] if preset and preset.memo_prefix else _ANY_PREFIX
    rest, had_prefix = memo, False
    for prefix in prefixes:
        pm = prefix.match(memo)
        if pm:
            rest, had_prefix = memo[pm.end():], True
            break
    rest = re.split(r"\.\s*CT\b", rest, maxsplit=1)[0]
    tokens = rest.split()
    folded = [_fold(t).upper() for t in tokens]
    run: list[str] = []
    i = 0
    while i < len(tokens):
        if any(tuple(folded[i:i + len(stop)]) == stop for stop in NAME_STOP_PHRASES):
            break
        if find_pledge_code(tokens[i]) or not _is_name_token(tokens[i]):
            break
        run.append(tokens[i])
        i += 1
    if not run or len(run) > 12:
        return None
    if not had_prefix and (len(run) < 2 or i == len(tokens)):
        return None
    return " ".join(run)


def line_identity(bank: str, account_number: str | None, line: StatementLine) -> str:
    """The "never twice" key of a bank line: SHA-256 (hex) of bank, account, reference, time,
    amount and memo. The same line read from any statement that contains it has the same key."""
    parts = [(bank or "").strip().lower(), (account_number or "").strip(), line.reference or "",
             line.posted_at.isoformat(), line.amount_vnd, line.memo]
    blob = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Header rows

ROLES = tuple(HEADER_WORDS)
MONEY_ROLES = ("amount", "credit", "debit")


@dataclass
class _Table:
    columns: dict[str, int]           # role -> column index
    headers: list[str]                # header text of each column, cleaned
    missing: list[str] = field(default_factory=list)

    def label(self, role: str) -> str:
        index = self.columns[role]
        return f"{self.headers[index]} ({_column_letter(index)})"


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _role_of(text: str) -> tuple[str, int] | None:
    """The role a header cell names and how well (lower rank is better), or None."""
    exact = EXACT_HEADER_CELLS.get(_clean(text).lower().rstrip(":"))
    if exact:
        return exact, 0
    words = _words(text)
    if not words:
        return None
    for role in ROLES:
        for rank, phrase in enumerate(HEADER_WORDS[role]):
            if _has_phrase(words, phrase):
                return role, rank
    return None


def _auto_table(cells: list) -> _Table | None:
    """The table a header row describes, if `cells` is one (with what it lacks, if it nearly is)."""
    texts = [_cell_text(c) for c in cells]
    if sum(1 for t in texts if t) < 3 or any(isinstance(c, int | float | datetime) for c in cells
                                              if not isinstance(c, bool)):
        return None
    columns: dict[str, int] = {}
    ranks: dict[str, int] = {}
    for index, text in enumerate(texts):
        if not text or len(text) > 80:
            continue
        found = _role_of(text)
        if not found:
            continue
        role, rank = found
        if role not in columns or (role == "date" and rank < ranks[role]):
            columns[role], ranks[role] = index, rank
    columns.pop("seq", None)
    missing = [r for r in ("date", "memo") if r not in columns]
    if not any(r in columns for r in MONEY_ROLES):
        missing.append("amount")
    if missing and len(columns) < 3:
        return None
    if "credit" in columns or "debit" in columns:
        columns.pop("amount", None)
    return _Table(columns, [_clean(t) for t in texts], missing)


def _mapping_matcher(mapping: ColumnMapping) -> Callable[[list], _Table | None]:
    wanted = {role: _words(text) for role, text in mapping.columns().items()}

    def match(cells: list) -> _Table | None:
        texts = [_cell_text(c) for c in cells]
        folded = [_words(t) for t in texts]
        columns: dict[str, int] = {}
        for role, name in wanted.items():
            if name in folded:
                columns[role] = folded.index(name)
            else:
                near = [i for i, f in enumerate(folded) if f and _has_phrase(f, name)]
                if len(near) == 1:
                    columns[role] = near[0]
        if not columns:
            return None
        missing = [role for role in wanted if role not in columns]
        return _Table(columns, [_clean(t) for t in texts], missing)
    return match


# ---------------------------------------------------------------------------------------------
# Files


def _problem(row, column, message, message_vi) -> Problem:
    return Problem(row, column, message, message_vi)


def _file_kind(data: bytes, filename: str) -> tuple[str, Problem | None]:
    head = bytes(data[:512])
    if head.startswith(b"PK\x03\x04"):
        return "xlsx", None
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "", _problem(None, None, "an old Excel .xls file: save it as .xlsx or CSV (UTF-8) and try again",
                            "tệp Excel .xls đời cũ: hãy lưu lại dưới dạng .xlsx hoặc CSV (UTF-8) rồi tải lên lại")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:200].count(b"\x00") > 10:
        return "", _problem(None, None, "the file is UTF-16 text (Excel 'Unicode Text') or binary, not a CSV in "
                            "UTF-8: save it as 'CSV UTF-8' or .xlsx",
                            "tệp không phải CSV mã UTF-8 (có thể là văn bản UTF-16 hoặc tệp nhị phân): hãy lưu "
                            "lại dưới dạng 'CSV UTF-8' hoặc .xlsx")
    if head.lstrip().lower().startswith((b"<html", b"<!doctype", b"<?xml", b"<table")):
        return "", _problem(None, None, "a web page (HTML/XML) saved under a spreadsheet name: open it in Excel and "
                            "save it as .xlsx",
                            "tệp là trang web (HTML/XML) mang tên bảng tính: hãy mở bằng Excel và lưu lại "
                            "dưới dạng .xlsx")
    if not data:
        return "", _problem(None, None, "the file is empty", "tệp rỗng")
    return "csv", None


def _text_encoding(data: bytes) -> str | None:
    view = memoryview(data)
    for encoding in ("utf-8-sig", "cp1258", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(view), 1 << 20):
                decoder.decode(view[start:start + (1 << 20)])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _csv_rows(data: bytes, encoding: str, delimiter: str) -> Iterator[tuple[int, list]]:
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(stream, delimiter=delimiter)
    previous = 0
    for record in reader:
        yield previous + 1, record
        previous = reader.line_num


def _csv_delimiter(data: bytes, encoding: str, matcher) -> str:
    """The delimiter under which the best header row appears (complete first, then most columns)."""
    sample = codecs.getincrementaldecoder(encoding)(errors="replace").decode(bytes(data[:CSV_SAMPLE_BYTES]))
    best, best_score = ",", (False, 0)
    for delimiter in (",", ";", "\t", "|"):
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        try:
            for count, record in enumerate(reader):
                if count >= HEADER_SEARCH_ROWS:
                    break
                table = matcher(record)
                if table is not None:
                    score = (not table.missing, len(table.columns))
                    if score > best_score:
                        best, best_score = delimiter, score
                    if not table.missing:
                        break
        except csv.Error:
            continue
    return best


@dataclass
class _Source:
    kind: str
    rows: Callable[[], Iterator[tuple[int, list]]]
    close: Callable[[], None] = lambda: None
    encoding: str | None = None


def _open_source(data: bytes, filename: str, matcher, problems: list[Problem]) -> _Source | None:
    kind, problem = _file_kind(data, filename)
    if problem:
        problems.append(problem)
        return None
    if kind == "xlsx":
        return _open_xlsx(data, matcher, problems)
    encoding = _text_encoding(data)
    if encoding is None:
        problems.append(_problem(None, None, "the text is neither UTF-8 nor Windows-1258: save it as 'CSV UTF-8'",
                                 "văn bản không phải mã UTF-8 hay Windows-1258: hãy lưu lại dưới dạng 'CSV UTF-8'"))
        return None
    delimiter = _csv_delimiter(data, encoding, matcher)
    return _Source("csv", lambda: _csv_rows(data, encoding, delimiter), encoding=encoding)


# A workbook unpacks to about ten times its size; a statement of 200,000 lines to some
# 150 MB. Past these a "workbook" is a zip bomb, refused before anything is unpacked.
MAX_XLSX_UNPACKED = 1024 * 1024 * 1024
MAX_XLSX_RATIO = 200  # unpacked size over packed size, for a part of more than 10 MB


def _zip_bomb(data: bytes) -> Problem | None:
    try:
        parts = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile:
        return None  # not a zip: the readers below say so
    unpacked = sum(p.file_size for p in parts)
    inflated = [p for p in parts if p.file_size > 10 * 1024 * 1024
                and p.file_size > MAX_XLSX_RATIO * max(p.compress_size, 1)]
    if unpacked <= MAX_XLSX_UNPACKED and not inflated:
        return None
    return _problem(None, None, f"the workbook would unpack to {unpacked / 1e6:,.0f} MB: refused as unsafe",
                    f"tệp .xlsx khi giải nén sẽ lên tới {unpacked / 1e6:,.0f} MB: bị từ chối vì không an toàn")


def _open_xlsx(data: bytes, matcher, problems: list[Problem]) -> _Source | None:
    from xml.etree.ElementTree import ParseError

    bomb = _zip_bomb(data)
    if bomb is not None:
        problems.append(bomb)
        return None
    try:
        book = FastWorkbook(data)
    except (zipfile.BadZipFile, KeyError, ValueError, IndexError, TypeError, ParseError, UnicodeDecodeError):
        return _open_xlsx_openpyxl(data, matcher, problems)
    chosen = book.sheet_paths[0]
    for path in book.sheet_paths:
        if _has_header(book.rows(path), matcher):
            chosen = path
            break
    return _Source("xlsx", lambda: book.rows(chosen), close=book.close)


def _has_header(rows: Iterator[tuple[int, list]], matcher) -> bool:
    for count, (_, row) in enumerate(rows):
        if count >= HEADER_SEARCH_ROWS:
            return False
        table = matcher(list(row))
        if table is not None and not table.missing:
            return True
    return False


def _open_xlsx_openpyxl(data: bytes, matcher, problems: list[Problem]) -> _Source | None:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:    # openpyxl raises many kinds of error on a damaged workbook
        problems.append(_problem(None, None, f"not a readable .xlsx workbook ({exc.__class__.__name__})",
                                 "tệp .xlsx hỏng hoặc không phải bảng tính Excel"))
        return None
    sheets = [ws for ws in [book.active, *book.worksheets] if hasattr(ws, "iter_rows")]
    if not sheets:
        problems.append(_problem(None, None, "the workbook has no worksheet", "bảng tính không có trang tính nào"))
        return None
    chosen = sheets[0]
    for sheet in sheets:
        sheet.reset_dimensions()    # exporters often write a wrong <dimension>
        if _has_header(enumerate(sheet.iter_rows(values_only=True), start=1), matcher):
            chosen = sheet
            break

    def rows() -> Iterator[tuple[int, list]]:
        yield from enumerate(chosen.iter_rows(values_only=True), start=1)

    return _Source("xlsx", rows, close=book.close)



# ---------------------------------------------------------------------------------------------
# Title rows


@dataclass
class _Title:
    account_number: str | None = None
    account_name: str | None = None
    opening: int | None = None
    closing: int | None = None
    period_from: date | None = None
    period_to: date | None = None
    text: list[str] = field(default_factory=list)    # folded words of every title row


_ACCOUNT_DIGITS = re.compile(r"\d[\d .-]{4,}\d")
_DATE_IN_TEXT = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{2}-\d{2}")
_TRAILING_AMOUNT = re.compile(r"[+-]?\d[\d., ]*$")


def _label_value(cells: list, index: int, text: str) -> object:
    """The value of a title label: after its ':' in the same cell, else the next cell."""
    if ":" in text:
        after = text.split(":", 1)[1].strip()
        if after:
            return after
    for value in cells[index + 1:]:
        if not _blank(value):
            return value.strip() if isinstance(value, str) else value
    m = _TRAILING_AMOUNT.search(text)
    return m.group(0) if m else None


def _read_title_row(title: _Title, row: int, cells: list, problems: list[Problem]) -> None:
    texts = [_cell_text(c) for c in cells]
    joined = " ".join(t for t in texts if t)
    if not joined:
        return
    title.text.append(_words(joined))
    for index, text in enumerate(texts):
        if not text:
            continue
        words = _words(text)

        def starts(labels: tuple[str, ...], words: str = words) -> bool:
            return any(words == lab or words.startswith(lab + " ") for lab in labels)

        if starts(ACCOUNT_NAME_LABELS) and title.account_name is None:
            value = _label_value(cells, index, text)
            if value is not None and not _blank(value):
                title.account_name = _clean(_cell_text(value))
        elif starts(OPENING_WORDS) or starts(CLOSING_WORDS):
            value = _label_value(cells, index, text)
            if value is None:
                continue
            try:
                amount = amount_from_text(value)
            except _ReadError as exc:
                problems.append(_problem(row, None, f"balance not readable: {exc}",
                                         f"số dư không đọc được: {exc.message_vi}"))
                continue
            if starts(OPENING_WORDS):
                title.opening = amount
            else:
                title.closing = amount
        elif starts(CURRENCY_LABELS):
            value = _words(_cell_text(_label_value(cells, index, text) or ""))
            if value and value.split()[0] not in ("vnd", "vn", "dong"):
                problems.append(_problem(row, None, f"the statement is not in VND: {value!r}",
                                         f"sao kê không phải bằng đồng Việt Nam: {value!r}"))
        elif starts(ACCOUNT_NUMBER_LABELS) and title.account_number is None:
            value = _cell_text(_label_value(cells, index, text) or "")
            m = _ACCOUNT_DIGITS.search(value)
            if m:
                title.account_number = re.sub(r"\D", "", m.group(0))
                rest = value[m.end():].strip(" -–:")
                if rest and title.account_name is None:
                    title.account_name = _clean(rest)
    folded = _words(joined)
    if any(_has_phrase(folded, w) for w in PERIOD_WORDS):
        found = []
        for s in _DATE_IN_TEXT.findall(joined):
            try:
                found.append(date_from_text(s).date())
            except _ReadError:
                continue
        if len(found) >= 2 and title.period_from is None:
            title.period_from, title.period_to = found[0], found[1]


def _bank_of(title_text: list[str], headers: list[str] | None) -> str | None:
    text = " | ".join(title_text)
    for preset in PRESETS.values():
        if any(_has_phrase(text, w) for w in preset.title_words):
            return preset.name
    if headers:
        joined = " | ".join(_words(h) for h in headers)
        for preset in PRESETS.values():
            if all(_has_phrase(joined, w) for w in preset.header_signature):
                return preset.name
    return None


# ---------------------------------------------------------------------------------------------
# The statement


def detect_bank(data: bytes, filename: str) -> str | None:
    """The preset whose statement this looks like (from the title rows, else the headers), or None."""
    problems: list[Problem] = []
    source = _open_source(data, filename, _auto_table, problems)
    if source is None:
        return None
    title = _Title()
    try:
        for number, cells in source.rows():
            if number > HEADER_SEARCH_ROWS:
                break
            table = _auto_table(list(cells))
            if table is not None and not table.missing:
                return _bank_of(title.text, table.headers)
            _read_title_row(title, number, list(cells), [])
        return _bank_of(title.text, None)
    except (csv.Error, UnicodeDecodeError):
        return None
    finally:
        source.close()


class _Problems(list):
    """A list of problems that keeps the first MAX_PROBLEMS and counts the rest."""

    dropped = 0

    def append(self, problem: Problem) -> None:
        if len(self) < MAX_PROBLEMS:
            super().append(problem)
        else:
            self.dropped += 1

    def final(self) -> list[Problem]:
        if not self.dropped:
            return list(self)
        return list(self) + [Problem(None, None, f"and {self.dropped} more problems not listed",
                                     f"và {self.dropped} lỗi khác không liệt kê")]


def parse_statement(data: bytes, filename: str, *, bank: str | None = None,
                    mapping: ColumnMapping | None = None) -> ParsedStatement:
    """Read a bank statement (CSV or XLSX bytes). `bank` names a preset (else it is detected);
    `mapping` gives the columns of any other layout. Raises StatementError with every problem."""
    if bank is not None and bank not in PRESETS and bank != "custom":
        raise StatementError([Problem(None, None, f"unknown bank preset {bank!r}; known: {', '.join(PRESETS)}",
                                      f"không có mẫu sao kê cho ngân hàng {bank!r}; có: {', '.join(PRESETS)}")])
    problems = _Problems()
    warnings: list[Problem] = []
    matcher = _mapping_matcher(mapping) if mapping else _auto_table
    source = _open_source(data, filename, matcher, problems)
    if source is None:
        raise StatementError(problems.final())
    try:
        reader = _StatementReader(source, matcher, mapping, problems)
        reader.read()
    except csv.Error as exc:
        problems.append(Problem(None, None, f"the CSV text is broken: {exc}", f"tệp CSV bị lỗi cấu trúc: {exc}"))
        raise StatementError(problems.final()) from None
    except (ValueError, IndexError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        if source.kind != "xlsx" or isinstance(exc, StatementError):
            raise
        problems.append(Problem(None, None, f"the workbook is damaged ({exc.__class__.__name__}: {exc})",
                                f"tệp .xlsx bị hỏng ({exc.__class__.__name__})"))
        raise StatementError(problems.final()) from None
    finally:
        source.close()
    if reader.table is None:
        raise StatementError(problems.final())

    detected = _bank_of(reader.title.text, reader.table.headers)
    if bank is None:
        bank = detected or "custom"
    elif detected and detected != bank and bank != "custom":
        warnings.append(Problem(None, None, f"the file looks like a {detected} statement, read as {bank}",
                                f"tệp có vẻ là sao kê {PRESETS[detected].label}, đang đọc theo mẫu {bank}"))
    lines = tuple(reader.lines)
    opening, closing = reader.title.opening, reader.title.closing
    if reader.printed_opening is not None:
        opening = reader.printed_opening
    if reader.printed_closing is not None:
        closing = reader.printed_closing
    _check_totals(reader, lines, opening, closing, problems, warnings)
    if problems:
        raise StatementError(problems.final())
    if lines and lines[0].balance_vnd is not None and lines[-1].balance_vnd is not None:
        ascending = lines[0].posted_at <= lines[-1].posted_at
        first, last = (lines[0], lines[-1]) if ascending else (lines[-1], lines[0])
        if opening is None:
            opening = first.balance_vnd - first.amount_vnd
        if closing is None:
            closing = last.balance_vnd
    period_from, period_to = reader.title.period_from, reader.title.period_to
    if lines and period_from is None:
        period_from = min(line.posted_at for line in lines).date()
        period_to = max(line.posted_at for line in lines).date()
    return ParsedStatement(bank=bank, account_number=reader.title.account_number,
                           account_name=reader.title.account_name, opening_balance_vnd=opening,
                           closing_balance_vnd=closing, period_from=period_from, period_to=period_to,
                           lines=lines, warnings=tuple(warnings))


def _check_totals(reader, lines, opening, closing, problems, warnings) -> None:
    if problems:
        return
    credits = sum(line.amount_vnd for line in lines if line.amount_vnd > 0)
    debits = -sum(line.amount_vnd for line in lines if line.amount_vnd < 0)
    for side, printed, read, side_vi in (("credit", reader.printed_credit, credits, "ghi có"),
                                         ("debit", reader.printed_debit, debits, "ghi nợ")):
        if printed is not None and abs(printed) != read:
            problems.append(Problem(reader.total_row, None,
                                    f"the printed {side} total {abs(printed):,} differs from the sum of the lines "
                                    f"read, {read:,}: a line is missing or misread",
                                    f"tổng {side_vi} in trên sao kê ({abs(printed):,}) khác tổng các dòng đọc được "
                                    f"({read:,}): có dòng bị thiếu hoặc đọc sai"))
    if opening is not None and closing is not None and opening + credits - debits != closing:
        problems.append(Problem(None, None,
                                f"opening balance {opening:,} + credits {credits:,} - debits {debits:,} is not the "
                                f"closing balance {closing:,}",
                                f"số dư đầu kỳ {opening:,} + ghi có {credits:,} - ghi nợ {debits:,} không bằng "
                                f"số dư cuối kỳ {closing:,}"))
    oldest_first = not lines or lines[0].posted_at <= lines[-1].posted_at
    breaks = reader.breaks_oldest_first if oldest_first else reader.breaks_newest_first
    if breaks:
        warnings.append(Problem(breaks[0], None,
                                f"the running balance does not follow the amounts at {len(breaks)} "
                                f"line(s), first at row {breaks[0]}",
                                f"số dư sau giao dịch không khớp số tiền ở {len(breaks)} dòng, "
                                f"đầu tiên ở dòng {breaks[0]}"))


def _join_memo_pieces(pieces: list[str]) -> str:
    """A memo split over lines: pieces cut at a fixed width (every piece but the last as long
    as the others, 20 characters or more: Vietcombank cuts at 60) are joined with nothing
    between them, as the bank cut them mid-word; other line breaks stand for a space."""
    pieces = [p for p in pieces if p] or [""]
    widths = {len(unicodedata.normalize("NFC", p)) for p in pieces[:-1]}
    if len(widths) == 1 and min(widths) >= 20:
        return "".join(pieces)
    return " ".join(pieces)


class _StatementReader:
    """One pass over the rows: title rows, the header, the lines, the closing rows."""

    def __init__(self, source: _Source, matcher, mapping: ColumnMapping | None, problems: _Problems):
        self.source, self.matcher, self.mapping, self.problems = source, matcher, mapping, problems
        self.title = _Title()
        self.table: _Table | None = None
        self.lines: list[StatementLine] = []
        self.pending: list | None = None
        self.printed_opening = self.printed_closing = None
        self.printed_credit = self.printed_debit = None
        self.total_row: int | None = None
        self.breaks_oldest_first: list[int] = []
        self.breaks_newest_first: list[int] = []
        self.parse_date = _date_with_format(mapping.date_format) if mapping else date_from_text

    def read(self) -> None:
        best_partial: tuple[int, _Table] | None = None
        rows = self.source.rows()
        for number, cells in rows:
            cells = list(cells)
            if self.table is None:
                if self.mapping and self.mapping.header_row is not None:
                    if number == self.mapping.header_row:
                        table = self.matcher(cells) or _Table({}, [_clean(_cell_text(c)) for c in cells],
                                                               list(self.mapping.columns()))
                        if self._take_header(number, table):
                            continue
                        return
                    self._title_row(number, cells)
                    continue
                table = self.matcher(cells)
                if table is not None and not table.missing:
                    self._take_header(number, table)
                elif number > HEADER_SEARCH_ROWS:
                    break
                else:
                    if table is not None and (best_partial is None or len(table.columns) > len(
                            best_partial[1].columns)):
                        best_partial = (number, table)
                    self._title_row(number, cells)
                continue
            if self._data_row(number, cells):
                break
        self._flush()
        if self.table is None:
            self._no_header(best_partial)

    def _take_header(self, number: int, table: _Table) -> bool:
        if table.missing:
            self._missing_columns(number, table)
            return False
        self.table = table
        self.header_row = number
        c = table.columns
        self.i_date, self.i_memo = c["date"], c["memo"]
        self.i_amount, self.i_credit, self.i_debit = c.get("amount"), c.get("credit"), c.get("debit")
        self.i_ref, self.i_balance = c.get("reference"), c.get("balance")
        self.i_name, self.i_account = c.get("payer_name"), c.get("payer_account")
        self.money = [i for i in (self.i_amount, self.i_credit, self.i_debit) if i is not None]
        self.width = max(c.values()) + 1
        return True

    def _title_row(self, number: int, cells: list) -> None:
        _read_title_row(self.title, number, cells, self.problems)

    def _missing_columns(self, number: int | None, table: _Table) -> None:
        names = ", ".join(table.missing)
        names_vi = ", ".join(COLUMN_LABELS_VI.get(m, m) for m in table.missing)
        if self.mapping:
            wanted = self.mapping.columns()
            names = ", ".join(f"{m} ({wanted.get(m, '')!r})" for m in table.missing)
            names_vi = ", ".join(f"{COLUMN_LABELS_VI.get(m, m)} («{wanted.get(m, '')}»)" for m in table.missing)
        self.problems.append(Problem(number, None, f"the header row lacks the column(s): {names}",
                                     f"dòng tiêu đề thiếu cột: {names_vi}"))

    def _no_header(self, best_partial) -> None:
        if best_partial is not None:
            self._missing_columns(*best_partial)
            return
        note, note_vi = "", ""
        if self.source.encoding and self.source.encoding != "utf-8-sig":
            note = f" (the text is not UTF-8; read as {self.source.encoding}: is it the right file and encoding?)"
            note_vi = (f" (văn bản không phải mã UTF-8, đã đọc theo {self.source.encoding}: kiểm tra lại tệp "
                       "và bảng mã)")
        if self.mapping:
            wanted = ", ".join(repr(v) for v in self.mapping.columns().values())
            self.problems.append(Problem(None, None, f"no header row with the mapped columns {wanted}{note}",
                                         f"không tìm thấy dòng tiêu đề có các cột đã cấu hình {wanted}{note_vi}"))
            return
        self.problems.append(Problem(None, None, "no recognisable header row (date, memo and amount or "
                                     f"credit/debit columns) in the first {HEADER_SEARCH_ROWS} rows{note}",
                                     "không tìm thấy dòng tiêu đề (cột ngày, nội dung và số tiền hoặc ghi có/ghi "
                                     f"nợ) trong {HEADER_SEARCH_ROWS} dòng đầu{note_vi}"))

    # -- rows below the header --------------------------------------------------------------

    def _data_row(self, number: int, cells: list) -> bool:
        """Read one row below the header; True when the statement ends here."""
        if len(cells) < self.width:
            cells = cells + [None] * (self.width - len(cells))

        def get(i):
            return None if i is None else cells[i]

        date_raw = cells[self.i_date]
        posted = None
        date_error = None
        if date_raw is not None and date_raw != "":
            try:
                posted = self.parse_date(date_raw)
            except _ReadError as exc:
                date_error = exc
        if posted is None:
            if all(_blank(c) for c in cells):
                return False
            has_money = any(not _blank(cells[i]) for i in self.money)
            ended = self._other_row(number, cells, has_money)
            if ended is not None:
                return ended
            if date_error is None:
                date_error = _ReadError("missing date", "thiếu ngày giao dịch")
        row_problems = []
        if date_error is not None:
            row_problems.append((self.table.label("date"), str(date_error), date_error.message_vi))
        amount = self._amount(get, row_problems)
        balance = None
        if self.i_balance is not None and not _blank(cells[self.i_balance]):
            try:
                balance = amount_from_text(cells[self.i_balance])
            except _ReadError as exc:
                row_problems.append((self.table.label("balance"), str(exc), exc.message_vi))
        if row_problems:
            self._flush()
            for column, message, message_vi in row_problems:
                self.problems.append(Problem(number, column, message, message_vi))
            return False
        self._flush()
        self.pending = [number, posted, self._text(get(self.i_ref)), amount, [_cell_text(get(self.i_memo))],
                        self._text(get(self.i_name)), self._text(get(self.i_account)), balance]
        return False

    @staticmethod
    def _text(value) -> str | None:
        if value is None:
            return None
        if isinstance(value, str) and value.isascii():
            return " ".join(value.split()) or None
        return _clean(_cell_text(value)) or None

    def _amount(self, get, row_problems) -> int | None:
        def read(index, role):
            value = get(index)
            if value is None or value == "" or (isinstance(value, str) and not value.strip()):
                return 0
            try:
                return amount_from_text(value)
            except _ReadError as exc:
                row_problems.append((self.table.label(role), str(exc), exc.message_vi))
                return None

        if self.i_amount is not None:
            amount = read(self.i_amount, "amount")
            if amount == 0:
                row_problems.append((self.table.label("amount"), "the amount is zero or missing",
                                     "số tiền bằng 0 hoặc bị thiếu"))
            return amount
        credit = read(self.i_credit, "credit") if self.i_credit is not None else 0
        debit = read(self.i_debit, "debit") if self.i_debit is not None else 0
        if credit is None or debit is None:
            return None
        if credit and debit:
            row_problems.append((f"{self.table.label('credit')} / {self.table.label('debit')}",
                                 f"both credit ({credit:,}) and debit ({debit:,}) on one line",
                                 f"một dòng có cả ghi có ({credit:,}) và ghi nợ ({debit:,})"))
            return None
        if credit < 0:
            row_problems.append((self.table.label("credit"), f"a negative credit: {credit:,}",
                                 f"số ghi có âm: {credit:,}"))
            return None
        if not credit and not debit:
            column = " / ".join(self.table.label(r) for r in ("credit", "debit") if r in self.table.columns)
            row_problems.append((column, "the amount is zero or missing", "số tiền bằng 0 hoặc bị thiếu"))
            return None
        return credit if credit else -abs(debit)

    def _other_row(self, number: int, cells: list, has_money: bool) -> bool | None:
        """A row without a date: True (the end), False (skip), None (a line missing its date)."""
        texts = [_cell_text(c) for c in cells]
        for index, text in enumerate(texts):
            if not text or (index == self.i_memo and not has_money):
                continue
            words = _words(text)
            if not words or words[0].isdigit():
                continue

            def starts(phrases, words=words):
                return any(words == p or words.startswith(p + " ") for p in phrases)

            if starts(CLOSING_WORDS):
                self._flush()
                self.printed_closing = self._footer_amount(number, cells, index)
                return True
            if starts(OPENING_WORDS):
                self.printed_opening = self._footer_amount(number, cells, index)
                return False
            if starts(SUBTOTAL_WORDS):
                return False
            if starts(TOTAL_WORDS) and not words.startswith(("cong ty", "cong doan", "tong cong ty")):
                self._flush()
                self.total_row = number
                self.printed_credit = self._footer_value(number, cells, self.i_credit)
                self.printed_debit = self._footer_value(number, cells, self.i_debit)
                return False
        # repeated headers (page breaks), a second header row in English, column numbers "(1) (2)"
        filled = [t for t in texts if t]
        if all(re.fullmatch(r"\(?\d{1,2}\)?|[A-Z]", t) for t in filled):
            return False
        if sum(1 for t in filled if _role_of(t)) >= max(2, len(filled) - 1):
            return False
        memo = texts[self.i_memo] if self.i_memo < len(texts) else ""
        if memo and not has_money and len(filled) == 1 and self.pending is not None:
            self.pending[4].append(_cell_text(cells[self.i_memo]))     # a memo carried onto the next row
            return False
        if not has_money:
            return False        # notes, signatures, page footers
        return None

    def _footer_value(self, number, cells, index) -> int | None:
        if index is None or index >= len(cells) or _blank(cells[index]):
            return None
        try:
            return amount_from_text(cells[index])
        except _ReadError as exc:
            self.problems.append(Problem(number, self.table.headers[index], f"total not readable: {exc}",
                                         f"dòng tổng không đọc được: {exc.message_vi}"))
            return None

    def _footer_amount(self, number, cells, label_index) -> int | None:
        """The balance on a balance row: in the balance column, else the last number in the row."""
        if self.i_balance is not None:
            value = self._footer_value(number, cells, self.i_balance)
            if value is not None:
                return value
        text = _cell_text(cells[label_index])
        candidates = [c for c in cells[label_index + 1:] if not _blank(c)]
        if ":" in text and text.split(":", 1)[1].strip():
            candidates.append(text.split(":", 1)[1].strip())
        for value in reversed(candidates):
            try:
                return amount_from_text(value)
            except _ReadError:
                continue
        return None

    def _flush(self) -> None:
        if self.pending is None:
            return
        row, posted, ref, amount, memo_parts, name, account, balance = self.pending
        self.pending = None
        memo = memo_parts[0] if len(memo_parts) == 1 else "\n".join(memo_parts)
        if "\n" in memo or "\r" in memo:
            memo = _join_memo_pieces(memo.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
        memo = " ".join(memo.split()) if memo.isascii() else _clean(memo)
        line = StatementLine(row=row, posted_at=posted, reference=ref, amount_vnd=amount, memo=memo,
                             payer_name=name, payer_account=account, balance_vnd=balance)
        if self.lines and balance is not None and self.lines[-1].balance_vnd is not None:
            before = self.lines[-1]
            if before.balance_vnd + amount != balance:           # oldest first
                self.breaks_oldest_first.append(row)
            if before.balance_vnd - before.amount_vnd != balance:  # newest first
                self.breaks_newest_first.append(row)
        self.lines.append(line)
