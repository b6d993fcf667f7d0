"""accounts and erasure: a person may delete their account

`user.erased_at` marks an account its person deleted (bot/core/data_rights.py): personal fields are emptied and
the row stays, because what moderation must keep (registry fingerprints of their works, makers as tombstones,
reports and audit records without personal text, a ban) still points at it. `exportjob` is "Export my data", built
by a worker with progress. Web sessions are signed cookies and need no table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 14:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('exportjob',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('blob', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('exportjob', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exportjob_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('exportjob', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exportjob_user_id'))
    op.drop_table('exportjob')
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+ too): a batch copy of `user` would have to drop the table every
    # other table points at, which SQLite refuses with foreign keys on
    op.drop_column('user', 'erased_at')
