"""public summaries: a campaign's overview per area, kept

The public pages then need not sum the whole ledger on every visit.

Revision ID: d0e1f2a3b4c5
Revises: c8d9e0f1a2b3
"""
import sqlalchemy as sa
from alembic import op

import ledger.types

revision = 'd0e1f2a3b4c5'
down_revision = 'c8d9e0f1a2b3'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('public_summaries',
    sa.Column('id', ID, nullable=False),
    sa.Column('campaign_id', ID, nullable=False),
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('computed_at', ledger.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('journal_size', sa.BigInteger(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('refreshing_since', ledger.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_public_summaries_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_summaries')),
    sa.UniqueConstraint('campaign_id', 'scope', name=op.f('uq_public_summaries_campaign_id'))
    )


def downgrade():
    op.drop_table('public_summaries')
