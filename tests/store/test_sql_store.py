"""The feedback and audit store on SQLite (always) and PostgreSQL (when a server is reachable)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from cds_service.store import IssuedCard, PatientKeyer, SqlStore, StoredCard, StoredFeedback

PG_ADMIN_URL = os.environ.get(
    "CRS_CDS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _postgres_database() -> Iterator[str]:
    """A throw-away database on the local PostgreSQL server, dropped afterwards."""
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        pytest.skip(
            f"PostgreSQL not reachable at {PG_ADMIN_URL} ({type(exc).__name__}): PostgreSQL store untested here"
        )
    name = f"crs_cds_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://") + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nested' / 'store.sqlite3'}"
    else:
        yield from _postgres_database()


def _card(uuid_: str) -> IssuedCard:
    return IssuedCard(uuid_, "crs-patient-view", "hook-1", "pt-1", "crs.active", "critical", T0)


def _feedback(card: str, *, at: datetime = T0, suggestions: list[str] | None = None) -> StoredFeedback:
    return StoredFeedback(
        service_id="crs-patient-view",
        card_uuid=card,
        outcome="accepted",
        accepted_suggestions=suggestions or ["s-1"],
        override_reason=None,
        outcome_timestamp=at,
        received_at=T0,
    )


def test_issued_cards_are_recorded_once_and_read_back_with_a_keyed_hash_instead_of_the_patient_id(database_url):
    store = SqlStore(database_url, pepper="pepper-1")
    store.create_schema()
    store.record_cards([_card("c-1"), _card("c-2")])
    store.record_cards([_card("c-1")])
    key = PatientKeyer("pepper-1")("pt-1")
    expected = StoredCard("c-1", "crs-patient-view", "hook-1", key, "crs.active", "critical", T0)
    assert store.issued_card("c-1") == expected
    assert store.patient_key("pt-1") == key != PatientKeyer("another pepper")("pt-1")
    assert store.issued_card("missing") is None
    assert store.count_issued_cards() == 2
    store.dispose()


def test_without_a_pepper_no_patient_key_is_kept(database_url):
    store = SqlStore(database_url)
    store.create_schema()
    store.record_cards([_card("c-1")])
    card = store.issued_card("c-1")
    assert card is not None and card.patient_key is None and not store.keys_patients
    store.dispose()


def test_pruning_deletes_only_audit_rows_older_than_the_cutoff_and_keeps_feedback(database_url):
    store = SqlStore(database_url)
    store.create_schema()
    old = IssuedCard("old", "crs-patient-view", "h", "pt-1", "crs.active", "critical", T0 - timedelta(days=40))
    store.record_cards([old, _card("recent")])
    store.record_feedback([_feedback("old")])
    assert store.prune_audit(T0 - timedelta(days=30)) == 1
    assert store.issued_card("old") is None and store.issued_card("recent") is not None
    assert [f.known_card for f in store.feedback_for("old")] == [True]
    store.dispose()


def test_the_same_report_twice_is_stored_once_but_a_new_report_is_kept(database_url):
    store = SqlStore(database_url)
    store.create_schema()
    store.record_cards([_card("c-1")])
    assert store.record_feedback([_feedback("c-1"), _feedback("c-1")]) == 1
    assert store.record_feedback([_feedback("c-1")]) == 0
    assert store.record_feedback([_feedback("c-1", at=T0 + timedelta(minutes=1))]) == 1
    stored = store.feedback_for("c-1")
    assert len(stored) == 2
    assert all(f.known_card for f in stored)
    assert stored[0].outcome_timestamp == T0
    store.dispose()


def test_feedback_survives_a_new_store_on_the_same_database(database_url):
    first = SqlStore(database_url)
    first.create_schema()
    first.record_feedback([_feedback("unknown-card")])
    first.dispose()
    second = SqlStore(database_url)
    second.create_schema()
    stored = second.feedback_for("unknown-card")
    assert [(f.card_uuid, f.known_card) for f in stored] == [("unknown-card", False)]
    assert second.ping()
    second.dispose()


def test_a_large_batch_is_stored_whole(database_url):
    store = SqlStore(database_url)
    store.create_schema()
    batch = [_feedback(f"card-{i}", suggestions=[f"s-{i}"]) for i in range(1000)]
    assert store.record_feedback(batch) == 1000
    assert store.count_feedback() == 1000
    store.dispose()


def test_an_override_holds_a_much_viewed_chart_and_the_lookup_starts_from_the_overrides(database_url):
    """A chart opened a thousand times this week: the hold of its one override is found, and on SQLite the lookup
    reads the overrides of the hold window by their index, not every card issued to the patient."""
    from sqlalchemy.dialects import sqlite

    from cds_service.store.sql import _HOLDS, _hold_params

    store = SqlStore(database_url, pepper="pepper-1")
    store.upgrade_schema()
    views = [
        IssuedCard(f"c-{i}", "crs-patient-view", f"hook-{i}", "pt-1", "crs.active", "critical",
                   T0 - timedelta(minutes=10 * i))
        for i in range(1000)
    ]
    store.record_cards(views)
    override = StoredFeedback(
        service_id="crs-patient-view", card_uuid="c-3", outcome="overridden", accepted_suggestions=None,
        override_reason={"reason": {"code": "already-addressed"}}, outcome_timestamp=T0 - timedelta(minutes=20),
        received_at=T0,
    )
    assert store.record_feedback([override, _feedback("c-5")]) == 2
    key = store.patient_key("pt-1")
    assert key is not None
    shown, holds = store.recall(key, since=T0 - timedelta(hours=8), hours=8, reasons=frozenset({"already-addressed"}))
    assert shown == {}
    assert set(holds) == {"crs.active"}
    assert store.recall("another patient", since=T0 - timedelta(hours=8), hours=8,
                        reasons=frozenset({"already-addressed"}))[1] == {}
    if database_url.startswith("sqlite"):
        compiled = _HOLDS.compile(dialect=sqlite.dialect())
        with store._engine.connect() as conn:
            plan = conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}",
                tuple(_sqlite_value(v) for v in compiled.construct_params(_hold_params(key, T0)).values()),
            ).all()
        first = plan[0][-1]
        assert first.startswith("SEARCH feedback USING INDEX ix_feedback_outcome_outcome_timestamp"), plan
    store.dispose()


def _sqlite_value(value: object) -> object:
    return value.replace(tzinfo=None).isoformat(sep=" ") if isinstance(value, datetime) else value
