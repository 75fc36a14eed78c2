"""funds' bank accounts, for VietQR payment codes

Revision ID: b7c8d9e0f1a2
Revises: a6b7c8d9e0f1
"""
import sqlalchemy as sa
from alembic import op

revision = 'b7c8d9e0f1a2'
down_revision = 'a6b7c8d9e0f1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('funds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bank_bin', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('bank_account', sa.String(length=19), nullable=True))
        batch_op.add_column(sa.Column('bank_account_name', sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table('funds', schema=None) as batch_op:
        batch_op.drop_column('bank_account_name')
        batch_op.drop_column('bank_account')
        batch_op.drop_column('bank_bin')
