"""maker-checker approvals

Revision ID: b6a1f2d3e4c5
Revises: a5f0e1c2d3b4
"""
from alembic import op
import sqlalchemy as sa

import ledger.types

revision = 'b6a1f2d3e4c5'
down_revision = 'a5f0e1c2d3b4'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('approvals',
    sa.Column('id', ID, nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('value_vnd', ID, nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('area_code', sa.String(length=16), nullable=False),
    sa.Column('record_id', ID, nullable=True),
    sa.Column('txn_id', ID, nullable=True),
    sa.Column('requested_by_id', ID, nullable=False),
    sa.Column('requested_at', ledger.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', ID, nullable=True),
    sa.Column('decided_at', ledger.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_approvals_area_code_areas')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_approvals_decided_by_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_approvals_requested_by_id_users')),
    sa.ForeignKeyConstraint(['txn_id'], ['journal_transactions.id'], name=op.f('fk_approvals_txn_id_journal_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals')),
    sa.UniqueConstraint('txn_id', name=op.f('uq_approvals_txn_id'))
    )
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approvals_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approvals_status'))
        batch_op.drop_index(batch_op.f('ix_approvals_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_approvals_area_code'))
    op.drop_table('approvals')
