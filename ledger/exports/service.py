"""Exports: who may ask, the filters checked once, the direct streams and the job.

CSV and JSONL stream straight into the answer: receipts.exports' writers take a path (they
stat and hash the finished file), so the stream uses that module's own row converter and
adds only the BOM and line ends, and every cell rule stays there. XLSX (a zip that cannot
be written as a stream) and any `?background=1` run as a job of kind "export": the data
file, manifest.json and manifest.json.sig (signed by the ledger's key, at the latest
signed checkpoint) are zipped into one download.
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import date

from flask_babel import lazy_gettext as _l

from receipts.export_manifest import MANIFEST, SIGNATURE, build_manifest, write_manifest
from receipts.exports import BOM, FORMATS, _row_converter, write_export

from ..areas.models import Area
from ..auth.models import User
from ..auth.service import require
from ..extensions import db
from ..jobs.runner import job_handler
from ..jobs.service import enqueue
from ..problems import InvalidInput, NotFound
from ..types import utcnow
from .datasets import DATASETS, Dataset

JOB_KIND = "export"
STREAMED = ("csv", "jsonl")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_CHUNK = 64 * 1024
PROGRESS_EVERY = 5000  # rows between progress reports (each is a short write transaction)


def dataset(what: str, fmt: str) -> Dataset:
    if what not in DATASETS:
        raise NotFound(_l("There is no export called %(name)s. Choose postings, contributions or allocations.",
                          name=what))
    if fmt not in FORMATS:
        raise NotFound(_l("Exports come as csv, jsonl or xlsx, not %(format)s.", format=fmt))
    return DATASETS[what]


def checked_filters(user: User, args: dict) -> dict:
    """The filters as the datasets take them, after the permission and area checks. A user
    bound to an area exports only that area (and below)."""
    require(user, "audit")
    filters = {k: v for k, v in args.items() if k != "background" and v is not None}
    code = filters.get("area_code")
    if code is not None and db.session.get(Area, code) is None:
        message = _l("Unknown area code %(code)s.", code=code)
        raise InvalidInput(message, errors={"area_code": [message]})
    if user.area_code:
        from ..auth.service import require_area

        if code is None:
            filters["area_code"] = user.area_code
        else:
            require_area(user, code)
    return filters


def filters_to_json(filters: dict) -> dict:
    """Job params and the manifest hold JSON: dates as ISO strings."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in sorted(filters.items())}


def filters_from_json(params: dict) -> dict:
    out = dict(params)
    for name in ("date_from", "date_to"):
        if out.get(name):
            out[name] = date.fromisoformat(out[name])
    return out


def file_name(what: str, fmt: str) -> str:
    return f"{what}.{fmt}"


# --- direct streams ------------------------------------------------------------------------

def stream(data: Dataset, fmt: str, filters: dict) -> Iterator[bytes]:
    """The file's bytes in chunks, as receipts.exports would write it (same cells)."""
    convert = _row_converter(data.columns, fmt)
    buffer = io.StringIO()
    if fmt == "csv":
        yield BOM
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([c.header for c in data.columns])
        write = writer.writerow
    else:
        encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode

        def write(cells):
            buffer.write(encode(cells) + "\n")
    for row in data.rows(filters):
        write(convert(row))
        if buffer.tell() >= _CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


# --- the job -------------------------------------------------------------------------------

def queue_export(user: User, what: str, fmt: str, filters: dict):
    return enqueue(JOB_KIND, {"what": what, "format": fmt, "filters": filters_to_json(filters)}, user)


def _checkpoint() -> dict | None:
    from ..transparency.log import latest_checkpoint, origin

    latest = latest_checkpoint()
    if latest is None:
        return None
    return {"origin": origin(), "size": int(latest.size), "root_hash": bytes(latest.root_hash), "note": latest.note}


@job_handler(JOB_KIND)
def run_export(ctx, params: dict) -> dict:
    """Write the data file and its signed manifest, then zip them as the job's one file.
    Reads only: run again after a crash, it writes the same export anew."""
    from ..transparency.service import current_key, ensure_key_on_record

    what, fmt = params["what"], params["format"]
    data = dataset(what, fmt)
    filters = filters_from_json(params["filters"])
    ensure_key_on_record()  # first, in a write transaction of its own, before the long read
    # The checkpoint is taken before the rows: the export holds at least what it covers.
    checkpoint = _checkpoint()
    created_at = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    total = data.count(filters)
    ctx.progress(0, total)
    work = ctx.directory / f".export.{ctx.attempt}"
    work.mkdir(parents=True, exist_ok=True)

    def rows():
        for done, row in enumerate(data.rows(filters), 1):
            yield row
            if done % PROGRESS_EVERY == 0:
                ctx.progress(done, total)

    written = write_export(work / file_name(what, fmt), data.columns, rows(), totals=data.totals)
    ctx.progress(written.rows, max(total, written.rows))
    key = current_key()  # on record already: no write here
    manifest = build_manifest(export=what, filters=params["filters"], created_at=created_at, columns=data.columns,
                              files=[written], checkpoint=checkpoint, key_id=key.key_id, totals_by=data.totals)
    write_manifest(work, manifest, key)
    zip_name = f"{what}-{fmt}-export-{ctx.job_id}.zip"
    with ctx.open_output(zip_name) as f, zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in (written.name, MANIFEST, SIGNATURE):
            archive.write(work / name, arcname=name)
    for name in (written.name, MANIFEST, SIGNATURE):
        (work / name).unlink(missing_ok=True)
    work.rmdir()
    return {"content_type": "application/zip", "rows": written.rows, "totals": written.totals or {},
            "export": what, "format": fmt}
