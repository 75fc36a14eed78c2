"""staff sessions: failed log-ins and lockout

Revision ID: a5f0e1c2d3b4
Revises: e3e875100019
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = 'a5f0e1c2d3b4'
down_revision = 'e3e875100019'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
