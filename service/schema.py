"""The job store's schema, versioned with Alembic (migrations in service/migrations/versions).

``verity db upgrade`` brings the database ``VERITY_DATABASE_URL`` names to this Verity's schema,
creating it when new. ``verity serve`` and ``verity worker`` refuse to start on a schema that is
behind, saying so, except in the embedded mode (SQLite and a file broker under the data folder,
one machine), which upgrades by itself. A database made by Verity 0.1.0, before migrations,
holds the tables but no version: it is taken for the baseline revision and upgraded from there.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Connection, Engine

from detector.errors import ConfigError

from .settings import ServiceSettings

BASELINE = "0001"
BASELINE_TABLES = {"api_keys", "analyses", "jobs"}


class SchemaBehind(ConfigError):
    """The database's schema is older than this Verity's."""


def head() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current(engine: Engine) -> str | None:
    """The database's revision; BASELINE for a 0.1.0 database; None for an empty one."""
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
        if revision is None and set(inspect(connection).get_table_names()) >= BASELINE_TABLES:
            return BASELINE
        return revision


def upgrade(url: str) -> tuple[str | None, str]:
    """Apply every migration the database lacks; (revision before, revision after)."""
    engine = create_engine(url)
    try:
        before = current(engine)
        with engine.begin() as connection:
            config = _config(connection)
            if before == BASELINE and not _versioned(connection):
                command.stamp(config, BASELINE)  # the 0.1.0 tables are the baseline
            command.upgrade(config, "head")
        return before, head()
    finally:
        engine.dispose()


def require_current(url: str) -> None:
    """Raise SchemaBehind unless the database is at this Verity's revision."""
    engine = create_engine(url)
    try:
        found, wanted = current(engine), head()
        where = engine.url.render_as_string(hide_password=True)
    finally:
        engine.dispose()
    if found != wanted:
        state = f"at schema revision {found}" if found else "empty"
        raise SchemaBehind(
            f"the job store {where} is {state}; this Verity needs revision {wanted}: "
            "run `verity db upgrade` (back up the database first)"
        )


def prepare(settings: ServiceSettings) -> None:
    """Before a process uses the store: the embedded mode upgrades, a deployment must be
    current (raises SchemaBehind)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.embedded:
        upgrade(settings.db_url)
    else:
        require_current(settings.db_url)


def _versioned(connection: Connection) -> bool:
    return MigrationContext.configure(connection).get_current_revision() is not None


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    config.attributes["connection"] = connection
    return config
