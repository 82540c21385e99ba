"""The feedback and audit store.

Two tables (`store/tables.py`): `issued_card` (every card the service returns, so feedback joins to the card it
answers) and `feedback` (every feedback entry accepted, deduplicated: the spec allows repeated and batched
reports). A feedback entry for a card we never issued is kept and flagged `known_card = false`.

The database URL decides the engine: `sqlite:///path` (default, the directory is created; WAL mode, see
`store/engine.py`) or `postgresql://...` (driver psycopg 3). The schema comes from the migrations
(`crs-cds db upgrade`); `require_current_schema()` refuses a database that is behind the code.

Patient ids are never stored: the audit row keeps `patient_key`, an HMAC-SHA256 of the id under the
operator's secret pepper (`CRS_CDS_AUDIT_PEPPER`), so "which cards did this patient get" can be answered by
whoever holds the pepper, and a copy of the database alone does not name patients.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from cds_service.domain.memory import Hold, Shown
from cds_service.errors import StoreError
from cds_service.store import migrate
from cds_service.store.engine import DEFAULT_BUSY_TIMEOUT_MS, MEMORY_URL, engine_for
from cds_service.store.report import CardRow, FeedbackRow
from cds_service.store.tables import card_memory, feedback, issued_card, metadata

#: Told about every store failure: the operation ("audit", "feedback", "read", "prune") (metrics).
ErrorObserver = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class IssuedCard:
    """A card as the pipeline hands it to the store (the patient id is hashed, never written)."""

    card_uuid: str
    service_id: str
    hook_instance: str
    patient_id: str | None
    rule_id: str
    indicator: str
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class StoredCard:
    """A card as the audit keeps it: `patient_key` instead of the patient id."""

    card_uuid: str
    service_id: str
    hook_instance: str
    patient_key: str | None
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


class PatientKeyer:
    """patient id -> HMAC-SHA256(pepper, id) as hex; the same id always gives the same key under one pepper."""

    def __init__(self, pepper: str) -> None:
        self._pepper = pepper.encode()

    def __call__(self, patient_id: str) -> str:
        return hmac.new(self._pepper, patient_id.encode(), hashlib.sha256).hexdigest()


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


def _ignore(_operation: str) -> None:
    return None


class SqlStore:
    """Issued cards and feedback in one relational database."""

    def __init__(
        self,
        database_url: str,
        *,
        pepper: str | None = None,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        on_error: ErrorObserver = _ignore,
    ) -> None:
        self._engine = engine_for(database_url, busy_timeout_ms=busy_timeout_ms)
        # Feedback commits are fsynced (SQLite synchronous=FULL) through connections of their own.
        self._durable = (
            engine_for(database_url, busy_timeout_ms=busy_timeout_ms, durable=True)
            if self._engine.dialect.name == "sqlite" and database_url != MEMORY_URL
            else self._engine
        )
        self._insert = pg_insert if self._engine.dialect.name == "postgresql" else sqlite_insert
        # Built once and executed with many parameter sets: one compiled statement whatever the batch size (a
        # VALUES list per batch was compiled anew for every new row count).
        self._card_insert = self._insert(issued_card).on_conflict_do_nothing(index_elements=["card_uuid"])
        self._keyer = PatientKeyer(pepper) if pepper else None
        self._on_error = on_error

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @property
    def keys_patients(self) -> bool:
        """Whether audit rows carry a patient key (a pepper is configured)."""
        return self._keyer is not None

    def patient_key(self, patient_id: str) -> str | None:
        """The key under which this patient's cards are recorded (None without a pepper)."""
        return self._keyer(patient_id) if self._keyer else None

    # ------------------------------------------------------------ schema

    def upgrade_schema(self) -> tuple[str | None, str]:
        """Run the migrations up to the code's revision (`crs-cds db upgrade`)."""
        return migrate.upgrade(self._engine, keyer=self._keyer)

    def schema_revision(self) -> str | None:
        """The database's schema revision (None: no crs-cds schema yet)."""
        return migrate.current_revision(self._engine)

    def require_current_schema(self) -> None:
        """StoreError naming `crs-cds db upgrade` unless the database is at the code's revision."""
        migrate.require_current(self._engine)

    def create_schema(self) -> None:
        """Tables straight from tables.py, stamped at the head revision: for tests and throw-away databases
        (in-memory stores of `crs-cds evaluate`). A real database is made with `crs-cds db upgrade`."""
        try:
            with self._engine.begin() as conn:
                metadata.create_all(conn)
                migrate.stamp_head(conn)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot create the store schema: {type(exc).__name__}") from exc

    def ping(self) -> bool:
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    # ------------------------------------------------------------ writes

    def record_cards(self, cards: Sequence[IssuedCard]) -> None:
        """Record the cards of one response (idempotent on card uuid)."""
        if not cards:
            return
        rows = [self._card_row(card) for card in cards]
        self._execute("audit", self._card_insert, rows=rows)

    def record_feedback(self, entries: Iterable[StoredFeedback]) -> int:
        """Store feedback entries, flagging unknown cards; returns how many were new (duplicates are dropped).

        Durable before it returns: on SQLite it commits on a synchronous=FULL connection.
        """
        entries = list(entries)
        if not entries:
            return 0
        known = self._known_cards({e.card_uuid for e in entries})
        rows = []
        for entry in entries:
            row = _fields(entry)
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
        return self._execute("feedback", *statements, durable=True)  # one transaction: all of it, or none

    def remember(self, patient_key: str, shown: Sequence[Shown]) -> None:
        """Keep the last interruptive card per rule and drug for this patient (an upsert: the newest wins)."""
        if not shown:
            return
        rows = [
            {"patient_key": patient_key, "rule_id": s.rule_id, "drug_id": s.drug_id, "first_shown_at": s.first_shown_at,
             "last_shown_at": s.last_shown_at, "indicator": s.indicator, "state": dict(s.state)}
            for s in shown
        ]
        statement = self._insert(card_memory).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=["patient_key", "rule_id", "drug_id"],
            set_={name: statement.excluded[name] for name in
                  ("first_shown_at", "last_shown_at", "indicator", "state")},
        )
        self._execute("memory", statement)

    def recall(
        self, patient_key: str, *, since: datetime, hours: int, reasons: frozenset[str]
    ) -> tuple[dict[tuple[str, str], Shown], dict[str, Hold]]:
        """One patient's card memory, on one connection: the interruptive cards remembered, by (rule id, drug id),
        and per rule id the latest hold (an override since `since` with one of `reasons`, holding for `hours` from
        its outcome time)."""
        try:
            with self._engine.connect() as conn:
                shown = conn.execute(_SHOWN, {"key": patient_key}).all()
                holds = conn.execute(_HOLDS, _hold_params(patient_key, since)).all()
        except SQLAlchemyError as exc:
            self._on_error("read")
            raise StoreError(f"store read failed: {type(exc).__name__}") from exc
        return _shown(shown), _holds(holds, hours, reasons)

    def report_rows(self, since: datetime) -> tuple[list[CardRow], list[FeedbackRow]]:
        """The audit and feedback rows of cards issued since `since`, for the governance report."""
        cards_q = select(issued_card.c.card_uuid, issued_card.c.rule_id, issued_card.c.indicator,
                         issued_card.c.issued_at).where(issued_card.c.issued_at >= since)
        feedback_q = (
            select(
                feedback.c.card_uuid, feedback.c.outcome, feedback.c.accepted_suggestions, feedback.c.override_reason
            )
            .join(issued_card, issued_card.c.card_uuid == feedback.c.card_uuid)
            .where(issued_card.c.issued_at >= since)
        )
        try:
            with self._engine.connect() as conn:
                cards = [CardRow(r[0], r[1], r[2], _aware(r[3])) for r in conn.execute(cards_q)]
                entries = [
                    FeedbackRow(r[0], r[1], len(r[2] or []), _reason_code(r[3])) for r in conn.execute(feedback_q)
                ]
        except SQLAlchemyError as exc:
            self._on_error("read")
            raise StoreError(f"store read failed: {type(exc).__name__}") from exc
        return cards, entries

    def prune_audit(self, before: datetime) -> int:
        """Delete the issued-card rows issued before `before`, and the card memory last used before it; returns
        how many issued-card rows. Feedback rows stay."""
        self._execute("prune", delete(card_memory).where(card_memory.c.last_shown_at < before))
        return self._execute("prune", delete(issued_card).where(issued_card.c.issued_at < before))

    # ------------------------------------------------------------ reads

    def feedback_for(self, card_uuid: str) -> list[StoredFeedback]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(feedback).where(feedback.c.card_uuid == card_uuid).order_by(feedback.c.id)
            )
            return [_feedback_from_row(row._mapping) for row in rows]

    def issued_card(self, card_uuid: str) -> StoredCard | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(issued_card).where(issued_card.c.card_uuid == card_uuid)).first()
        if row is None:
            return None
        values = dict(row._mapping)
        values["issued_at"] = _aware(values["issued_at"])
        return StoredCard(**values)

    def count_feedback(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(feedback)).scalar_one())

    def count_issued_cards(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(issued_card)).scalar_one())

    def dispose(self) -> None:
        self._engine.dispose()
        self._durable.dispose()

    # ------------------------------------------------------------ internals

    def _card_row(self, card: IssuedCard) -> dict[str, Any]:
        row = _fields(card)
        patient_id = row.pop("patient_id")
        row["patient_key"] = self.patient_key(patient_id) if patient_id else None
        return row

    def _known_cards(self, uuids: set[str]) -> set[str]:
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(select(issued_card.c.card_uuid).where(issued_card.c.card_uuid.in_(uuids)))
                return {r[0] for r in rows}
        except SQLAlchemyError as exc:
            self._on_error("read")
            raise StoreError(f"store read failed: {type(exc).__name__}") from exc

    def _execute(
        self, operation: str, *statements: Any, durable: bool = False, rows: list[dict[str, Any]] | None = None
    ) -> int:
        """Run `statements` in one transaction (each with the parameter sets `rows`, when given); rows touched."""
        try:
            with (self._durable if durable else self._engine).begin() as conn:
                count = 0
                for statement in statements:
                    result = conn.execute(statement, rows)
                    count += len(result.all()) if result.returns_rows else int(result.rowcount or 0)
                return count
        except SQLAlchemyError as exc:
            self._on_error(operation)
            raise StoreError(f"store write failed: {type(exc).__name__}") from exc


def _fields(record: IssuedCard | StoredFeedback) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}


def _reason_code(reason: Any) -> str | None:
    """The code of a CDS Hooks overrideReason ({"reason": {"code", "system", "display"}, "userComment"})."""
    coding = reason.get("reason") if isinstance(reason, dict) else None
    code = coding.get("code") if isinstance(coding, dict) else None
    return str(code) if code else None


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


#: The card memory's two reads, built once (a statement built per call was most of their cost).
_SHOWN = select(card_memory).where(card_memory.c.patient_key == bindparam("key"))
#: The overrides of the hold window (few, by the feedback index on outcome and time; migration 0005), each joined
#: to its card by the card's key: the lookup never reads every card the patient was shown.
_HOLDS = (
    select(issued_card.c.rule_id, feedback.c.override_reason, feedback.c.outcome_timestamp)
    .join(issued_card, issued_card.c.card_uuid == feedback.c.card_uuid)
    .where(issued_card.c.patient_key == bindparam("key"), issued_card.c.issued_at >= bindparam("issued_since"),
           feedback.c.outcome == "overridden", feedback.c.outcome_timestamp >= bindparam("since"))
)
#: An override holds repeats only for a card issued this long before the hold window opened (feedback comes
#: minutes after its card): the lookup reads the patient's recent cards, not every card ever issued.
HOLD_CARD_LOOKBACK = timedelta(days=7)


def _hold_params(patient_key: str, since: datetime) -> dict[str, Any]:
    return {"key": patient_key, "since": since, "issued_since": since - HOLD_CARD_LOOKBACK}


def _shown(rows: Sequence[Any]) -> dict[tuple[str, str], Shown]:
    found = [
        Shown(r.rule_id, r.drug_id, _aware(r.first_shown_at), _aware(r.last_shown_at), r.indicator, r.state or {})
        for r in rows
    ]
    return {s.key: s for s in found}


def _holds(rows: Sequence[Any], hours: int, reasons: frozenset[str]) -> dict[str, Hold]:
    """Per rule id, the latest hold among these overrides (those with one of `reasons`), `hours` from its time."""
    holds: dict[str, Hold] = {}
    for rule_id, reason, at in rows:
        code = _reason_code(reason)
        if code not in reasons:
            continue
        hold = Hold(rule_id, _aware(at) + timedelta(hours=hours), code)
        if rule_id not in holds or hold.until > holds[rule_id].until:
            holds[rule_id] = hold
    return holds
