"""streamed exports' signed manifests; the grant to see private fields

Revision ID: f5a6b7c8d9e0
Revises: e4f5a6b7c8d9
"""
import sqlalchemy as sa
from alembic import op

import ledger.types

revision = 'f5a6b7c8d9e0'
down_revision = 'e4f5a6b7c8d9'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('export_manifests',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('export', sa.String(length=40), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('requested_by_id', ID, nullable=False),
    sa.Column('created_at', ledger.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('manifest', sa.LargeBinary(), nullable=False),
    sa.Column('signature', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_export_manifests_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_manifests'))
    )
    with op.batch_alter_table('export_manifests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_manifests_requested_by_id'), ['requested_by_id'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sees_private_data', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('sees_private_data')
    with op.batch_alter_table('export_manifests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_manifests_requested_by_id'))
    op.drop_table('export_manifests')
