"""Generates the BIDV and Agribank sample statements beside this file, with their expected figures.

    .venv/bin/python tests/data/statements/generate.py

Synthetic and deterministic (a seeded random generator): names, accounts and references are
made up. The layouts are plausible designs, not copies of the banks' real exports:

* BIDV (`bidv-2025-03.xlsx`): title rows with typed cells (period as date cells, opening
  balance as a number), a header "STT | Ngày hiệu lực/ Ngày giao dịch | Số tham chiếu | Ghi nợ |
  Ghi có | Số dư | Mô tả | Kênh giao dịch" (an extra column), typed date-time cells, amounts as
  numbers (some as integral floats, the empty side sometimes 0), a blank row and a header repeated
  at a page break, a total row, a closing-balance row and a signature row.
* Agribank (`agribank-2025-03.csv`): `;`-separated UTF-8 without BOM, title rows, a header
  "Ngày GD;Số chứng từ;Phát sinh nợ;Phát sinh có;Số dư;Diễn giải", dates without time,
  amounts "1000000", one memo carried onto a second row, "Cộng phát sinh" and "Số dư cuối kỳ".
"""
from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent

SURNAMES = ["NGUYEN", "TRAN", "LE", "PHAM", "HOANG", "VU", "DANG", "BUI", "DO", "HO", "NGO", "LY"]
MIDDLES = ["VAN", "THI", "DUC", "MINH", "THANH", "HUU", "KIM", "QUANG"]
GIVEN = ["AN", "BINH", "CHI", "DUNG", "GIANG", "HAI", "HANH", "LAN", "LONG", "MAI", "NAM", "PHUC"]
COMPANIES = ["CONG TY TNHH XAY DUNG HOA BINH", "CONG DOAN NGANH Y TE", "HOI CUU CHIEN BINH XA"]
PURPOSES = ["ung ho xoa nha tam", "chung tay xoa nha tam nha dot nat", "ủng hộ xóa nhà tạm", "ung ho"]
AMOUNTS = [10_000, 20_000, 50_000, 100_000, 200_000, 300_000, 500_000, 1_000_000, 2_000_000, 5_000_000]
DEBITS = [("Chi ho tro xay nha cho ho ngheo xa Thach An", 30_000_000), ("Phi quan ly tai khoan", 11_000),
          ("Chuyen kinh phi ho tro sua nha cho UBMTTQ xa Hoa Tham", 20_000_000)]


def _lines(rng: random.Random, start: datetime, count: int, with_time: bool, memo_shape):
    """(posted_at, reference, amount, memo, sender or None, pledge code or None) for `count` lines."""
    out, at = [], start
    for n in range(count):
        at += timedelta(minutes=rng.randint(3, 40))
        if rng.random() < 0.08:
            memo, amount = DEBITS[rng.randrange(len(DEBITS))]
            out.append((at if with_time else datetime(at.year, at.month, at.day), n, -amount, memo, None, None))
            continue
        sender = (rng.choice(COMPANIES) if rng.random() < 0.1 else
                  f"{rng.choice(SURNAMES)} {rng.choice(MIDDLES)} {rng.choice(GIVEN)}")
        code = f"P{rng.randint(1, 60):06d}" if rng.random() < 0.25 else None
        purpose = (f"UH {code} " if code else "") + rng.choice(PURPOSES)
        memo = memo_shape(rng, sender, purpose)
        if memo is None:
            memo, sender = purpose, None
        out.append((at if with_time else datetime(at.year, at.month, at.day), n, rng.choice(AMOUNTS), memo,
                    sender, code))
    return out


def _expected(lines, opening, account, extra=None):
    credits = [x for x in lines if x[2] > 0]
    debits = [x for x in lines if x[2] < 0]
    closing = opening + sum(x[2] for x in lines)
    return {
        "lines": len(lines), "credits": len(credits), "debits": len(debits),
        "credit_total_vnd": sum(x[2] for x in credits), "debit_total_vnd": -sum(x[2] for x in debits),
        "opening_vnd": opening, "closing_vnd": closing, "account": account,
        "senders": [x[4] for x in lines], "pledge_codes": [x[5] for x in lines], **(extra or {}),
    }


def bidv() -> dict:
    import openpyxl

    rng = random.Random(8_2025_03)

    def shape(rng, sender, purpose):
        roll = rng.random()
        if roll < 0.6:
            return f"TKThe :{rng.randint(10**9, 10**10 - 1)}, tai {rng.choice(['VCB', 'TCB', 'MB'])}. {sender} {purpose}"
        if roll < 0.85:
            return f"{sender} chuyen tien {purpose}"
        return None

    lines = _lines(rng, datetime(2025, 3, 1, 6, 30), 120, True, shape)
    opening, account = 500_000_000, "12010001234567"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Sao ke"
    ws.append(["NGÂN HÀNG TMCP ĐẦU TƯ VÀ PHÁT TRIỂN VIỆT NAM"])
    ws.append(["SAO KÊ TÀI KHOẢN / ACCOUNT STATEMENT"])
    ws.append(["Số tài khoản / Account No:", account])
    ws.append(["Tên tài khoản / Account name:", "ỦY BAN MẶT TRẬN TỔ QUỐC VIỆT NAM TỈNH CAO BẰNG"])
    ws.append(["Loại tiền / Currency:", "VND"])
    ws.append(["Từ ngày / From:", date(2025, 3, 1), "Đến ngày / To:", date(2025, 3, 3)])
    ws.append(["Số dư đầu kỳ / Opening balance:", opening])
    ws.append([])
    header = ["STT", "Ngày hiệu lực/\nNgày giao dịch", "Số tham chiếu", "Ghi nợ", "Ghi có", "Số dư", "Mô tả",
              "Kênh giao dịch"]
    ws.append(header)
    balance = opening
    for n, (at, seq, amount, memo, _sender, _code) in enumerate(lines, start=1):
        balance += amount
        credit = (float(amount) if n % 7 == 0 else amount) if amount > 0 else (0 if n % 2 else None)
        debit = -amount if amount < 0 else (0 if n % 3 == 0 else None)
        ws.append([n, at, f"FT25060{seq:08d}", debit, credit, balance, memo, rng.choice(["IBFT", "Quầy", "BIDV SmartBanking"])])
        if n == 40:
            ws.append([])
        if n == 80:
            ws.append(header)       # the header again, at a page break
    expected = _expected(lines, opening, account, {"refs": [f"FT25060{x[1]:08d}" for x in lines]})
    ws.append(["Tổng phát sinh / Total", None, None, expected["debit_total_vnd"], expected["credit_total_vnd"]])
    ws.append(["Số dư cuối kỳ / Closing balance", None, None, None, None, expected["closing_vnd"]])
    ws.append([])
    ws.append(["Người lập biểu", None, None, "Kiểm soát", None, "Giám đốc"])
    for row in ws.iter_rows(min_row=10, max_col=2):
        row[1].number_format = "dd/mm/yyyy hh:mm:ss"
    book.save(HERE / "bidv-2025-03.xlsx")
    (HERE / "bidv-2025-03.expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n")
    return expected


AGRIBANK_WRAP = 40


def agribank() -> dict:
    rng = random.Random(8_2025_04)

    def shape(rng, sender, purpose):
        roll = rng.random()
        if roll < 0.5:
            return f"{sender} chuyen khoan {purpose}"
        if roll < 0.8:
            return f"IBFT {sender} {purpose}; ND: xoa nha tam"
        return None

    lines = _lines(rng, datetime(2025, 3, 1, 6, 0), 120, False, shape)
    opening, account = 150_000_000, "8300205123456"
    out = io.StringIO(newline="")
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow(["NGÂN HÀNG NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN VIỆT NAM - AGRIBANK"])
    w.writerow(["Chi nhánh: Agribank tỉnh Cao Bằng"])
    w.writerow(["SAO KÊ TÀI KHOẢN"])
    w.writerow(["Số tài khoản", account])
    w.writerow(["Tên tài khoản", "UBMTTQ XÃ HÒA AN"])
    w.writerow(["Từ ngày", "01/03/2025", "Đến ngày", "03/03/2025"])
    w.writerow(["Số dư đầu kỳ", str(opening)])
    w.writerow([])
    w.writerow(["Ngày GD", "Số chứng từ", "Phát sinh nợ", "Phát sinh có", "Số dư", "Diễn giải"])
    balance = opening
    wrapped = False
    for at, seq, amount, memo, _sender, _code in lines:
        balance += amount
        ref = f"AGR{seq:07d}"
        debit, credit = (str(-amount), "") if amount < 0 else ("", str(amount))
        if len(memo) > AGRIBANK_WRAP and not wrapped:      # one memo carried onto the next row
            w.writerow([at.strftime("%d/%m/%Y"), ref, debit, credit, str(balance), memo[:AGRIBANK_WRAP]])
            w.writerow(["", "", "", "", "", memo[AGRIBANK_WRAP:]])
            wrapped = True
        else:
            w.writerow([at.strftime("%d/%m/%Y"), ref, debit, credit, str(balance), memo])
    expected = _expected(lines, opening, account, {"refs": [f"AGR{x[1]:07d}" for x in lines],
                                                   "memos": [x[3] for x in lines]})
    w.writerow(["Cộng phát sinh", "", str(expected["debit_total_vnd"]), str(expected["credit_total_vnd"]), "", ""])
    w.writerow(["Số dư cuối kỳ", "", "", "", str(expected["closing_vnd"]), ""])
    (HERE / "agribank-2025-03.csv").write_bytes(out.getvalue().encode("utf-8"))
    (HERE / "agribank-2025-03.expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n")
    return expected


if __name__ == "__main__":
    bidv()
    agribank()
    print("written:", *sorted(p.name for p in HERE.glob("*-2025-03.*")))
