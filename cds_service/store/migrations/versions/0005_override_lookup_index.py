"""An index on feedback by outcome and time: the card memory's hold lookup starts from the few overrides of the
hold window (hospital-wide, tens) and finds each one's card by its key, instead of reading every card issued to
the patient in the last week (a chart opened a thousand times a week cost a thousand rows on every hook call).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_feedback_outcome_outcome_timestamp", "feedback", ["outcome", "outcome_timestamp"])


def downgrade() -> None:
    op.drop_index("ix_feedback_outcome_outcome_timestamp", table_name="feedback")
