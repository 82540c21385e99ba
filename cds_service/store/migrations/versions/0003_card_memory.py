"""The memory of interruptive cards shown: one row per patient key, rule and drug (issue 15, alert burden).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_memory",
        sa.Column("patient_key", sa.String(64), primary_key=True),
        sa.Column("rule_id", sa.String(64), primary_key=True),
        sa.Column("drug_id", sa.String(64), primary_key=True),
        sa.Column("first_shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("indicator", sa.String(16), nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
    )
    op.create_index("ix_card_memory_last_shown_at", "card_memory", ["last_shown_at"])


def downgrade() -> None:
    op.drop_index("ix_card_memory_last_shown_at", table_name="card_memory")
    op.drop_table("card_memory")
