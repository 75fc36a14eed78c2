"""python -m receipts verify FILE.pdf --public-key KEY
   python -m receipts verify-url URL --public-key KEY
   python -m receipts verify-log EXPORT.jsonl --public-key KEY
   python -m receipts verify-export DIR [--public-key KEY]

Exit code 0 only when genuine; 1 not genuine; 2 genuine but voided; 3 the check could not
run (unreadable file, unreachable ledger). One line per receipt says why.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .verify import EXIT_CODES, load_keys, verify_pdf, verify_url

CANNOT_CHECK = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m receipts", description="Verify a receipt offline.")
    commands = parser.add_subparsers(dest="command", required=True)
    pdf = commands.add_parser("verify", help="verify the receipt(s) a PDF carries")
    pdf.add_argument("file", type=Path)
    url = commands.add_parser("verify-url", help="verify the URL a receipt's QR code carries")
    url.add_argument("url")
    log = commands.add_parser("verify-log", help="verify an exported transparency log (flask ledger log export)")
    log.add_argument("file", type=Path)
    log.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="a progress bar on stderr (default: when it is a terminal)")
    for sub in (pdf, url, log):
        sub.add_argument("--public-key", "-k", type=Path, action="append", required=True,
                         help="a published public key (PEM or base64); repeat for rotated keys")
    export = commands.add_parser("verify-export", help="verify an export directory against its signed manifest")
    export.add_argument("directory", type=Path)
    export.add_argument("--public-key", "--key", "-k", action="append", default=[],
                        help="the ledger's public key: a file (PEM, base64, or the JSON of "
                             "/api/v1/transparency/keys) or inline base64; repeat for rotated keys. "
                             "Without it the files are checked but the signature cannot be (exit 3)")
    args = parser.parse_args(argv)

    if args.command == "verify-export":
        return _verify_export(args.directory, args.public_key)
    try:
        keys = load_keys(args.public_key)
        if args.command == "verify-log":
            return _verify_log(args.file, keys, args.progress)
        if args.command == "verify":
            verdicts = verify_pdf(args.file.read_bytes(), keys)
        else:
            verdicts = [verify_url(args.url, keys)]
    except (OSError, ValueError) as exc:
        print(f"cannot check: {exc}", file=sys.stderr)
        return CANNOT_CHECK
    for verdict in verdicts:
        print(f"{verdict.number or '?'}: {verdict.status.upper().replace('_', ' ')}: {verdict.reason}")
    return max(EXIT_CODES[v.status] for v in verdicts)


def _verify_log(path: Path, keys, progress) -> int:
    from .logcheck import check_export_file

    problems, summary = check_export_file(path, keys, progress)
    for problem in problems:
        print(f"NOT GENUINE: {problem}")
    if problems:
        return 1
    print(f"GENUINE: {summary['entries']} entries of {summary['origin']}, {summary['checkpoints']} signed "
          f"checkpoints up to size {summary['largest']}, all consistent")
    return 0


def _verify_export(directory: Path, key_arguments: list[str]) -> int:
    from .export_manifest import load_key_arguments, verify_export

    try:
        keys = load_key_arguments(key_arguments)
    except (OSError, ValueError) as exc:
        print(f"cannot check: {exc}", file=sys.stderr)
        return CANNOT_CHECK
    check = verify_export(directory, keys)
    for problem in check.problems:
        print(f"NOT GENUINE: {problem}")
    for reason in check.unchecked:
        print(f"CANNOT CHECK: {reason}")
    for note in check.notes:
        print(f"note: {note}")
    if check.exit_code == 0:
        manifest = check.manifest
        files = ", ".join(f"{f['name']} ({f['rows']:,} rows)" for f in manifest["files"])
        at = manifest.get("checkpoint")
        where = f" at log size {at['size']}" if at else ""
        print(f"GENUINE: export {manifest['export']!r} of {manifest['created_at']}{where}, signed by key "
              f"{manifest['key_id']}: {files}")
    return check.exit_code


if __name__ == "__main__":
    sys.exit(main())
