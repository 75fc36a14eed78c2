"""jobs' files expire: when they were deleted

Revision ID: a6b7c8d9e0f1
Revises: f5a6b7c8d9e0
"""
import sqlalchemy as sa
from alembic import op

import ledger.types

revision = 'a6b7c8d9e0f1'
down_revision = 'f5a6b7c8d9e0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('files_deleted_at', ledger.types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('files_deleted_at')
