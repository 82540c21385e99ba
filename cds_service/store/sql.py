"""The feedback and audit store.

Two tables: `issued_card` (every card the service returns, so feedback joins to the card it answers) and
`feedback` (every feedback entry accepted, deduplicated: the spec allows repeated and batched reports).
A feedback entry for a card we never issued is kept and flagged `known_card = false`.

The database URL decides the engine: `sqlite:///path` (default, the directory is created) or
`postgresql://...` (driver psycopg 3). Tables are created at start-up if absent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from cds_service.errors import StoreError

metadata = MetaData()

issued_card = Table(
    "issued_card",
    metadata,
    Column("card_uuid", String(256), primary_key=True),
    Column("service_id", String(64), nullable=False),
    Column("hook_instance", String(256), nullable=False),
    Column("patient_id", Text),
    Column("rule_id", String(64), nullable=False),
    Column("indicator", String(16), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(64), nullable=False, unique=True),
    Column("service_id", String(64), nullable=False),
    Column("card_uuid", String(256), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),
    Column("accepted_suggestions", JSON),
    Column("override_reason", JSON),
    Column("outcome_timestamp", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("known_card", Boolean, nullable=False),
)


@dataclass(frozen=True, slots=True)
class IssuedCard:
    card_uuid: str
    service_id: str
    hook_instance: str
    patient_id: str | None
    rule_id: str
    indicator: str
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class StoredFeedback:
    service_id: str
    card_uuid: str
    outcome: str
    accepted_suggestions: list[str] | None
    override_reason: dict[str, Any] | None
    outcome_timestamp: datetime
    received_at: datetime
    known_card: bool = False


_CHUNK = 200  # rows per INSERT: well under SQLite's bound-parameter limit (9 columns x 200)


def _engine_for(url: str) -> Engine:
    if url == "sqlite:///:memory:":  # one shared connection, usable from the worker threads that write
        return create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    for prefix in ("postgresql://", "postgres://"):  # both spellings in the wild; psycopg 3 is the driver
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url.removeprefix(prefix)
    return create_engine(url, pool_pre_ping=True)


def _dedupe_key(entry: StoredFeedback) -> str:
    """Same card, outcome, time, suggestions and reason: the same report, stored once."""
    material = json.dumps(
        [
            entry.service_id,
            entry.card_uuid,
            entry.outcome,
            entry.outcome_timestamp.astimezone(UTC).isoformat(),
            sorted(entry.accepted_suggestions or []),
            entry.override_reason,
        ],
        sort_keys=True,
    )
    return hashlib.sha256(material.encode()).hexdigest()


class SqlStore:
    """Issued cards and feedback in one relational database."""

    def __init__(self, database_url: str) -> None:
        self._engine = _engine_for(database_url)
        self._insert = pg_insert if self._engine.dialect.name == "postgresql" else sqlite_insert

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def create_schema(self) -> None:
        try:
            metadata.create_all(self._engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot create the store schema: {type(exc).__name__}") from exc

    def ping(self) -> bool:
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def record_cards(self, cards: Sequence[IssuedCard]) -> None:
        """Record the cards of one response (idempotent on card uuid)."""
        if not cards:
            return
        rows = [vars_of(card) for card in cards]
        statement = (
            self._insert(issued_card).values(rows).on_conflict_do_nothing(index_elements=["card_uuid"])
        )
        self._execute(statement)

    def record_feedback(self, entries: Iterable[StoredFeedback]) -> int:
        """Store feedback entries, flagging unknown cards; returns how many were new (duplicates are dropped)."""
        entries = list(entries)
        if not entries:
            return 0
        known = self._known_cards({e.card_uuid for e in entries})
        rows = []
        for entry in entries:
            row = vars_of(entry)
            row["known_card"] = entry.card_uuid in known
            row["dedupe_key"] = _dedupe_key(entry)
            rows.append(row)
        statements = [
            self._insert(feedback)
            .values(rows[start : start + _CHUNK])
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(feedback.c.id)
            for start in range(0, len(rows), _CHUNK)
        ]
        return self._execute(*statements)  # one transaction: the whole batch is stored, or none of it

    def feedback_for(self, card_uuid: str) -> list[StoredFeedback]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(feedback).where(feedback.c.card_uuid == card_uuid).order_by(feedback.c.id)
            )
            return [_feedback_from_row(row._mapping) for row in rows]

    def issued_card(self, card_uuid: str) -> IssuedCard | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(issued_card).where(issued_card.c.card_uuid == card_uuid)).first()
        if row is None:
            return None
        values = dict(row._mapping)
        values["issued_at"] = _aware(values["issued_at"])
        return IssuedCard(**values)

    def count_feedback(self) -> int:
        with self._engine.connect() as conn:
            return len(conn.execute(select(feedback.c.id)).all())

    def dispose(self) -> None:
        self._engine.dispose()

    def _known_cards(self, uuids: set[str]) -> set[str]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(issued_card.c.card_uuid).where(issued_card.c.card_uuid.in_(uuids)))
            return {r[0] for r in rows}

    def _execute(self, *statements: Any) -> int:
        try:
            with self._engine.begin() as conn:
                count = 0
                for statement in statements:
                    result = conn.execute(statement)
                    count += len(result.all()) if result.returns_rows else int(result.rowcount or 0)
                return count
        except SQLAlchemyError as exc:
            raise StoreError(f"store write failed: {type(exc).__name__}") from exc


def vars_of(record: IssuedCard | StoredFeedback) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; everything we store is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _feedback_from_row(row: Any) -> StoredFeedback:
    return StoredFeedback(
        service_id=row["service_id"],
        card_uuid=row["card_uuid"],
        outcome=row["outcome"],
        accepted_suggestions=row["accepted_suggestions"],
        override_reason=row["override_reason"],
        outcome_timestamp=_aware(row["outcome_timestamp"]),
        received_at=_aware(row["received_at"]),
        known_card=bool(row["known_card"]),
    )
