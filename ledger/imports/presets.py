"""What Vietnamese banks write in their statements: header words, title labels, bank presets.

Every phrase here is *folded*: lower case, no diacritics, "đ" as "d", punctuation as single
spaces ("Số TK đối ứng" -> "so tk doi ung"); a phrase matches a header cell when it occurs
in the folded cell as whole words. Real exports differ from bank to bank and from year to
year, so the words of every bank are known to every layout; a preset names the bank, the
words that recognise its files and the shapes of its memos.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# The columns a statement can have, in the order a header cell is tried against them: the
# first role with a matching phrase wins ("Số tiền ghi có" is a credit, not an amount).
HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "payer_name": (
        "ten doi ung", "ten tk doi ung", "ten tai khoan doi ung", "ten nguoi chuyen", "nguoi chuyen",
        "ten nguoi gui", "nguoi gui", "don vi chuyen", "ten don vi doi ung", "counterparty name",
        "counter party name", "remitter name", "sender name", "payer name",
    ),
    "payer_account": (
        "so tk doi ung", "tk doi ung", "tai khoan doi ung", "so tai khoan doi ung", "tk nguoi chuyen",
        "tai khoan nguoi chuyen", "so tk nguoi chuyen", "counter account", "counterparty account",
        "remitter account", "sender account", "payer account",
    ),
    "debit": (
        "so tien ghi no", "ghi no", "phat sinh no", "tien ra", "so tien rut", "debit", "debit amount",
        "withdrawal", "withdrawals", "money out", "dr",
    ),
    "credit": (
        "so tien ghi co", "ghi co", "phat sinh co", "tien vao", "so tien gui", "credit", "credit amount",
        "deposit", "deposits", "money in", "cr",
    ),
    "balance": ("so du", "so du sau giao dich", "balance", "running balance"),
    "reference": (
        "so ct", "so chung tu", "so tham chieu", "ma tham chieu", "so giao dich", "ma giao dich", "ma gd",
        "so but toan", "doc no", "reference", "reference no", "ref no", "ref", "transaction id", "trans id",
    ),
    # best first: with two date columns, the transaction date beats the value date
    "date": (
        "ngay giao dich", "ngay gd", "thoi gian giao dich", "transaction date", "tnx date", "txn date",
        "trans date", "ngay hach toan", "posting date", "ngay hieu luc", "effective date", "value date",
        "ngay", "date", "thoi gian", "time",
    ),
    "memo": (
        "noi dung chi tiet", "noi dung giao dich", "noi dung", "dien giai", "mo ta", "chi tiet",
        "description", "transactions in detail", "details", "detail", "remark", "remarks", "narrative",
    ),
    "amount": ("so tien giao dich", "so tien", "amount", "transaction amount", "phat sinh", "gia tri"),
    "seq": ("stt", "so thu tu", "seq", "no"),
}

# whole header cells that name a side by themselves (two-row headers: "Phát sinh" over "Nợ" | "Có")
EXACT_HEADER_CELLS: dict[str, str] = {"nợ": "debit", "có": "credit", "ghi nợ": "debit", "ghi có": "credit"}

COLUMN_LABELS_VI: dict[str, str] = {
    "date": "ngày giao dịch", "memo": "nội dung", "amount": "số tiền", "credit": "ghi có",
    "debit": "ghi nợ", "reference": "số tham chiếu", "balance": "số dư", "payer_name": "tên người chuyển",
    "payer_account": "tài khoản người chuyển",
}

# Rows below the table: printed totals and balances (folded, at the start of a cell).
CLOSING_WORDS = ("so du cuoi ky", "so du cuoi", "closing balance", "ending balance")
OPENING_WORDS = ("so du dau ky", "so du dau", "opening balance", "beginning balance")
SUBTOTAL_WORDS = ("cong trang", "tong trang", "cong chuyen trang", "page total", "cong ngay", "tong ngay")
TOTAL_WORDS = ("tong cong", "tong phat sinh", "cong phat sinh", "tong so", "tong", "cong", "total")

# Labels of the title rows above the table (folded, at the start of a cell).
ACCOUNT_NAME_LABELS = ("ten tai khoan", "ten tk", "chu tai khoan", "ten chu tai khoan", "account name",
                       "ten khach hang", "customer name")
ACCOUNT_NUMBER_LABELS = ("so tai khoan", "tai khoan", "so tk", "account number", "account no", "account")
CURRENCY_LABELS = ("loai tien", "tien te", "currency", "loai tien te")
PERIOD_WORDS = ("tu ngay", "den ngay", "from", "ky sao ke", "period", "thoi gian")


@dataclass(frozen=True)
class BankPreset:
    """A bank's statement export as the importer knows it."""

    name: str
    label: str                       # the bank's name as people write it
    file_kinds: tuple[str, ...]      # "csv" and/or "xlsx", as the bank exports
    title_words: tuple[str, ...]     # folded words of the title rows that name the bank
    header_signature: tuple[str, ...]  # folded header phrases that together point to this bank
    headers: tuple[str, ...]         # the header cells of the bank's export, as printed
    memo_prefix: re.Pattern[str] | None = None  # what precedes the sender's name in a transfer memo


PRESETS: dict[str, BankPreset] = {
    "vietcombank": BankPreset(
        name="vietcombank",
        label="Vietcombank (Ngân hàng TMCP Ngoại thương Việt Nam)",
        file_kinds=("csv", "xlsx"),
        title_words=("vietcombank", "ngoai thuong"),
        header_signature=("doc no", "transactions in detail"),
        headers=("STT", "Ngày giao dịch\nTNX Date", "Số CT\nDoc No", "Số tiền ghi nợ\nDebit",
                 "Số tiền ghi có\nCredit", "Số dư\nBalance", "Nội dung chi tiết\nTransactions in detail"),
        memo_prefix=re.compile(r"^\s*(?:MBVCB|IBVCB|SMSVCB|VCB)\.\d+\.\d+\.\s*"),
    ),
    "vietinbank": BankPreset(
        name="vietinbank",
        label="VietinBank (Ngân hàng TMCP Công thương Việt Nam)",
        file_kinds=("xlsx", "csv"),
        title_words=("vietinbank", "cong thuong viet nam"),
        header_signature=("so tien giao dich", "ten doi ung"),
        headers=("STT", "Ngày giao dịch", "Mô tả giao dịch", "Số tiền giao dịch", "Tên đối ứng",
                 "Số TK đối ứng", "Số dư sau giao dịch"),
        memo_prefix=re.compile(r"^\s*(?:CT|IBFT|MB)\.\d+\.\d+\.\s*"),
    ),
    "bidv": BankPreset(
        name="bidv",
        label="BIDV (Ngân hàng TMCP Đầu tư và Phát triển Việt Nam)",
        file_kinds=("xlsx",),
        title_words=("bidv", "dau tu va phat trien"),
        header_signature=("so tham chieu", "ghi co", "mo ta"),
        headers=("STT", "Ngày hiệu lực/ Ngày giao dịch", "Số tham chiếu", "Ghi nợ", "Ghi có", "Số dư",
                 "Mô tả"),
        memo_prefix=re.compile(r"^\s*TKThe\s*:\s*\d+\s*,\s*tai\s+\w+\s*\.\s*", re.IGNORECASE),
    ),
    "agribank": BankPreset(
        name="agribank",
        label="Agribank (Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam)",
        file_kinds=("csv",),
        title_words=("agribank", "nong nghiep va phat trien nong thon"),
        header_signature=("so chung tu", "phat sinh co", "dien giai"),
        headers=("Ngày GD", "Số chứng từ", "Phát sinh nợ", "Phát sinh có", "Số dư", "Diễn giải"),
        memo_prefix=re.compile(r"^\s*(?:IBFT|CK|NAPAS)[\s.:]+(?:\d+[\s.:]+)?", re.IGNORECASE),
    ),
}

# Words that end a sender's name in a memo (upper case, without diacritics).
NAME_STOP_PHRASES: tuple[tuple[str, ...], ...] = (
    ("UH",), ("UNGHO",), ("UNG", "HO"), ("CHUNG", "TAY"), ("CHUYEN", "TIEN"), ("CHUYEN", "KHOAN"),
    ("CK",), ("GUI",), ("HO", "TRO"), ("DONG", "GOP"), ("NOP",), ("XOA", "NHA"), ("TRA",), ("CT",),
)
