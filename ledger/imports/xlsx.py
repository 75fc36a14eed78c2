"""A statement's .xlsx read straight from its parts (sheet paths, shared strings, date
styles), for ledger.imports.statements.

openpyxl builds an object per cell and reads about 40,000 cells a second, too slow for a
statement of 200,000 lines; this reads the same cells (shared and inline strings,
numbers, booleans, dates by their number format) several times faster, streaming the
sheet. Workbooks it does not understand go to openpyxl (statements._open_xlsx_openpyxl).
"""
from __future__ import annotations

import codecs
import html
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime

_XML_ROW = re.compile(r"<(?:\w+:)?row\b((?:[^>/]|/(?!>))*)(?:/>|>(.*?)</(?:\w+:)?row>)", re.S)
_XML_CELL = re.compile(r"<(?:\w+:)?c\b((?:[^>/]|/(?!>))*)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_XML_V = re.compile(r"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.S)
_XML_T = re.compile(r"<(?:\w+:)?t(?:\s[^>]*)?>(.*?)</(?:\w+:)?t>", re.S)
_XML_PHONETIC = re.compile(r"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)
_XML_REF = re.compile(r'\br="([A-Z]+)?(\d+)"')
_XML_PLAIN_CELL = re.compile(r'<c r="([A-Z]+)\d+"(?: s="(\d+)")?(?: t="(\w+)")?'
                             r'(?:/>|><v>([^<]*)</v></c>|><is><t(?: xml:space="preserve")?>([^<]*)</t></is></c>)')
_XML_ATTR = re.compile(r'([\w]+)="([^"]*)"')
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_INT_TEXT = re.compile(r"-?\d+")


def _xml_text(raw: str) -> str:
    if "&" in raw:
        raw = html.unescape(raw)
    if "_x" in raw:
        raw = _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), raw)
    return raw


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1


class FastWorkbook:
    """An .xlsx read straight from its parts: sheet paths, shared strings, date styles."""

    NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}

    def __init__(self, data: bytes):
        from xml.etree import ElementTree

        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.column_cache: dict[str, int] = {}
        m, r = "{" + self.NS["m"] + "}", "{" + self.NS["r"] + "}"
        book = ElementTree.fromstring(self.zip.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(self.zip.read("xl/_rels/workbook.xml.rels"))
        targets = {rel.get("Id"): rel.get("Target") for rel in rels}
        paths = []
        for sheet in book.iter(m + "sheet"):
            target = targets[sheet.get(r + "id")]
            paths.append(target.lstrip("/") if target.startswith("/") else "xl/" + target)
        view = book.find(f"{m}bookViews/{m}workbookView")
        active = int(view.get("activeTab", 0)) if view is not None else 0
        if not paths:
            raise KeyError("no sheet")
        active = min(active, len(paths) - 1)
        self.sheet_paths = [paths[active]] + [p for i, p in enumerate(paths) if i != active]
        pr = book.find(m + "workbookPr")
        self.epoch = CALENDAR_MAC_1904 if pr is not None and pr.get("date1904") in ("1", "true") \
            else CALENDAR_WINDOWS_1900
        self.strings: list[str] = []
        if "xl/sharedStrings.xml" in self.zip.namelist():
            with self.zip.open("xl/sharedStrings.xml") as src:
                for _, element in ElementTree.iterparse(src):
                    if element.tag == m + "si":
                        self.strings.append("".join(t.text or "" for t in element.iter(m + "t")
                                                    if not _is_phonetic(element, t, m)))
                        element.clear()
        self.date_styles: set[int] = set()
        if "xl/styles.xml" in self.zip.namelist():
            styles = ElementTree.fromstring(self.zip.read("xl/styles.xml"))
            formats = dict(BUILTIN_FORMATS)
            for fmt in styles.iter(m + "numFmt"):
                formats[int(fmt.get("numFmtId"))] = fmt.get("formatCode") or ""
            xfs = styles.find(m + "cellXfs")
            for index, xf in enumerate(xfs if xfs is not None else []):
                code = formats.get(int(xf.get("numFmtId", 0)), "")
                if code and is_date_format(code):
                    self.date_styles.add(index)

    def rows(self, path: str) -> Iterator[tuple[int, list]]:
        from openpyxl.utils.datetime import from_excel

        decoder = codecs.getincrementaldecoder("utf-8")()
        buffer, number = "", 0
        with self.zip.open(path) as src:
            while True:
                chunk = src.read(1 << 20)
                buffer += decoder.decode(chunk, final=not chunk)
                end = 0
                for row in _XML_ROW.finditer(buffer):
                    end = row.end()
                    ref = _XML_REF.search(row.group(1))
                    number = int(ref.group(2)) if ref else number + 1
                    yield number, self._cells(row.group(2) or "", from_excel)
                buffer = buffer[end:]
                if not chunk:
                    break

    def _cells(self, content: str, from_excel) -> list:
        plain = _XML_PLAIN_CELL.findall(content)
        if len(plain) != content.count("<c"):
            return self._any_cells(content, from_excel)
        cells: list = []
        columns = self.column_cache
        strings, date_styles = self.strings, self.date_styles
        for letters, style, kind, text, inline in plain:   # <c r="B7" s="3" t="s"><v>12</v></c> and the like
            index = columns.get(letters)
            if index is None:
                index = columns[letters] = _column_index(letters)
            if kind == "inlineStr":
                value = _xml_text(inline)
            elif not text:
                continue
            elif kind == "s":
                value = strings[int(text)]
            elif not kind or kind == "n":
                number = int(text) if _INT_TEXT.fullmatch(text) else float(text)
                value = from_excel(number, self.epoch) if style and int(style) in date_styles else number
            elif kind in ("str", "e"):
                value = _xml_text(text)
            elif kind == "b":
                value = text.strip() == "1"
            elif kind == "d":
                value = datetime.fromisoformat(text.strip())
            else:
                return self._any_cells(content, from_excel)
            if index > len(cells):
                cells.extend([None] * (index - len(cells)))
            if index == len(cells):
                cells.append(value)
            else:
                cells[index] = value
        return cells

    def _any_cells(self, content: str, from_excel) -> list:
        cells: list = []
        columns = self.column_cache
        for attrs, inner in _XML_CELL.findall(content):
            a = dict(_XML_ATTR.findall(attrs))
            ref = a.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                index = columns.get(letters)
                if index is None:
                    index = columns[letters] = _column_index(letters)
            else:
                index = len(cells)
            kind = a.get("t", "n")
            if kind == "inlineStr":
                value = _xml_text("".join(_XML_T.findall(_XML_PHONETIC.sub("", inner))))
            else:
                if inner.startswith("<v>") and inner.endswith("</v>"):
                    text = inner[3:-4]
                else:
                    v = _XML_V.search(inner)
                    if v is None:
                        continue
                    text = v.group(1)
                if kind == "s":
                    value = self.strings[int(text)]
                elif kind in ("str", "e"):
                    value = _xml_text(text)
                elif kind == "b":
                    value = text.strip() == "1"
                elif kind == "d":
                    value = datetime.fromisoformat(text.strip())
                else:
                    number = int(text) if _INT_TEXT.fullmatch(text) else float(text)
                    style = a.get("s")
                    if style and int(style) in self.date_styles:
                        value = from_excel(number, self.epoch)
                    else:
                        value = number
            if index >= len(cells):
                if index > len(cells):
                    cells.extend([None] * (index - len(cells)))
                cells.append(value)
            else:
                cells[index] = value
        return cells

    def close(self) -> None:
        self.zip.close()


def _is_phonetic(si, t, m) -> bool:
    """True for the text of a phonetic run (rPh) inside a shared string."""
    return any(t in list(ph.iter(m + "t")) for ph in si.iter(m + "rPh"))
