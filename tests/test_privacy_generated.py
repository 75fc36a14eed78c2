"""Privacy scan of a generated national campaign (issue 10, item 5): every public page and
every public API answer, searched for every piece of personal data the ledger holds.

bench/generate.py makes the campaign (its tiny scale by default) into a fresh database per
backend: SQLite in a temporary folder, and PostgreSQL on LEDGER_TEST_POSTGRES_URL's server
in a database of this module's own (`ledger_test_privacy`, or the URL's database when its
name starts with that), skipped when unreachable unless LEDGER_REQUIRE_POSTGRES=1, as in
conftest.py.

The needles, read from the database: every donor's and household's ID number, phone and
exact address, every phone, ID and bank account number written in a contribution's memo,
and the full names the public must not see (anonymous donors', household heads').
Each is looked for in several forms: digits with their separators dropped ("0912 345 678",
"0912.345.678"), a phone as +84, an address or a name with or without its diacritics and
whatever its case, in HTML with its entities decoded, and in JSON with its escapes decoded
(also in JSON carried as a string, as the log's entries carry their leaves).

The haystack: every page reachable by links from the home page, the search page and the
page on verifying the log (within the site, not /staff; in Vietnamese and in English), every
receipt's page (as its QR code opens it, with its signature), every household's and
organisation's page, and the public API: summaries (the country, each campaign, each area),
the statement (every page, each memo's row by its receipt number, searches, the CSV), every
receipt's JSON, the transparency log (every entry, checkpoints, keys, proofs), areas. Any
other GET of /api/v1 is called without a token: it must ask for one (401), and would be
scanned if it answered. Bounded: receipt PDFs (text and attached payload) and receipt pages
in English for the first few only, the search page's sort and page variants up to a number
(SAMPLES).

Zero hits; and so that an empty crawl or a blind scanner cannot pass: enough needles of
every kind, enough answers of every kind, the masked forms the design shows instead (a
memo's "*******678" in its statement row, "Hộ Nguyễn V. A." on each household's page, "Nhà
hảo tâm ẩn danh"), and the scanner finding a needle in every form above when one is planted.
A search of the statement by a phone, ID or account number finds nothing.

LEDGER_PRIVACY_SCALE (tiny, the default: about 400 donors, 400 contributions, 90 households;
small, medium or full) runs it on a bigger campaign: there receipts', households' and
organisations' pages, areas' overviews and summaries (every province's and 200 others),
memos' statement rows, the log's entries and the statement's pages are a deterministic
sample (SAMPLES), and the CSV a single day beyond small; every needle is still looked for
in all that was fetched.

LEDGER_PRIVACY_DATABASE_URL scans a campaign bench/generate.py made before, of the size
LEDGER_PRIVACY_SCALE names, instead of generating one (at full size that takes one to two
hours; `bench/run.py --scale full` leaves one on PostgreSQL, ledger_bench_generate). It is
migrated to the current schema, and only its database is scanned.
"""
from __future__ import annotations

import base64
import csv
import io
import json
import os
import random
import re
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
import sqlalchemy as sa

from bench import generate as gen
from ledger import create_app
from ledger.extensions import db
from ledger.fields import CCCD_PROVINCES
from ledger.text import fold, mask_name
from tests.conftest import PG_URL, fresh_postgres_or_skip

PRIVACY_DATABASE = "ledger_test_privacy"

SCALE_NAME = os.environ.get("LEDGER_PRIVACY_SCALE", "tiny")
GIVEN_URL = os.environ.get("LEDGER_PRIVACY_DATABASE_URL")
BACKENDS = ["postgresql" if GIVEN_URL.startswith("postgresql") else "sqlite"] if GIVEN_URL else ["sqlite", "postgresql"]
SEED = 2025
PUBLIC_URL = "https://chungtay.example.vn"
SITE = ("localhost", urlsplit(PUBLIC_URL).netloc)
NOT_PUBLIC = ("/staff", "/api/v1/docs", "/static", "/api/v1/openapi.json")


@dataclass(frozen=True)
class Samples:
    """How much is fetched one by one (None: all of it)."""

    receipts: int | None
    households: int | None
    organisations: int | None
    pdfs: int
    english_receipts: int  # receipt pages also fetched in English
    search_pages: int  # the search page's pages, sorts and languages
    log_windows: int | None  # windows of 1,000 entries
    statement_pages: int | None
    crawl_pages: int  # pages the link crawl may add to the ones named
    areas: int | None  # areas whose overview and summary are fetched, besides every province


# Areas sampled too: at full size an area's overview takes about a second (the country's
# far more), and there are 3,355 of them.
_SAMPLED = dict(receipts=600, households=300, organisations=100, pdfs=20, english_receipts=20, search_pages=80,
                statement_pages=40, crawl_pages=2_000, areas=200)
SAMPLES = {
    "tiny": Samples(receipts=None, households=None, organisations=None, pdfs=12, english_receipts=20,
                    search_pages=80, log_windows=None, statement_pages=None, crawl_pages=1_500, areas=None),
    "small": Samples(**_SAMPLED, log_windows=None),
    "medium": Samples(**_SAMPLED, log_windows=60),
    "full": Samples(**_SAMPLED, log_windows=60),
}
if SCALE_NAME not in gen.SCALES or SCALE_NAME not in SAMPLES:
    raise pytest.UsageError(f"LEDGER_PRIVACY_SCALE={SCALE_NAME!r}: use one of {', '.join(SAMPLES)}")
SCALE = gen.SCALES[SCALE_NAME]
SAMPLE = SAMPLES[SCALE_NAME]
SAMPLED = SCALE_NAME != "tiny"


# --- the generated ledger ----------------------------------------------------------------

@dataclass
class Generated:
    app: object
    backend: str
    timings: dict = field(default_factory=dict)  # step -> seconds
    crawl_stats: dict = field(default_factory=dict)  # what was skipped, and how much there was
    seconds_by_kind: dict = field(default_factory=dict)  # kind of answer -> seconds fetching them
    memo_rows: set = field(default_factory=set)  # contributions whose statement row was fetched


def privacy_postgres_url() -> str:
    """LEDGER_TEST_POSTGRES_URL's server, with a database of this module's own."""
    url = sa.engine.make_url(PG_URL)
    if not (url.database or "").startswith(PRIVACY_DATABASE):
        url = url.set(database=PRIVACY_DATABASE)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="module", params=BACKENDS)
def ledger(request, tmp_path_factory):
    if GIVEN_URL:
        url = GIVEN_URL
    elif request.param == "postgresql":
        url = privacy_postgres_url()
        fresh_postgres_or_skip(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('privacy') / 'ledger.sqlite3'}"
    instance = str(tmp_path_factory.mktemp(f"instance-{request.param}"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "TESTING": True,
                      "LEDGER_PUBLIC_URL": PUBLIC_URL, "LEDGER_SEARCH_RATE_LIMIT": "1000000 per minute"})
    generated = Generated(app, request.param)
    started = time.perf_counter()
    if GIVEN_URL:
        from flask_migrate import upgrade

        with app.app_context():
            upgrade()
    else:
        gen.generate(app, SCALE, SEED)
    generated.timings["given" if GIVEN_URL else "generate"] = time.perf_counter() - started
    yield generated
    print(f"\nprivacy scan ({SCALE_NAME}, {request.param}): "
          + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in generated.timings.items()))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --- the needles: what the ledger holds of people ------------------------------------------

# A run of digits, with single spaces, dots or dashes between them, possibly after "+".
DIGIT_RUN = re.compile(r"\+?\d(?:[ .\-]?\d)+")
SEPARATOR = re.compile(r"(?<=\d)[ .\-](?=\d)")
MOBILE = re.compile(r"0[35789]\d{8}")


@dataclass
class Needles:
    digits: dict[str, tuple[str, str]]  # digits (and the +84 form of phones) -> (kind, whose)
    word_owners: dict[tuple[str, ...], tuple[str, str]]  # casefolded words -> (kind, whose)
    folded_owners: dict[tuple[str, ...], tuple[str, str]]  # the same without diacritics
    counts: Counter
    memo_numbers: list[tuple[int, str]]  # (contribution id, the digits as written)
    heads: dict[int, str]  # household id -> head's full name
    values: dict[str, list[str]]  # kind -> the values as the ledger holds them
    # Indexes for the scan: needles by their first two words; digit needles' lengths.
    words: dict[tuple[str, str], list[tuple[str, ...]]] = field(default_factory=dict)
    folded: dict[tuple[str, str], list[tuple[str, ...]]] = field(default_factory=dict)
    digit_lengths: list[int] = field(default_factory=list)
    digit_runs: re.Pattern = None
    _folds: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        for owners, index in ((self.word_owners, self.words), (self.folded_owners, self.folded)):
            for needle in owners:
                assert len(needle) >= 2, needle
                index.setdefault(needle[:2], []).append(needle)
        self.digit_lengths = sorted({len(d) for d in self.digits})
        self.digit_runs = re.compile(rf"\d{{{self.digit_lengths[0]},}}")

    def fold_word(self, word: str) -> str:
        folded = self._folds.get(word)
        if folded is None:
            folded = self._folds[word] = fold(word)
        return folded

    def sample(self, kind: str, n: int) -> list[str]:
        values = sorted(set(self.values[kind]))
        return random.Random(kind).sample(values, min(n, len(values)))


def words_of(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\w+", unicodedata.normalize("NFC", text).casefold()))


def memo_digits(run: str) -> str:
    """A number as written in a memo, as the needle to look for: its digits, a +84 phone as 0…"""
    digits = re.sub(r"\D", "", run)
    if run.startswith("+84") or (digits.startswith("84") and len(digits) == 11):
        digits = "0" + digits[2:]
    return digits


def read_needles(app) -> Needles:
    from ledger.contributions.models import Contribution
    from ledger.donors.models import Donor
    from ledger.households.models import Household

    digits: dict[str, tuple[str, str]] = {}
    words: dict[tuple[str, ...], tuple[str, str]] = {}
    folded: dict[tuple[str, ...], tuple[str, str]] = {}
    counts: Counter = Counter()
    values: dict[str, list[str]] = defaultdict(list)

    def add_digits(kind: str, value: str, whose: str) -> None:
        counts[kind] += 1
        values[kind].append(value)
        digits.setdefault(value, (kind, whose))
        if MOBILE.fullmatch(value):
            digits.setdefault("84" + value[1:], (kind, whose))

    def add_text(kind: str, value: str, whose: str) -> None:
        counts[kind] += 1
        values[kind].append(value)
        words.setdefault(words_of(value), (kind, whose))
        folded.setdefault(words_of(fold(value)), (kind, whose))

    with app.app_context():
        donors = db.session.execute(sa.select(Donor.id, Donor.kind, Donor.name, Donor.public_display, Donor.id_number,
                                              Donor.phone, Donor.address)).all()
        households = db.session.execute(sa.select(Household.id, Household.head_name, Household.id_number,
                                                  Household.phone, Household.address)).all()
        memos = db.session.execute(sa.select(Contribution.id, Contribution.memo)
                                   .where(Contribution.memo.is_not(None))).all()
    for who, rows in (("donor", donors), ("household", households)):
        for row in rows:
            whose = f"{who} {row.id}"
            if row.id_number:
                add_digits(f"{who} ID number", row.id_number, whose)
            if row.phone:
                add_digits(f"{who} phone", row.phone, whose)
            if row.address:
                add_text(f"{who} address", row.address, whose)
    memo_numbers = []
    for contribution_id, memo in memos:
        for run in DIGIT_RUN.findall(memo):
            number = memo_digits(run)
            if len(number) < 9:  # amounts, years, house numbers: not identifying
                continue
            kind = ("memo phone" if MOBILE.fullmatch(number) else
                    "memo ID number" if len(number) == 12 and number[:3] in CCCD_PROVINCES else
                    "memo account number")
            add_digits(kind, number, f"contribution {contribution_id}")
            memo_numbers.append((contribution_id, re.sub(r"\D", "", run)))
    # Full names the public may not read: an anonymous donor's, a household head's (masked,
    # since no generated campaign publishes them), unless someone named bears the same name
    # or one that holds it ("Nguyễn Thị Thu" inside "Nguyễn Thị Thu Hà": the scanner cannot
    # tell the two apart in a page, so such a name cannot be a needle).
    named = {words_of(fold(d.name)) for d in donors if d.public_display == "named"}
    public_names = {name[i:j] for name in named for i in range(len(name)) for j in range(i + 2, len(name) + 1)}
    anonymous = {d.name for d in donors if d.public_display == "anonymous"
                 and words_of(fold(d.name)) not in public_names}
    for name in sorted(anonymous):
        add_text("anonymous donor's name", name, "anonymous donor")
    heads = {}
    for h in households:
        heads[h.id] = h.head_name
        if words_of(fold(h.head_name)) not in public_names:
            add_text("household head's full name", h.head_name, f"household {h.id}")
    return Needles(digits, words, folded, counts, memo_numbers, heads, dict(values))


@pytest.fixture(scope="module")
def needles(ledger) -> Needles:
    started = time.perf_counter()
    found = read_needles(ledger.app)
    ledger.timings["needles"] = time.perf_counter() - started
    return found


# --- the haystack: every public page and answer ---------------------------------------------

@dataclass
class Answer:
    status: int
    mimetype: str
    text: str


def _path_of(url: str, base: str = "/") -> str | None:
    """The site-relative path of a link, or None when it leaves the public site; "lang=vi"
    (the default language) dropped, so that a page is fetched once per language."""
    target = urljoin("http://localhost" + base, unescape(url))
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or parts.netloc not in SITE:
        return None
    query = "&".join(p for p in parts.query.split("&") if p and p != "lang=vi")
    path = parts.path + ("?" + query if query else "")
    return None if path.startswith(NOT_PUBLIC) else path


def pdf_text(data: bytes) -> str:
    """A PDF's text and its attached files (the receipt's signed payload)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    parts = [page.extract_text() or "" for page in reader.pages]
    for name, contents in reader.attachments.items():
        parts.append(name)
        parts += [c.decode("utf-8", "replace") for c in contents]
    return "\n".join(parts)


class Crawler:
    def __init__(self, client, budgets: dict[str, int]):
        self.client = client
        self.answers: dict[str, Answer] = {}
        self.budgets = Counter(budgets)  # kind of answer -> how many more the links may add
        self.skipped = Counter()
        self.seconds = Counter()  # by kind of answer

    def fetch(self, path: str, status: int | tuple = 200) -> Answer:
        started = time.perf_counter()
        resp = self.client.get(path)
        self.seconds[_kind_of(path)] += time.perf_counter() - started
        wanted = status if isinstance(status, tuple) else (status,)
        assert resp.status_code in wanted, (path, resp.status_code, resp.get_data(as_text=True)[:300])
        if resp.mimetype == "application/pdf":
            text = pdf_text(resp.get_data())
        else:
            text = resp.get_data(as_text=True)
        answer = Answer(resp.status_code, resp.mimetype, text)
        self.answers[path] = answer
        return answer

    def crawl(self, starts: list[str], limit: int) -> None:
        """Breadth first from `starts` (all fetched), following links within the public site
        until `limit` pages more were fetched."""
        queue = list(dict.fromkeys(starts))
        queued = set(queue)
        added = 0
        while queue:
            path = queue.pop(0)
            if path in self.answers:
                continue
            kind = _kind_of(path)
            if kind == "receipt page" and "lang=en" in path:
                kind += " in English"
            if kind in self.budgets:
                if self.budgets[kind] <= 0:
                    self.skipped[kind] += 1
                    continue
                self.budgets[kind] -= 1
            answer = self.fetch(path, (200, 404, 422))
            if answer.mimetype != "text/html":
                continue
            # An attribute follows white space: a signature's base64 in a script ending
            # in "src=" once made ", " a link (PostgreSQL, medium scale).
            for href in re.findall(r'\s(?:href|src|action)="([^"#]+)"', answer.text):
                target = _path_of(href, path)
                if target is None or target in queued:
                    continue
                if added >= limit:
                    continue
                queued.add(target)
                queue.append(target)
                added += 1


def _sample(values: list, n: int | None, salt: str) -> list:
    if n is None or len(values) <= n:
        return values
    return random.Random(salt).sample(values, n)


def collect_answers(ledger, needles: Needles) -> dict[str, Answer]:
    from ledger.areas.models import Area
    from ledger.campaigns.models import Campaign
    from ledger.contributions.models import Contribution
    from ledger.donors.models import Donor
    from ledger.funds.models import Fund
    from ledger.households.models import Household
    from ledger.public.service import ORGANISATION_KINDS
    from ledger.receipts.models import Receipt
    from ledger.receipts.service import url_of
    from ledger.statement.service import MAX_PAGE_SIZE
    from ledger.transparency.log import MAX_ENTRIES

    app = ledger.app
    with app.test_request_context():
        receipts = db.session.scalars(sa.select(Receipt).order_by(Receipt.id)).all()
        receipt_urls = {r.contribution_id: _path_of(url_of(r)) for r in receipts}
        numbers = {r.contribution_id: r.number for r in receipts}
        with_memo = sorted({cid for cid, _digits in needles.memo_numbers})
        private_donors = set(db.session.scalars(sa.select(Donor.id).where(
            Donor.id_number.is_not(None) | Donor.phone.is_not(None) | Donor.address.is_not(None))))
        of_private = [cid for cid, donor_id in db.session.execute(
            sa.select(Contribution.id, Contribution.donor_id).order_by(Contribution.id)) if donor_id in private_donors]
        households = list(db.session.scalars(sa.select(Household.id).order_by(Household.id)))
        organisations = list(db.session.scalars(sa.select(Donor.id).where(
            Donor.kind.in_(ORGANISATION_KINDS), Donor.public_display == "named").order_by(Donor.id)))
        campaigns = list(db.session.scalars(sa.select(Campaign.id).order_by(Campaign.id)))
        every_area = sorted({code for code in db.session.scalars(sa.select(Fund.area_code)) if code})
        provinces = [a for a in every_area if db.session.get(Area, a).parent_code is None]
        areas = list(dict.fromkeys(provinces + sorted(_sample(every_area, SAMPLE.areas, "areas"))))
    client = app.test_client(use_cookies=False)  # no language remembered: each page as its link asks
    crawler = Crawler(client, {"receipt PDF": SAMPLE.pdfs, "receipt page in English": SAMPLE.english_receipts,
                               "search page": SAMPLE.search_pages})

    # Receipts: those with a personal memo or a donor with personal data first.
    chosen = list(dict.fromkeys(with_memo + _sample(of_private, SAMPLE.receipts, "private")
                                + _sample(sorted(receipt_urls), SAMPLE.receipts, "receipts")))
    if SAMPLE.receipts is not None:
        chosen = chosen[:SAMPLE.receipts]
    pdfs = [f"/api/v1/receipts/{numbers[c]}.pdf" for c in list(dict.fromkeys(with_memo + of_private))[:SAMPLE.pdfs]]
    starts = (["/", "/?lang=en", "/tra-cuu", "/tra-cuu?q=nguyen", "/tra-cuu?q=ung+ho", "/kiem-chung"]
              + [f"/?campaign={c}" for c in campaigns] + [f"/?area={a}" for a in areas]
              + [receipt_urls[c] for c in chosen]
              + [f"/ho/{h}" for h in _sample(households, SAMPLE.households, "households")]
              + [f"/to-chuc/{d}" for d in _sample(organisations, SAMPLE.organisations, "organisations")]
              + pdfs)
    started = time.perf_counter()
    crawler.crawl(starts, SAMPLE.crawl_pages)
    ledger.timings["crawl pages"] = time.perf_counter() - started

    started = time.perf_counter()
    fetch = crawler.fetch
    fetch("/api/v1/ping")
    for query in ([{}] + [{"campaign": c} for c in campaigns] + [{"area": a} for a in areas]
                  + [{"campaign": c, "area": p} for c in campaigns for p in provinces]):
        fetch("/api/v1/reports/summary" + ("?" + urlencode(query) if query else ""), (200, 404))
    fetch("/api/v1/areas")
    for parent in provinces:
        fetch(f"/api/v1/areas?parent={parent}")
    fetch("/api/v1/areas?q=xa")
    for c in chosen:
        fetch(f"/api/v1/receipts/{numbers[c]}")
    # The log: every entry (or a sample of windows), checkpoints, keys, proofs.
    fetch("/api/v1/transparency/keys")
    size = json.loads(fetch("/api/v1/transparency/checkpoint").text)["size"]
    windows = list(range(0, size, MAX_ENTRIES))
    for start in _sample(windows, SAMPLE.log_windows, "log"):
        fetch(f"/api/v1/transparency/entries?start={start}&end={min(size, start + MAX_ENTRIES)}")
    rng = random.Random("proofs")
    for leaf in sorted({0, size - 1, *(rng.randrange(size) for _ in range(10))}):
        fetch(f"/api/v1/transparency/proof?leaf={leaf}&size={size}")
    fetch(f"/api/v1/transparency/consistency?from={max(1, size // 2)}&to={size}")
    fetch(f"/api/v1/transparency/checkpoint?size={size}", (200, 404))
    # The statement: every page (or a sample), searches, and every row as CSV.
    first = json.loads(fetch(f"/api/v1/statement?page_size={MAX_PAGE_SIZE}").text)
    pages = list(range(2, (first["pages"] or 100) + 1))
    for page in _sample(pages, SAMPLE.statement_pages, "statement"):
        fetch(f"/api/v1/statement?page_size={MAX_PAGE_SIZE}&page={page}")
    # The statement row of each contribution whose memo names a number (a sample at bigger scales).
    memo_rows = with_memo if SAMPLE.receipts is None else with_memo[:SAMPLE.receipts]
    for c in memo_rows:
        fetch(f"/api/v1/statement?receipt={numbers[c]}")
    ledger.memo_rows = set(memo_rows)
    for q in ("nguyen", "ung ho", "xoa nha tam", "cong ty", "chuyen tien", "cccd", "sdt"):
        fetch(f"/api/v1/statement?{urlencode({'q': q, 'page_size': MAX_PAGE_SIZE})}", (200, 422))
    if not SAMPLED or SCALE_NAME == "small":
        fetch("/api/v1/statement.csv")
        fetch("/tra-cuu.csv")
    else:
        fetch("/api/v1/statement.csv?from=2025-06-01&to=2025-06-02")
    ledger.timings["public API"] = time.perf_counter() - started

    # Whatever else of /api/v1 answers a GET without a token is public, and scanned.
    started = time.perf_counter()
    probe_staff_api(app, client, crawler, households, organisations, campaigns)
    ledger.timings["staff API probe"] = time.perf_counter() - started
    ledger.seconds_by_kind = {kind: round(seconds, 1) for kind, seconds in crawler.seconds.most_common()}
    ledger.crawl_stats = {**crawler.skipped, "receipts": len(chosen), "households": len(households),
                          "organisations": len(organisations), "areas": len(areas)}
    return crawler.answers


PUBLIC_API = ("/api/v1/areas", "/api/v1/receipts/", "/api/v1/transparency/", "/api/v1/reports/summary",
              "/api/v1/statement", "/api/v1/ping")


def probe_staff_api(app, client, crawler, households, organisations, campaigns) -> None:
    values = {"campaign_id": campaigns[0], "fund_id": 1, "donor_id": organisations[0] if organisations else 1,
              "household_id": households[0], "pledge_id": 1, "contribution_id": 1, "approval_id": 1, "job_id": 1,
              "batch_id": 1, "what": "contributions", "fmt": "csv", "name": "households", "manifest_id": "x"}
    refused = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.rule.startswith("/api/v1") or rule.rule.startswith(NOT_PUBLIC) \
                or rule.rule.startswith(PUBLIC_API) or rule.rule.startswith("/api/v1/docs-static"):
            continue
        with app.test_request_context():
            from flask import url_for

            path = url_for(rule.endpoint, **{arg: values[arg] for arg in rule.arguments})
        resp = client.get(path)
        if resp.status_code == 200:
            crawler.fetch(path)
        refused.append((path, resp.status_code))
    assert refused and all(status == 401 for _path, status in refused), refused


@pytest.fixture(scope="module")
def answers(ledger, needles) -> dict[str, Answer]:
    return collect_answers(ledger, needles)


# --- the scan ----------------------------------------------------------------------------

_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")


# Between a JSON answer's strings and a CSV's cells: a word no name holds, so that a name is
# not read across two of them. At full size the statement CSV's "Lê Hữu Thành,,Tiền mặt" (a
# named donor, no memo, cash) read as "le huu thanh tien", an anonymous donor's folded name.
CELL = " ǁ "


def readable(answer: Answer) -> str:
    """The answer's text in every form a reader could recover personal data from: HTML
    with its entities decoded, JSON's strings with their escapes decoded (and a string
    that is itself JSON, or base64 of text, opened), a CSV's cells, anything else as it is."""
    text = answer.text
    views = []
    if answer.mimetype.endswith("json"):
        try:
            views.append(CELL.join(_strings(json.loads(text))))
        except ValueError:
            views.append(text)
    elif answer.mimetype == "text/csv":
        views.append(CELL.join(cell for row in csv.reader(io.StringIO(text)) for cell in row))
    else:
        views.append(unescape(text) if "&" in text else text)
    if "\\u" in text:
        views.append(_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text))
    return unicodedata.normalize("NFC", CELL.join(views))


def _strings(value):
    """Every string in a JSON value; a string that is JSON or base64 text is opened too."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value
        if value[:1] in "{[":
            try:
                yield from _strings(json.loads(value))
            except ValueError:
                pass
        elif _BASE64.fullmatch(value):
            try:
                urlsafe = "-" in value or "_" in value
                yield base64.b64decode(value + "==", altchars=b"-_" if urlsafe else None).decode("utf-8")
            except ValueError:
                pass
    elif value is not None:
        yield str(value)


# A SHA-256 digest in hex (a log entry's salted commitment, a file's hash): random digits
# that at medium scale held a 10-digit needle by chance (a leaf's commitment on SQLite, not
# on PostgreSQL, whose salts differ). A digest is not the data it hashes; the salted
# commitments are checked elsewhere (tests/test_transparency.py).
HEX_DIGEST = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{64}(?![0-9A-Za-z])")
# A receipt's number, {FUND}-{YYYY}-{NNNNNN}: the ledger's own public name for a gift. With
# its dashes dropped its digits ran into windows that at full scale held donors' phones by
# chance ("MT08-2025-001200" holds 0820250012, a business's phone). A phone glued to it is
# no receipt number, and is still looked for.
RECEIPT_NUMBER = re.compile(r"(?<![0-9A-Za-z])[A-Z][A-Z0-9]*-\d{4}-\d{6}(?![0-9A-Za-z])")


def scan(text: str, needles: Needles) -> list[tuple[str, str, str]]:
    """The needles found in `text`: (kind, whose, what matched). Digits are looked for
    with the separators between them dropped, outside SHA-256 digests and receipt numbers;
    addresses and
    names word by word, as written and without diacritics, whatever the case."""
    hits = []
    for run in needles.digit_runs.findall(SEPARATOR.sub("", RECEIPT_NUMBER.sub(" ", HEX_DIGEST.sub(" ", text)))):
        for size in needles.digit_lengths:
            for i in range(len(run) - size + 1):
                found = needles.digits.get(run[i:i + size])
                if found:
                    hits.append((*found, run[i:i + size]))
    words = words_of(text)
    folded = [needles.fold_word(w) for w in words]
    for index, seen in ((needles.words, words), (needles.folded, folded)):
        for i in range(len(seen) - 1):
            for needle in index.get((seen[i], seen[i + 1]), ()):
                if tuple(seen[i:i + len(needle)]) == needle:
                    hits.append((*needle_of(needles, index, needle), " ".join(needle)))
    return hits


def needle_of(needles: Needles, index: dict, needle: tuple) -> tuple[str, str]:
    return (needles.word_owners if index is needles.words else needles.folded_owners)[needle]


# --- the tests ---------------------------------------------------------------------------

def test_the_generated_ledger_holds_personal_data_to_look_for(needles):
    """Enough needles of every kind that the scan cannot pass by having nothing to look for."""
    counts = needles.counts
    print(f"\nneedles ({SCALE_NAME}): {dict(counts)}; {len(needles.digits)} digit forms, "
          f"{len(needles.words)} word forms")
    floor = {"donor ID number": 100, "donor phone": 100, "donor address": 100, "household ID number": 50,
             "household phone": 30, "household address": 50, "memo phone": 10, "memo account number": 5,
             "memo ID number": 3, "anonymous donor's name": 10, "household head's full name": 50}
    assert {kind: counts[kind] for kind in floor if counts[kind] < floor[kind]} == {}
    assert sum(counts.values()) >= 800


def test_the_crawl_reached_every_kind_of_public_answer(ledger, answers):
    paths = list(answers)
    kinds = Counter(_kind_of(p) for p in paths)
    print(f"\nanswers ({SCALE_NAME}, {ledger.backend}): {len(paths)}, {sum(len(a.text) for a in answers.values()):,} "
          f"characters: {dict(kinds)}; {ledger.crawl_stats}; seconds: {ledger.seconds_by_kind}")
    stats = ledger.crawl_stats
    assert kinds["receipt page"] >= stats["receipts"] and kinds["receipt JSON"] >= stats["receipts"]
    assert kinds["household page"] >= min(stats["households"], SAMPLE.households or stats["households"])
    assert kinds["organisation page"] >= min(stats["organisations"], SAMPLE.organisations or 10 ** 9)
    assert kinds["receipt PDF"] >= 1 and kinds["log entries"] >= 1 and kinds["statement"] >= 2
    assert kinds["overview"] >= 3 and kinds["search page"] >= 3 and kinds["summary"] >= 3
    assert len(paths) >= 500
    broken = {p: a.status for p, a in answers.items() if a.status != 200}
    assert broken == {}


def _kind_of(path: str) -> str:
    bare = urlsplit(path).path
    for prefix, kind in (("/r/", "receipt page"), ("/ho/", "household page"), ("/to-chuc/", "organisation page"),
                         ("/tra-cuu", "search page"), ("/kiem-chung", "verify page"),
                         ("/api/v1/transparency/entries", "log entries"), ("/api/v1/transparency", "log"),
                         ("/api/v1/reports/summary", "summary"), ("/api/v1/statement", "statement"),
                         ("/api/v1/areas", "areas"), ("/api/v1/ping", "ping")):
        if bare.startswith(prefix):
            return kind
    if bare.startswith("/api/v1/receipts/"):
        return "receipt PDF" if bare.endswith(".pdf") else "receipt JSON"
    return "overview" if bare == "/" else f"other {bare}"


def test_no_personal_data_in_any_public_page_or_answer(ledger, needles, answers):
    started = time.perf_counter()
    leaks = defaultdict(set)
    for path, answer in answers.items():
        for kind, whose, matched in scan(readable(answer), needles):
            leaks[(path, kind)].add(f"{whose}: {matched}")
    ledger.timings["scan"] = time.perf_counter() - started
    report = {f"{path} [{kind}]": sorted(found)[:5] for (path, kind), found in sorted(leaks.items())}
    assert report == {}


def test_the_masked_forms_are_shown_instead(ledger, needles, answers):
    """What the design shows in place of personal data is there: so the crawl saw the
    very records the needles come from."""
    everything = "\n".join(a.text for a in answers.values())
    # Every number of a memo, masked to its last three digits, in its statement row.
    masked = set(re.findall(r"\*{5,}\d{3}", everything))
    shown = [(cid, digits) for cid, digits in needles.memo_numbers if cid in ledger.memo_rows]
    missing = [(cid, digits) for cid, digits in shown if "*" * (len(digits) - 3) + digits[-3:] not in masked]
    assert len(shown) >= 10 and missing == []
    # Each household's page names its head masked: "Hộ Nguyễn V. A.".
    pages = {int(p.split("/")[2]): a.text for p, a in answers.items() if _kind_of(p) == "household page"
             and "?" not in p}
    assert pages
    wrong = [h for h, text in pages.items() if f"Hộ {mask_name(needles.heads[h])}" not in unescape(text)]
    assert wrong == []
    assert "Nhà hảo tâm ẩn danh" in everything


def test_searching_the_statement_by_personal_data_finds_nothing(ledger, needles):
    """The public search cannot confirm that a phone, an ID or an account gave (it searches
    the masked memo): a search by one finds no contribution, or is refused."""
    client = ledger.app.test_client()
    found = []
    for kind in ("memo phone", "memo account number", "memo ID number", "donor phone", "donor ID number"):
        for value in needles.sample(kind, 5):
            for q in (value, f"{value[:4]} {value[4:7]} {value[7:]}"):
                resp = client.get("/api/v1/statement?" + urlencode({"q": q}))
                assert resp.status_code in (200, 422), (q, resp.status_code)
                if resp.status_code == 200 and resp.get_json()["items"]:
                    found.append((kind, q, [i["receipt_number"] for i in resp.get_json()["items"]][:3]))
    assert found == []


def test_the_scan_finds_personal_data_in_any_form_it_may_take(needles):
    """The scanner itself: a needle is found however a page or an answer might carry it,
    and the masked forms the design publishes are not taken for it."""
    phone = needles.values["donor phone"][0]
    id_number = needles.values["household ID number"][0]
    account = needles.values["memo account number"][0]
    address = needles.values["household address"][0]
    head = needles.values["household head's full name"][0]
    forms = {
        "phone in groups": Answer(200, "text/html", f"<p>LH {phone[:4]} {phone[4:7]} {phone[7:]}</p>"),
        "phone as +84": Answer(200, "text/html", f"<td>+84 {phone[1:4]}.{phone[4:7]}.{phone[7:]}</td>"),
        "phone glued to words": Answer(200, "text/csv", f"so,memo\n1,LH{phone}thanks\n"),
        "ID number in JSON in JSON": Answer(200, "application/json",
                                            json.dumps({"entries": [{"data": json.dumps({"x": id_number})}]})),
        "ID number in dashes": Answer(200, "text/plain", "-".join(id_number[i:i + 3] for i in range(0, 12, 3))),
        "account number in groups": Answer(200, "text/html", " ".join(account[i:i + 4]
                                                                      for i in range(0, len(account), 4))),
        "address with JSON escapes": Answer(200, "application/json", json.dumps({"a": address})),
        "address as HTML entities": Answer(200, "text/html", "".join(f"&#{ord(c)};" for c in address)),
        "address decomposed (NFD)": Answer(200, "text/html", unicodedata.normalize("NFD", address)),
        "address upper case, no diacritics": Answer(200, "text/plain", fold(address).upper()),
        "address in a script's string": Answer(200, "text/html", json.dumps({"a": address}).join(["<script>", ""])),
        "head's name in base64": Answer(200, "application/json",
                                        json.dumps({"p": base64.b64encode(head.encode()).decode()})),
        "head's name, other case": Answer(200, "text/html", f"<b>{head.upper()}</b>"),
        "phone glued to hex letters": Answer(200, "text/plain", f"ref abc{phone}def"),
        "phone glued to a receipt number": Answer(200, "text/plain", f"MT08-2025-001200{phone}"),
        "head's name in a CSV cell": Answer(200, "text/csv", f'so,ten\n1,"{head}, thon Dong"\n'),
    }
    missed = [what for what, answer in forms.items() if not scan(readable(answer), needles)]
    assert missed == []
    # A SHA-256 digest in hex is random digits, not a leak, even where a needle's digits occur in it.
    digest = ("ab" * 32)[:20] + phone + ("cd" * 32)[:44 - len(phone)]
    assert len(digest) == 64 and scan(readable(Answer(200, "application/json", json.dumps({"c": digest}))),
                                      needles) == []
    # Nor a name read across two cells or two JSON strings: all but its last word, then the last.
    *first, last = head.split()
    apart = {"text/csv": f"ten,loai\n{' '.join(first)},{last} mat\n",
             "application/json": json.dumps({"donor": " ".join(first), "kind": f"{last} mat"})}
    whole = {" ".join(words_of(head)), " ".join(words_of(fold(head)))}
    assert all(not whole & {matched for _kind, _whose, matched in scan(readable(Answer(200, mimetype, body)), needles)}
               for mimetype, body in apart.items())
    # Nor is a receipt number whose digits, dashes dropped, hold a needle's.
    receipt = f"MT{phone[:2]}-{phone[2:6]}-{phone[6:]:0<6}"  # "MT08-2025-001200" for 0820250012
    assert RECEIPT_NUMBER.fullmatch(receipt) and scan(readable(Answer(200, "text/csv", f"so,{receipt}\n")),
                                                      needles) == []
    published = f"LH *******{phone[-3:]}, TK {'*' * (len(account) - 3)}{account[-3:]} · Hộ {mask_name(head)}"
    assert scan(readable(Answer(200, "text/html", published)), needles) == []
