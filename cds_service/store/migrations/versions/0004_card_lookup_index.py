"""An index on the card audit by patient key and time: the card memory's hold lookup reads a patient's recent cards
only (without it, every card ever issued to the patient was joined to the feedback on every hook call).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_issued_card_patient_key_issued_at", "issued_card", ["patient_key", "issued_at"])


def downgrade() -> None:
    op.drop_index("ix_issued_card_patient_key_issued_at", table_name="issued_card")
