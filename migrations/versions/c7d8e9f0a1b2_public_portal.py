"""public portal: a campaign's choice to publish household heads' full names; rate-limit counters

Revision ID: c7d8e9f0a1b2
Revises: b6a1f2d3e4c5
"""
from alembic import op
import sqlalchemy as sa

revision = 'c7d8e9f0a1b2'
down_revision = 'b6a1f2d3e4c5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns') as batch_op:
        batch_op.add_column(sa.Column('publish_household_names', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table('rate_limit_counters',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counters'))
    )


def downgrade():
    op.drop_table('rate_limit_counters')
    with op.batch_alter_table('campaigns') as batch_op:
        batch_op.drop_column('publish_household_names')
