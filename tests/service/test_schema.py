"""The job store's schema under Alembic: a database made by Verity 0.1.0 (before migrations) is
upgraded with every row intact, the migrations build exactly what the models describe, and the
service refuses to start on a schema that is behind."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from service.schema import BASELINE, SchemaBehind, current, head, require_current, upgrade
from service.store import Base, Store

from .conftest import POSTGRES, empty_postgres

HERE = Path(__file__).parent


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'verity.sqlite'}"
    if not POSTGRES:
        pytest.skip("VERITY_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    empty_postgres()
    return POSTGRES


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        return current(engine)
    finally:
        engine.dispose()


def _release_database(url: str) -> None:
    """The tables exactly as Verity 0.1.0's create_all made them (its DDL, kept in
    schema-0.1.0-*.sql), with a key, an analysis and a job in them."""
    engine = create_engine(url)
    ddl = (HERE / f"schema-0.1.0-{engine.dialect.name}.sql").read_text()
    ddl = "\n".join(line for line in ddl.splitlines() if not line.startswith("--"))
    rows = [
        ("INSERT INTO api_keys VALUES ('k1', 'desk', :h, '2026-01-01 10:00:00', NULL)",
         {"h": "h" * 64}),
        ("INSERT INTO analyses VALUES (:sha, 'p1', 'done', 1.0, :report, NULL, NULL, NULL, NULL,"
         " 1, '2026-01-01 10:00:01', '2026-01-01 10:00:05')",
         {"sha": "a" * 64, "report": '{"verdict": "inconclusive"}'}),
        ("INSERT INTO jobs VALUES ('j1', 'k1', :sha, 'p1', 1234, 'clip.mp4', NULL, 'blob1',"
         " 'done', NULL, :no, :yes, '2026-01-01 10:00:00', '2026-01-01 10:00:05')",
         {"sha": "a" * 64, "no": False, "yes": True}),
    ]  # fmt: skip
    with engine.begin() as connection:
        for statement in filter(str.strip, ddl.split(";")):
            connection.execute(text(statement))
        for statement, values in rows:
            connection.execute(text(statement), values)
    engine.dispose()


def test_a_release_database_is_upgraded_with_every_row_intact(url):
    _release_database(url)
    assert _revision(url) == BASELINE  # no version table: taken for the baseline
    with pytest.raises(SchemaBehind, match="verity db upgrade"):
        require_current(url)
    assert upgrade(url) == (BASELINE, head())
    require_current(url)
    store = Store(url)
    try:
        (key,) = store.api_keys()
        assert (key.id, key.name) == ("k1", "desk")
        job = store.job("j1")
        assert (job.sha256, job.state, job.size, job.filename) == (
            "a" * 64,
            "done",
            1234,
            "clip.mp4",
        )
        assert store.analysis("a" * 64, "p1").report == '{"verdict": "inconclusive"}'
        # what the upgrade was for: a size over 2 GiB (PostgreSQL's INTEGER stopped at 2^31)
        with store.tx() as session:
            session.execute(text("UPDATE jobs SET size = :s WHERE id = 'j1'"), {"s": 5 * 2**30})
        assert store.job("j1").size == 5 * 2**30
    finally:
        store.close()
    assert upgrade(url) == (head(), head())  # a second upgrade changes nothing


def test_the_migrations_build_what_the_models_describe(url):
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_a_deployment_refuses_to_start_on_a_schema_behind_and_says_what_to_do(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _release_database(f"sqlite:///{data / 'verity.sqlite'}")
    env = {
        **os.environ,
        "VERITY_DATA_DIR": str(data),
        "VERITY_BROKER_URL": "redis://127.0.0.1:1/0",  # a deployment, not the embedded mode
    }

    def verity(*args):
        return subprocess.run(
            [sys.executable, "-m", "service", *args], env=env, capture_output=True, text=True
        )

    for command in (["worker"], ["serve", "--no-worker"], ["keys", "list"]):
        refused = verity(*command)
        assert refused.returncode == 1, command
        assert "run `verity db upgrade`" in refused.stderr, command
    upgraded = verity("db", "upgrade")
    assert upgraded.returncode == 0
    assert f"from schema revision {BASELINE} to {head()}" in upgraded.stdout
    listed = verity("keys", "list")
    assert listed.returncode == 0 and "desk" in listed.stdout


def test_the_embedded_mode_creates_and_upgrades_by_itself(tmp_path):
    from service.schema import prepare
    from service.settings import ServiceSettings

    settings = ServiceSettings(data_dir=tmp_path / "data")
    prepare(settings)
    assert _revision(settings.db_url) == head()
