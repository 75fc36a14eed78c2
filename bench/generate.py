"""A synthetic national campaign "Chung tay xóa nhà tạm, nhà dột nát", into SQLite or PostgreSQL (issue 9).

What it makes, through the service layer or its bulk paths (every rule kept, the journal
and the log written as the service writes them):

  areas          the 34 provinces and 3,321 communes of vietnam-provinces (two-level, 2025)
  campaigns      one per chosen province (CT2025-<province code>), from 1 January 2025
  funds          a province fund per province (MT<code>), a commune fund (MT<commune code>)
                 for each chosen commune, under it
  donors         individuals with Vietnamese names (diacritics; Nguyễn about 38 %), some
                 anonymous; businesses with valid tax codes; unions; agencies; the state
                 budget at province and central level (donors.service.create_donors)
  contributions  cash (most 50,000-500,000 ₫, a few very large gifts, state budget in
                 billions), materials (cement, steel, roofing sheets, bricks, valued) and
                 labour (person-days at a day rate), over 2025; three in four to province
                 funds, one in four to commune funds (contributions.service.check_contribution
                 and contributions.recording.record_checked: journal, receipts, statement)
  transfers      each province fund to its commune funds, enough cash for their
                 households (funds.service.transfer_between_funds, FIFO)
  households     in the chosen communes, 70 % new builds (60 M) and 30 % repairs (30 M),
                 with status timelines up to handed over (households.service.create_households)
  allocations    cash from the commune fund to each approved household, FIFO, in parts of
                 at most 30 M (under the approval threshold): allocations.service, a
                 commune's households at once (allocate_in_bulk)
  checkpoint     the log's tree appended and a checkpoint signed; then `verify` (every
                 leaf rebuilt from the rows) must pass

Personal data, as the staff record it (never to be published: tests/test_privacy_generated.py
scans every public page for it): most individuals and households carry a 12-digit citizen ID
(CCCD, a real province prefix), a Vietnamese mobile number and an exact address (house
number and street, or village); organisations sometimes an office phone and address; and
about one bank transfer in twelve (one in five at tiny) a memo naming a phone, an account or an ID number
("UH xoa nha tam, LH 0912345678", "CK tu TK 1903 4567 8901 23"). They come from a second
random stream, so for a seed every other value is what it was before they were added.

Scales: tiny (the privacy scan's, seconds), small (CI-sized, about a minute), medium, full
(2,000,000 contributions, 334,234 households: hours). Each step prints its rows per second.

Usage: python bench/generate.py [--scale tiny|small|medium|full] [--db sqlite|postgresql]
                                [--url SQLALCHEMY_URL] [--seed N] [--no-verify]
SQLite: a file under a temporary folder unless --url; PostgreSQL: LEDGER_BENCH_POSTGRES_URL
(default ledger_bench_generate; its public schema is emptied first).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PG_URL = os.environ.get("LEDGER_BENCH_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/ledger_bench_generate")
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PUBLIC_URL = "https://chungtay.example.vn"
YEAR_START = date(2025, 1, 1)
CHUNK = 5_000  # contributions per write transaction
ALLOCATION_PART = 30_000_000  # ≤ the approval threshold (50 M): no second person needed


@dataclass(frozen=True)
class Scale:
    provinces: int
    communes_per_province: int | None  # None: every commune
    donors: int
    contributions: int
    households: int
    personal_memo_share: float = 0.08  # of the bank transfers: a memo naming a phone, an account or an ID


SCALES = {
    "tiny": Scale(provinces=2, communes_per_province=2, donors=400, contributions=400, households=90,
                  personal_memo_share=0.2),
    "small": Scale(provinces=3, communes_per_province=3, donors=2_000, contributions=10_000, households=600),
    "medium": Scale(provinces=34, communes_per_province=10, donors=40_000, contributions=200_000, households=20_000),
    "full": Scale(provinces=34, communes_per_province=None, donors=400_000, contributions=2_000_000,
                  households=334_234),
}

SURNAMES = (["Nguyễn"] * 38 + ["Trần"] * 11 + ["Lê"] * 9 + ["Phạm"] * 7 + ["Hoàng", "Huỳnh"] * 3
            + ["Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"] * 2)
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Thị Thu", "Văn Hoàng", "Xuân", "Công"]
SECOND_MIDDLE = ["Thu", "Minh", "Ngọc", "Hoàng", "Kim", "Bảo", "Thanh", "Quang", "Hồng", "Xuân", "Đức", "Gia",
                 "Khánh", "Phương", "Diệu", "Mỹ", "Như", "Tuấn", "Hải", "Thủy", "Trung", "Bích", "Hữu", "Anh"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hoa", "Hùng", "Hương", "Khánh", "Lan",
         "Linh", "Long", "Mai", "Nam", "Nga", "Phúc", "Phương", "Quang", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn",
         "Vân", "Yến", "Đạt", "Ánh", "Bảo", "Châu", "Duy", "Đông", "Hân", "Hiếu", "Hiền", "Hòa", "Huy", "Khoa",
         "Kiên", "Lâm", "Lộc", "Luân", "My", "Ngân", "Nhi", "Oanh", "Phát", "Quân", "Quyên", "Sang", "Tài",
         "Thắng", "Thành", "Thịnh", "Thủy", "Tiến", "Toàn", "Trí", "Trung", "Tùng", "Uyên", "Vinh", "Vũ", "Xuân",
         "Hậu", "Nhung", "Thư", "Loan", "Tú", "Hằng", "Phượng", "Cúc", "Định", "Khải", "Nghĩa", "Thông"]
BUSINESSES = ["Công ty TNHH Xây dựng {}", "Công ty Cổ phần Thương mại {}", "Ngân hàng TMCP {}",
              "Tập đoàn {}", "Công ty Cổ phần Vật liệu {}"]
BRANDS = ["Hòa Bình", "Sông Hồng", "Trường Sơn", "Phương Nam", "Đại Việt", "Hưng Thịnh", "An Phát", "Minh Long"]
UNIONS = ["Công đoàn ngành Y tế {}", "Hội Cựu chiến binh {}", "Đoàn Thanh niên {}", "Hội Liên hiệp Phụ nữ {}"]
AGENCIES = ["Sở Xây dựng {}", "Bệnh viện Đa khoa {}", "Trường THPT {}", "Kho bạc Nhà nước {}"]
PLACES = ["Hà Nội", "Hải Phòng", "Đà Nẵng", "Huế", "Nghệ An", "Thanh Hóa", "Cần Thơ", "Cao Bằng", "Gia Lai"]
MATERIALS = [("Xi măng", "bao", 50, 2_000, 90_000), ("Thép xây dựng", "kg", 100, 5_000, 18_000),
             ("Tôn lợp", "tấm", 10, 500, 120_000), ("Gạch", "viên", 1_000, 20_000, 1_500)]
MEMOS = [None, None, "Ủng hộ chương trình xóa nhà tạm, nhà dột nát", "ung ho xoa nha tam", "Chung tay vì người nghèo"]

# Personal data (a second random stream: see the docstring).
MOBILE_PREFIXES = ("032 033 034 035 036 037 038 039 056 058 059 070 076 077 078 079 081 082 083 084 085 086 "
                   "088 089 090 091 092 093 094 096 097 098 099").split()
STREETS = ["phố Đội Cấn", "đường Láng", "phố Huế", "đường Nguyễn Trãi", "đường Trần Hưng Đạo", "đường Lê Lợi",
           "đường Hùng Vương", "đường Quang Trung", "phố Kim Mã", "đường Hai Bà Trưng", "đường Điện Biên Phủ"]
VILLAGES = ["thôn Đông", "thôn Trung", "thôn Thượng", "xóm Bãi", "xóm Chợ", "bản Nà Hang", "bản Pác Bó", "ấp Tân Lập",
            "tổ dân phố Hòa Bình", "thôn Phú Mỹ"]
BANK_ACCOUNTS = [("0071000", 13), ("1903", 14), ("2141", 14), ("1500205", 13), ("0", 13), ("1017", 12), ("19", 14)]
PERSONAL_MEMOS = ["UH xoa nha tam, LH {phone}", "CK tu TK {account} ung ho nha tam", "SDT {phone_spaced} ung ho",
                  "{name} chuyen tien, TK {account_grouped}", "CCCD {id_number} ung ho chuong trinh",
                  "ung ho xoa nha tam +84 {phone_intl}", "Ủng hộ xóa nhà tạm - ĐT {phone_dotted}"]


def citizen_id(rng: random.Random) -> str:
    """A 12-digit CCCD: province code, century and sex digit, year of birth, six digits."""
    from ledger.fields import CCCD_PROVINCES

    province = rng.choice(sorted(CCCD_PROVINCES))
    return f"{province}{rng.randrange(4)}{rng.randrange(100):02d}{rng.randrange(10**6):06d}"


def mobile(rng: random.Random) -> str:
    """A Vietnamese mobile number, "0912345678" (the prefixes the carriers use)."""
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**7):07d}"


def street_address(rng: random.Random) -> str:
    """A town address: "Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình"."""
    alley = f" ngõ {rng.randrange(2, 400)}" if rng.random() < 0.5 else ""
    return f"Số {rng.randrange(1, 300)}{alley} {rng.choice(STREETS)}, {rng.choice(PLACES)}"


def village_address(rng: random.Random, commune: str) -> str:
    """A household's address in its commune: "Thôn Đông, số nhà 7, Xã Tân Lập"."""
    village = rng.choice(VILLAGES)
    return f"{village[0].upper()}{village[1:]}, số nhà {rng.randrange(1, 200)}, {commune}"


def bank_account(rng: random.Random) -> str:
    """A bank account number with a real bank's prefix and length (9-14 digits)."""
    prefix, length = rng.choice(BANK_ACCOUNTS)
    return prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix)))


def _grouped(digits: str, size: int, sep: str) -> str:
    return sep.join(digits[i:i + size] for i in range(0, len(digits), size))


def donor_private_fields(rng: random.Random, kind: str) -> dict:
    """What the staff record privately of a donor: most individuals give an ID number, a
    phone and an address; organisations sometimes an office phone and address."""
    fields = {}
    if kind == "individual":
        if rng.random() < 0.7:
            fields["id_number"] = citizen_id(rng)
        if rng.random() < 0.8:
            fields["phone"] = mobile(rng)
        if rng.random() < 0.6:
            fields["address"] = street_address(rng)
    elif kind in ("business", "union", "agency"):
        if rng.random() < 0.5:
            fields["phone"] = mobile(rng)
        if rng.random() < 0.5:
            fields["address"] = street_address(rng)
    return fields


def household_private_fields(rng: random.Random, commune: str) -> dict:
    """A household head's ID number and phone (most have them) and the house's address."""
    fields = {"address": village_address(rng, commune)}
    if rng.random() < 0.9:
        fields["id_number"] = citizen_id(rng)
    if rng.random() < 0.6:
        fields["phone"] = mobile(rng)
    return fields


def personal_memo(rng: random.Random, donor) -> str:
    """A bank memo naming a phone, an account or an ID number (the donor's own when known)."""
    phone = (donor.phone if donor is not None and donor.phone else None) or mobile(rng)
    id_number = (donor.id_number if donor is not None and donor.id_number else None) or citizen_id(rng)
    account = bank_account(rng)
    name = fold_upper(donor.name) if donor is not None and donor.kind == "individual" \
        and donor.public_display == "named" else "NGUOI GUI"
    return rng.choice(PERSONAL_MEMOS).format(
        phone=phone, phone_spaced=f"{phone[:4]} {phone[4:7]} {phone[7:]}", phone_dotted=_grouped(phone, 4, "."),
        phone_intl=f"{phone[1:4]}-{phone[4:7]}-{phone[7:]}", account=account, account_grouped=_grouped(account, 4, " "),
        id_number=id_number, name=name)


def fold_upper(name: str) -> str:
    """"Nguyễn Văn An" -> "NGUYEN VAN AN", as banks write a sender's name."""
    from ledger.text import fold

    return fold(name).upper()


def tax_code(rng: random.Random) -> str:
    """A 10-digit tax code with the official check digit (ledger.fields)."""
    from ledger.fields import is_valid_tax_code

    while True:
        code = f"{rng.randrange(1, 10)}{rng.randrange(10**8):08d}"
        for check in range(10):
            if is_valid_tax_code(code + str(check)):
                return code + str(check)


def person(rng: random.Random) -> str:
    """A Vietnamese full name; a third of them with a second middle name ("Nguyễn Thị Thu
    Hà"). Enough different names that at full scale (324,000 named individuals) many an
    anonymous donor's or household head's name is nobody's public one, so the privacy scan
    has full names to look for (with one middle name every name was also a named donor's)."""
    surname, middle = rng.choice(SURNAMES), rng.choice(MIDDLE)
    if rng.random() < 0.35:
        middle += " " + rng.choice(SECOND_MIDDLE)
    return f"{surname} {middle} {rng.choice(GIVEN)}"


def cash_amount(rng: random.Random, kind: str) -> int:
    """Many 50,000-500,000 ₫ transfers, few very large gifts; businesses and the state give more."""
    roll = rng.random()
    if kind == "state":
        return rng.randrange(1, 50) * 100_000_000
    if kind in ("business", "agency") and roll < 0.5:
        return rng.randrange(10, 2_000) * 1_000_000
    if roll < 0.85:
        return rng.choice([50_000, 100_000, 200_000, 300_000, 500_000])
    if roll < 0.98:
        return rng.randrange(1, 50) * 1_000_000
    return rng.randrange(1, 50) * 100_000_000


class Timer:
    def __init__(self):
        self.steps: list[tuple[str, int, float]] = []

    def step(self, name: str, rows: int, started: float) -> None:
        seconds = time.perf_counter() - started
        self.steps.append((name, rows, seconds))
        rate = rows / seconds if seconds else float("inf")
        print(f"  {name:<14}{rows:>11,} rows {seconds:>9.1f} s {rate:>11,.0f} rows/s", flush=True)


def generate(app, scale: Scale, seed: int) -> Timer:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from ledger.areas.models import Area
    from ledger.areas.service import import_official_areas
    from ledger.auth.service import create_user
    from ledger.campaigns.service import create_campaign
    from ledger.contributions.recording import record_checked
    from ledger.contributions.service import check_contribution
    from ledger.database import write_transaction
    from ledger.donors.service import create_donors
    from ledger.extensions import db
    from ledger.funds.service import create_fund, transfer_between_funds
    from ledger.households.service import create_households
    from ledger.journal.service import lock_ledger

    rng = random.Random(seed)
    private = random.Random(f"personal data {seed}")  # its own stream: rng's values stay as they were
    timer = Timer()
    with app.app_context():
        started = time.perf_counter()
        upgrade()
        provinces, communes = import_official_areas()
        timer.step("areas", provinces + communes, started)

        admin = create_user("admin", "correct horse battery", "admin", display_name="Ban Thường trực")
        started = time.perf_counter()
        all_provinces = db.session.scalars(select(Area).where(Area.parent_code.is_(None), Area.legacy.is_(False))
                                           .order_by(Area.code)).all()
        chosen = all_provinces[:scale.provinces]
        campaigns, province_funds, commune_funds = {}, {}, {}
        for province in chosen:
            campaigns[province.code] = create_campaign(
                admin, code=f"CT2025-{province.code}", name=f"Chung tay xóa nhà tạm, nhà dột nát – {province.name}",
                area_code=province.code, starts_on=YEAR_START)
            province_funds[province.code] = create_fund(
                admin, code=f"MT{province.code}", name=f"Quỹ Vì người nghèo {province.name}", area_code=province.code)
            communes_of = db.session.scalars(select(Area).where(Area.parent_code == province.code)
                                             .order_by(Area.code)).all()
            for commune in communes_of[:scale.communes_per_province]:
                commune_funds[commune.code] = create_fund(
                    admin, code=f"MT{commune.code}", name=f"Quỹ Vì người nghèo {commune.name}",
                    area_code=commune.code, parent_fund_id=province_funds[province.code].id)
        timer.step("funds", len(province_funds) + len(commune_funds), started)

        started = time.perf_counter()
        donor_rows = []
        for _ in range(scale.donors):
            roll = rng.random()
            if roll < 0.90:
                donor_rows.append({"kind": "individual", "name": person(rng),
                                   "public_display": "anonymous" if rng.random() < 0.1 else "named"})
            elif roll < 0.96:
                donor_rows.append({"kind": "business", "name": rng.choice(BUSINESSES).format(rng.choice(BRANDS)),
                                   "tax_code": tax_code(rng), "public_display": "named"})
            elif roll < 0.98:
                donor_rows.append({"kind": "union", "name": rng.choice(UNIONS).format(rng.choice(PLACES)),
                                   "public_display": "named"})
            elif roll < 0.995:
                donor_rows.append({"kind": "agency", "name": rng.choice(AGENCIES).format(rng.choice(PLACES)),
                                   "public_display": "named"})
            else:
                level = rng.choice(["province", "central"])
                donor_rows.append({"kind": "state", "name": "Ngân sách trung ương" if level == "central"
                                   else f"Ngân sách tỉnh {rng.choice(PLACES)}", "state_level": level,
                                   "public_display": "named"})
        for row in donor_rows:
            row.update(donor_private_fields(private, row["kind"]))
        donors = []
        for start in range(0, len(donor_rows), CHUNK):
            with write_transaction():
                donors += create_donors(admin, donor_rows[start:start + CHUNK])
        timer.step("donors", len(donors), started)

        started = time.perf_counter()
        province_codes = [p.code for p in chosen]
        communes_by_province = {code: [c for c, f in commune_funds.items()
                                       if f.parent_fund_id == province_funds[code].id] for code in province_codes}
        province_of = {c: code for code, communes_list in communes_by_province.items() for c in communes_list}
        recorded = 0
        while recorded < scale.contributions:
            size = min(CHUNK, scale.contributions - recorded)
            with write_transaction():
                lock_ledger()
                checked = []
                for _ in range(size):
                    province = rng.choice(province_codes)
                    commune_list = communes_by_province[province]
                    fund = (commune_funds[rng.choice(commune_list)] if commune_list and rng.random() < 0.25
                            else province_funds[province])
                    donor = None if rng.random() < 0.05 else rng.choice(donors)
                    data = _contribution_data(rng, donor)
                    if data["method"] == "bank_transfer" and private.random() < scale.personal_memo_share:
                        data["memo"] = personal_memo(private, donor)
                    checked.append(check_contribution(campaigns[province], fund, data, donor=donor))
                record_checked(admin, checked)
            recorded += size
        timer.step("contributions", recorded, started)

        # Households first (to know what each commune needs), then the transfers that fund them.
        started = time.perf_counter()
        commune_codes = list(commune_funds)
        commune_names = dict(db.session.execute(select(Area.code, Area.name).where(Area.code.in_(commune_codes))).all())
        needs: dict[str, list[tuple[int, int]]] = {code: [] for code in commune_codes}
        made = 0
        while made < scale.households:
            size = min(CHUNK, scale.households - made)
            by_province: dict[str, tuple[list, list]] = {}
            for _ in range(size):
                commune = rng.choice(commune_codes)
                province = province_of[commune]
                support = "new_build" if rng.random() < 0.7 else "repair"
                rows, timelines = by_province.setdefault(province, ([], []))
                rows.append({"commune_code": commune, "head_name": person(rng),
                             "category": rng.choice(["poor", "poor", "near_poor", "meritorious", "disaster"]),
                             "support_type": support, **household_private_fields(private, commune_names[commune])})
                timelines.append(_timeline(rng))
            with write_transaction():
                for province, (rows, timelines) in by_province.items():
                    ids = create_households(admin, campaigns[province], rows, timelines)
                    for household_id, row, timeline in zip(ids, rows, timelines, strict=True):
                        if len(timeline) >= 2:  # approved: it gets its money
                            amount = campaigns[province].norm_for(row["support_type"])
                            needs[row["commune_code"]].append((household_id, amount))
            made += size
        timer.step("households", made, started)

        started = time.perf_counter()
        transfers = 0
        for commune, wanted in needs.items():
            total = sum(amount for _, amount in wanted)
            if total:
                fund = commune_funds[commune]
                transfer_between_funds(admin, fund.parent_fund_id, {"to_fund_id": fund.id, "kind": "cash",
                                                                    "amount_vnd": total})
                transfers += 1
        timer.step("transfers", transfers, started)

        from ledger.allocations.service import allocate_in_bulk

        # Each commune's households at once (allocations.service.allocate_in_bulk: every rule
        # of a single allocation, one transaction); one at a time this step ran at ~65/s.
        started = time.perf_counter()
        allocations = 0
        for commune, wanted in needs.items():
            requests = []
            for household_id, amount in wanted:
                while amount > 0:
                    part = min(amount, ALLOCATION_PART)
                    requests.append({"household_id": household_id, "kind": "cash", "amount_vnd": part})
                    amount -= part
            for start in range(0, len(requests), CHUNK):
                allocations += len(allocate_in_bulk(admin, commune_funds[commune].id, requests[start:start + CHUNK]))
        timer.step("allocations", allocations, started)

        from ledger.transparency.log import publish

        started = time.perf_counter()
        checkpoint = publish()
        timer.step("log + checkpoint", checkpoint.size, started)
    return timer


def _contribution_data(rng: random.Random, donor) -> dict:
    received = YEAR_START + timedelta(days=rng.randrange(330))
    roll = rng.random()
    data = {"received_on": received, "memo": rng.choice(MEMOS)}
    if roll < 0.90 or donor is None or donor.kind == "state":
        method = "bank_transfer" if rng.random() < 0.85 else "cash"
        data.update(kind="cash", method=method, amount_vnd=cash_amount(rng, donor.kind if donor else "individual"))
        if method == "bank_transfer":
            data["bank_reference"] = f"FT25{rng.randrange(10**10):010d}"
    elif roll < 0.97:
        item, unit, low, high, price = rng.choice(MATERIALS)
        data.update(kind="material", method="in_kind", item=item, unit=unit,
                    quantity=rng.randrange(low, high) * 1000, unit_value_vnd=price)
    else:
        data.update(kind="labour", method="labour", person_days=rng.randrange(1, 60) * 100, day_rate_vnd=300_000)
    return data


def _timeline(rng: random.Random) -> list[tuple[str, date]]:
    """surveyed → approved → building → completed → handed over, cut at a random step."""
    from ledger.households.models import STATUSES

    steps = rng.choices(range(1, len(STATUSES) + 1), weights=[10, 15, 20, 15, 40])[0]
    day = YEAR_START + timedelta(days=rng.randrange(60))
    timeline = []
    for status in STATUSES[:steps]:
        timeline.append((status, day))
        day += timedelta(days=rng.randrange(5, 40))
    return timeline


def verify(app) -> list[str]:
    from ledger.transparency.audit import verify_ledger

    with app.app_context():
        return verify_ledger()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--url", help="an SQLAlchemy URL instead of the default of --db")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--no-verify", action="store_true")
    args = parser.parse_args()

    from ledger import create_app
    from ledger.database import recreate_postgres_database

    instance = tempfile.mkdtemp(prefix="ledger-generate-")
    os.environ.setdefault("LEDGER_INSTANCE_PATH", instance)
    url = args.url
    if url is None and args.db == "postgresql":
        url = PG_URL
    if url is None:
        url = f"sqlite:///{Path(instance) / 'ledger.sqlite3'}"
    if url.startswith("postgresql"):
        recreate_postgres_database(url, PG_ADMIN_URL)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "LEDGER_PUBLIC_URL": PUBLIC_URL})
    scale = SCALES[args.scale]
    print(f"generating scale {args.scale} ({scale}) into {url}", flush=True)
    started = time.perf_counter()
    timer = generate(app, scale, args.seed)
    print(f"generated in {time.perf_counter() - started:.1f} s", flush=True)
    from bench.summary import emit, figure

    emit(f"generator ({args.scale}, {'postgresql' if url.startswith('postgresql') else 'sqlite'})",
         [figure(name, rows / seconds, "rows/s", n=rows) for name, rows, seconds in timer.steps if seconds])
    if not args.no_verify:
        started = time.perf_counter()
        problems = verify(app)
        print(f"verify: {len(problems)} problems in {time.perf_counter() - started:.1f} s", flush=True)
        for problem in problems[:20]:
            print(f"  FAIL {problem}")
        if problems:
            raise SystemExit(1)
    print(f"instance folder (signing key): {instance}")


if __name__ == "__main__":
    main()
