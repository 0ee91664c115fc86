"""Apply the Alembic revisions (schema changes only through these).

Alembic is imported when a function here runs, not with the app: it brings Mako and
Pygments along (about 0.15 s), which neither a web worker nor most commands use.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def revision(url: str, message: str, autogenerate: bool = True) -> None:
    from alembic import command

    command.revision(alembic_config(url), message=message, autogenerate=autogenerate)


def heads() -> list[str]:
    """The head revision(s) of the migrations in this code."""
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config("postgresql://")).get_heads())
