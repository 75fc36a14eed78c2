"""Exports: who may ask, the filters checked once, the direct streams and the job.

Every export comes with a manifest signed by the ledger's key, at the latest signed
checkpoint (taken before the rows are read: the export holds at least what it covers).
CSV and JSONL stream straight into the answer through receipts.exports.ExportStream,
which hashes and sums exactly the bytes sent; when the last byte is out, the manifest is
signed and kept under a random id given in the answer's headers (`Link: ...;
rel="describedby"`), so `manifest.json` and `manifest.json.sig` can be fetched beside the
file. XLSX (a zip that cannot be written as a stream) and any `?background=1` run as a
job of kind "export": the data file, manifest.json and manifest.json.sig are zipped into
one download.
"""
from __future__ import annotations

import secrets
import zipfile
from collections.abc import Iterator
from datetime import date

from flask_babel import lazy_gettext as _l

from receipts.export_manifest import MANIFEST, SIGNATURE, build_manifest, signed_message, write_manifest
from receipts.exports import FORMATS, STREAMED_FORMATS, ExportStream, write_export
from receipts.payload import canonical_bytes

from ..areas.models import Area
from ..auth.models import User
from ..auth.privacy import sees_private_data
from ..auth.service import require
from ..database import write_transaction
from ..extensions import db
from ..jobs.runner import job_handler
from ..jobs.service import enqueue
from ..problems import Forbidden, InvalidInput, NotFound
from ..types import utcnow
from .datasets import Dataset
from .models import StreamedExportManifest
from .registers import DATASETS

JOB_KIND = "export"
STREAMED = STREAMED_FORMATS
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
PROGRESS_EVERY = 5000  # rows between progress reports (each is a short write transaction)


def dataset(what: str, fmt: str) -> Dataset:
    if what not in DATASETS:
        raise NotFound(_l("There is no export called %(name)s. Choose one of: %(names)s.",
                          name=what, names=", ".join(DATASETS)))
    if fmt not in FORMATS:
        raise NotFound(_l("Exports come as csv, jsonl or xlsx, not %(format)s.", format=fmt))
    return DATASETS[what]


def checked_filters(user: User, args: dict, data: Dataset) -> dict:
    """The filters as `data` takes them, after the permission and area checks: a user bound
    to an area exports only that area (and below); the status filter is checked against
    the dataset's statuses; a dataset of private fields needs the grant to read them."""
    require(user, "audit")
    if data.private and not sees_private_data(user):
        raise Forbidden(_l("The %(name)s export holds ID numbers, phones and addresses: an administrator must "
                           "first grant your account access to private data.", name=data.name))
    filters = {k: v for k, v in args.items() if k != "background" and v is not None}
    if filters.get("status") is not None:
        check_status(data, filters["status"])
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


def check_status(data: Dataset, status: str) -> None:
    """Each dataset has its own statuses (a pledge's, a household's, live or voided ...), and
    some none: an unknown one is refused with the allowed values, never an empty export."""
    if not data.statuses:
        message = _l("The %(name)s export has no status filter.", name=data.name)
    elif status not in data.statuses:
        message = _l("Unknown status %(status)s for the %(name)s export. Choose one of: %(allowed)s.",
                     status=status, name=data.name, allowed=", ".join(data.statuses))
    else:
        return
    raise InvalidInput(message, errors={"status": [message]})


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

def stream(data: Dataset, fmt: str, filters: dict) -> ExportStream:
    """The file's bytes in chunks (iterate it), counted and hashed as they go."""
    return ExportStream(file_name(data.name, fmt), data.columns, data.rows(filters), totals=data.totals)


class SignedStream:
    """A streamed export whose manifest is signed and kept when its last byte is out.

    The key goes on record and the checkpoint is read up front, in the request, so a
    problem there is an error answer, not a broken download."""

    def __init__(self, user: User, data: Dataset, fmt: str, filters: dict):
        from ..transparency.service import ensure_key_on_record

        ensure_key_on_record()
        self.manifest_id = secrets.token_hex(16)
        self.user_id, self.data, self.fmt, self.filters = user.id, data, fmt, filters
        self.checkpoint = _checkpoint()
        self.created_at = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
        self.file = stream(data, fmt, filters)

    def __iter__(self) -> Iterator[bytes]:
        yield from self.file
        self._keep_manifest()

    def _keep_manifest(self) -> None:
        from ..transparency.service import current_key

        key = current_key()
        manifest = build_manifest(export=self.data.name, filters=filters_to_json(self.filters),
                                  created_at=self.created_at, columns=self.data.columns, files=[self.file.written],
                                  checkpoint=self.checkpoint, key_id=key.key_id, totals_by=self.data.totals)
        body = canonical_bytes(manifest)
        with write_transaction():
            db.session.add(StreamedExportManifest(
                id=self.manifest_id, export=self.data.name, format=self.fmt, requested_by_id=self.user_id,
                created_at=utcnow(), manifest=body, signature=key.sign(signed_message(body))))


def streamed_manifest(user: User, manifest_id: str) -> StreamedExportManifest:
    """A kept manifest, for the user who streamed the export (or an admin or auditor of the
    whole country). Not there: the download was not finished, or the id is wrong."""
    require(user, "audit")
    record = db.session.get(StreamedExportManifest, manifest_id)
    if record is None or (record.requested_by_id != user.id and user.area_code):
        raise NotFound(_l("There is no manifest %(id)s: the export it belongs to was not downloaded to its "
                          "end, or the address is wrong.", id=manifest_id))
    return record


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
