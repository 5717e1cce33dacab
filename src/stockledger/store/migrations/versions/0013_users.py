"""back-office accounts (users); a back-office session belongs to an API key or to an account

Revision ID: 0013_users
Revises: 0012_product_library
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_users"
down_revision = "0012_product_library"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("org_uuid", sa.String(length=36), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("locked_until_ms", sa.BigInteger(), nullable=True),
        sa.Column("disabled_ms", sa.BigInteger(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("org_uuid", "uuid", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("ui_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_uuid", sa.String(length=36), nullable=True))
        batch_op.alter_column("key_id", existing_type=sa.String(length=64), nullable=True)
        batch_op.create_index("ix_ui_sessions_org_uuid_user_uuid", ["org_uuid", "user_uuid"], unique=False)


def downgrade() -> None:
    # Sessions of accounts have no key: they end with the accounts.
    op.execute("DELETE FROM ui_sessions WHERE key_id IS NULL")
    with op.batch_alter_table("ui_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_ui_sessions_org_uuid_user_uuid")
        batch_op.alter_column("key_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("user_uuid")
    op.drop_table("users")
