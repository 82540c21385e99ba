"""The store's tables as the code expects them at the newest migration (the head revision).

The schema itself is made by the Alembic migrations in `migrations/versions/` (`crs-cds db upgrade`); this
module describes the same tables for queries. `tests/store/test_migrations.py` checks that the two agree on
SQLite and PostgreSQL, so a table changed here without a new revision fails the tests.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, Integer, MetaData, String, Table

metadata = MetaData()

#: Every card the service returns, so feedback joins to the card it answers. `patient_key` is a keyed hash
#: (HMAC-SHA256 with CRS_CDS_AUDIT_PEPPER) of the patient id, never the id itself; NULL without a pepper.
issued_card = Table(
    "issued_card",
    metadata,
    Column("card_uuid", String(256), primary_key=True),
    Column("service_id", String(64), nullable=False),
    Column("hook_instance", String(256), nullable=False),
    Column("patient_key", String(64), index=True),
    Column("rule_id", String(64), nullable=False),
    Column("indicator", String(16), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False, index=True),
    Index("ix_issued_card_patient_key_issued_at", "patient_key", "issued_at"),  # the card memory's holds
)

#: Every feedback entry accepted, deduplicated (the spec allows repeated and batched reports). An entry for a
#: card never issued (or already pruned) is kept with `known_card = false`. No patient data.
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
    Index("ix_feedback_outcome_outcome_timestamp", "outcome", "outcome_timestamp"),  # the card memory's holds
)

#: The last interruptive card shown per patient key, rule and drug ("" when the finding names none): what the
#: alert-burden rules compare a new finding with (clinical/burden.py). Shared by every worker and replica.
card_memory = Table(
    "card_memory",
    metadata,
    Column("patient_key", String(64), primary_key=True),
    Column("rule_id", String(64), primary_key=True),
    Column("drug_id", String(64), primary_key=True),
    Column("first_shown_at", DateTime(timezone=True), nullable=False),
    Column("last_shown_at", DateTime(timezone=True), nullable=False),
    Column("indicator", String(16), nullable=False),
    Column("state", JSON, nullable=False),
    Index("ix_card_memory_last_shown_at", "last_shown_at"),
)
