"""recovery bookkeeping: sync run heartbeat (a worker's lease), webhook event queued_at

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.models.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("heartbeat_at", domain.models.base.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("queued_at", domain.models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_column("queued_at")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
