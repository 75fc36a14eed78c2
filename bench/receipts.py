"""Benchmark of receipt documents: PDFs, signatures and verifications.

What it measures, on n sample receipts (cash, material and labour, some earmarked, every
tenth voided), each signed with a fresh Ed25519 key over receipts.payload.canonical_bytes:

  receipt PDF       receipts.pdf.render_pdf on one receipt at a time: n single-page PDFs
                    with the QR code, the text, the fonts and the attached envelope
  bare QR page      the limit: a ReportLab A5 page with only the same QR code (the same
                    receipts.qr.qr_matrix and drawing) and one line of text in the same font;
                    "ratio" is how many bare pages one receipt PDF costs
  QR encoding       receipts.qr.qr_matrix alone, the part of both figures above that neither
                    the PDF code nor ReportLab controls
  sign              canonical_bytes(payload) and SigningKey.sign
  verify            receipts.envelope.verify_envelope

Rates are per core: they come from this process's CPU time (time.process_time), which
other work on a shared machine does not inflate the way it does wall-clock time.

Usage: python bench/receipts.py [-n 1000]
"""
from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reportlab.lib.pagesizes import A5  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from bench.summary import emit, figure  # noqa: E402
from receipts.envelope import Envelope, verify_envelope  # noqa: E402
from receipts.payload import build_payload, build_void_statement, canonical_bytes  # noqa: E402
from receipts.pdf import REGULAR, draw_qr, register_fonts, render_pdf  # noqa: E402
from receipts.qr import qr_matrix, receipt_url  # noqa: E402
from receipts.signing import SigningKey  # noqa: E402

PUBLIC_URL = "https://minhbach.mattran.hanoi.gov.vn"
DONORS = ["Công ty Cổ phần Sữa Việt Nam", "Nguyễn Văn An", "Công đoàn Ngân hàng TMCP Ngoại thương Việt Nam",
          "Hội Liên hiệp Phụ nữ phường Hoàn Kiếm", None, "Tập đoàn Công nghiệp – Viễn thông Quân đội"]
RESOURCES = [
    {"kind": "cash", "amount_vnd": 5_000_000, "value_vnd": 5_000_000},
    {"kind": "material", "item": "Xi măng PCB40", "unit": "tấn", "quantity": "12.500", "unit_value_vnd": 1_450_000,
     "value_vnd": 18_125_000},
    {"kind": "labour", "person_days": "8.50", "day_rate_vnd": 300_000, "value_vnd": 2_550_000},
]


def sample_payloads(n: int, key_id: str) -> list[dict]:
    payloads = []
    for i in range(n):
        resource = dict(RESOURCES[i % 3])
        if resource["kind"] == "cash":
            resource["amount_vnd"] = resource["value_vnd"] = 1_000_000 + 37_000 * i
        earmark = {"area_code": "38001", "area_name": "Xã Mường Lát", "household": f"Hộ ông Lò Văn {i}"} \
            if i % 4 == 0 else None
        payloads.append(build_payload(
            number=f"HN-2025-{i + 1:06d}", fund={"code": "HN-VNN", "name": "Quỹ Vì người nghèo thành phố Hà Nội",
                                                 "committee": "ỦY BAN MẶT TRẬN TỔ QUỐC VIỆT NAM THÀNH PHỐ HÀ NỘI"},
            campaign={"code": "XNT-2025", "name": "Chung tay xóa nhà tạm, nhà dột nát"}, received_on="2025-07-05",
            donor=DONORS[i % len(DONORS)], donor_kind="business", method="bank_transfer", resource=resource,
            earmark=earmark, issued_by="Nguyễn Thị Thu Hà", issued_at="2025-07-05T02:15:00Z", key_id=key_id,
            leaf_index=10_000 + i))
    return payloads


def bare_pdf(url: str, line: str) -> bytes:
    out = io.BytesIO()
    c = Canvas(out, pagesize=A5, pageCompression=1)
    draw_qr(c, qr_matrix(url), 15 * mm, 11 * mm, 32 * mm)
    c.setFont(REGULAR, 10)
    c.drawString(15 * mm, A5[1] - 20 * mm, line)
    c.showPage()
    c.save()
    return out.getvalue()


def timed(label: str, n: int, fn) -> float:
    print(f"{label} ...", file=sys.stderr, flush=True)
    start = time.process_time()
    for i in range(n):
        fn(i)
        if (i + 1) % 250 == 0:
            print(f"  {i + 1}/{n}", file=sys.stderr, flush=True)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="receipts per measurement (default 1000)")
    n = parser.parse_args().n

    key = SigningKey.generate()
    keys = {key.key_id: key.public_key}
    payloads = sample_payloads(n, key.key_id)
    envelopes: list[Envelope] = [None] * n  # type: ignore[list-item]

    def sign(i: int) -> None:
        envelopes[i] = Envelope(payloads[i], key.sign(canonical_bytes(payloads[i])))

    t_sign = timed("signing", n, sign)
    for i in range(0, n, 10):  # every tenth voided, as the ledger would attach the statement
        statement = build_void_statement(number=payloads[i]["number"], voided_on="2025-07-10",
                                         reason="Nhập trùng giao dịch", key_id=key.key_id)
        envelopes[i].void = {"statement": statement, "signature": key.sign(canonical_bytes(statement))}
    urls = [receipt_url(PUBLIC_URL, e.number, e.signature) for e in envelopes]

    def verify(i: int) -> None:
        if verify_envelope(envelopes[i], keys).status == "not_genuine":
            raise SystemExit(f"sample {envelopes[i].number} does not verify")

    t_verify = timed("verifying", n, verify)

    register_fonts()  # once per process, as in the service: not part of any PDF's cost
    render_pdf([(envelopes[0], urls[0])])
    bare_pdf(urls[0], "Số: HN-2025-000001")
    t_qr = timed("QR encoding", n, lambda i: qr_matrix(urls[i]))
    t_pdf = timed("receipt PDFs", n, lambda i: render_pdf([(envelopes[i], urls[i])]))
    t_bare = timed("bare QR pages", n, lambda i: bare_pdf(urls[i], f"Số: {envelopes[i].number}"))

    rows = [("receipt PDF (render_pdf)", t_pdf), ("bare QR page (the limit)", t_bare),
            ("QR encoding (qr_matrix)", t_qr), ("sign", t_sign), ("verify", t_verify)]
    print(f"{'n = ' + str(n):<28} {'CPU s':>8} {'ms each':>8} {'per s':>9}")
    for label, seconds in rows:
        print(f"{label:<28} {seconds:8.3f} {seconds / n * 1000:8.3f} {n / seconds:9.1f}")
    print(f"{'ratio PDF / bare page':<28} {'':>8} {'':>8} {t_pdf / t_bare:9.2f}")
    # For bench/run.py: the same CPU-time figures, machine-readable.
    emit("receipt PDFs", [
        figure("receipt PDFs per second per core", n / t_pdf, "PDFs/s", limit=n / t_bare,
               limit_name="bare ReportLab page with the QR", target=100, n=n),
        figure("sign", t_sign / n * 1000, "ms", higher_is_better=False, n=n),
        figure("verify", t_verify / n * 1000, "ms", higher_is_better=False, n=n),
    ])


if __name__ == "__main__":
    main()
