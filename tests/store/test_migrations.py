"""Schema migrations: `crs-cds db upgrade` makes the schema the code queries, on SQLite and PostgreSQL; the
service refuses a database that is behind, saying what to run; a crs-cds 0.1.0 database is upgraded in place
without leaving a raw patient id behind; `crs-cds db prune` applies the retention."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from cds_service.errors import StoreError
from cds_service.settings import Settings
from cds_service.store import IssuedCard, PatientKeyer, SqlStore
from cds_service.store.migrate import head_revision
from cds_service.store.tables import metadata
from tests.cli_kit import CliResult, run_cli
from tests.conftest import make_client
from tests.store.test_sql_store import database_url  # noqa: F401 - the sqlite/postgresql fixture

NOW = datetime.now(UTC)


def _crs_cds(*args: str, database: str, **env: str) -> CliResult:
    return run_cli(*args, env={"CRS_CDS_DATABASE_URL": database, **env})


def test_upgrade_makes_exactly_the_schema_the_code_queries(database_url):  # noqa: F811
    store = SqlStore(database_url)
    assert store.upgrade_schema() == (None, head_revision())
    with store._engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert differences == [], "store/tables.py changed without a migration: run crs-cds db revision -m ..."
    store.require_current_schema()
    assert store.upgrade_schema() == (head_revision(), head_revision())  # a second run changes nothing
    store.dispose()


def test_the_service_refuses_to_start_on_a_database_without_the_current_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    settings = Settings(environment="development", auth_mode="disabled", database_url=url)
    from cds_service.app import create_app
    from cds_service.runtime import build_runtime

    with pytest.raises(StoreError, match=r"crs-cds db upgrade"):
        build_runtime(settings)
    assert create_app  # the app's lifespan calls the same build_runtime


def test_db_upgrade_then_serving_works_and_db_current_says_so(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    assert _crs_cds("db", "current", database=url).returncode == 1
    result = _crs_cds("db", "upgrade", database=url)
    assert result.returncode == 0, result.stderr
    assert f"revision {head_revision()}" in result.stdout
    current = _crs_cds("db", "current", database=url)
    assert current.returncode == 0 and current.stdout.strip() == f"database {head_revision()}, code {head_revision()}"
    settings = Settings(environment="development", auth_mode="disabled", database_url=url)
    with make_client(settings) as client:
        assert client.get("/readyz").status_code == 200


def _make_0_1_0_database(path: Path) -> None:
    """The tables exactly as crs-cds 0.1.0 created them at start-up, with a raw patient id."""
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE issued_card (card_uuid VARCHAR(256) NOT NULL PRIMARY KEY, service_id VARCHAR(64) NOT NULL,
              hook_instance VARCHAR(256) NOT NULL, patient_id TEXT, rule_id VARCHAR(64) NOT NULL,
              indicator VARCHAR(16) NOT NULL, issued_at DATETIME NOT NULL);
            CREATE TABLE feedback (id INTEGER NOT NULL PRIMARY KEY, dedupe_key VARCHAR(64) NOT NULL UNIQUE,
              service_id VARCHAR(64) NOT NULL, card_uuid VARCHAR(256) NOT NULL, outcome VARCHAR(16) NOT NULL,
              accepted_suggestions JSON, override_reason JSON, outcome_timestamp DATETIME NOT NULL,
              received_at DATETIME NOT NULL, known_card BOOLEAN NOT NULL);
            CREATE INDEX ix_feedback_card_uuid ON feedback (card_uuid);
            INSERT INTO issued_card VALUES ('c-1', 'crs-patient-view', 'h-1', 'patient-Zanzibar-77', 'crs.active',
              'critical', '2026-11-01 12:00:00.000000');
            """
        )


def test_a_0_1_0_database_is_upgraded_in_place_and_keeps_no_raw_patient_id(tmp_path):
    path = tmp_path / "old.sqlite3"
    _make_0_1_0_database(path)
    result = _crs_cds("db", "upgrade", database=f"sqlite:///{path}", CRS_CDS_AUDIT_PEPPER="site-secret")
    assert result.returncode == 0, result.stderr
    assert "(was 0001)" in result.stdout
    store = SqlStore(f"sqlite:///{path}", pepper="site-secret")
    card = store.issued_card("c-1")
    assert card is not None and card.patient_key == PatientKeyer("site-secret")("patient-Zanzibar-77")
    store.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("VACUUM")
    assert b"Zanzibar" not in path.read_bytes()


def test_db_prune_deletes_audit_rows_older_than_the_days_given(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    store = SqlStore(url)
    store.upgrade_schema()
    store.record_cards([
        IssuedCard("old", "crs-patient-view", "h", "p", "crs.active", "critical", NOW - timedelta(days=100)),
        IssuedCard("new", "crs-patient-view", "h", "p", "crs.active", "critical", NOW - timedelta(days=1)),
    ])
    result = _crs_cds("db", "prune", "--older-than", "90", database=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("deleted 1 card audit rows issued before")
    assert store.issued_card("old") is None and store.issued_card("new") is not None
    store.dispose()


def test_sqlite_connections_use_wal_normal_sync_and_a_busy_timeout(tmp_path):
    store = SqlStore(f"sqlite:///{tmp_path / 's.sqlite3'}", busy_timeout_ms=4321)
    with store._engine.connect() as conn:
        names = ("journal_mode", "synchronous", "busy_timeout")
        pragmas = [conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in names]
    assert pragmas == ["wal", 1, 4321]  # synchronous 1 = NORMAL: the card audit costs no fsync per call
    with store._durable.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: feedback is fsynced before its 200
    store.dispose()
