"""VietQR: the NAPAS bank-transfer QR code (EMVCo merchant-presented QR, service QRIBFTTA).

A payload is a string of TLV fields, each an id of 2 digits, a length of 2 digits and the
value; tags 38 and 62 hold TLV fields of their own:

    00 "01"                     payload format indicator
    01 "11" | "12"              point of initiation: static (no amount) | dynamic (amount set)
    38 00 "A000000727"          NAPAS's GUID
       01 00 bank BIN (6 digits), 01 account number (1-19 letters or digits)
       02 "QRIBFTTA"            transfer to an account
    53 "704"                    currency: VND
    54 amount                   whole đồng, no decimals; only when known
    58 "VN"                     country
    62 08 memo                  purpose of the transfer, ASCII, at most 25 characters
    63 CRC                      CRC-16/CCITT-FALSE over everything before it, "6304" included

Memos are folded to ASCII ("Ủng hộ" -> "Ung ho"): bank apps carry the purpose field into the
transfer's description, and the NAPAS layout allows ASCII only, up to 25 characters.
Pure: no Flask, no database. The QR symbol is drawn with receipts.qr's zxing-cpp matrix.
"""
from __future__ import annotations

import re
import unicodedata

NAPAS_GUID = "A000000727"
SERVICE_ACCOUNT = "QRIBFTTA"
CURRENCY_VND = "704"
COUNTRY_VN = "VN"
STATIC, DYNAMIC = "11", "12"
MEMO_MAX = 25
AMOUNT_MAX_DIGITS = 13

# Common banks' NAPAS BINs, for the funds form's select: the one table of them.
BANKS: dict[str, str] = {
    "970436": "Vietcombank",
    "970415": "VietinBank",
    "970418": "BIDV",
    "970405": "Agribank",
    "970407": "Techcombank",
    "970422": "MB",
    "970416": "ACB",
    "970432": "VPBank",
    "970403": "Sacombank",
    "970423": "TPBank",
}

_BIN = re.compile(r"^[0-9]{6}$")
_ACCOUNT = re.compile(r"^[A-Za-z0-9]{1,19}$")
_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]*$")


class VietQRError(ValueError):
    """A value that cannot go into a VietQR payload, or a payload that is not one."""


def bank_name(bank_bin: str | None) -> str | None:
    return BANKS.get(bank_bin or "")


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def fold_memo(text: str) -> str:
    """A memo in ASCII: diacritics dropped, đ as d, runs of white space as one space.
    VietQRError when something is left that is not printable ASCII."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = " ".join(folded.split())
    if not _PRINTABLE_ASCII.match(folded):
        raise VietQRError(f"memo {text!r} has characters that have no ASCII form")
    return folded


def _tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise VietQRError(f"field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def check_account(bank_bin: str, account: str) -> None:
    if not isinstance(bank_bin, str) or not _BIN.match(bank_bin):
        raise VietQRError("a bank BIN has 6 digits")
    if not isinstance(account, str) or not _ACCOUNT.match(account):
        raise VietQRError("an account number has 1 to 19 letters or digits")


def build_vietqr(bank_bin: str, account: str, amount_vnd: int | None = None, memo: str | None = None) -> str:
    """The payload of a transfer to `account` at the bank `bank_bin`; with an amount it is a
    dynamic code (the payer's app fills the amount in), else a static one."""
    check_account(bank_bin, account)
    if amount_vnd is not None:
        if isinstance(amount_vnd, bool) or not isinstance(amount_vnd, int):
            raise VietQRError("an amount is a whole number of đồng")
        if amount_vnd <= 0 or len(str(amount_vnd)) > AMOUNT_MAX_DIGITS:
            raise VietQRError(f"an amount is positive, with at most {AMOUNT_MAX_DIGITS} digits")
    folded = fold_memo(memo) if memo else ""
    if len(folded) > MEMO_MAX:
        raise VietQRError(f"a memo has at most {MEMO_MAX} characters")
    beneficiary = _tlv("00", bank_bin) + _tlv("01", account)
    merchant = _tlv("00", NAPAS_GUID) + _tlv("01", beneficiary) + _tlv("02", SERVICE_ACCOUNT)
    parts = [_tlv("00", "01"), _tlv("01", DYNAMIC if amount_vnd is not None else STATIC), _tlv("38", merchant),
             _tlv("53", CURRENCY_VND)]
    if amount_vnd is not None:
        parts.append(_tlv("54", str(amount_vnd)))
    parts.append(_tlv("58", COUNTRY_VN))
    if folded:
        parts.append(_tlv("62", _tlv("08", folded)))
    body = "".join(parts) + "6304"
    return body + f"{crc16_ccitt_false(body.encode('ascii')):04X}"


def split_tlv(text: str) -> list[tuple[str, str]]:
    """[(tag, value), ...] of a run of TLV fields; VietQRError when they do not add up."""
    fields, at = [], 0
    while at < len(text):
        head = text[at:at + 4]
        if len(head) < 4 or not head.isdigit():
            raise VietQRError(f"no tag and length at position {at}")
        tag, length = head[:2], int(head[2:])
        value = text[at + 4:at + 4 + length]
        if len(value) != length:
            raise VietQRError(f"field {tag} at position {at} runs past the end")
        fields.append((tag, value))
        at += 4 + length
    return fields


def _unique(fields: list[tuple[str, str]], where: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for tag, value in fields:
        if tag in found:
            raise VietQRError(f"field {where}{tag} appears twice")
        found[tag] = value
    return found


def parse_vietqr(payload: str) -> dict:
    """What a VietQR transfer payload says, after checking its CRC and its TLV structure:
    {initiation, bank_bin, account, service, currency, amount_vnd, country, memo, crc}.
    VietQRError (a ValueError) when it is not a well-formed VietQR transfer code."""
    if not isinstance(payload, str) or not _PRINTABLE_ASCII.match(payload):
        raise VietQRError("a payload is printable ASCII")
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise VietQRError("the payload does not end with its CRC field (6304....)")
    crc = payload[-4:]
    if not re.fullmatch(r"[0-9A-F]{4}", crc):
        raise VietQRError("the CRC is not 4 upper-case hex digits")
    expected = f"{crc16_ccitt_false(payload[:-4].encode('ascii')):04X}"
    if crc != expected:
        raise VietQRError(f"CRC mismatch: the payload says {crc}, its content gives {expected}")
    fields = split_tlv(payload)
    if fields[0] != ("00", "01"):
        raise VietQRError("the payload does not start with its format indicator 000201")
    if fields[-1][0] != "63":
        raise VietQRError("the CRC is not the last field")
    root = _unique(fields, "")
    if root.get("01") not in (STATIC, DYNAMIC):
        raise VietQRError("point of initiation (01) is neither 11 nor 12")
    if "38" not in root:
        raise VietQRError("no merchant account information (38)")
    merchant = _unique(split_tlv(root["38"]), "38.")
    if merchant.get("00") != NAPAS_GUID:
        raise VietQRError(f"38.00 is not NAPAS's GUID {NAPAS_GUID}")
    beneficiary = _unique(split_tlv(merchant.get("01", "")), "38.01.")
    bank_bin, account = beneficiary.get("00", ""), beneficiary.get("01", "")
    check_account(bank_bin, account)
    if merchant.get("02") != SERVICE_ACCOUNT:
        raise VietQRError(f"38.02 is not the transfer-to-account service {SERVICE_ACCOUNT}")
    if root.get("53") != CURRENCY_VND:
        raise VietQRError("currency (53) is not 704, VND")
    if root.get("58") != COUNTRY_VN:
        raise VietQRError("country (58) is not VN")
    amount = None
    if "54" in root:
        if not re.fullmatch(r"[1-9][0-9]{0,12}", root["54"]):
            raise VietQRError("amount (54) is not a positive whole number of đồng")
        amount = int(root["54"])
    memo = None
    if "62" in root:
        memo = _unique(split_tlv(root["62"]), "62.").get("08")
    return {"initiation": "dynamic" if root["01"] == DYNAMIC else "static", "bank_bin": bank_bin,
            "account": account, "service": merchant["02"], "currency": root["53"], "amount_vnd": amount,
            "country": root["58"], "memo": memo, "crc": crc}


def vietqr_svg(payload: str, *, title: str | None = None) -> str:
    """The payload's QR symbol as SVG: one module per user unit, a 4-module quiet zone,
    dark modules as runs of one path (no style attributes: the pages' CSP forbids them)."""
    from xml.sax.saxutils import escape

    from .qr import qr_matrix

    rows = qr_matrix(payload)
    quiet = 4
    size = len(rows) + 2 * quiet
    runs = []
    for y, row in enumerate(rows):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append(f"M{start + quiet} {y + quiet}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    label = f"<title>{escape(title)}</title>" if title else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="vietqr" viewBox="0 0 {size} {size}" '
            f'width="{size * 6}" height="{size * 6}" shape-rendering="crispEdges" role="img">{label}'
            f'<rect width="{size}" height="{size}" fill="#fff"/>'
            f'<path fill="#000" d="{"".join(runs)}"/></svg>')
