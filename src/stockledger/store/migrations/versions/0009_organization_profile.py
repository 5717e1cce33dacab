"""the organization's profile: name, country, currency, language, time zone, VAT rate, contact e-mail

Revision ID: 0009_organization_profile
Revises: 0008_hardening
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_organization_profile"
down_revision = "0008_hardening"
branch_labels = None
depends_on = None

# Every column is nullable: NULL means "not set", answered as the default (domain/organization.py),
# so existing organizations need no backfill.
COLUMNS = [
    sa.Column("name", sa.String(length=255), nullable=True),
    sa.Column("country", sa.String(length=2), nullable=True),
    sa.Column("currency", sa.String(length=3), nullable=True),
    sa.Column("language", sa.String(length=2), nullable=True),
    sa.Column("time_zone", sa.String(length=64), nullable=True),
    sa.Column("vat_percentage", sa.String(length=16), nullable=True),
    sa.Column("contact_email", sa.String(length=254), nullable=True),
]


def upgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        for column in reversed(COLUMNS):
            batch_op.drop_column(column.name)
