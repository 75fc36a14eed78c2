"""maker-checker approvals

Revision ID: b6a1f2d3e4c5
Revises: a5f0e1c2d3b4
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = 'b6a1f2d3e4c5'
down_revision = 'a5f0e1c2d3b4'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
