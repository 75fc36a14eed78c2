"""bank statement imports: batches, their voids, and every imported bank line

Revision ID: c8d9e0f1a2b3
Revises: b7c8d9e0f1a2
"""
import sqlalchemy as sa
from alembic import op

import ledger.types

revision = 'c8d9e0f1a2b3'
down_revision = 'b7c8d9e0f1a2'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('import_batches',
    sa.Column('id', ID, nullable=False),
    sa.Column('fund_id', ID, nullable=False),
    sa.Column('campaign_id', ID, nullable=False),
    sa.Column('bank', sa.String(length=20), nullable=False),
    sa.Column('account_number', sa.String(length=40), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=True),
    sa.Column('period_to', sa.Date(), nullable=True),
    sa.Column('opening_balance_vnd', ID, nullable=True),
    sa.Column('closing_balance_vnd', ID, nullable=True),
    sa.Column('lines_in_file', sa.Integer(), nullable=False),
    sa.Column('credits_recorded', sa.Integer(), nullable=False),
    sa.Column('credits_recorded_vnd', ID, nullable=False),
    sa.Column('debits', sa.Integer(), nullable=False),
    sa.Column('debits_vnd', ID, nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('created_by_id', ID, nullable=False),
    sa.Column('created_at', ledger.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_import_batches_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_import_batches_created_by_id_users')),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_import_batches_fund_id_funds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches'))
    )
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_batches_file_sha256'), ['file_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_batches_fund_id'), ['fund_id'], unique=False)

    op.create_table('import_batch_voids',
    sa.Column('batch_id', ID, nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('voided_by_id', ID, nullable=False),
    sa.Column('voided_at', ledger.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_import_batch_voids_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['voided_by_id'], ['users.id'], name=op.f('fk_import_batch_voids_voided_by_id_users')),
    sa.PrimaryKeyConstraint('batch_id', name=op.f('pk_import_batch_voids'))
    )

    op.create_table('bank_lines',
    sa.Column('id', ID, nullable=False),
    sa.Column('batch_id', ID, nullable=False),
    sa.Column('identity', sa.String(length=64), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('posted_at', sa.DateTime(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('amount_vnd', ID, nullable=False),
    sa.Column('memo', sa.Text(), nullable=False),
    sa.Column('payer_name', sa.String(length=300), nullable=True),
    sa.Column('payer_account', sa.String(length=40), nullable=True),
    sa.Column('balance_vnd', ID, nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('pledge_id', ID, nullable=True),
    sa.Column('contribution_id', ID, nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_bank_lines_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['contribution_id'], ['contributions.id'], name=op.f('fk_bank_lines_contribution_id_contributions')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_bank_lines_pledge_id_pledges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_lines')),
    sa.UniqueConstraint('contribution_id', name=op.f('uq_bank_lines_contribution_id'))
    )
    with op.batch_alter_table('bank_lines', schema=None) as batch_op:
        batch_op.create_index('ix_bank_lines_identity', ['identity'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_lines_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index('ix_bank_lines_payer_account', ['payer_account'], unique=False)


def downgrade():
    op.drop_table('bank_lines')
    op.drop_table('import_batch_voids')
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_batches_fund_id'))
        batch_op.drop_index(batch_op.f('ix_import_batches_file_sha256'))
    op.drop_table('import_batches')
