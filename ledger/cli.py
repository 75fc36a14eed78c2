"""`flask --app wsgi ledger ...`: the commands an operator runs."""
from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from .problems import LedgerError

ledger_cli = AppGroup("ledger", help="Ledger administration.")
areas_cli = AppGroup("areas", help="Administrative areas.")
user_cli = AppGroup("user", help="Staff users.")
keys_cli = AppGroup("keys", help="The key that signs receipts.")
receipts_cli = AppGroup("receipts", help="Signed receipts.")
log_cli = AppGroup("log", help="The transparency log.")
for group in (areas_cli, user_cli, keys_cli, receipts_cli, log_cli):
    ledger_cli.add_command(group)


def _fail(err: LedgerError):
    """The refusal for a person: its sentence, then each field's (or row's) reasons."""
    lines = [str(err.detail)] + [f"  {where}: {'; '.join(str(m) for m in messages)}"
                                 for where, messages in (err.errors or {}).items()]
    raise click.ClickException("\n".join(lines))


@areas_cli.command("import")
def import_areas():
    """Load provinces and communes (two-level, from 1 July 2025) from vietnam-provinces."""
    from .areas.service import import_official_areas

    provinces, communes = import_official_areas()
    click.echo(f"added {provinces} provinces and {communes} communes")


@areas_cli.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--type", "division_type", default="huyện", help="e.g. huyện, quận, xã, phường")
@click.option("--parent", "parent_code", default=None, help="the parent area's code")
@click.option("--current", is_flag=True, help="not a legacy unit")
def add_area(code, name, division_type, parent_code, current):
    """Add a legacy district or commune (for records of 2024 and before)."""
    from .areas.service import add_area as add

    try:
        area = add(code, name, division_type, parent_code, legacy=not current)
    except LedgerError as err:
        _fail(err)
    click.echo(f"added {area.code} {area.name}")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")


@user_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "recorder", "approver", "auditor"]))
@click.option("--area", "area_code", default=None, help="area code; none: the whole country")
@click.option("--name", "display_name", default=None, help="display name")
@click.option("--private-data", "sees_private_data", is_flag=True,
              help="an auditor may read ID numbers, phones and addresses (others always may)")
def create_user(username, role, area_code, display_name, sees_private_data):
    """Create a user; the password is read from a prompt, or from stdin's first line."""
    from .auth.service import create_user as create

    try:
        user = create(username, _read_password(), role, area_code, display_name,
                      sees_private_data=sees_private_data)
    except LedgerError as err:
        _fail(err)
    click.echo(f"created {user.role} {user.username}")


@user_cli.command("ensure-admin")
@click.option("--username", default="admin")
def ensure_admin(username):
    """Create the first admin when there is none, with a random password printed once."""
    from .auth.service import create_user as create
    from .auth.service import has_admin

    if has_admin():
        click.echo("An admin user exists; log in with its password.")
        return
    password = secrets.token_urlsafe(12)
    create(username, password, "admin", None, "Quản trị viên")
    click.echo("Created the first admin user. Write this down; it is shown only once:")
    click.echo(f"    username: {username}")
    click.echo(f"    password: {password}")
    port = os.environ.get("PORT", "5000")
    click.echo(f"Log in to the staff pages: http://127.0.0.1:{port}/staff/login")
    click.echo(f"Get an API token: curl -s -X POST http://127.0.0.1:{port}/api/v1/auth/token "
               "-H 'Content-Type: application/json' "
               f"-d '{{\"username\": \"{username}\", \"password\": \"<password>\"}}'")


@ledger_cli.command("verify")
def verify():
    """Prove the books were not rewritten: rebuild every log entry from the rows, the tree
    against every checkpoint, balances against postings. Exit 1 on any problem."""
    from .transparency.audit import verify_ledger

    problems = verify_ledger()
    for problem in problems:
        click.echo(f"FAIL {problem}", err=True)
    if problems:
        raise SystemExit(1)
    from .transparency.log import log_size

    click.echo(f"ledger verified: {log_size()} log entries rebuilt from the rows and matching every signed "
               "checkpoint; every transaction balances; holdings equal the journal")


@ledger_cli.command("public-summaries")
def public_summaries():
    """Compute the public overview of the country and of every province, for each
    campaign, and keep it (the pages then show it at once; they refresh it themselves)."""
    from .campaigns.models import Campaign
    from .extensions import db
    from .public.summaries import refresh_all

    for campaign_id, code in db.session.execute(db.select(Campaign.id, Campaign.code).order_by(Campaign.id)).all():
        count = refresh_all(campaign_id)
        click.echo(f"{code}: {count} summaries kept (the country and every province)")


@ledger_cli.command("backup")
@click.argument("destination", type=click.Path(file_okay=True, dir_okay=True, path_type=Path))
def backup_command(destination):
    """Copy the whole database, while the service runs, to DESTINATION (a folder: a file
    named by the time in it), with a manifest (SHA-256, the latest signed checkpoint).
    The signing key is not in it: keep the key file in its own safe place."""
    from .backups.service import BackupError, backup

    try:
        path, manifest = backup(destination)
    except BackupError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"backup written: {path} ({manifest.bytes:,} bytes, SHA-256 {manifest.sha256})")
    click.echo(f"it holds the log up to checkpoint {manifest.checkpoint_size} (root {manifest.checkpoint_root})")


@ledger_cli.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="replace a database that already holds a ledger")
def restore_command(source, replace):
    """Restore a backup (checked against its manifest first) into the configured database,
    then check that it holds the manifest's checkpoint and that `verify` passes. Stop the
    service first."""
    from .backups.service import BackupError, restore

    try:
        manifest = restore(source, replace=replace)
    except BackupError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"restored {source.name}; the log verifies, up to checkpoint {manifest.checkpoint_size}")


@log_cli.command("publish")
def publish_log():
    """Bring the transparency log up to date and sign a checkpoint (the service does it too)."""
    from .transparency.log import publish

    checkpoint = publish()
    click.echo(checkpoint.note, nl=False)


@log_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def export_log(path):
    """Write the log's entries and checkpoints as JSON Lines, for `python -m receipts verify-log`."""
    from .transparency.export import export_log as export

    count = export(path)
    click.echo(f"wrote {count} entries to {path}")


@keys_cli.command("show")
def show_key():
    """Print the active signing key's id and public key (never the private key)."""
    from receipts.signing import public_key_pem

    from .transparency.keys import key_file, signing_key
    from .transparency.service import ensure_key_on_record

    record = ensure_key_on_record()
    click.echo(f"key id: {record.key_id} (Ed25519), private key file: {key_file()}")
    click.echo(public_key_pem(signing_key().public_key), nl=False)


@keys_cli.command("rotate")
def rotate_key():
    """Sign from now on with a new key; receipts signed before stay verifiable."""
    from flask import current_app

    from .transparency.service import rotate_signing_key

    try:
        old, new, archived = rotate_signing_key(current_app)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"new signing key {new}; key {old} is retired and still published.")
    click.echo(f"The old private key was moved to {archived}: archive it offline, then delete it.")
    click.echo("Restart the service so that every worker signs with the new key.")


@receipts_cli.command("issue-missing")
def issue_missing():
    """Sign receipts for contributions recorded before receipts were signed."""
    from .receipts.service import issue_missing_receipts

    click.echo(f"issued {issue_missing_receipts()} receipts")


@ledger_cli.command("worker")
@click.option("--once", is_flag=True, help="Run the jobs queued now, then exit (for cron and tests).")
@click.option("--poll", type=float, default=None, help="Seconds between looks for work when idle "
              "(default LEDGER_JOB_POLL_SECONDS).")
def worker(once, poll):
    """Run background jobs (large exports, imports) until stopped. SIGTERM: the current job
    finishes, or goes back to the queue at its next progress report."""
    import threading

    from flask import current_app

    from .jobs.runner import stop_on_signals, work, worker_id

    name = worker_id()
    stopping = threading.Event()
    if not once:
        click.echo(f"job worker {name} started")
    with stop_on_signals(stopping):
        count = work(current_app._get_current_object(), once=once, poll=poll, stopping=stopping, name=name)
    click.echo(f"job worker {name} ran {count} job(s)")


@ledger_cli.command("prune-jobs")
def prune_jobs():
    """Delete the files of background jobs finished more than LEDGER_JOB_KEEP_DAYS ago (the
    workers do it when idle, at most hourly); the jobs' rows stay."""
    from .jobs.service import delete_old_files

    click.echo(f"deleted the files of {delete_old_files()} job(s)")


@ledger_cli.command("import-statement")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--fund", "fund_code", required=True, help="the code of the fund the bank account belongs to")
@click.option("--bank", default=None, type=click.Choice(["vietcombank", "vietinbank", "bidv", "agribank"]),
              help="the layout; default: recognised from the file")
@click.option("--campaign", "campaign_code", default=None, help="default: the latest campaign covering the fund")
@click.option("--user", "username", default="admin", show_default=True, help="who records it (a recorder or admin)")
@click.option("--dry-run", is_flag=True, help="show what would be recorded; record nothing")
def import_statement(path, fund_code, bank, campaign_code, username, dry_run):
    """Import a bank statement (CSV or XLSX): credits become contributions with receipts,
    matched to pledges by the code in the memo; lines imported before are skipped."""
    from pathlib import Path

    from sqlalchemy import select

    from .auth.models import User
    from .campaigns.models import Campaign
    from .extensions import db
    from .funds.models import Fund
    from .imports import service

    fund = db.session.scalar(select(Fund).where(Fund.code == fund_code))
    user = db.session.scalar(select(User).where(User.username == username))
    campaign = db.session.scalar(select(Campaign).where(Campaign.code == campaign_code)) if campaign_code else None
    if fund is None or user is None or (campaign_code and campaign is None):
        missing = "fund " + fund_code if fund is None else "user " + username if user is None else campaign_code
        raise click.ClickException(f"unknown {missing}")
    data, name = Path(path).read_bytes(), Path(path).name
    options = {"bank": bank, "campaign_id": campaign.id if campaign else None}
    try:
        if dry_run:
            plan = service.plan_import(user, fund.id, data, name, **options)
            batch = None
        else:
            if sys.stdout.isatty():
                with click.progressbar(length=1, label="recording", show_pos=True) as bar:
                    def progress(done, total):
                        bar.length = total
                        bar.update(done - bar.pos)

                    plan, batch = service.commit_import(user, fund.id, data, name, progress=progress, **options)
            else:  # a log or a pipe: a line per report
                def progress(done, total):
                    click.echo(f"recorded {done}/{total}")
                    sys.stdout.flush()  # a pipe is block-buffered: say it now

                plan, batch = service.commit_import(user, fund.id, data, name, progress=progress, **options)
    except LedgerError as err:
        _fail(err)
    _echo_plan(plan, dry_run, batch)


def _echo_plan(plan, dry_run: bool, batch) -> None:
    c, t = plan.counts, plan.totals
    s = plan.statement
    click.echo(f"{plan.file_name}: {s.bank}, account {s.account_number or '?'}, "
               f"{s.period_from or '?'} to {s.period_to or '?'}, {c['lines']} lines")
    click.echo(f"  new credits: {c['new']} ({t['new_credits_vnd']:,} VND): {c['pledge']} matched to "
               f"pledges, {c['donor']} known donors, {c['new_donor']} from {c['new_donors']} new donors, "
               f"{c['anonymous']} anonymous")
    click.echo(f"  debits (kept for reconciliation): {c['debit']} ({t['debits_vnd']:,} VND)")
    click.echo(f"  already imported: {c['duplicate']} ({t['duplicates_vnd']:,} VND)")
    for p in plan.lines:
        if p.note:
            click.echo(f"  row {p.line.row}: {p.note}")
    if dry_run:
        click.echo("dry run: nothing recorded")
    elif batch is None:
        click.echo("nothing new: every line was imported before")
    else:
        click.echo(f"recorded batch {batch.id}")
