"""Schema migrations with Alembic: every database, new or made by create_all before there were migrations, is
brought to the newest revision the same way, at start-up and by `python -m bot migrate`.

The revisions live in bot/storage/migrations/versions; bot/storage/tables.py is what they must add up to
(tests/storage/test_migrations.py compares the two, as `alembic revision --autogenerate` would).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from bot.storage.tables import metadata

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Tables of earlier versions that nothing uses any more; left in place (an older replica still running during a
# rolling update may use them) and left out of the comparison with the models. Dropping one is safe once no
# replica of an older version runs: apscheduler_jobs was APScheduler's shared job store (now in memory).
LEFTOVER_TABLES = frozenset({"apscheduler_jobs"})


@dataclass(frozen=True)
class Upgrade:
    """What an upgrade did: `before` is None for an empty database (or one made by create_all)."""

    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config(**attributes: Any) -> Config:
    """Alembic's configuration without an alembic.ini: the script directory inside the package, so an installed
    package migrates too. `attributes` reach env.py (connection, url)."""
    config = Config(output_buffer=attributes.pop("output_buffer", None))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes.update(attributes)
    return config


@cache
def head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def _include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "table" and reflected and compare_to is None and name in LEFTOVER_TABLES)


def context_options() -> dict[str, Any]:
    """How env.py configures Alembic; also what the drift test compares with, so both see the same things."""
    return {
        "target_metadata": metadata,
        "compare_type": True,
        "include_object": _include_object,
        # SQLite cannot ALTER most things: autogenerate writes batch operations, which work on PostgreSQL too.
        "render_as_batch": True,
    }


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(connection: Connection) -> Upgrade:
    """Upgrade to the newest revision on a connection that holds the schema lock (Database.open takes it)."""
    before = current_revision(connection)
    if before != head():
        command.upgrade(alembic_config(connection=connection), "head")
    return Upgrade(before, head())


def upgrade_sql(url: str) -> str:
    """The SQL that upgrades an empty database of the URL's kind to the newest revision (nothing is run)."""
    buffer = io.StringIO()
    command.upgrade(alembic_config(url=url, output_buffer=buffer), "head", sql=True)
    return buffer.getvalue()
