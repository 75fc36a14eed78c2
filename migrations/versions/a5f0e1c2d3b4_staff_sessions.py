"""staff sessions: failed log-ins and lockout, who created a user, users' change history

Revision ID: a5f0e1c2d3b4
Revises: e3e875100019
"""
from alembic import op
import sqlalchemy as sa

import ledger.types

revision = 'a5f0e1c2d3b4'
down_revision = 'e3e875100019'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_id', ID, nullable=True))
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', ledger.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_users_created_by_id_users'), 'users', ['created_by_id'], ['id'])

    op.create_table('user_changes',
    sa.Column('id', ID, nullable=False),
    sa.Column('user_id', ID, nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('changed_by_id', ID, nullable=False),
    sa.Column('changed_at', ledger.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_user_changes_changed_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_changes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_changes'))
    )
    with op.batch_alter_table('user_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_changes_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('user_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_changes_user_id'))
    op.drop_table('user_changes')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_created_by_id_users'), type_='foreignkey')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
        batch_op.drop_column('created_by_id')
