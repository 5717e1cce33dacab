"""settings of the installation itself: the fingerprint of the secret its API keys are signed with

Revision ID: 0010_instance_settings
Revises: 0009_organization_profile
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_instance_settings"
down_revision = "0009_organization_profile"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance_settings",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("instance_settings")
