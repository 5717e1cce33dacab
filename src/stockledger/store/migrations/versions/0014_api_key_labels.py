"""API keys get a label (what people call them), shown as the actor of their movements

Revision ID: 0014_api_key_labels
Revises: 0013_users
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_api_key_labels"
down_revision = "0013_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("label")
