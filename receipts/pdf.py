"""The receipt PDF: one A5 page per receipt, the signed envelope attached to the file.

`render_pdf` draws what a donor reads (everything from the envelope's payload) and embeds
each envelope as `{number}.json` in the document's /EmbeddedFiles name tree, so the PDF
alone is enough for the offline verifier; `read_envelopes` takes them out again.

Drawn with the ReportLab canvas and plain string drawing rather than Platypus: a receipt
is a fixed form. Speed (bench/receipts.py): the fonts are parsed once per process, and
their embedded subsets are built and compressed once per process too, which leaves about
5 ms a page besides the QR code's encoding (receipts.qr, under 1 ms with zxing-cpp).
"""
from __future__ import annotations

import io
import math
import threading
import types
import unicodedata
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from reportlab import rl_config
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, TTFont
from reportlab.pdfgen.canvas import Canvas

from .envelope import ATTACHMENT_SUFFIX, Envelope
from .qr import qr_matrix
from .words import format_date, format_decimal, format_vnd, vnd_in_words

PAGE_W, PAGE_H = A5
MARGIN_X = 15 * mm
TOP = PAGE_H - 13 * mm
BOTTOM = 11 * mm
CONTENT_W = PAGE_W - 2 * MARGIN_X
QR_SIZE = 32 * mm  # the symbol itself; the quiet zone comes on top of it
QR_QUIET_MODULES = 4

DEFAULT_COMMITTEE = "ỦY BAN MẶT TRẬN TỔ QUỐC VIỆT NAM"
TITLE = "GIẤY XÁC NHẬN ĐÓNG GÓP"
VOID_MARK = "ĐÃ HỦY / VOIDED"
THANKS = "Xin trân trọng cảm ơn!"
QR_HINT = "Quét mã QR bằng camera điện thoại để kiểm tra giấy xác nhận này là thật."
METHODS = {"bank_transfer": "Chuyển khoản", "cash": "Tiền mặt", "in_kind": "Hiện vật", "labour": "Ngày công"}
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")  # no daylight saving since 1975

INK = Color(0.1, 0.1, 0.12)
GREY = Color(0.35, 0.35, 0.38)
RULE = Color(0.6, 0.6, 0.62)
RED = Color(0.78, 0.06, 0.06)

REGULAR, BOLD, ITALIC = "BeVietnamPro", "BeVietnamPro-Bold", "BeVietnamPro-Italic"
_FONTS: list[TTFont] = []
_FONT_FILES = {REGULAR: "BeVietnamPro-Regular.ttf", BOLD: "BeVietnamPro-Bold.ttf",
               ITALIC: "BeVietnamPro-Italic.ttf"}
_fonts_lock = threading.Lock()
_subsets_lock = threading.Lock()
_fonts_ready = False


def _repertoire() -> str:
    """Every character a receipt normally prints: printable ASCII, the Vietnamese letters
    (NFC, both cases) and the few symbols the form uses."""
    vowels = "aăâeêioôơuưy"
    tones = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
    letters = {unicodedata.normalize("NFC", v + t) for v in vowels for t in tones} | {"đ"}
    letters |= {ch.upper() for ch in letters}
    ascii_ = {chr(i) for i in range(32, 127)}
    return "".join(sorted(ascii_)) + "".join(sorted(letters - ascii_)) + "₫×–—“”‘’…·"


REPERTOIRE = _repertoire()


def _add_subset_objects_cached(face: Any, doc: Any, fontname: str, subset: list[int]) -> Any:
    """TTFontFace.addSubsetObjects, with the subset's font program built and compressed
    once per process for each distinct subset instead of once per PDF.

    render_pdf seeds every document with REPERTOIRE in one fixed order, so a receipt's
    subset is the same from PDF to PDF and this cache almost always hits; a character
    outside the repertoire lands in a further subset, built the ordinary way."""
    key = tuple(subset)
    cache = face._receipt_subsets
    with _subsets_lock:  # PDFs may be rendered in several threads at once
        program = cache.pop(key, None)
        if program is not None:
            cache[key] = program  # reinserted last: the most recently used
    if program is None:
        raw = face.makeSubset(subset)
        program = (zlib.compress(raw, 9), len(raw))
        with _subsets_lock:
            if len(cache) >= 32:  # the least recently used out: other subsets must not grow it forever
                cache.pop(next(iter(cache)))
            cache[key] = program
    font_file = pdfdoc.PDFStream(content=program[0])
    font_file.dictionary["Length1"] = program[1]
    font_file.dictionary["Filter"] = pdfdoc.PDFArray(["/FlateDecode"])  # already compressed: no filter pass
    font_file_ref = doc.Reference(font_file, f"fontFile:{face.filename}({fontname})")
    flags = (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC
    descriptor = pdfdoc.PDFDictionary({
        "Type": "/FontDescriptor", "Ascent": face.ascent, "CapHeight": face.capHeight, "Descent": face.descent,
        "Flags": flags, "FontBBox": pdfdoc.PDFArray(face.bbox), "FontName": pdfdoc.PDFName(fontname),
        "ItalicAngle": face.italicAngle, "StemV": face.stemV, "FontFile2": font_file_ref,
        "MissingWidth": face.defaultWidth,
    })
    return doc.Reference(descriptor, "fontDescriptor:" + fontname)


class _Width(int):
    """A glyph width. ReportLab writes a value whose type is exactly int or float through
    its pure-Python number formatter (~7 µs each, ~700 widths a PDF, a fifth of the page's
    time); any other value, this int subclass included, through str(), with the same digits."""


def _widths_as_plain_text(face: Any) -> None:
    widths = {code: _Width(width) for code, width in face.charWidths.items()}
    default = _Width(face.defaultWidth)
    face.getCharWidth = lambda code: widths.get(code, default)  # only TTFont.addObjects calls it


def register_fonts() -> None:
    """Register Be Vietnam Pro with ReportLab, once per process (parsing the TTFs is slow;
    each PDF then embeds a subset, itself built once per process: see above)."""
    global _fonts_ready
    if _fonts_ready:
        return
    with _fonts_lock:
        if _fonts_ready:
            return
        import fontpkg_be_vietnam_pro

        # Any font program ReportLab still compresses goes out as binary, not also ASCII85.
        rl_config.useA85 = 0
        folder = fontpkg_be_vietnam_pro.ROOT / "files"
        for name, filename in _FONT_FILES.items():
            font = TTFont(name, str(folder / filename))
            font.face._receipt_subsets = {}
            font.face.addSubsetObjects = types.MethodType(_add_subset_objects_cached, font.face)
            _widths_as_plain_text(font.face)
            pdfmetrics.registerFont(font)
            _FONTS.append(font)
        pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD)
        _fonts_ready = True


def _seed_subsets(c: Canvas) -> None:
    """Give REPERTOIRE its codes in every face before anything is drawn, in the same order
    for every PDF (a face the page does not use is still not embedded)."""
    for font in _FONTS:
        font.splitString(REPERTOIRE, c._doc)


def nfc(text: Any) -> str:
    return unicodedata.normalize("NFC", str(text))


# --- text layout -----------------------------------------------------------------------------------------------

def wrap(text: str, font: str, size: float, width: float, max_lines: int | None = None) -> list[str]:
    """Lines of `text` no wider than `width`: breaks at spaces, and inside a word only when
    the word alone is too wide (a URL, a long code). Past `max_lines`, the last line kept
    ends in "…" (the heading's place on the page is fixed; the full text is in the envelope)."""
    sw = pdfmetrics.stringWidth
    space = sw(" ", font, size)
    lines: list[str] = []
    for paragraph in nfc(text).split("\n"):
        line, line_w = "", 0.0
        for word in paragraph.split():
            word_w = sw(word, font, size)  # widths add up: ReportLab does no kerning
            if line and line_w + space + word_w <= width:
                line, line_w = f"{line} {word}", line_w + space + word_w
                continue
            if line:
                lines.append(line)
            while word_w > width:  # cut an over-long word where it stops fitting
                cut = _fit_chars(word, font, size, width)
                lines.append(word[:cut])
                word = word[cut:]
                word_w = sw(word, font, size)
            line, line_w = word, word_w
        lines.append(line)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _ellipsis(lines[-1], font, size, width)
    return lines


def _fit_chars(word: str, font: str, size: float, width: float) -> int:
    sw = pdfmetrics.stringWidth
    lo, hi = 1, len(word)
    while lo < hi:  # the longest prefix that fits, at least one character
        mid = (lo + hi + 1) // 2
        if sw(word[:mid], font, size) <= width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _ellipsis(line: str, font: str, size: float, width: float) -> str:
    """`line` shortened to end in "…" within `width`."""
    line = line.rstrip()
    while line and pdfmetrics.stringWidth(line + "…", font, size) > width:
        line = line[:-1].rstrip()
    return line + "…"


class _Row:
    """One "Label: value" line of the receipt's body, its value wrapped in the value column."""

    def __init__(self, label: str, value: str, font: str = REGULAR, size: float = 9.5, color: Color = INK):
        self.label, self.value, self.font, self.size, self.color = label, nfc(value), font, size, color


# --- what the payload says, in words ---------------------------------------------------------------------------

def _donor_label(kind: str | None) -> str:
    return "Người đóng góp" if kind in (None, "individual") else "Đơn vị đóng góp"


def _earmark_text(earmark: dict[str, Any] | None) -> str | None:
    if not earmark:
        return None
    parts = []
    if earmark.get("household"):
        parts.append(str(earmark["household"]))
    area_name, area_code = earmark.get("area_name"), earmark.get("area_code")
    if area_name and area_code:
        parts.append(f"{area_name} (mã {area_code})")
    elif area_name or area_code:
        parts.append(str(area_name or f"địa bàn mã {area_code}"))
    return " — ".join(parts) or None


def _given_rows(given: dict[str, Any]) -> list[_Row]:
    kind = given.get("kind")
    value = given.get("value_vnd", "0")
    if kind == "cash":
        amount = given.get("amount_vnd", value)
        return [_Row("Số tiền", format_vnd(amount), BOLD, 12),
                _Row("Bằng chữ", vnd_in_words(amount), ITALIC)]
    if kind == "material":
        unit = given.get("unit") or ""
        rows = [_Row("Hiện vật", given.get("item", ""), BOLD, 10.5),
                _Row("Số lượng", f"{format_decimal(given.get('quantity', '0'))} {unit}".strip())]
        if given.get("unit_value_vnd") is not None:
            per = f"/{unit}" if unit else ""
            rows.append(_Row("Đơn giá", f"{format_vnd(given['unit_value_vnd'])}{per}"))
        if given.get("unit_value_vnd") is not None or value not in ("0", 0):
            rows += [_Row("Trị giá", format_vnd(value), BOLD, 12), _Row("Bằng chữ", vnd_in_words(value), ITALIC)]
        return rows
    if kind == "labour":
        days = format_decimal(given.get("person_days", "0"))
        if given.get("day_rate_vnd") is not None:
            line = f"{days} ngày công × {format_vnd(given['day_rate_vnd'])} = {format_vnd(value)}"
            return [_Row("Lao động", line, BOLD, 10.5), _Row("Bằng chữ", vnd_in_words(value), ITALIC)]
        return [_Row("Lao động", f"{days} ngày công", BOLD, 10.5)]
    raise ValueError(f"a receipt for an unknown kind of contribution: {kind!r}")


def _issued_at_text(issued_at: str | None) -> str | None:
    if not issued_at:
        return None
    try:
        moment = datetime.fromisoformat(issued_at)
    except ValueError:
        return issued_at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(VIETNAM_TIME)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y} (giờ Việt Nam)"


# --- drawing -----------------------------------------------------------------------------------------------------

def _draw_centred(c: Canvas, lines: Iterable[str], font: str, size: float, y: float, leading: float) -> float:
    c.setFont(font, size)
    for line in lines:
        c.drawCentredString(PAGE_W / 2, y, line)
        y -= leading
    return y


def draw_qr(c: Canvas, matrix: Any, x: float, y: float, size: float) -> None:
    """The QR symbol as filled rectangles (one per run of dark modules in a row), its lower
    left corner at (x, y), `size` points wide, on a white quiet zone of QR_QUIET_MODULES."""
    n = len(matrix)
    module = size / n
    quiet = QR_QUIET_MODULES * module
    c.saveState()
    c.setFillColor(Color(1, 1, 1))
    c.rect(x - quiet, y - quiet, size + 2 * quiet, size + 2 * quiet, stroke=0, fill=1)
    c.setFillColor(black)
    c.translate(x, y + size)
    c.scale(module, -module)  # module units, rows going down as in the matrix
    # Integer operands written directly: going through the path object formats ~600
    # rectangles' floats one by one, which was a third of the page's time.
    ops = []
    for r, row in enumerate(matrix):
        start = None
        for col in range(n + 1):
            dark = col < n and row[col] & 1
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                ops.append(f"{start} {r} {col - start} 1 re")
                start = None
    ops.append("f")
    c.addLiteral("\n".join(ops))
    c.restoreState()


def _draw_void_mark(c: Canvas, centre_y: float) -> None:
    """The big diagonal "ĐÃ HỦY / VOIDED" across the body: outlined red letters with a light
    fill, so what is under them stays readable and the mark cannot pass for a smudge."""
    angle = 25
    # The largest size whose rotated box still fits between the margins.
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    unit_width = pdfmetrics.stringWidth(VOID_MARK, BOLD, 1)
    size = min(48.0, CONTENT_W / (unit_width * cos + 0.75 * sin))
    c.saveState()
    c.translate(PAGE_W / 2, centre_y)
    c.rotate(angle)
    c.setFillColor(Color(0.78, 0.06, 0.06, alpha=0.10))
    c.setStrokeColor(Color(0.78, 0.06, 0.06, alpha=0.85))
    c.setLineWidth(1.3)
    text = c.beginText()
    text.setTextRenderMode(2)  # fill and stroke
    text.setFont(BOLD, size)
    text.setTextOrigin(-pdfmetrics.stringWidth(VOID_MARK, BOLD, size) / 2, -size * 0.35)
    text.textOut(VOID_MARK)
    c.drawText(text)
    c.restoreState()


def _void_lines(void: dict[str, Any]) -> tuple[str, str]:
    statement = void.get("statement") or {}
    voided_on = statement.get("voided_on")
    try:
        when = format_date(voided_on) if voided_on else "?"
    except ValueError:
        when = str(voided_on)
    return f"ĐÃ HỦY ngày {when}", f"Lý do: {nfc(statement.get('reason') or 'không ghi')}"


def _draw_heading(c: Canvas, p: dict[str, Any]) -> float:
    """The committee, the fund, a short rule (as official documents have), the title, the
    campaign, the number and the date. Returns the y under them."""
    fund = p.get("fund") or {}
    campaign = p.get("campaign") or {}
    c.setFillColor(INK)
    y = TOP - 9
    committee = nfc(fund.get("committee") or DEFAULT_COMMITTEE).upper()
    y = _draw_centred(c, wrap(committee, BOLD, 9, CONTENT_W, max_lines=2), BOLD, 9, y, 11.5)
    y = _draw_centred(c, wrap(fund.get("name", ""), BOLD, 9.5, CONTENT_W, max_lines=3), BOLD, 9.5, y, 12)
    rule_at = y + 12 - 9  # 9 pt under the fund name's last baseline, clear of its descenders
    c.setStrokeColor(INK)
    c.setLineWidth(0.6)
    c.line(PAGE_W / 2 - 15 * mm, rule_at, PAGE_W / 2 + 15 * mm, rule_at)

    y -= 20
    y = _draw_centred(c, [TITLE], BOLD, 16, y, 17)
    if campaign.get("name"):
        lines = wrap(f"“{nfc(campaign['name'])}”", ITALIC, 9.5, CONTENT_W - 20 * mm, max_lines=2)
        y = _draw_centred(c, lines, ITALIC, 9.5, y, 12)
    y -= 3
    number_line = f"Số: {nfc(p.get('number', ''))}"
    try:
        number_line += f"     Ngày: {format_date(p['received_on'])}"
    except (KeyError, ValueError):
        pass
    return _draw_centred(c, [number_line], REGULAR, 9.5, y, 12)


def _draw_void_notice(c: Canvas, void: dict[str, Any], y: float) -> float:
    """The void in plain words, in a red box: the date and the reason. Returns the y under it."""
    first, second = _void_lines(void)
    reason_lines = wrap(second, REGULAR, 9, CONTENT_W - 14, max_lines=3)
    box_top = y + 3
    box_h = 8 + 11 + 5 + 11.5 * len(reason_lines) + 4
    c.saveState()
    c.setStrokeColor(RED)
    c.setLineWidth(1.4)
    c.rect(MARGIN_X, box_top - box_h, CONTENT_W, box_h, stroke=1, fill=0)
    c.setFillColor(RED)
    c.setFont(BOLD, 11)
    ly = box_top - 8 - 9
    c.drawString(MARGIN_X + 7, ly, f"{first} — VOIDED")
    c.setFont(REGULAR, 9)
    ly -= 5 + 11
    for line in reason_lines:
        c.drawString(MARGIN_X + 7, ly, line)
        ly -= 11.5
    c.restoreState()
    return box_top - box_h - 6


def _body_rows(p: dict[str, Any]) -> list[_Row]:
    campaign = p.get("campaign") or {}
    rows = [_Row(_donor_label(p.get("donor_kind")), p.get("donor", ""), BOLD, 11)]
    rows += _given_rows(p.get("given") or {})
    rows.append(_Row("Hình thức", METHODS.get(p.get("method"), p.get("method") or "")))
    if campaign.get("name"):
        rows.append(_Row("Mục đích", f"Ủng hộ chương trình “{nfc(campaign['name'])}”"))
    earmark = _earmark_text(p.get("earmark"))
    if earmark:
        rows.append(_Row("Chỉ định", earmark, BOLD))
    rows.append(_Row("Người lập", p.get("issued_by", "")))
    issued = _issued_at_text(p.get("issued_at"))
    if issued:
        rows.append(_Row("Lập lúc", issued, REGULAR, 8.5, GREY))
    return rows


def _body_height(laid: list[tuple[_Row, list[str]]], scale: float) -> float:
    return sum(len(lines) * row.size * scale * 1.3 + 5 * scale for row, lines in laid) + 30 * scale


def _draw_body(c: Canvas, rows: list[_Row], y: float, floor: float) -> None:
    """Label and value columns from y down, then the thanks, all above `floor`: the type
    shrinks a little for very long names and, past that, the longest values are shortened
    with "…" (only texts near their database column limits get there)."""
    label_w = 31 * mm
    value_w = CONTENT_W - label_w
    for scale in (1.0, 0.92, 0.85, 0.78, 0.7, 0.62):
        laid = [(row, wrap(row.value, row.font, row.size * scale, value_w)) for row in rows]
        if y - _body_height(laid, scale) >= floor:
            break
    while y - _body_height(laid, scale) < floor:
        row, lines = max(laid, key=lambda item: len(item[1]))
        if len(lines) < 2:
            break
        del lines[-1]
        lines[-1] = _ellipsis(lines[-1], row.font, row.size * scale, value_w)
    for row, lines in laid:
        size = row.size * scale
        c.setFillColor(GREY)
        c.setFont(REGULAR, 8.5 * scale)
        c.drawString(MARGIN_X, y - size, f"{row.label}:")
        c.setFillColor(row.color)
        c.setFont(row.font, size)
        for line in lines:
            c.drawString(MARGIN_X + label_w, y - size, line)
            y -= size * 1.3
        y -= 5 * scale
    c.setFillColor(INK)
    _draw_centred(c, [THANKS], ITALIC, 10 * scale, y - 16 * scale, 12)


def _draw_footer(c: Canvas, p: dict[str, Any], url: str, matrix: Any, quiet: float, rule_y: float) -> None:
    """The QR code, how to check it, the URL, the signing key and the log entry."""
    c.setStrokeColor(RULE)
    c.setLineWidth(0.4)
    c.line(MARGIN_X, rule_y, PAGE_W - MARGIN_X, rule_y)
    draw_qr(c, matrix, MARGIN_X, BOTTOM, QR_SIZE)  # its quiet zone may reach into the white margins
    text_x = MARGIN_X + QR_SIZE + quiet + 2 * mm
    text_w = PAGE_W - MARGIN_X - text_x
    ty = BOTTOM + QR_SIZE - 9
    c.setFillColor(INK)
    c.setFont(BOLD, 9)
    for line in wrap(QR_HINT, BOLD, 9, text_w):
        c.drawString(text_x, ty, line)
        ty -= 11.5
    ty -= 2
    c.setFillColor(GREY)
    c.setFont(REGULAR, 6.5)
    for line in wrap(url, REGULAR, 6.5, text_w, max_lines=4):
        c.drawString(text_x, ty, line)
        ty -= 8
    ty -= 5
    c.setFont(REGULAR, 8)
    c.setFillColor(INK)
    for text in (f"Mã khóa ký: {p.get('key_id', '')}", f"Nhật ký minh bạch: mục số {p.get('leaf_index', '')}"):
        c.drawString(text_x, ty, wrap(text, REGULAR, 8, text_w, max_lines=1)[0])
        ty -= 10


def _draw_page(c: Canvas, envelope: Envelope, url: str) -> None:
    p = envelope.payload
    y = _draw_heading(c, p)
    if envelope.void is not None:
        y = _draw_void_notice(c, envelope.void, y)

    # The footer's height depends on the QR's quiet zone, which is in modules.
    matrix = qr_matrix(url)
    quiet = QR_QUIET_MODULES * QR_SIZE / len(matrix)
    rule_y = BOTTOM + QR_SIZE + quiet + 3
    footer_top = rule_y + 8

    y -= 8
    c.setStrokeColor(RULE)
    c.setLineWidth(0.4)
    c.line(MARGIN_X, y, PAGE_W - MARGIN_X, y)
    body_top = y
    _draw_body(c, _body_rows(p), y - 12, footer_top)
    _draw_footer(c, p, url, matrix, quiet, rule_y)
    if envelope.void is not None:
        _draw_void_mark(c, (body_top + footer_top) / 2)


# --- attachments -------------------------------------------------------------------------------------------------

def _pdf_string_key(name: str) -> bytes:
    """The bytes a PDF string of `name` holds: name trees are sorted by them."""
    try:
        return name.encode("pdfdoc")
    except UnicodeEncodeError:
        return b"\xfe\xff" + name.encode("utf-16-be")


def _attach_envelopes(c: Canvas, envelopes: list[Envelope]) -> None:
    """Each envelope as an embedded file `{number}.json`, listed in the catalog's
    /Names /EmbeddedFiles name tree (sorted by name) and, in page order, in the catalog's
    /AF (associated files) array, which is how read_envelopes keeps the pages' order."""
    doc = c._doc
    entries = []
    for envelope in envelopes:
        name = nfc(envelope.number) + ATTACHMENT_SUFFIX
        data = envelope.to_json().encode("utf-8")
        stream = pdfdoc.PDFStream(pdfdoc.PDFDictionary({
            "Type": "/EmbeddedFile",
            "Subtype": "/application#2Fjson",  # PDFName would escape the '#' of the encoded '/'
            "Params": pdfdoc.PDFDictionary({"Size": len(data)}),
        }), content=data, filters=[pdfdoc.PDFZCompress])
        filespec = pdfdoc.PDFDictionary({
            "Type": "/Filespec",
            "F": pdfdoc.PDFString(name),
            "UF": pdfdoc.PDFString(name),
            "Desc": pdfdoc.PDFString(f"Giấy xác nhận đóng góp số {nfc(envelope.number)}, bản ký số"),
            "AFRelationship": "/Data",
            "EF": pdfdoc.PDFDictionary({"F": stream, "UF": stream}),
        })
        entries.append((name, doc.Reference(filespec)))
    names = sorted(entries, key=lambda e: _pdf_string_key(e[0]))
    tree = []
    for name, ref in names:
        tree += [pdfdoc.PDFString(name), ref]
    c.setCatalogEntry("Names", {"EmbeddedFiles": pdfdoc.PDFDictionary({"Names": pdfdoc.PDFArray(tree)})})
    catalog = doc.Catalog
    # ReportLab writes only the catalog keys its class lists; add /AF for this catalog alone.
    catalog.__NoDefault__ = [*type(catalog).__NoDefault__, "AF"]
    catalog.AF = pdfdoc.PDFArray([ref for _, ref in entries])


# --- public API --------------------------------------------------------------------------------------------------

def render_pdf(documents: list[tuple[Envelope, str]]) -> bytes:
    """A PDF with one A5 page per (envelope, QR URL), each envelope attached as `{number}.json`."""
    if not documents:
        raise ValueError("no receipt to render")
    numbers = [nfc(envelope.number) for envelope, _ in documents]
    if len(set(numbers)) != len(numbers):  # one attachment name each
        raise ValueError("two receipts with the same number in one PDF")
    register_fonts()
    out = io.BytesIO()
    c = Canvas(out, pagesize=A5, pageCompression=1, lang="vi")
    _seed_subsets(c)
    first = documents[0][0].payload
    if len(documents) == 1:
        c.setTitle(f"{TITLE.capitalize()} số {nfc(first.get('number', ''))}")
    else:
        c.setTitle(f"{TITLE.capitalize()} ({len(documents)} giấy)")
    c.setAuthor(nfc((first.get("fund") or {}).get("committee") or DEFAULT_COMMITTEE))
    c.setSubject(nfc((first.get("campaign") or {}).get("name") or ""))
    c.setCreator("chung-tay-ledger")
    for envelope, url in documents:
        _draw_page(c, envelope, url)
        c.showPage()
    _attach_envelopes(c, [envelope for envelope, _ in documents])
    c.save()
    return out.getvalue()


def read_envelopes(pdf: bytes) -> list[Envelope]:
    """The envelopes attached to a receipt PDF, in page order.

    Raises ValueError when `pdf` is not a PDF, or carries no receipt, or an attached
    `*.json` is not a receipt envelope.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if b"%PDF-" not in pdf[:1024]:  # where readers look for the header
        raise ValueError("not a PDF file")
    try:
        reader = PdfReader(io.BytesIO(pdf))
        order = _associated_file_names(reader)
        attachments = {name: list(contents) for name, contents in reader.attachments.items()
                       if name.endswith(ATTACHMENT_SUFFIX)}
    except (PyPdfError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"not a readable PDF file: {exc}") from exc
    if not attachments:
        raise ValueError("this PDF carries no receipt (no attached .json envelope)")
    names = [n for n in order if n in attachments]  # page order, when the PDF says it
    names += [n for n in attachments if n not in names]
    envelopes = []
    for name in names:
        for content in attachments[name]:
            try:
                envelopes.append(Envelope.from_json(content))
            except ValueError as exc:
                raise ValueError(f"the attached {name} is not a receipt envelope: {exc}") from exc
    return envelopes


def _associated_file_names(reader: Any) -> list[str]:
    """The names in the catalog's /AF array, in page order; [] when there is none."""
    af = reader.trailer["/Root"].get("/AF")
    if af is None:
        return []
    names = []
    for spec in af.get_object():
        spec = spec.get_object()
        name = spec.get("/UF") or spec.get("/F")
        if isinstance(name, str):
            names.append(str(name))
    return names
