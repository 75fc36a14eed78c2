"""public statement: a searchable projection of contributions (FTS5 / PostgreSQL full text)

Revision ID: d9e0f1a2b3c4
Revises: c7d8e9f0a1b2
"""
from alembic import op
import sqlalchemy as sa

revision = 'd9e0f1a2b3c4'
down_revision = 'c7d8e9f0a1b2'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
REFERENCE = sa.String(length=20).with_variant(sa.String(length=20, collation='C'), 'postgresql')

# SQLite: an FTS5 word index over the folded text (with prefix indexes: the last word of
# a search is a prefix), its rowid the statement's sort key, kept in step with the table by
# triggers (external content: the text is stored once).
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE statement_fts USING fts5(search_text, content='statement_entries', "
    "content_rowid='sort_key', tokenize='unicode61', prefix='1 2 3')",
    "CREATE TRIGGER statement_entries_fts_insert AFTER INSERT ON statement_entries BEGIN "
    "INSERT INTO statement_fts(rowid, search_text) VALUES (new.sort_key, new.search_text); END",
    "CREATE TRIGGER statement_entries_fts_delete AFTER DELETE ON statement_entries BEGIN "
    "INSERT INTO statement_fts(statement_fts, rowid, search_text) VALUES ('delete', old.sort_key, old.search_text); END",
    "CREATE TRIGGER statement_entries_fts_update AFTER UPDATE OF search_text ON statement_entries BEGIN "
    "INSERT INTO statement_fts(statement_fts, rowid, search_text) VALUES ('delete', old.sort_key, old.search_text); "
    "INSERT INTO statement_fts(rowid, search_text) VALUES (new.sort_key, new.search_text); END",
]
# PostgreSQL: the folded text's words and word pairs as a stored tsvector ('simple': no
# stemming, no stop words), indexed by GIN; finer statistics so the planner knows a common
# name from a rare one.
POSTGRES_FULL_TEXT = [
    "ALTER TABLE statement_entries ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text || ' ' || search_pairs)) STORED",
    "CREATE INDEX ix_statement_entries_search_vector ON statement_entries USING gin (search_vector)",
    "ALTER TABLE statement_entries ALTER COLUMN search_vector SET STATISTICS 1000",
]


def upgrade():
    op.create_table('statement_entries',
    sa.Column('sort_key', ID, autoincrement=False, nullable=False),
    sa.Column('contribution_id', ID, nullable=False),
    sa.Column('receipt_number', sa.String(length=40), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('campaign_id', ID, nullable=False),
    sa.Column('fund_id', ID, nullable=False),
    sa.Column('fund_name', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=True),
    sa.Column('unit', sa.String(length=40), nullable=True),
    sa.Column('quantity', sa.String(length=30), nullable=True),
    sa.Column('value_vnd', ID, nullable=False),
    sa.Column('donor_id', ID, nullable=True),
    sa.Column('donor_name', sa.String(length=300), nullable=False),
    sa.Column('memo', sa.Text(), nullable=True),
    sa.Column('reference_masked', sa.String(length=10), nullable=True),
    sa.Column('reference_reversed', REFERENCE, nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('search_pairs', sa.Text(), nullable=False),
    sa.Column('voided', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_statement_entries_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['contribution_id'], ['contributions.id'], name=op.f('fk_statement_entries_contribution_id_contributions')),
    sa.ForeignKeyConstraint(['donor_id'], ['donors.id'], name=op.f('fk_statement_entries_donor_id_donors')),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_statement_entries_fund_id_funds')),
    sa.PrimaryKeyConstraint('sort_key', name=op.f('pk_statement_entries')),
    sa.UniqueConstraint('contribution_id', name=op.f('uq_statement_entries_contribution_id')),
    sa.UniqueConstraint('receipt_number', name=op.f('uq_statement_entries_receipt_number'))
    )
    with op.batch_alter_table('statement_entries', schema=None) as batch_op:
        batch_op.create_index('ix_statement_entries_value_order', ['value_vnd', 'sort_key'], unique=False)
        batch_op.create_index('ix_statement_entries_campaign_order', ['campaign_id', 'sort_key'], unique=False)
        batch_op.create_index('ix_statement_entries_fund_order', ['fund_id', 'sort_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_entries_donor_id'), ['donor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_entries_reference_reversed'), ['reference_reversed'],
                              unique=False)
    bind = op.get_bind()
    for statement in (SQLITE_FTS if bind.dialect.name == 'sqlite' else POSTGRES_FULL_TEXT):
        op.execute(statement)
    _backfill(bind)


def _backfill(bind):
    """A row for every contribution already recorded, as statement.service would write it."""
    from ledger.donors.models import ANONYMOUS_NAME
    from ledger.journal.quantities import format_units
    from ledger.public.privacy import mask_memo, masked_reference
    from ledger.statement.service import reference_digits_reversed, search_pairs_of, search_text_of, sort_key_of

    rows = bind.execute(sa.text("""
        SELECT c.id, c.receipt_number, c.received_on, c.campaign_id, c.fund_id, f.name AS fund_name, c.kind,
               c.method, c.commodity, c.units, c.value_vnd, c.donor_id, d.name AS donor_name,
               d.public_display, c.memo, c.bank_reference,
               EXISTS (SELECT 1 FROM journal_transactions r WHERE r.reverses_id = c.txn_id) AS voided
        FROM contributions c JOIN funds f ON f.id = c.fund_id LEFT JOIN donors d ON d.id = c.donor_id
        ORDER BY c.id""")).mappings().all()
    if not rows:
        return
    materials = {f"MAT-{m.id}": (m.item, m.unit) for m in bind.execute(sa.text("SELECT id, item, unit FROM materials"))}
    table = sa.table('statement_entries', *[sa.column(name) for name in (
        'sort_key', 'contribution_id', 'receipt_number', 'received_on', 'campaign_id', 'fund_id', 'fund_name', 'kind',
        'method', 'item', 'unit', 'quantity', 'value_vnd', 'donor_id', 'donor_name', 'memo', 'reference_masked',
        'reference_reversed', 'search_text', 'search_pairs', 'voided')])
    entries = []
    for r in rows:
        received_on = r['received_on']
        if isinstance(received_on, str):  # SQLite hands dates back as text here
            from datetime import date

            received_on = date.fromisoformat(received_on)
        name = r['donor_name'] if r['donor_id'] is not None and r['public_display'] == 'named' else ANONYMOUS_NAME
        memo = mask_memo(r['memo'])
        item, unit = materials.get(r['commodity'], (None, None))
        entries.append({
            'sort_key': sort_key_of(received_on, r['id']), 'contribution_id': r['id'],
            'receipt_number': r['receipt_number'], 'received_on': received_on, 'campaign_id': r['campaign_id'],
            'fund_id': r['fund_id'], 'fund_name': r['fund_name'], 'kind': r['kind'], 'method': r['method'],
            'item': item, 'unit': unit,
            'quantity': None if r['kind'] == 'cash' else format_units(r['units'], r['kind']),
            'value_vnd': r['value_vnd'], 'donor_id': r['donor_id'], 'donor_name': name, 'memo': memo,
            'reference_masked': masked_reference(r['bank_reference']),
            'reference_reversed': reference_digits_reversed(r['bank_reference']),
            'search_text': search_text_of(name, memo), 'search_pairs': search_pairs_of(search_text_of(name, memo)),
            'voided': bool(r['voided'])})
    op.bulk_insert(table, entries)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        for trigger in ('insert', 'delete', 'update'):
            op.execute(f"DROP TRIGGER IF EXISTS statement_entries_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS statement_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_statement_entries_search_vector")
    with op.batch_alter_table('statement_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_entries_reference_reversed'))
        batch_op.drop_index(batch_op.f('ix_statement_entries_donor_id'))
        batch_op.drop_index('ix_statement_entries_fund_order')
        batch_op.drop_index('ix_statement_entries_campaign_order')
        batch_op.drop_index('ix_statement_entries_value_order')
    op.drop_table('statement_entries')
