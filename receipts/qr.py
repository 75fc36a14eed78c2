"""The QR code a receipt carries: the URL of its public verification page, with the signature.

{LEDGER_PUBLIC_URL}/r/{number}?s={signature, base64url}, error correction M (a phone camera
still reads it with a crease or a smudge over 15% of it). Encoded with zxing-cpp: it picks
the mask by the standard's penalty rules in under a millisecond, where pure-Python
encoders take ~10 ms, most of a receipt PDF's time.
"""
from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import zxingcpp


def receipt_url(public_url: str, number: str, signature: str) -> str:
    return f"{public_url.rstrip('/')}/r/{quote(number, safe='')}?s={signature}"


def parse_receipt_url(url: str) -> tuple[str, str, str]:
    """(base URL, number, signature) of a receipt URL; ValueError when it is not one."""
    parts = urlsplit(url.strip())
    path = parts.path
    head, sep, number = path.rpartition("/r/")
    if parts.scheme not in ("http", "https") or not sep or not number or "/" in number:
        raise ValueError("not a receipt URL: expected …/r/{number}?s={signature}")
    signature = parse_qs(parts.query).get("s", [""])[0]
    return f"{parts.scheme}://{parts.netloc}{head}", number, signature


def qr_matrix(text: str) -> list[bytes]:
    """The QR symbol's modules, row by row, 1 for dark, without the quiet zone."""
    symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    pixels = memoryview(symbol.to_image(scale=1, add_quiet_zones=False))
    return [bytes(1 if value == 0 else 0 for value in row) for row in pixels.tolist()]
