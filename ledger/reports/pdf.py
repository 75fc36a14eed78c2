"""The committee's summary as a PDF to sign: one campaign, one area, one period, in Vietnamese.

Drawn with ReportLab's Platypus (tables that flow over pages) in Be Vietnam Pro, registered
once per process by receipts.pdf (ReportLab's own fonts lack ă, đ, ơ, ư ...). Every text is
NFC-normalised before it is drawn: ReportLab does not position combining marks.
"""
from __future__ import annotations

import io
from datetime import date
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from receipts.pdf import BOLD, ITALIC, REGULAR, nfc, register_fonts
from receipts.words import DONG, NBSP, format_decimal, format_vnd

from . import service

MARGIN = 15 * mm
WIDTH = A4[0] - 2 * MARGIN
TOP_IN_PDF = 3  # donors of each kind on the summary (the full list is the XLSX)
COMMITTEE = "ỦY BAN MẶT TRẬN TỔ QUỐC VIỆT NAM"
BOARD = "BAN VẬN ĐỘNG"
KIND_NAMES = {"cash": "Tiền mặt", "material": "Hiện vật (quy ra tiền)", "labour": "Ngày công (quy ra tiền)"}
DONOR_KIND_NAMES = {"business": "Doanh nghiệp", "union": "Đoàn thể, hội", "agency": "Cơ quan, đơn vị",
                    "state": "Ngân sách nhà nước", "individual": "Cá nhân", "anonymous": "Nhà hảo tâm ẩn danh"}
STATUS_NAMES = {"surveyed": "Đã khảo sát", "approved": "Đã phê duyệt", "building": "Đang xây dựng",
                "completed": "Đã hoàn thành", "handed_over": "Đã bàn giao"}
SIGNERS = ("NGƯỜI LẬP BIỂU", "KẾ TOÁN", "TRƯỞNG BAN")
GRID = colors.Color(0.55, 0.55, 0.58)
SHADE = colors.Color(0.93, 0.94, 0.96)


def _style(name: str, font: str = REGULAR, size: float = 9, align=TA_LEFT, leading: float | None = None,
           space_after: float = 0) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading or size * 1.3, alignment=align,
                          spaceAfter=space_after)


BODY = _style("body", space_after=2)
CELL = _style("cell", size=7.5)
CELL_NUM = _style("num", size=7.5, align=TA_RIGHT)
CELL_HEAD = _style("head", font=BOLD, size=7.5, align=TA_CENTER)
CELL_BOLD = _style("cellbold", font=BOLD, size=7.5)
CELL_NUM_BOLD = _style("numbold", font=BOLD, size=7.5, align=TA_RIGHT)
TITLE = _style("title", font=BOLD, size=14, align=TA_CENTER, leading=18, space_after=4)
SUBTITLE = _style("subtitle", font=BOLD, size=10.5, align=TA_CENTER, space_after=2)
CENTRE = _style("centre", align=TA_CENTER)
CENTRE_BOLD = _style("centrebold", font=BOLD, size=9, align=TA_CENTER)
CENTRE_ITALIC = _style("centreitalic", font=ITALIC, size=8.5, align=TA_CENTER)
RIGHT_ITALIC = _style("rightitalic", font=ITALIC, size=9, align=TA_RIGHT)
HEADING = _style("heading", font=BOLD, size=10.5, leading=14, space_after=3)


def _p(text, style=CELL) -> Paragraph:
    return Paragraph(escape(nfc(text)), style)


def _vnd(amount: int) -> str:
    """An amount in a table whose header says "(đồng)": 1.000.000, without the symbol."""
    return format_vnd(amount).removesuffix(NBSP + DONG)


def _day(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


def _table(header: list[str], rows: list[list], widths: list[float], total_rows: int = 0, text_columns: int = 1
           ) -> Table:
    """A grid: the header shaded and repeated on every page; the first `text_columns` are
    text (left), the others figures (right); the last `total_rows` in bold."""
    data = [[_p(h, CELL_HEAD) for h in header]]
    for i, row in enumerate(rows):
        bold = i >= len(rows) - total_rows
        data.append([_p(c, (CELL_BOLD if bold else CELL) if j < text_columns else
                        (CELL_NUM_BOLD if bold else CELL_NUM)) for j, c in enumerate(row)])
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _columns(first: float, n: int) -> list[float]:
    return [first] + [(WIDTH - first) / n] * n


# --- the sections --------------------------------------------------------------------------

def _heading_block(summary: service.CommitteeSummary) -> list:
    scope = summary.scope
    campaign = scope.campaigns[0]
    left = [_p(COMMITTEE, CENTRE_BOLD), _p(BOARD + " " + campaign.code, CENTRE_BOLD)]
    right = [_p("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", CENTRE_BOLD), _p("Độc lập – Tự do – Hạnh phúc", CENTRE_BOLD)]
    top = Table([[left, right]], colWidths=[WIDTH * 0.45, WIDTH * 0.55])
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                             ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    if scope.date_from or scope.date_to:
        start = _day(scope.date_from) if scope.date_from else "đầu cuộc vận động"
        period = f"Kỳ báo cáo: từ {start} đến {_day(scope.date_to or scope.today)}"
    else:
        period = f"Kỳ báo cáo: từ đầu cuộc vận động đến {_day(scope.today)}"
    area = scope.area.name if scope.area else "Toàn quốc"
    place = f"{scope.area.name}, " if scope.area else ""
    if scope.fund is not None:
        area += f" — quỹ {scope.fund.name} ({scope.fund.code})"
    return [
        top, Spacer(0, 8),
        _p(f"{place}ngày {scope.today.day:02d} tháng {scope.today.month:02d} năm {scope.today.year}", RIGHT_ITALIC),
        Spacer(0, 6),
        _p("BÁO CÁO TỔNG HỢP KẾT QUẢ VẬN ĐỘNG, TIẾP NHẬN VÀ PHÂN BỔ", TITLE),
        _p(f"Cuộc vận động “{campaign.name}”", SUBTITLE),
        _p(period, CENTRE), _p(f"Địa bàn: {area}", CENTRE),
        _p(f"Số dư tính đến ngày {_day(scope.today)}", CENTRE_ITALIC), *_checkpoint_line(summary), Spacer(0, 8),
    ]


def _checkpoint_line(summary: service.CommitteeSummary) -> list:
    """Which state of the public log the figures were read at: the committee signs figures
    anyone can tie to the log (GET /api/v1/transparency/consistency from this size)."""
    if summary.checkpoint is None:
        return []
    size, root = summary.checkpoint
    return [_p(f"Số liệu lấy từ sổ cái tại điểm kiểm chứng của nhật ký minh bạch: {size} giao dịch, "
               f"gốc {root}", CENTRE_ITALIC)]


def _reconciliation(summary: service.CommitteeSummary) -> list:
    [section] = summary.reconciliation.campaigns
    totals = section.totals
    header = ["Loại nguồn lực", "Đã cam kết", "Đã tiếp nhận", "Chuyển đến", "Chuyển đi", "Đã phân bổ", "Còn lại"]
    rows = []
    for kind, k in totals.kinds.items():
        rows.append([KIND_NAMES[kind], _vnd(k.pledged_vnd), _vnd(k.received_vnd), _vnd(k.transferred_in_vnd),
                     _vnd(k.transferred_out_vnd), _vnd(k.allocated_vnd), _vnd(k.remaining_vnd)])
    t = totals.total
    rows.append(["Tổng cộng", _vnd(t.pledged_vnd), _vnd(t.received_vnd), _vnd(t.transferred_in_vnd),
                 _vnd(t.transferred_out_vnd), _vnd(t.allocated_vnd), _vnd(t.remaining_vnd)])
    out = [_p("I. ĐỐI CHIẾU NGUỒN LỰC (đơn vị: đồng)", HEADING),
           _table(header, rows, _columns(36 * mm, 6), total_rows=1), Spacer(0, 3)]
    items = [line for line in totals.lines if line.kind != "cash"]
    if items:
        rows = [[f"{line.item or 'Ngày công'} ({'ngày công' if line.kind == 'labour' else line.unit})",
                 *(format_decimal(line.quantity(f)) for f in ("received", "transferred_in", "transferred_out",
                                                               "allocated", "remaining"))] for line in items]
        out += [_p("Hiện vật và ngày công theo số lượng:", BODY),
                _table(["Hiện vật / ngày công", "Đã tiếp nhận", "Chuyển đến", "Chuyển đi", "Đã phân bổ", "Còn lại"],
                       rows, _columns(57 * mm, 5)), Spacer(0, 3)]
    if section.areas:
        rows = [[b.label, _vnd(b.total.received_vnd), _vnd(b.total.transferred_in_vnd - b.total.transferred_out_vnd),
                 _vnd(b.total.allocated_vnd), _vnd(b.total.remaining_vnd)] for b in section.areas]
        out += [_p("Theo địa bàn (quy ra tiền, đồng):", BODY),
                _table(["Địa bàn", "Đã tiếp nhận", "Chuyển đến (ròng)", "Đã phân bổ", "Còn lại"], rows,
                       _columns(60 * mm, 4)), Spacer(0, 3)]
    check = ("Số còn lại khớp với số dư các quỹ trên sổ cái (tiếp nhận + chuyển đến − chuyển đi − phân bổ)."
             if totals.balanced else "CẢNH BÁO: số còn lại KHÔNG khớp với số dư các quỹ trên sổ cái; cần kiểm tra.")
    out.append(_p(check, BODY))
    return out


def _coverage(summary: service.CommitteeSummary) -> list:
    [section] = summary.coverage.campaigns
    c = section.totals
    statuses = _table([*STATUS_NAMES.values(), "Tổng số hộ"],
                      [[*(str(c.by_status.get(s, 0)) for s in STATUS_NAMES), str(c.households)]],
                      [WIDTH / 6] * 6, text_columns=0)
    money = [["Kinh phí được duyệt cho các hộ đã phê duyệt (đồng)", _vnd(c.approved_vnd)],
             ["Đã phân bổ cho các hộ (đồng)", _vnd(c.allocated_vnd)],
             ["Số hộ đã được hỗ trợ đủ", str(c.fully_funded)],
             ["Số hộ chưa được hỗ trợ đủ", str(c.under_funded)],
             ["Số lần phân bổ vượt mức được duyệt (có lý do, đã phê duyệt)", str(len(section.overrides))]]
    return [_p("II. HỘ GIA ĐÌNH ĐƯỢC HỖ TRỢ", HEADING),
            KeepTogether([_p("Số hộ theo tình trạng:", BODY), statuses, Spacer(0, 3),
                          _table(["Chỉ tiêu", "Giá trị"], money, [WIDTH - 40 * mm, 40 * mm])]),
            Spacer(0, 3)]


def _late_and_waiting(summary: service.CommitteeSummary) -> list:
    overdue, waiting = summary.overdue, summary.unallocated
    rows = [["Cam kết quá hạn chưa thực hiện đủ", str(overdue.count), _vnd(overdue.remaining_vnd)],
            [f"Khoản đóng góp nhận quá {summary.scope.older_than_days} ngày chưa phân bổ hết", str(waiting.count),
             _vnd(waiting.remaining_vnd)]]
    return [_p("III. CAM KẾT QUÁ HẠN VÀ NGUỒN LỰC CHƯA PHÂN BỔ", HEADING),
            _table(["Nội dung", "Số lượng", "Giá trị còn lại (đồng)"], rows, [WIDTH - 75 * mm, 25 * mm, 50 * mm]),
            Spacer(0, 3)]


def _commendations(summary: service.CommitteeSummary) -> list:
    rows = []
    for ranking in summary.commendations.by_kind:
        for c in ranking.top[:TOP_IN_PDF]:
            rows.append([DONOR_KIND_NAMES.get(ranking.code, ranking.label), str(c.rank), c.name, _vnd(c.total_vnd)])
        if ranking.anonymous_donors:  # counted, never named
            rows.append([DONOR_KIND_NAMES.get(ranking.code, ranking.label), "",
                         f"Nhà hảo tâm ẩn danh ({ranking.anonymous_donors})", _vnd(ranking.anonymous_vnd)])
    out = [_p("IV. ĐỀ NGHỊ BIỂU DƯƠNG, KHEN THƯỞNG", HEADING)]
    if rows:
        out.append(_table(["Nhóm", "Hạng", "Tổ chức, cá nhân", "Tổng giá trị (đồng)"], rows,
                          [38 * mm, 14 * mm, WIDTH - 92 * mm, 40 * mm], text_columns=3))
    else:
        out.append(_p("Không có đóng góp nào trong kỳ.", BODY))
    return out + [Spacer(0, 3)]


def _signatures(summary: service.CommitteeSummary) -> list:
    # The head of the board signs for it: the seal goes there.
    notes = ("(Ký, ghi rõ họ tên)", "(Ký, ghi rõ họ tên)", "(Ký, ghi rõ họ tên, đóng dấu)")
    cells = [[_p(signer, CENTRE_BOLD), _p(note, CENTRE_ITALIC)] for signer, note in zip(SIGNERS, notes, strict=True)]
    table = Table([cells, ["", "", ""]], colWidths=[WIDTH / 3] * 3, rowHeights=[None, 28 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [Spacer(0, 8), KeepTogether([table])]


def _page_number(canvas, doc) -> None:
    canvas.saveState()
    canvas.setFont(REGULAR, 7.5)
    canvas.setFillColor(colors.Color(0.35, 0.35, 0.38))
    canvas.drawRightString(A4[0] - MARGIN, 9 * mm, nfc(f"Trang {doc.page}"))
    canvas.drawString(MARGIN, 9 * mm, nfc("Lập từ sổ cái Chung tay xóa nhà tạm, nhà dột nát"))
    canvas.restoreState()


def committee_pdf(summary: service.CommitteeSummary) -> bytes:
    register_fonts()
    out = io.BytesIO()
    campaign = summary.scope.campaigns[0]
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=13 * mm,
                            bottomMargin=16 * mm, title=nfc(f"Báo cáo tổng hợp – {campaign.name}"),
                            author=nfc(COMMITTEE), subject=nfc(campaign.name), creator="chung-tay-ledger",
                            lang="vi")
    # The last section stays on the page of the signatures: a signed page is never blank.
    story = (_heading_block(summary) + _reconciliation(summary) + _coverage(summary) + _late_and_waiting(summary)
             + [KeepTogether(_commendations(summary) + _signatures(summary))])
    doc.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
    return out.getvalue()
