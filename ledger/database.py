"""How the ledger talks to its database: one write transaction per operation.

SQLite (the embedded default) silently ignores SELECT ... FOR UPDATE, so writers are
serialised with BEGIN IMMEDIATE, WAL and a busy timeout. PostgreSQL (production) takes a
row lock on the single `ledger_sequence` row at the start of every write that moves
resources: the transparency log needs one total order of journal transactions anyway,
and with it every invariant is checked against a state no other writer can change.
"""
from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import Pool

from .extensions import db

_WRITE = "ledger_write"
LEDGER_LOCK = "ledger_lock"  # session.info key of the lock journal.service.lock_ledger() holds
T = TypeVar("T")


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection, _record):
    if _is_sqlite(dbapi_connection):
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()


PING_AFTER_IDLE = 5.0  # seconds a pooled connection may rest before it is pinged on checkout


@event.listens_for(Pool, "checkin")
def _on_checkin(_dbapi_connection, record):
    record.info["ledger_idle_since"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _on_checkout(dbapi_connection, record, _proxy):
    """Ping a connection that rested in the pool, before handing it out: after a database
    restart its first user would otherwise fail. Unlike pool_pre_ping, a connection used a
    moment ago (a busy server's are) is not pinged: that round trip was a quarter of a
    receipt's verification. A dead one makes the pool connect afresh (DisconnectionError)."""
    idle_since = record.info.get("ledger_idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE:
        return  # new, or just used
    if _is_sqlite(dbapi_connection):
        return  # a file: nothing to lose between uses
    autocommit = dbapi_connection.autocommit
    try:
        dbapi_connection.autocommit = True  # a ping, not a transaction left open
        dbapi_connection.execute("SELECT 1")
        dbapi_connection.autocommit = autocommit
    except Exception as error:  # the driver's errors for a dead connection vary
        raise DisconnectionError(f"the pooled connection is gone: {error}") from error


@event.listens_for(Engine, "begin")
def _on_begin(conn):
    if conn.dialect.name == "sqlite":
        # Writers take the write lock up front: a deferred transaction that read first
        # could not upgrade later without failing on a concurrent commit.
        immediate = conn.get_execution_options().get(_WRITE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction() -> Iterator[None]:
    """Run the block as one write transaction: commit at the end, roll back on any error.

    Nested use joins the outer transaction, so an API call (which also records its
    idempotency key) and the service function it calls commit or fail together.
    """
    session = db.session
    if session.info.get(_WRITE):
        yield
        return
    session.rollback()  # end any read snapshot; the write must see the latest state
    session.info[_WRITE] = True
    try:
        session.connection(execution_options={_WRITE: True})
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_WRITE, None)
        session.info.pop(LEDGER_LOCK, None)  # the lock ends with the transaction


def transactional(fn: Callable[..., T]) -> Callable[..., T]:
    """A service operation: one transaction, committed on success, nothing on failure."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with write_transaction():
            return fn(*args, **kwargs)

    return wrapper


def reads_only(view: Callable[..., T]) -> Callable[..., T]:
    """A view that only reads (a write within it goes through write_transaction, which
    takes a transaction of its own). On PostgreSQL its reads run outside a transaction:
    under READ COMMITTED each statement sees its own snapshot anyway, so all this changes
    is two round trips fewer, the BEGIN and the ROLLBACK that ends the request (two thirds
    of a receipt's verification). SQLite: unchanged."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        reads_outside_a_transaction()
        return view(*args, **kwargs)

    return wrapper


def reads_outside_a_transaction() -> None:
    """On PostgreSQL, the session's next reads run outside a transaction (reads_only), until
    it ends them (a write_transaction does first). SQLite, or a transaction begun: unchanged."""
    session = db.session()  # the request's Session (in_transaction is not proxied)
    if not session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def in_parts(values: list, size: int = 500) -> Iterator[list]:
    """`values` a few hundred at a time: for IN (...) lists under every database's limit on
    bound parameters (SQLite's 32,766, PostgreSQL's 65,535)."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def refresh_statistics(table, added: int) -> None:
    """ANALYZE `table` on PostgreSQL after a write that grew it by a tenth or more, as
    autovacuum would a little later: until then the planner has no statistics on the new
    rows and may read the whole table where an index would do. In the transaction:
    ANALYZE counts its own inserted rows, and its statistics are seen once they are.
    SQLite's planner takes an index for an IN list without statistics."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    known = db.session.execute(text("SELECT reltuples FROM pg_class WHERE oid = CAST(:name AS regclass)"),
                               {"name": table.name}).scalar()
    if known is None or known < 0 or added * 10 >= known:  # -1: never analysed
        db.session.execute(text(f"ANALYZE {table.name}"))


def refresh_stale_statistics(tables) -> list[str]:
    """ANALYZE, on PostgreSQL, each of `tables` whose statistics are missing or describe
    less than nine tenths of its rows, before a long read of them all (`verify`): right
    after a bulk load or a restore (pg_restore brings no statistics), autovacuum has not
    caught up yet, and the planner then reads the whole postings table for each batch of
    2,000 transactions (400 ms a batch at 3.5 M postings) where the txn_id index would
    do. Committed at once, on a connection of its own: an ANALYZE rolled back with a
    read-only transaction loses its column statistics but not its row count, which would
    then look fresh. Not on a standby, which cannot ANALYZE (it has its primary's
    statistics). The names of the tables analysed."""
    if db.session.get_bind().dialect.name != "postgresql" or db.session.execute(
            text("SELECT pg_is_in_recovery()")).scalar():
        return []
    stale = []
    for table in tables:
        has_statistics, known, changed = db.session.execute(text(
            "SELECT EXISTS (SELECT 1 FROM pg_stats WHERE schemaname = current_schema() AND tablename = :name), "
            "c.reltuples, s.n_mod_since_analyze FROM pg_class c "
            "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = CAST(:name AS regclass)"),
            {"name": table.name}).one()
        if not has_statistics or known < 0 or (changed or 0) * 10 > max(known, 1):
            stale.append(table.name)
    if stale:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name in stale:
                conn.execute(text(f"ANALYZE {name}"))
    return stale


def execute_plainly(sql: str, params: dict | None = None):
    """Run `sql` (with :name parameters) on the session's connection as the driver's own
    SQL, its result as SQLAlchemy's. For the few statements every write sends: building and
    compiling a Core statement cost two to three times running it. The SQL must read the
    same on both databases, and the values need no conversion (numbers, text)."""
    connection = db.session.connection()
    return connection.exec_driver_sql(_in_driver_style(sql, connection.dialect.paramstyle), params or {})


@functools.lru_cache(maxsize=256)
def _in_driver_style(sql: str, paramstyle: str) -> str:
    """sqlite3 (qmark, as _plain_insert writes for it) takes :name too; psycopg wants
    %(name)s (and % written twice)."""
    if paramstyle == "qmark":
        return sql
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.replace("%", "%%"))


def read_plainly(sql: str, params: dict, columns: list) -> list[dict]:
    """The rows of `sql` (plain SQL, as execute_plainly) as {name: value}, each value as
    SQLAlchemy would read its column (`columns`, one Column per selected value, in order):
    SQLite's dates and booleans are stored as text and numbers."""
    processors = _result_processors(tuple(columns), db.session.get_bind().dialect)
    return [{name: value if process is None else process(value)
             for (name, process), value in zip(processors, row, strict=True)}
            for row in execute_plainly(sql, params)]


@functools.lru_cache(maxsize=64)
def _result_processors(columns: tuple, dialect) -> list[tuple]:
    return [(column.key, column.type.dialect_impl(dialect).result_processor(dialect, None)) for column in columns]


def load_together(*keys: tuple) -> tuple:
    """Put these rows, (model, primary key) pairs, into the session, read in one plain
    statement, for the session.get()s of the checks that follow, which then find them there:
    read through the ORM, even joined in one query, they cost a sixth of an API contribution.
    Each object is made as a query would load it (every column, and a many-to-one it loads
    joined, such as a fund's area) and attached to the session. The caller keeps what this
    returns (the objects) while it checks: the session holds its objects only weakly. A row
    the session holds already is not read again; a key without its row loads nothing, and
    its get then reads alone and reports it unknown."""
    session = db.session
    wanted = [(model, key) for model, key in keys
              if key is not None and session.identity_map.get(session.identity_key(model, key)) is None]
    if len(wanted) < 2:
        return ()
    sql, parts, columns = _rows_together(tuple(model for model, _ in wanted))
    rows = read_plainly(sql, {f"k{i}": key for i, (_, key) in enumerate(wanted)}, columns)
    if not rows:
        return ()
    [row] = rows
    made = [_as_loaded(model, {attribute: row[f"{i}_{attribute}"] for attribute in _column_attributes(model)})
            for i, (model, _, _) in enumerate(parts)]
    # The related rows first: added after its parent, an object would be cascaded into the
    # session as new, to be inserted.
    for i in reversed(range(len(parts))):
        made[i] = _attached(session, made[i])
        _, parent, relationship = parts[i]
        if parent is not None:
            setattr(made[parent], relationship, made[i])
    return tuple(made[:len(wanted)])


def _as_loaded(model, values: dict):
    """A `model` object of these column values, or None for a row a LEFT JOIN found not."""
    from sqlalchemy import inspect

    if all(value is None for value in values.values()):
        return None
    obj = inspect(model).class_manager.new_instance()
    for attribute, value in values.items():
        setattr(obj, attribute, value)
    return obj


def _attached(session, obj):
    """`obj` in the session as if loaded (persistent, nothing to write), or the session's
    own object of the same row if it holds one."""
    from sqlalchemy.orm import make_transient_to_detached

    if obj is None:
        return None
    held = session.identity_map.get(session.identity_key(instance=obj))
    if held is not None:
        return held
    make_transient_to_detached(obj)  # its values are the database's: no change to write
    session.add(obj)  # persistent, found by get(); nothing is written
    return obj


@functools.lru_cache(maxsize=64)
def _column_attributes(model) -> tuple[str, ...]:
    from sqlalchemy import inspect

    return tuple(prop.key for prop in inspect(model).column_attrs)


@functools.lru_cache(maxsize=64)
def _rows_together(models: tuple) -> tuple[str, list, list]:
    """One row of each model's table, each by its key (:k0, :k1, ...), side by side, with
    the row of each many-to-one the model loads joined: the SQL; the parts, (model, index
    of the part it belongs to, relationship) in the order selected; the Column of each
    value selected, labelled "{part}_{attribute}"."""
    from sqlalchemy import inspect
    from sqlalchemy.orm import RelationshipDirection

    parts, tables, conditions = [], [], []
    for i, model in enumerate(models):
        parts.append((model, None, None))
        tables.append(f"{inspect(model).local_table.name} t{i}")
        conditions.append(f"t{i}.id = :k{i}")
    for i, model in enumerate(models):
        for relationship in inspect(model).relationships:
            if relationship.lazy != "joined" or relationship.direction is not RelationshipDirection.MANYTOONE:
                continue
            [(local, remote)] = relationship.local_remote_pairs
            j = len(parts)
            parts.append((relationship.mapper.class_, i, relationship.key))
            tables[i] += (f" LEFT JOIN {remote.table.name} t{j}"
                          f' ON t{j}."{remote.name}" = t{i}."{local.name}"')
    selected, columns = [], []
    for j, (model, _, _) in enumerate(parts):
        mapper = inspect(model)
        for attribute in _column_attributes(model):
            column = mapper.column_attrs[attribute].columns[0]
            selected.append(f't{j}."{column.name}"')
            columns.append(column.label(f"{j}_{attribute}"))
    sql = f"SELECT {', '.join(selected)} FROM {', '.join(tables)} WHERE {' AND '.join(conditions)}"
    return sql, parts, columns


COPY_FROM = 50  # rows: below this an INSERT is as quick as PostgreSQL's COPY


def insert_rows(table, rows: list[dict], *, returning_ids: bool = False) -> list[int]:
    """Insert many rows into `table` (a Table) in the session's transaction; with
    `returning_ids`, their new ids in the rows' order. On PostgreSQL many rows go by COPY,
    several times faster than INSERTs (the ids taken from the table's sequence first);
    elsewhere, and for a few rows, one INSERT executed for each. Rows may name different
    columns: each gets every column any row names (its default, or NULL, where it names
    none), since one statement, like one COPY, names its columns once."""
    from sqlalchemy import func, insert, select

    if not rows:
        return []
    rows = _same_columns(table, rows)
    session = db.session
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "sqlite" and returning_ids and len(rows) > 1:
        # SQLAlchemy sends an INSERT ... RETURNING one row at a time on SQLite, to keep the
        # rows' order. A writer holds SQLite's one write lock (BEGIN IMMEDIATE) and no row
        # is ever deleted, so the ids are those after the largest: given here, and every
        # row goes in one executemany (a writer without the lock would fail on the key,
        # never write a wrong id).
        [ids] = new_ids((table, len(rows)))
        _insert_plainly(connection, table, [{**row, "id": new_id} for row, new_id in zip(rows, ids, strict=True)])
        return ids
    if dialect.name != "postgresql" or len(rows) < COPY_FROM:
        if returning_ids and len(rows) > 1:  # PostgreSQL, a few rows: their order kept by SQLAlchemy
            return list(connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
                        .scalars())
        return _insert_plainly(connection, table, rows, returning_id=returning_ids)
    ids: list[int] = []
    if returning_ids:
        sequence = func.pg_get_serial_sequence(table.name, "id")
        ids = list(session.scalars(select(func.nextval(sequence)).select_from(func.generate_series(1, len(rows)))))
        rows = [{**row, "id": new_id} for row, new_id in zip(rows, ids, strict=True)]
    columns = list(rows[0])
    processors = _bind_processors(table, tuple(columns), dialect)
    names = ", ".join(dialect.identifier_preparer.quote(name) for name in columns)
    with connection.connection.driver_connection.cursor() as cursor, \
            cursor.copy(f"COPY {dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] if process is None else process(row[name]) for name, process in processors])
    # A table filled in bulk from empty (a campaign loaded, a statement imported) must not
    # keep the planner's picture of it empty: the foreign-key checks of the rows that refer
    # to it (allocation lines to allocations) were planned as sequential scans, one per row.
    # Generating the full campaign, the allocations ran quadratic: 12 billion rows read.
    refresh_statistics(table, len(rows))
    return ids


def new_ids(*wanted: tuple) -> list[list[int]]:
    """Ids for rows about to be inserted, for each (table, count), in one statement, so
    that rows referring to each other can be written together (insert_together).
    PostgreSQL: taken from each table's sequence, ascending. SQLite: those after the
    largest, as insert_rows gives them: the writer holds SQLite's one write lock (BEGIN
    IMMEDIATE) and no row is ever deleted."""
    dialect_name = db.session.get_bind().dialect.name
    if dialect_name != "postgresql":
        sql = "SELECT " + ", ".join(f"(SELECT coalesce(max(id), 0) FROM {table.name})" for table, _ in wanted)
        row = execute_plainly(sql).one()
        return [list(range(last + 1, last + 1 + count)) for last, (_, count) in zip(row, wanted, strict=True)]
    # One nextval per id; a generate_series only for several (it costs a third more).
    row = execute_plainly("SELECT " + ", ".join(
        f"ARRAY[nextval('{_sequence_of(table)}')]" if count == 1 else
        f"ARRAY(SELECT nextval('{_sequence_of(table)}') FROM generate_series(1, :n{i}) ORDER BY 1)"
        for i, (table, count) in enumerate(wanted)), {f"n{i}": count for i, (_, count) in enumerate(wanted)}).one()
    return [list(ids) for ids in row]


_SEQUENCES: dict[str, str] = {}


def _sequence_of(table) -> str:
    """The name of the sequence of a table's id on PostgreSQL, looked up once: looking it
    up in each statement (pg_get_serial_sequence) cost more than taking the ids."""
    if table.name not in _SEQUENCES:
        _SEQUENCES[table.name] = execute_plainly("SELECT pg_get_serial_sequence(:table, 'id')",
                                                 {"table": table.name}).scalar_one()
    return _SEQUENCES[table.name]


MAX_TOGETHER = 20_000  # values in one statement: PostgreSQL takes at most 65,535


def insert_together(parts: list[tuple]) -> None:
    """Insert rows into several tables, (table, rows) each, in the session's transaction,
    the rows with their ids given (new_ids) where others refer to them. On PostgreSQL a
    few rows of each go as one statement, every INSERT a part of one WITH: a gift's seven
    inserts sent one by one cost a round trip and the driver's and SQLAlchemy's work each.
    (Its foreign keys are checked at the statement's end, when every part is written.)
    Otherwise, and for many rows (COPY), each table's rows by insert_rows, in the order
    given: a row's parents first."""
    parts = [(table, _same_columns(table, rows)) for table, rows in parts if rows]
    connection = db.session.connection()
    dialect = connection.dialect
    if (dialect.name != "postgresql" or any(len(rows) >= COPY_FROM for _, rows in parts)
            or sum(len(rows) * len(rows[0]) for _, rows in parts) > MAX_TOGETHER or len(parts) < 2):
        for table, rows in parts:
            insert_rows(table, rows)
        return
    shape = tuple((table, tuple(rows[0]), len(rows)) for table, rows in parts)
    values = []
    for table, rows in parts:
        processors = _bind_processors(table, tuple(rows[0]), dialect)
        values += [row[name] if process is None else process(row[name])
                   for row in rows for name, process in processors]
    connection.exec_driver_sql(_together_sql(shape, dialect), tuple(values))


@functools.lru_cache(maxsize=64)
def _together_sql(shape: tuple, dialect) -> str:
    """WITH w0 AS (INSERT ...), w1 AS (INSERT ...) INSERT ...: each part the INSERT of its
    rows as _plain_insert writes it, with as many VALUES as rows."""
    inserts = [_of_rows(_plain_insert(table, columns, dialect, False), count) for table, columns, count in shape]
    *first, last = inserts
    return "WITH " + ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(first)) + " " + last


def _insert_plainly(connection, table, rows: list[dict], *, returning_id: bool = False) -> list[int]:
    """Rows of the same columns in one INSERT (executemany for several), its SQL written once
    per table and columns and sent as it is: compiling a Core INSERT cost twice the INSERT
    itself for a single gift, which writes seven rows. `returning_id`: one row, its id."""
    columns = tuple(rows[0])
    sql = _plain_insert(table, columns, connection.dialect, returning_id)
    processors = _bind_processors(table, columns, connection.dialect)
    values = [tuple(row[name] if process is None else process(row[name]) for name, process in processors)
              for row in rows]
    if returning_id:
        [one] = values
        return [connection.exec_driver_sql(sql, one).scalar_one()]
    if len(values) > 1 and connection.dialect.paramstyle != "qmark":
        # psycopg sends an executemany in pipeline mode, whose set-up and sync showed as 4%
        # of an API contribution's CPU for its two postings: one INSERT of several VALUES.
        connection.exec_driver_sql(_of_rows(sql, len(values)), tuple(value for row in values for value in row))
        return []
    connection.exec_driver_sql(sql, values if len(values) > 1 else values[0])
    return []


def _of_rows(sql: str, count: int) -> str:
    """The single-row INSERT `sql` (as _plain_insert writes it) for `count` rows: its VALUES
    marks repeated."""
    marks = sql[sql.index(" VALUES ") + len(" VALUES "):]
    return sql + "".join(", " + marks for _ in range(count - 1))


@functools.lru_cache(maxsize=256)
def _bind_processors(table, columns: tuple[str, ...], dialect) -> list[tuple]:
    """(column, processor or None): each value as an INSERT would bind it (a date as SQLite
    stores it, a moment as UTCDateTime does)."""
    return [(name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in columns]


@functools.lru_cache(maxsize=256)
def _plain_insert(table, columns: tuple[str, ...], dialect, returning_id: bool) -> str:
    """The INSERT of one row of these columns in the driver's own SQL: positional marks,
    SQLite's ? or psycopg's %s."""
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
           f"({', '.join(quote(name) for name in columns)}) VALUES ({', '.join([mark] * len(columns))})")
    if returning_id:
        sql += f" RETURNING {quote('id')}"
    return sql


def _same_columns(table, rows: list[dict]) -> list[dict]:
    """Every row with the same columns: those any row names, plus those with a Python-side
    default (a created_at), which COPY knows nothing of; a value not given is the
    column's default, else NULL."""
    named = dict.fromkeys(name for row in rows for name in row)
    named.update(dict.fromkeys(c.name for c in table.columns if c.default is not None and not c.primary_key))
    filled = []
    for row in rows:
        if len(row) == len(named):
            filled.append(row)
            continue
        full = dict(row)
        for name in named:
            if name not in full:
                default = table.c[name].default
                full[name] = None if default is None else (default.arg(None) if default.is_callable else default.arg)
        filled.append(full)
    return filled


def recreate_postgres_database(url: str, admin_url: str) -> None:
    """For tests and benchmarks: create the database of `url` if missing (connecting to
    `admin_url`), and empty its public schema. Raises OperationalError when unreachable."""
    import sqlalchemy as sa

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        name = sa.engine.make_url(url).database
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
