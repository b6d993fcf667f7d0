"""accounts and erasure: a person may delete their account

`user.erased_at` marks an account its person deleted (bot/core/data_rights.py): personal fields are emptied and
the row stays, because what moderation must keep (registry fingerprints of their works, makers as tombstones,
reports and audit records without personal text, a ban) still points at it. Web sessions are signed cookies and
need no table.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-03 14:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
