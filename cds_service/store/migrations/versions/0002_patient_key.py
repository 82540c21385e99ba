"""The card audit keeps a keyed hash of the patient id instead of the id; issued_at indexed for pruning.

Existing rows: with CRS_CDS_AUDIT_PEPPER set when `crs-cds db upgrade` runs, each patient id is replaced by its
HMAC-SHA256; without it the ids are dropped (patient_key NULL). Either way no raw patient id is left.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_CARDS = sa.table(
    "issued_card", sa.column("card_uuid", sa.String), sa.column("patient_id", sa.Text),
    sa.column("patient_key", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("issued_card") as batch:
        batch.add_column(sa.Column("patient_key", sa.String(64)))
    keyer = context.config.attributes.get("patient_key")  # PatientKeyer | None, from cds_service.store.migrate
    if keyer is not None:
        bind = op.get_bind()
        rows = bind.execute(sa.select(_CARDS.c.card_uuid, _CARDS.c.patient_id).where(_CARDS.c.patient_id.is_not(None)))
        for card_uuid, patient_id in rows.all():
            bind.execute(
                _CARDS.update().where(_CARDS.c.card_uuid == card_uuid).values(patient_key=keyer(patient_id))
            )
    with op.batch_alter_table("issued_card") as batch:
        batch.drop_column("patient_id")
        batch.create_index("ix_issued_card_patient_key", ["patient_key"])
        batch.create_index("ix_issued_card_issued_at", ["issued_at"])


def downgrade() -> None:
    with op.batch_alter_table("issued_card") as batch:
        batch.drop_index("ix_issued_card_issued_at")
        batch.drop_index("ix_issued_card_patient_key")
        batch.add_column(sa.Column("patient_id", sa.Text()))
        batch.drop_column("patient_key")
