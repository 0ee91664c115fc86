"""`flask --app gis_app ...` commands: db, demo, users."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from gis_app.db import database
from gis_app.errors import HeritageError
from gis_app.services import accounts, demo, migrations

db_cli = AppGroup("db", help="Database schema (Alembic revisions).")
demo_cli = AppGroup("demo", help="The Khoái Châu demo data.")
users_cli = AppGroup("users", help="Accounts of officials and editors.")


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


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["public", "commune_editor", "district_reviewer",
                                           "admin"]), default="district_reviewer",
              show_default=True)
@click.option("--name", "display_name", help="Display name")
@click.option("--unit", "units", multiple=True,
              help="Code of an administrative unit a commune editor may edit (repeatable)")
@click.password_option(help="Password (asked twice if not given)")
def users_create(username: str, role: str, display_name: str | None, units: tuple[str, ...],
                 password: str) -> None:
    """Create an account."""
    try:
        with database().session() as session, session.begin():
            accounts.create_user(session, username, password, role, display_name, units)
    except HeritageError as error:
        raise click.ClickException(error.message_en) from None
    click.echo(f"created {role} {username}")


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


def init_app(app: Flask) -> None:
    for group in (db_cli, demo_cli, users_cli):
        app.cli.add_command(group)
