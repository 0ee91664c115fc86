"""`flask --app gis_app ...` commands: db, demo, import, imports, users, backup, restore,
and the life-cycle verbs officials also click (records, proposals, zones, assessments,
media).

Every write verb runs in one transaction (`_run`) on the same service the page calls,
recorded as a revision under `--user` (required); a refusal is one line in English or
Vietnamese (`--lang`) and exit code 1, never a traceback."""
from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from tqdm import tqdm

from gis_app.clock import VIETNAM_TIME, read_day
from gis_app.db import database
from gis_app.errors import HeritageError, InputError, PermissionDenied, RecordNotFound
from gis_app.importers import targets
from gis_app.importers.mapping import parse_manual, parse_values
from gis_app.importers.pipeline import ImportOptions, run_import
from gis_app.models.base import ROLES
from gis_app.services import (
    accounts,
    backup,
    conditions,
    demo,
    digital_records,
    history,
    lifecycle,
    migrations,
    proposals,
    zones,
)
from gis_app.services import imports as import_records
from gis_app.services.features import FULL_ACCESS_ROLES

log = logging.getLogger(__name__)

db_cli = AppGroup("db", help="Database schema (Alembic revisions).")
demo_cli = AppGroup("demo", help="The Khoái Châu demo data.")
users_cli = AppGroup("users", help="Accounts of officials and editors.")
imports_cli = AppGroup("imports", help="Survey imports: list them, publish or undo one.")
records_cli = AppGroup("records", help="The life of relic records: create, edit, publish, "
                                    "entrust, retire, merge, history, restore.")
proposals_cli = AppGroup("proposals", help="Proposed changes to relics: list, show, approve, "
                                        "send back, withdraw.")
zones_cli = AppGroup("zones", help="Protection zones of a relic: show, set a new version.")
assessments_cli = AppGroup("assessments", help="Condition assessments: withdraw one.")
media_cli = AppGroup("media", help="Photos and documents: remove one, put it back.")
downloads_cli = AppGroup("downloads", help="Open-data files (/data): prepare them ahead.")
reports_cli = AppGroup("reports", help="The annual report's PDF: make it ahead.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrations.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision", default="-1")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (default: one step; 'base' for all)."""
    migrations.downgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demo set (once; a second run changes nothing)."""
    with database().session() as session, session.begin():
        counts = demo.load_demo(session)
    if counts:
        click.echo("loaded: " + ", ".join(f"{n} {table}" for table, n in counts.items()))
    else:
        click.echo("demo data already loaded; nothing changed")


ROLE_CHOICE = click.Choice(list(ROLES))
UNIT_HELP = ("Administrative unit of a commune editor, by code; CODE@YYYY-MM-DD for the unit "
             "with that code on that date (codes were reused in 2025). Repeatable")
BY_HELP = "Administrator the change is recorded under (default: the command line)"


def _run(action, lang: str = "en") -> Any:
    """Run `action(session)` in one transaction; a HeritageError becomes a clear message."""
    try:
        with database().session() as session, session.begin():
            return action(session)
    except HeritageError as error:
        log.info("command refused: %s", error.log_message)
        raise click.ClickException(error.user_message(lang)) from None
    except SQLAlchemyError:
        log.exception("command failed in the database")
        raise click.ClickException(
            "Khi lưu, cơ sở dữ liệu báo lỗi; không có gì thay đổi. Hãy báo quản trị viên "
            "(chi tiết trong nhật ký)." if lang == "vi" else
            "The database refused the change; nothing was changed. Tell the administrator "
            "(the details are in the log).") from None


def _run_account_change(change: Callable[[Session, Any], Any], by: str | None) -> Any:
    """Run `change(session, actor)` in one transaction (see _run); the actor is the
    account named by --by, or nobody."""
    return _run(lambda session: change(
        session, None if by is None else accounts.user_by_name(session, by)))


def _show_password_once(username: str, password: str) -> None:
    click.echo(f"password for {username} (shown only this once): {password}")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=ROLE_CHOICE, default="district_reviewer", show_default=True)
@click.option("--name", "display_name", help="Display name")
@click.option("--unit", "units", multiple=True, help=UNIT_HELP)
@click.option("--password", help="Password (asked twice if neither this nor --generate-password)")
@click.option("--generate-password", "generate", is_flag=True,
              help="Make up a password and print it once")
@click.option("--by", help=BY_HELP)
def users_create(username: str, role: str, display_name: str | None, units: tuple[str, ...],
                 password: str | None, generate: bool, by: str | None) -> None:
    """Create an account."""
    if generate:
        password = accounts.generate_password()
    elif not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    _run_account_change(lambda db, actor: accounts.create_user(
        db, username, password, role, display_name, units, actor=actor), by)
    click.echo(f"created {role} {username}")
    if generate:
        _show_password_once(username, password)


@users_cli.command("disable")
@click.argument("username")
@click.option("--by", help=BY_HELP)
def users_disable(username: str, by: str | None) -> None:
    """Disable an account: it cannot sign in and its open sessions end."""
    _run_account_change(lambda db, actor: accounts.set_active(
        db, actor, accounts.user_by_name(db, username).id, False), by)
    click.echo(f"disabled {username}")


@users_cli.command("enable")
@click.argument("username")
@click.option("--by", help=BY_HELP)
def users_enable(username: str, by: str | None) -> None:
    """Enable a disabled account again."""
    _run_account_change(lambda db, actor: accounts.set_active(
        db, actor, accounts.user_by_name(db, username).id, True), by)
    click.echo(f"enabled {username}")


@users_cli.command("reset-password")
@click.argument("username")
@click.option("--ask", is_flag=True, help="Type the new password (asked twice) instead of "
                                          "making one up")
@click.option("--by", help=BY_HELP)
def users_reset_password(username: str, ask: bool, by: str | None) -> None:
    """Give an account a new password (made up and printed once, or typed with --ask);
    sessions opened with the old one end."""
    typed = click.prompt("New password", hide_input=True, confirmation_prompt=True) \
        if ask else None
    password = _run_account_change(lambda db, actor: accounts.reset_password(
        db, actor, accounts.user_by_name(db, username).id, typed), by)
    click.echo(f"password of {username} reset")
    if not ask:
        _show_password_once(username, password)


@users_cli.command("set-role")
@click.argument("username")
@click.argument("role", type=ROLE_CHOICE)
@click.option("--unit", "units", multiple=True,
              help=UNIT_HELP + "; a commune editor keeps their units if none is given")
@click.option("--by", help=BY_HELP)
def users_set_role(username: str, role: str, units: tuple[str, ...], by: str | None) -> None:
    """Change an account's role (other roles than commune editor lose their units)."""
    _run_account_change(lambda db, actor: accounts.set_role(
        db, actor, accounts.user_by_name(db, username).id, role,
        accounts.resolve_units(db, units) if units else None), by)
    click.echo(f"{username} is now {role}")


@users_cli.command("set-units")
@click.argument("username")
@click.option("--unit", "units", multiple=True, required=True, help=UNIT_HELP)
@click.option("--by", help=BY_HELP)
def users_set_units(username: str, units: tuple[str, ...], by: str | None) -> None:
    """Scope a commune editor to exactly these administrative units (any date)."""
    _run_account_change(lambda db, actor: accounts.set_units(
        db, actor, accounts.user_by_name(db, username).id, accounts.resolve_units(db, units)),
        by)
    click.echo(f"{username} scoped to {', '.join(units)}")


@users_cli.command("list")
def users_list() -> None:
    """Every account: role, active, units, last sign-in (Vietnam time)."""
    with database().session() as session:
        rows = accounts.list_users(session)
    for row in rows:
        units = ", ".join(u["name"] + ("" if u["valid_to"] is None
                                       else f" (until {u['valid_to']:%d/%m/%Y})")
                          for u in row["units"])
        last = row["last_sign_in"]
        seen = "never signed in" if last is None else \
            f"last sign-in {last.astimezone(VIETNAM_TIME):%Y-%m-%d %H:%M}"
        failed = f", {row['failures_since']} failed since" if row["failures_since"] else ""
        click.echo(f"{row['username']:20} {row['role']:17} "
                   f"{'active' if row['active'] else 'DISABLED':8} {seen}{failed}"
                   + (f"  units: {units}" if units else ""))


@users_cli.command("ensure-demo-admin")
def users_demo_admin() -> None:
    """Create the demo administrator 'admin' if there is no administrator yet."""
    with database().session() as session, session.begin():
        password = accounts.ensure_demo_admin(session)
    if password:
        click.echo("=" * 64)
        click.echo(f"Demo administrator created: user 'admin', password '{password}'")
        click.echo("It is shown only this once; change it or create your own account with")
        click.echo("  flask --app gis_app users create NAME --role admin")
        click.echo("=" * 64)


def _user_id(session, username: str | None) -> int | None:
    if not username:
        return None
    user = accounts.find_user(session, username)
    if user is None:
        raise click.ClickException(f"no account named {username!r}")
    return user.id


def _echo_report(report: dict, lang: str) -> None:
    def say(entry: dict) -> str:
        return entry.get(lang) or entry.get("en", "")
    info = report.get("file", {})
    if info:
        click.echo(f"file: {info.get('name')} ({info.get('format')}, {info.get('features')} "
                   f"features, sha256 {info.get('checksum', '')[:12]}…)")
    crs = report.get("crs")
    if crs:
        click.echo(f"coordinates: {crs['crs']} ({crs['how']})")
        for note in crs["notes"]:
            click.echo(f"  note: {say(note)}")
    enc = report.get("encoding")
    if enc:
        click.echo(f"text encoding: {enc['encoding']} ({enc['how']})")
        for sample in enc.get("samples", []):
            click.echo(f"  {sample['field']} row {sample['row']}: {sample['before']!r} -> "
                       f"{sample['after']!r}")
    mapping = report.get("mapping")
    if mapping:
        click.echo("fields: " + ", ".join(f"{t} <- {s}" for t, s in mapping["columns"].items()))
        if mapping["ignored"]:
            click.echo("ignored: " + ", ".join(mapping["ignored"]))
    for repair in report.get("repairs", []):
        click.echo(f"repaired {repair['count']}: {say(repair)} rows "
                   f"{', '.join(map(str, repair['rows'][:20]))}")
    for warning in report.get("warnings", []):
        rows = f" rows {', '.join(map(str, warning['rows'][:20]))}" if warning["rows"] else ""
        click.echo(f"warning: {say(warning)}{rows}")
    for error in report.get("errors", [])[:50]:
        where = f"row {error['row']}" if error["row"] else "file"
        field = f", {error['field']}" if error["field"] else ""
        click.echo(f"error ({where}{field}): {say(error)}", err=True)
    if report.get("error_count", 0) > 50:
        click.echo(f"... {report['error_count'] - 50} more errors", err=True)


def _preset_path(preset: str | None) -> str | None:
    """The absolute path when --preset names a file (a .toml, or anything with a path
    separator) rather than a preset of data/presets."""
    if not preset:
        return None
    path = Path(preset)
    if path.suffix.lower() == ".toml" or len(path.parts) > 1:
        return str(path.resolve())
    return None


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--layer", required=True, type=click.Choice(sorted(targets.TARGETS)),
              help="Layer to load into")
@click.option("--preset", help="Field-mapping preset: a name from data/presets (e.g. "
              "khao-sat-di-tich) or the path of a preset file (.toml)")
@click.option("--crs", help="CRS when the file has no .prj or a wrong one (e.g. EPSG:9209)")
@click.option("--encoding", help="Text encoding of a DBF/CSV: utf-8, tcvn3, vni, cp1258")
@click.option("--map", "manual", multiple=True, metavar="TARGET=SOURCE",
              help="Map a field by hand, e.g. --map name_vi=TEN (repeatable)")
@click.option("--value", "values", multiple=True, nargs=2, metavar='FIELD "SOURCE=CODE"',
              help='Map a value by hand, e.g. --value rank "Chưa XH=inventoried" '
                   "(repeatable; over the preset's values)")
@click.option("--source-layer", help="Layer or dataset inside a GeoPackage or zip")
@click.option("--user", "username", help="Account the import is recorded under")
@click.option("--dry-run", is_flag=True, help="Check and report; change nothing")
@click.option("--lang", type=click.Choice(["en", "vi"]), default="en", show_default=True)
@with_appcontext
def import_command(file: Path, layer: str, preset: str | None, crs: str | None,
                   encoding: str | None, manual: tuple[str, ...],
                   values: tuple[tuple[str, str], ...], source_layer: str | None,
                   username: str | None, dry_run: bool, lang: str) -> None:
    """Import a survey FILE (zipped shapefile, .shp, GeoPackage, GeoJSON, KML/KMZ, CSV)
    into a layer, all or nothing."""
    bar: tqdm | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit=" features", disable=None, leave=False)
        bar.update(done)

    try:
        with database().session() as session, session.begin():
            preset_path = _preset_path(preset)
            options = ImportOptions(layer=layer, preset=None if preset_path else preset,
                                    preset_path=preset_path, crs=crs, encoding=encoding,
                                    mapping=parse_manual(manual), values=parse_values(values),
                                    source_layer=source_layer, dry_run=dry_run)
            result = run_import(session, file, options,
                                              actor_id=_user_id(session, username),
                                              progress=progress)
    except HeritageError as error:
        if bar is not None:
            bar.close()
        report = error.details.get("report")
        if isinstance(report, dict):
            _echo_report(report, lang)
        raise click.ClickException(error.user_message(lang)) from None
    if bar is not None:
        bar.close()
    _echo_report(result.report, lang)
    counts = ", ".join(f"{n} {k}" for k, n in result.counts.items())
    if result.dry_run:
        click.echo(f"dry run, nothing changed; would give: {counts}")
    else:
        click.echo(f"import #{result.import_id}: {counts}")


@imports_cli.command("list")
def imports_list() -> None:
    """The latest imports."""
    with database().session() as session:
        for run in import_records.list_imports(session):
            counts = ", ".join(f"{n} {k}" for k, n in run.counts.items())
            click.echo(f"#{run.id} {run.started_at:%Y-%m-%d %H:%M} {run.status:7} {run.layer} "
                       f"{run.file_name}: {counts}")


@imports_cli.command("undo")
@click.argument("import_id", type=int)
@click.option("--user", "username", help="Account the undo is recorded under")
@click.option("--lang", type=click.Choice(["en", "vi"]), default="en", show_default=True)
def imports_undo(import_id: int, username: str | None, lang: str) -> None:
    """Undo import IMPORT_ID as a whole; refused, changing nothing, when later work
    depends on what it created (the message says what and what to undo first)."""
    counts = _run(lambda session: import_records.undo_import(
        session, import_id, _user_id(session, username)), lang)
    click.echo(f"import #{import_id} undone: {counts['deleted']} rows deleted, "
               f"{counts['restored']} restored, {counts.get('proposals', 0)} proposals "
               f"deleted")


def _acting(session, username: str):
    """The account a life-cycle verb is recorded under (required: decisions have authors).
    Raises RecordNotFound / PermissionDenied, which the runner turns into a message."""
    user = accounts.find_user(session, username)
    if user is None:
        raise RecordNotFound(f"No account named '{username}'; give --user an existing "
                             "account (see: users list).",
                             f"Không có tài khoản tên '{username}'; hãy cho --user một tài "
                             "khoản có thật (xem: users list).")
    if not user.active:
        raise PermissionDenied(f"The account '{username}' is disabled; act under an active "
                               "account.",
                               f"Tài khoản '{username}' đã bị khóa; hãy dùng một tài khoản "
                               "đang hoạt động.")
    return user


USER_OPTION = click.option("--user", "username", required=True,
                           help="Account the change is recorded under (a district reviewer "
                                "or admin; a commune editor where the verb allows)")
LANG_OPTION = click.option("--lang", type=click.Choice(["en", "vi"]), default="en",
                           show_default=True, help="Language of the messages")


def _say(message: tuple[str, str], lang: str) -> str:
    """An (en, vi) message in `lang`."""
    return message[1] if lang == "vi" else message[0]


@imports_cli.command("publish")
@click.argument("import_id", type=int)
@USER_OPTION
@LANG_OPTION
def imports_publish(import_id: int, username: str, lang: str) -> None:
    """Publish the draft relics import IMPORT_ID created."""
    count = _run(lambda s: lifecycle.publish_import(s, _acting(s, username), import_id), lang)
    click.echo(f"import #{import_id}: {count} relic(s) published")


@records_cli.command("publish")
@click.argument("heritage_ids", nargs=-1, required=True)
@USER_OPTION
@LANG_OPTION
def records_publish(heritage_ids: tuple[str, ...], username: str, lang: str) -> None:
    """Publish draft relics by heritage identifier."""
    count = _run(lambda s: lifecycle.publish(s, _acting(s, username), list(heritage_ids)),
                 lang)
    click.echo(f"{count} relic(s) published")


@records_cli.command("retire")
@click.argument("heritage_id")
@click.option("--reason", required=True, help="Why (shown on the relic's page)")
@click.option("--decision", help="The decision that retires it, e.g. 123/QĐ-UBND")
@USER_OPTION
@LANG_OPTION
def records_retire(heritage_id: str, reason: str, decision: str | None,
                   username: str, lang: str) -> None:
    """Retire a relic: its page answers 410 with the reason; its identifier is kept."""
    _run(lambda s: lifecycle.retire(s, _acting(s, username), heritage_id, reason, decision),
         lang)
    click.echo(f"{heritage_id} retired")


@records_cli.command("merge")
@click.argument("heritage_id")
@click.option("--into", "into", required=True, help="The surviving relic's identifier")
@USER_OPTION
@LANG_OPTION
def records_merge(heritage_id: str, into: str, username: str, lang: str) -> None:
    """Merge a duplicate relic into another; its page then redirects there."""
    moved = _run(lambda s: lifecycle.merge(s, _acting(s, username), heritage_id, into), lang)
    counts = ", ".join(f"{n} {k}" for k, n in moved.items() if n)
    click.echo(f"{heritage_id} merged into {into}" + (f"; moved {counts}" if counts else ""))


@records_cli.command("custodian")
@click.argument("heritage_ids", nargs=-1, required=True)
@click.option("--organisation", required=True,
              help="The custodian organisation's name (recorded if it is new)")
@USER_OPTION
@LANG_OPTION
def records_custodian(heritage_ids: tuple[str, ...], organisation: str, username: str,
                      lang: str) -> None:
    """Entrust relics to a custodian organisation."""
    count = _run(lambda s: lifecycle.assign_custodian(
        s, _acting(s, username), list(heritage_ids), new_name=organisation), lang)
    click.echo(f"{count} relic(s) entrusted to {organisation}")


SET_HELP = ("FIELD=VALUE, repeatable. Fields: " + ", ".join(f.name for f in proposals.FIELDS)
            + "; types comma-separated (e.g. historical,architectural_artistic), other_names "
              "separated by ';', sensitive yes/no, an empty VALUE clears the field")


def _edited_values(current: dict[str, Any], sets: tuple[str, ...]) -> dict[str, Any]:
    """The relic's values with the --set FIELD=VALUE given on top. Raises InputError."""
    values = dict(current)
    for item in sets:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in proposals.FIELD_BY_NAME:
            raise InputError(
                f"--set {item!r}: give FIELD=VALUE with a field among "
                f"{', '.join(f.name for f in proposals.FIELDS)}.",
                f"--set {item!r}: hãy ghi TRƯỜNG=GIÁ_TRỊ, với trường là một trong "
                f"{', '.join(f.name for f in proposals.FIELDS)}.")
        kind = proposals.FIELD_BY_NAME[name].kind
        if kind == "types":
            values[name] = [v.strip() for v in value.split(",") if v.strip()]
        elif kind == "names":
            values[name] = [v.strip() for v in value.split(";") if v.strip()]
        elif kind == "flag":
            values[name] = value.strip().lower() in ("1", "yes", "true", "on", "có", "co")
        else:
            values[name] = value
    return values


def _position(current: list[float] | None, position: str | None,
              vn2000: str | None) -> proposals.PositionInput:
    """The position given (--position LON,LAT or --vn2000 E,N) or the current one."""
    if position and vn2000:
        raise InputError("Give the position once: --position LON,LAT or --vn2000 E,N.",
                         "Chỉ nhập vị trí một lần: --position KINH_ĐỘ,VĨ_ĐỘ hoặc "
                         "--vn2000 E,N.")
    given, mode = (position, "wgs84") if position else (vn2000, "vn2000")
    if given:
        x, sep, y = given.partition(",")
        if not sep:
            raise InputError(f"{given!r}: give two numbers separated by a comma, e.g. "
                             "105.95,20.84 (longitude, latitude) or 565000,2302000 (E, N).",
                             f"{given!r}: hãy nhập hai số cách nhau bởi dấu phẩy, ví dụ "
                             "105.95,20.84 (kinh độ, vĩ độ) hoặc 565000,2302000 (E, N).")
        return proposals.PositionInput(mode, x.strip(), y.strip())
    if current is None:
        raise InputError("Give the relic's position: --position LON,LAT or --vn2000 E,N.",
                         "Hãy nhập vị trí di tích: --position KINH_ĐỘ,VĨ_ĐỘ hoặc "
                         "--vn2000 E,N.")
    return proposals.PositionInput("wgs84", repr(current[0]), repr(current[1]))


def _echo_outcome(outcome: proposals.Outcome, lang: str) -> None:
    for warning in outcome.warnings:
        click.echo(f"warning: {_say(warning, lang)}")
    changed = ", ".join(outcome.fields)
    if outcome.kind == "proposed":
        click.echo(f"proposal #{outcome.proposal_id} for {outcome.heritage_id} waits for "
                   f"review: {changed}")
    elif outcome.kind == "created":
        click.echo(f"{outcome.heritage_id} created as a draft")
    else:
        click.echo(f"{outcome.heritage_id} changed: {changed}")


POSITION_OPTIONS = (
    click.option("--position", metavar="LON,LAT", help="WGS 84 longitude,latitude"),
    click.option("--vn2000", metavar="E,N", help="VN-2000 TM-3 Hưng Yên (EPSG:9209) metres"))


def _with_position(command: Callable) -> Callable:
    for option in reversed(POSITION_OPTIONS):
        command = option(command)
    return command


@records_cli.command("edit")
@click.argument("heritage_id")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE", help=SET_HELP)
@_with_position
@click.option("--note", help="A note for the reviewer (a commune editor's proposal)")
@USER_OPTION
@LANG_OPTION
def records_edit(heritage_id: str, sets: tuple[str, ...], position: str | None,
                 vn2000: str | None, note: str | None, username: str, lang: str) -> None:
    """Change a relic's fields or position: at once for a district reviewer or admin,
    as a proposal for review for a commune editor (its number is printed)."""
    def act(s: Session) -> proposals.Outcome:
        user = _acting(s, username)
        current = proposals.relic(s, heritage_id)["values"]
        return proposals.submit_edit(s, user, heritage_id, _edited_values(current, sets),
                                     _position(current["position"], position, vn2000), note)
    _echo_outcome(_run(act, lang), lang)


@records_cli.command("create")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE",
              help=SET_HELP + " (name_vi and types are required)")
@_with_position
@USER_OPTION
@LANG_OPTION
def records_create(sets: tuple[str, ...], position: str | None, vn2000: str | None,
                   username: str, lang: str) -> None:
    """Create a relic as a draft with a new heritage identifier (printed)."""
    def act(s: Session) -> proposals.Outcome:
        return proposals.create_relic(s, _acting(s, username), _edited_values({}, sets),
                                      _position(None, position, vn2000))
    _echo_outcome(_run(act, lang), lang)


@records_cli.command("history")
@click.argument("heritage_id")
@LANG_OPTION
def records_history(heritage_id: str, lang: str) -> None:
    """Print a relic's history, newest first: when (Vietnam's time), who, what changed."""
    found = _run(lambda s: history.relic_history(s, None, heritage_id, lang), lang)
    for line in history.history_text(found, lang):
        click.echo(line)


@records_cli.command("restore")
@click.argument("heritage_id")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
              help="Put the relic back as it stood at the end of this day (Vietnam)")
@click.option("--before", "before", metavar="MOMENT",
              help="Or as it stood just before the change made at this moment (ISO 8601 "
                   "with its offset, e.g. 2026-01-31T09:15:00+07:00)")
@USER_OPTION
@LANG_OPTION
def records_restore(heritage_id: str, as_of: str | None, before: str | None, username: str,
                    lang: str) -> None:
    """Restore a relic's fields as they stood on a date, or just before one change, as a
    new revision (un-retiring it when it was live then)."""
    def act(session):
        on, moment = history.parse_version(as_of, before)
        if on is None:
            raise InputError("Give the date as YYYY-MM-DD, e.g. --as-of 2026-01-31 (or "
                             "--before the moment of a change).",
                             "Hãy nhập ngày theo dạng NNNN-TT-NN, ví dụ --as-of 2026-01-31 "
                             "(hoặc --before thời điểm của một thay đổi).")
        return history.restore(session, _acting(session, username), heritage_id, on, lang,
                               moment)
    _echo_restored(heritage_id, _run(act, lang))


@records_cli.command("reinstate")
@click.argument("heritage_id")
@USER_OPTION
@LANG_OPTION
def records_reinstate(heritage_id: str, username: str, lang: str) -> None:
    """Undo a relic's latest retirement: put it back as it stood just before it, with the
    zones the retirement ended or removed (also for a retirement made the day the relic
    was created, which a restore to a date cannot reach)."""
    done = _run(lambda session: history.reinstate(session, _acting(session, username),
                                                  heritage_id, lang), lang)
    _echo_restored(heritage_id, done)


def _echo_restored(heritage_id: str, done: history.Restored) -> None:
    click.echo(f"{heritage_id} restored to {done.as_of:%Y-%m-%d}: {', '.join(done.fields)}")
    if done.unretired and done.zones_reopened:
        click.echo(f"{heritage_id} is live again (un-retired); "
                   f"{done.zones_reopened} protection zone(s) in force again")
    elif done.unretired:
        click.echo(f"{heritage_id} is live again (un-retired)")


# --- proposals -------------------------------------------------------------------------

def _echo_proposal_line(item: dict[str, Any]) -> None:
    reviewed = f", {item['reviewer']}" if item.get("reviewer") else ""
    click.echo(f"#{item['id']} {item['created_at']:%Y-%m-%d %H:%M} {item['status']:9} "
               f"{item['heritage_id']} {item['name_vi']} ({item['author'] or '-'}{reviewed}): "
               + ", ".join(item["fields"]))


@proposals_cli.command("list")
@click.option("--mine", is_flag=True, help="The --user's own proposals (default for a "
                                            "commune editor), not the review queue")
@USER_OPTION
@LANG_OPTION
def proposals_list(mine: bool, username: str, lang: str) -> None:
    """The review queue (pending proposals, oldest first) for a reviewer; a commune
    editor's own proposals, newest first, with the answers."""
    def act(s: Session) -> list[dict[str, Any]]:
        user = _acting(s, username)
        if mine or user.role not in FULL_ACCESS_ROLES:
            return proposals.proposals_of(s, user, lang)
        return proposals.pending_proposals(s, user, lang)
    rows = _run(act, lang)
    for item in rows:
        _echo_proposal_line(item)
    if not rows:
        click.echo("no proposal")


@proposals_cli.command("show")
@click.argument("proposal_id", type=int)
@USER_OPTION
@LANG_OPTION
def proposals_show(proposal_id: int, username: str, lang: str) -> None:
    """A proposal field by field (before → after), for its reviewer or its author."""
    item = _run(lambda s: proposals.proposal_detail(s, _acting(s, username), proposal_id,
                                                    lang), lang)
    _echo_proposal_line(item)
    if item.get("note"):
        click.echo(f"  note: {item['note']}")
    for row in item["rows"]:
        since = f" (now: {row['now'] or '-'})" if row["changed_since"] else ""
        click.echo(f"  {row['label']}: {row['before'] or '-'} → {row['after'] or '-'}{since}")
    if item.get("comment"):
        click.echo(f"  comment: {item['comment']}")


@proposals_cli.command("approve")
@click.argument("proposal_id", type=int)
@USER_OPTION
@LANG_OPTION
def proposals_approve(proposal_id: int, username: str, lang: str) -> None:
    """Apply a pending proposal under the reviewer (refused when a field it changes was
    changed since)."""
    hid = _run(lambda s: proposals.approve(s, _acting(s, username), proposal_id), lang)
    click.echo(f"proposal #{proposal_id} approved: {hid} changed")


@proposals_cli.command("send-back")
@click.argument("proposal_id", type=int)
@click.option("--comment", required=True, help="What the author should change")
@USER_OPTION
@LANG_OPTION
def proposals_send_back(proposal_id: int, comment: str, username: str, lang: str) -> None:
    """Return a pending proposal to its author with a comment; the relic does not change."""
    _run(lambda s: proposals.send_back(s, _acting(s, username), proposal_id, comment), lang)
    click.echo(f"proposal #{proposal_id} sent back")


@proposals_cli.command("withdraw")
@click.argument("proposal_id", type=int)
@USER_OPTION
@LANG_OPTION
def proposals_withdraw(proposal_id: int, username: str, lang: str) -> None:
    """The author withdraws their pending proposal."""
    _run(lambda s: proposals.withdraw(s, _acting(s, username), proposal_id), lang)
    click.echo(f"proposal #{proposal_id} withdrawn")


# --- zones -----------------------------------------------------------------------------

@zones_cli.command("show")
@click.argument("heritage_id")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
              help="The zones in force on this day (default: today in Vietnam)")
@LANG_OPTION
def zones_show(heritage_id: str, as_of: str | None, lang: str) -> None:
    """A relic's protection zones in force on a date, then every version."""
    def act(s: Session) -> zones.RelicZones:
        return zones.relic_zones(s, heritage_id, read_day(as_of, ("--as-of", "--as-of")))
    found = _run(act, lang)
    click.echo(f"{found.heritage_id} {found.name_vi}: zones in force on "
               f"{found.on_date:%Y-%m-%d}")

    def line(v: zones.ZoneVersion) -> str:
        until = f"{v.valid_to:%Y-%m-%d}" if v.valid_to else "…"
        since = f"{v.valid_from:%Y-%m-%d}" if v.valid_from else "…"
        return (f"#{v.id} {_say(v.label[::-1], lang)} {since} – {until}, "
                f"{v.area_m2:.0f} m², decision {v.decision_no or '-'}")
    for version in found.current:
        click.echo(f"  {line(version)}")
    if not found.current:
        click.echo("  none")
    click.echo("versions:")
    for version in found.versions:
        click.echo(f"  {line(version)}")


@zones_cli.command("set")
@click.argument("heritage_id")
@click.option("--zone", required=True, type=click.Choice(list(zones.ZONE_KINDS)))
@click.option("--file", "file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="One polygon: GeoJSON, KML, zipped shapefile or GeoPackage (VN-2000 or "
                   "WGS 84)")
@click.option("--decision-no", help="The decision's number, e.g. 45/QĐ-UBND")
@click.option("--decision-date", metavar="YYYY-MM-DD")
@click.option("--valid-from", required=True, metavar="YYYY-MM-DD",
              help="The day the new version is in force from (the old one ends the day "
                   "before)")
@USER_OPTION
@LANG_OPTION
def zones_set(heritage_id: str, zone: str, file: Path, decision_no: str | None,
              decision_date: str | None, valid_from: str, username: str, lang: str) -> None:
    """Save a new version of a relic's protection zone from a file."""
    def act(s: Session) -> tuple[zones.ZoneFile, zones.SavedVersion]:
        actor = _acting(s, username)
        read = zones.read_zone_file(file)
        return read, zones.save_version(
            s, actor, heritage_id, zone=zone, geometry=read.geometry,
            valid_from=read_day(valid_from, ("--valid-from", "--valid-from")),
            decision_no=decision_no,
            decision_date=read_day(decision_date, ("--decision-date", "--decision-date")),
            source=f"file {file.name} (command line, {actor.username})")
    read, saved = _run(act, lang)
    click.echo(f"coordinates: {read.crs}")
    for note in read.notes + saved.warnings:
        click.echo(f"warning: {_say(note, lang)}")
    click.echo(f"{heritage_id} zone {zone}: version #{saved.id} in force from "
               f"{saved.valid_from:%Y-%m-%d}"
               + (f" (version #{saved.closed_id} ends the day before)"
                  if saved.closed_id else ""))


# --- condition assessments and media -----------------------------------------------------

@assessments_cli.command("withdraw")
@click.argument("assessment_id", type=int)
@click.option("--reason", required=True, help="Why it was recorded in error")
@USER_OPTION
@LANG_OPTION
def assessments_withdraw(assessment_id: int, reason: str, username: str, lang: str) -> None:
    """Withdraw a condition assessment recorded in error (it stays in the history)."""
    _run(lambda s: conditions.withdraw_assessment(s, _acting(s, username), assessment_id,
                                                  reason), lang)
    click.echo(f"assessment #{assessment_id} withdrawn")


@media_cli.command("remove")
@click.argument("record_id", type=int)
@click.option("--reason", required=True, help="Why (kept with the record)")
@USER_OPTION
@LANG_OPTION
def media_remove(record_id: int, reason: str, username: str, lang: str) -> None:
    """Hide a photo or document from the public (it can be put back)."""
    def act(s: Session) -> None:
        actor = _acting(s, username)
        digital_records.remove_record(s, actor, *digital_records.target_of(s, record_id),
                                      record_id, reason)
    _run(act, lang)
    click.echo(f"photo or document #{record_id} removed")


@media_cli.command("restore")
@click.argument("record_id", type=int)
@USER_OPTION
@LANG_OPTION
def media_restore(record_id: int, username: str, lang: str) -> None:
    """Put a removed photo or document back."""
    def act(s: Session) -> None:
        actor = _acting(s, username)
        digital_records.restore_record(s, actor, *digital_records.target_of(s, record_id),
                                       record_id)
    _run(act, lang)
    click.echo(f"photo or document #{record_id} put back")


@click.command("backup")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Archive to write (default var/backups/heritage-YYYYMMDD-HHMM.tar)")
@LANG_OPTION
@with_appcontext
def backup_command(output: Path | None, lang: str) -> None:
    """Back up the database and the media files into one archive with a manifest."""
    try:
        path, manifest = backup.create_backup(current_app.config["DATABASE_URL"],
                                              Path(current_app.config["MEDIA_DIR"]), output)
    except HeritageError as error:
        raise click.ClickException(error.user_message(lang)) from None
    click.echo(f"{path}: revision {manifest['alembic_revision']}, data version "
               f"{manifest['data_version']}, {sum(manifest['row_counts'].values())} rows, "
               f"{len(manifest['media'])} media files")


@click.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--database-url", help="Empty database to restore into (default DATABASE_URL)")
@click.option("--media-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Empty folder for the media files (default GIS_MEDIA_DIR)")
@LANG_OPTION
@with_appcontext
def restore_command(archive: Path, database_url: str | None, media_dir: Path | None,
                    lang: str) -> None:
    """Restore a backup into an empty database and an empty media folder."""
    try:
        done = backup.restore_backup(
            archive, database_url or current_app.config["DATABASE_URL"],
            media_dir or Path(current_app.config["MEDIA_DIR"]))
    except HeritageError as error:
        raise click.ClickException(error.user_message(lang)) from None
    click.echo(f"restored revision {done.revision}: {done.tables} tables, {done.rows} rows "
               f"(counts match the manifest), {done.files} media files")
    if database_url is None:
        # The answers cached on disk (tiles, downloads) are keyed by the data stamp, so
        # none built from the data before would be served; they go to free the space.
        for key in ("TILE_CACHE_DIR", "DOWNLOAD_CACHE_DIR"):
            folder = current_app.config.get(key)
            if folder and Path(folder).is_dir():
                shutil.rmtree(folder, ignore_errors=True)
                click.echo(f"emptied the cache {folder}")


@downloads_cli.command("prepare")
@click.option("--layer", "layers", multiple=True,
              help="Only this layer (repeatable; 'all' is the whole dataset). Default: every "
                   "file of the catalogue")
def downloads_prepare(layers: tuple[str, ...]) -> None:
    """Prepare the open-data files at the current data version, so that no visitor waits
    for one (e.g. after an import). Files already prepared are kept."""
    import time

    from gis_app.services import downloads
    from layers import all_layers

    config = current_app.config
    wanted = [d for d in downloads.every_download() if not layers or d.name in layers]
    if not wanted:
        known = ", ".join(["all", *all_layers()])
        raise click.ClickException(f"No such layer: {', '.join(layers)}. Layers: {known}")
    for item in wanted:
        started = time.monotonic()
        with database().session() as session:
            ready = downloads.prepare(
                session, Path(config["DOWNLOAD_CACHE_DIR"]), item,
                licence=config["DATA_LICENCE"], licence_url=config["DATA_LICENCE_URL"],
                attribution=config["DATA_ATTRIBUTION"])
        crs = "" if item.crs == downloads.WGS84 else f"?crs={item.crs}"
        click.echo(f"{item.filename + crs:40} {ready.size:>12,} bytes  "
                   f"{time.monotonic() - started:6.1f} s  (version {ready.version})")


@reports_cli.command("prepare")
@click.option("--year", type=int, default=None,
              help="The report's year (default: this year in Vietnam)")
@LANG_OPTION
def reports_prepare(year: int | None, lang: str) -> None:
    """Make the annual report's PDF (Vietnamese and English) for the data as they are
    now, so that no official waits for it (e.g. after an import; the PDF is made again
    once a day and after any change). PDFs already made are kept."""
    import time

    from gis_app.services import indicators
    from gis_app.web import officials, report_pdf

    try:
        year = indicators.check_year(year)
    except HeritageError as error:
        raise click.ClickException(error.user_message(lang)) from None
    for report_lang in ("vi", "en"):
        started = time.monotonic()
        with database().session() as session:
            try:
                made = report_pdf.run(session, {"year": year, "lang": report_lang},
                                      lambda _done, _total: None, officials.report_html)
            except HeritageError as error:
                raise click.ClickException(error.user_message(lang)) from None
        what = "already made" if made.get("cached") else f"{made['bytes']:,} bytes"
        click.echo(f"{year} {report_lang}: {what}  {time.monotonic() - started:6.1f} s")


def init_app(app: Flask) -> None:
    for group in (db_cli, demo_cli, users_cli, imports_cli, records_cli, proposals_cli,
                  zones_cli, assessments_cli, media_cli, downloads_cli, reports_cli):
        app.cli.add_command(group)
    app.cli.add_command(import_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
