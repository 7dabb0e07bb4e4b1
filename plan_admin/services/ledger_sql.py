"""The hot path's SQL: recording an issuance (or a cancellation) with as few statements as the rules allow, on
PostgreSQL and SQLite.

Why it leaves the ORM: the plan lock serializes every writer of a plan, so the rate of issuances is about one over
the time the lock is held. Through the ORM and django-simple-history, recording one issuance held it for several
milliseconds of statement building, model instantiation and signals. Here, under the lock, a service sends:

1. one SELECT that locks the plan row (`FOR UPDATE` on PostgreSQL; SQLite's IMMEDIATE transaction already holds the
   write lock) and reads, with it, any issuance already recorded with the form's submission key;
2. one SELECT of what changes on the designation (status, counter, decision date), or, for a cancellation, of the
   designation's status and whether the issuance is already cancelled. On PostgreSQL the two travel together,
   with the transaction's BEGIN, in one round trip (psycopg's pipeline mode); the server still runs the read
   after the lock is granted;
3. (the service checks the rules in Python: services.issuances, the one place they are written)
4. one statement on PostgreSQL (data-modifying CTEs) that INSERTs the row (an issuance: `ON CONFLICT
   (submission_key) DO NOTHING`, so that a concurrent duplicate of the form yields one row and no error) and its
   history row (what django-simple-history would write: every tracked field, "+", the user), and UPDATEs the
   designation's counter, the plan's counters and the issuance totals of the designation's plan, year and
   participant category (IssuanceTotal: an upsert) only if the row was written. On SQLite, where a statement is
   a function call and costs no round trip, the same as five statements.

On PostgreSQL the statements go straight to psycopg with server-side binding and are prepared once per connection
(config/settings.py turns psycopg's prepared statements on; DATABASE_PREPARED_STATEMENTS=false turns them off for
a connection pooler that cannot keep them): parsing and planning the write statement cost more than running it.
Nothing here decides a rule. tests/test_ledger_sql.py checks the rows against the ORM's, on both databases.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cache

from django.db import connection

from ..models import BoardDesignation, Issuance, IssuanceCancellation, IssuanceTotal, Participant, Plan

PLAN_COLUMNS = (
    "authorized_shares",
    "issued_shares",
    "committed_shares",
    "par_value",
    "effective_date",
    "termination_date",
    "ledger_start_date",
)
DESIGNATION_COLUMNS = ("status", "issued_shares", "decided_on")


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _execute(sql: str, params, *, fetch: bool):
    """Run one statement in the current transaction; return its first row when `fetch`.

    On PostgreSQL the statement goes straight to psycopg with server-side binding and is prepared once per
    connection (`prepare=True`, with the connection's prepared statements on: config/settings.py): no client-side
    quoting of every value, no parsing and planning on each call. Errors are Django's (IntegrityError, ...), as
    from the ORM. Django's query log (and CaptureQueriesContext) does not see these statements. Elsewhere, through
    Django's cursor.
    """
    return _execute_in_order([(sql, params)], fetch=fetch)[0]


def _execute_in_order(statements: list[tuple[str, list]], *, fetch: bool = True) -> list:
    """Run `statements` one after the other in the current transaction; return each one's first row (None when
    not `fetch`).

    On PostgreSQL they travel together (psycopg's pipeline mode: one round trip after the BEGIN). The server still
    runs each one after the one before has finished, and under READ COMMITTED takes its snapshot then: a read sent
    behind a locking statement sees what the lock's last holder committed. Errors are Django's, as in _execute.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            rows = []
            for sql, params in statements:
                cursor.execute(sql, params)
                rows.append(cursor.fetchone() if fetch else None)
            return rows
    import psycopg

    connection.ensure_connection()
    pg = connection.connection
    with connection.wrap_database_errors:
        if len(statements) == 1:
            with psycopg.Cursor(pg) as cursor:
                cursor.execute(*statements[0], prepare=True)
                return [cursor.fetchone() if fetch else None]
        cursors = [psycopg.Cursor(pg) for _ in statements]
        try:
            with pg.pipeline():
                for cursor, (sql, params) in zip(cursors, statements, strict=True):
                    cursor.execute(sql, params, prepare=True)
            return [cursor.fetchone() if fetch else None for cursor in cursors]
        finally:
            for cursor in cursors:
                cursor.close()


def _db_value(field, value):
    """A Python value as the database takes it: psycopg adapts dates, decimals and UUIDs itself (server-side
    binding); SQLite gets the ORM's own conversion."""
    if connection.vendor == "postgresql":
        return value
    return field.get_db_prep_save(value, connection)


def _from_db(model, column: str, value):
    """A value as the ORM would read it (SQLite returns dates as text, decimals as numbers or text)."""
    return None if value is None else model._meta.get_field(column).to_python(value)


# --- reads under the lock -------------------------------------------------------------------------------------------


@cache
def _lock_sql(vendor: str, with_key: bool) -> str:
    plan, issuance = _quote(Plan._meta.db_table), _quote(Issuance._meta.db_table)
    columns = [_quote(column) for column in PLAN_COLUMNS]
    key = f"(SELECT i.{_quote('id')} FROM {issuance} i WHERE i.{_quote('submission_key')} = %s)" if with_key else "NULL"
    lock = " FOR UPDATE" if vendor == "postgresql" else ""
    return f"SELECT {', '.join(columns)}, {key} FROM {plan} WHERE {_quote('id')} = %s{lock}"


def _lock_statement(plan_id: int, submission_key) -> tuple[str, list]:
    key_param = (
        [_db_value(Issuance._meta.get_field("submission_key"), submission_key)] if submission_key is not None else []
    )
    return _lock_sql(connection.vendor, submission_key is not None), key_param + [plan_id]


def _locked_plan(plan_id: int, row) -> tuple[Plan, int | None]:
    plan = Plan(
        id=plan_id,
        **{column: _from_db(Plan, column, value) for column, value in zip(PLAN_COLUMNS, row[:-1], strict=True)},
    )
    plan._state.adding = False
    return plan, row[-1]


def lock_plan_and_read_designation(
    plan_id: int, designation_id: int, *, submission_key=None
) -> tuple[Plan, int | None, dict | None] | None:
    """Lock the plan row and read, right after it in the same round trip, the designation's changing fields.

    Returns the plan (the columns the checks read), the id of an issuance already recorded with `submission_key`
    (None if there is none) and the designation's status, counter and decision date (None if it is not the
    plan's); None when there is no such plan. The designation is read after the lock is granted: every writer of
    those fields holds the lock, so the read sees their latest commit. (Read in the locking statement, through a
    join, PostgreSQL would recheck only the locked plan row after waiting, and could return the designation as it
    was before.)"""
    plan_row, designation_row = _execute_in_order(
        [_lock_statement(plan_id, submission_key), (_designation_sql(), [designation_id, plan_id])]
    )
    if plan_row is None:
        return None
    return *_locked_plan(plan_id, plan_row), _designation_state(designation_row)


@cache
def _designation_sql() -> str:
    columns = ", ".join(_quote(column) for column in DESIGNATION_COLUMNS)
    return (
        f"SELECT {columns} FROM {_quote(BoardDesignation._meta.db_table)} WHERE {_quote('id')} = %s "
        f"AND {_quote('plan_id')} = %s"
    )


def _designation_state(row) -> dict | None:
    if row is None:
        return None
    return {
        column: _from_db(BoardDesignation, column, value)
        for column, value in zip(DESIGNATION_COLUMNS, row, strict=True)
    }


@cache
def _cancellation_state_sql() -> str:
    designation, cancellation = _quote(BoardDesignation._meta.db_table), _quote(IssuanceCancellation._meta.db_table)
    return (
        f"SELECT d.{_quote('status')}, (SELECT COUNT(*) FROM {cancellation} c WHERE c.{_quote('issuance_id')} "
        f"= %s) FROM {designation} d WHERE d.{_quote('id')} = %s"
    )


def lock_plan_and_read_cancellation_state(
    plan_id: int, *, issuance_id: int, designation_id: int
) -> tuple[Plan, str, bool] | None:
    """Lock the plan row and read, right after it in the same round trip (so after the lock is granted), the
    designation's status and whether the issuance is already cancelled. None when there is no such plan."""
    plan_row, state_row = _execute_in_order(
        [_lock_statement(plan_id, None), (_cancellation_state_sql(), [issuance_id, designation_id])]
    )
    if plan_row is None:
        return None
    status, cancelled = state_row
    return _locked_plan(plan_id, plan_row)[0], status, bool(cancelled)


# --- a row and its history, in one statement on PostgreSQL -------------------------------------------------------


@cache
def _fields(model) -> tuple:
    return tuple(field for field in model._meta.concrete_fields if not field.primary_key)


@cache
def _history_model(model):
    # Reading `Model.history` builds a new manager class on every access (django-simple-history): done once.
    return model.history.model


@cache
def _history_fields(model) -> tuple:
    history = _history_model(model)
    return tuple((field.attname, history._meta.get_field(field.attname)) for field in history.tracked_fields)


HISTORY_EXTRA = ("history_date", "history_change_reason", "history_type", "history_user_id")


@cache
def _insert_sql(model, conflict: str | None) -> str:
    fields = _fields(model)
    on_conflict = f" ON CONFLICT ({_quote(conflict)}) DO NOTHING" if conflict else ""
    return (
        f"INSERT INTO {_quote(model._meta.db_table)} ({', '.join(_quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}){on_conflict} RETURNING {_quote('id')}"
    )


@cache
def _history_sql(model) -> str:
    history = _history_model(model)
    columns = [field.column for _, field in _history_fields(model)] + list(HISTORY_EXTRA)
    return (
        f"INSERT INTO {_quote(history._meta.db_table)} ({', '.join(_quote(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )


@cache
def _insert_with_history_sql(model, conflict: str | None) -> str:
    """PostgreSQL: the row and its history row in one statement; the history is copied from the row inserted, so
    that both hold exactly the same values."""
    return f"WITH i AS ({_insert_returning_row_sql(model, conflict)}) {_history_from_i_sql(model)}"


def _insert_returning_row_sql(model, conflict: str | None) -> str:
    return _insert_sql(model, conflict).replace(f"RETURNING {_quote('id')}", "RETURNING *")


def _history_from_i_sql(model) -> str:
    """The history row copied from the row a CTE named `i` inserted; the four history columns are parameters."""
    own = [field.column for _, field in _history_fields(model)]
    columns = own + list(HISTORY_EXTRA)
    return (
        f"INSERT INTO {_quote(_history_model(model)._meta.db_table)} ({', '.join(_quote(c) for c in columns)}) "
        f"SELECT {', '.join('i.' + _quote(c) for c in own)}, %s, %s, %s, %s FROM i RETURNING {_quote('id')}"
    )


def _history_extra(model, *, by, when: datetime.datetime) -> list:
    """The values of the history columns that are not the row's own: date, change reason, type, user."""
    return [_db_value(_history_model(model)._meta.get_field("history_date"), when), None, "+", getattr(by, "pk", None)]


@dataclass(frozen=True)
class Counters:
    """What a written row moves: `issued` on the designation's and the plan's issued shares and on the issuance
    totals of the designation's plan, year and category, `committed` on the plan's committed shares, and the
    totals' counts of issuances `recorded` and `cancelled`."""

    plan_id: int
    designation_id: int
    issued: int
    committed: int
    recorded: int = 0
    cancelled: int = 0

    def designation_params(self) -> list:
        return [self.issued, self.designation_id]

    def total_params(self) -> list:
        return [self.issued, self.recorded, self.cancelled]

    def plan_params(self) -> list:
        return [self.issued, self.committed, self.plan_id]

    def params(self) -> list:
        """In the order of the statement that moves them all (the designation, the totals, the plan)."""
        return self.designation_params() + self.total_params() + self.plan_params()


@cache
def _insert_with_history_and_counters_sql(model, conflict: str | None) -> str:
    """PostgreSQL: the row, its history row and the counters in one statement. The counters move only if the row
    was written (with `conflict`, a taken value writes nothing); the statement returns the new id, or no row."""
    designation_sql, plan_sql = _counter_sql()
    written = " AND EXISTS (SELECT 1 FROM i)"
    return (
        f"WITH i AS ({_insert_returning_row_sql(model, conflict)}), h AS ({_history_from_i_sql(model)}), "
        f"d AS ({designation_sql}{written} {_DESIGNATION_RETURNING}), t AS ({_total_from_d_sql()} RETURNING 1) "
        f"{plan_sql}{written} RETURNING (SELECT {_quote('id')} FROM h)"
    )


def row_values(instance) -> list:
    """The parameters of `instance`'s INSERT: built before the plan lock is taken, since they do not depend on it."""
    return [_db_value(field, getattr(instance, field.attname)) for field in _fields(type(instance))]


def insert_with_history(
    instance,
    *,
    by,
    when: datetime.datetime,
    conflict: str | None = None,
    counters: Counters | None = None,
    values: list | None = None,
) -> int | None:
    """Insert `instance` (unsaved, every field set, `recorded_at` included) and its "+" history row, and move the
    `counters`; return its new id. With `conflict` (a unique column), return None and write nothing (counters
    included) when that value is already taken. `values`: row_values(instance), if the caller built them already."""
    model = type(instance)
    if values is None:
        values = row_values(instance)
    if connection.vendor == "postgresql":
        extra = _history_extra(model, by=by, when=when)
        if counters is None:
            row = _execute(_insert_with_history_sql(model, conflict), values + extra, fetch=True)
        else:
            row = _execute(
                _insert_with_history_and_counters_sql(model, conflict), values + extra + counters.params(), fetch=True
            )
    else:
        row = _execute(_insert_sql(model, conflict), values, fetch=True)
    if row is None:
        return None
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = connection.alias
    if connection.vendor != "postgresql":
        history = [_db_value(field, getattr(instance, name)) for name, field in _history_fields(model)]
        _execute(_history_sql(model), history + _history_extra(model, by=by, when=when), fetch=False)
        if counters is not None:
            move_counters(counters)
    return row[0]


def insert_issuance(
    issuance: Issuance, *, by, when: datetime.datetime, counters: Counters | None = None, values: list | None = None
) -> int | None:
    """Insert `issuance` and its history row and move the `counters`; None (nothing written) when its submission
    key is already taken."""
    return insert_with_history(issuance, by=by, when=when, conflict="submission_key", counters=counters, values=values)


# --- counters -------------------------------------------------------------------------------------------------------


@cache
def _counter_sql() -> tuple[str, str]:
    designation, plan = _quote(BoardDesignation._meta.db_table), _quote(Plan._meta.db_table)
    issued, committed, pk = _quote("issued_shares"), _quote("committed_shares"), _quote("id")
    return (
        f"UPDATE {designation} SET {issued} = {issued} + %s WHERE {pk} = %s",
        f"UPDATE {plan} SET {issued} = {issued} + %s, {committed} = {committed} + %s WHERE {pk} = %s",
    )


def move_counters(counters: Counters) -> None:
    """Move the designation's and the plan's counters and the issuance totals by `counters`.

    On PostgreSQL, one statement (data-modifying CTEs) moves the three rows.
    """
    designation_sql, plan_sql = _counter_sql()
    if connection.vendor == "postgresql":
        _execute(
            f"WITH d AS ({designation_sql} {_DESIGNATION_RETURNING}), t AS ({_total_from_d_sql()} RETURNING 1) "
            f"{plan_sql}",
            counters.params(),
            fetch=False,
        )
    else:
        _execute(designation_sql, counters.designation_params(), fetch=False)
        _execute(_total_from_designation_sql(), counters.total_params() + [counters.designation_id], fetch=False)
        _execute(plan_sql, counters.plan_params(), fetch=False)


# --- issuance totals (IssuanceTotal) ----------------------------------------------------------------------------------

TOTAL_KEY = ("plan_id", "year", "category")
TOTAL_COUNTS = ("issued_shares", "issuances", "cancellations")
# What the designation's counter UPDATE hands to the totals' upsert in the PostgreSQL CTE.
_DESIGNATION_RETURNING = 'RETURNING "plan_id", "year", "participant_id"'


def _total_upsert(source: str) -> str:
    """Add the rows of `source` (plan_id, year, category, then the three counts to add) to IssuanceTotal: a new
    key gets a row, an existing one is added to. A SELECT `source` ends with a WHERE clause (else SQLite reads the
    ON CONFLICT's ON as a join's)."""
    total = _quote(IssuanceTotal._meta.db_table)
    columns = ", ".join(_quote(column) for column in TOTAL_KEY + TOTAL_COUNTS)
    key = ", ".join(_quote(column) for column in TOTAL_KEY)
    add = ", ".join(f"{_quote(c)} = {total}.{_quote(c)} + excluded.{_quote(c)}" for c in TOTAL_COUNTS)
    return f"INSERT INTO {total} ({columns}) {source} ON CONFLICT ({key}) DO UPDATE SET {add}"


_ADDED = "CAST(%s AS BIGINT), CAST(%s AS BIGINT), CAST(%s AS BIGINT)"


@cache
def _total_from_d_sql() -> str:
    """PostgreSQL: the totals' upsert for the designation a CTE named `d` updated (no row: nothing)."""
    participant = _quote(Participant._meta.db_table)
    return _total_upsert(
        f"SELECT d.{_quote('plan_id')}, d.{_quote('year')}, p.{_quote('category')}, {_ADDED} FROM d "
        f"JOIN {participant} p ON p.{_quote('id')} = d.{_quote('participant_id')} WHERE true"
    )


@cache
def _total_from_designation_sql() -> str:
    """The totals' upsert for one designation, given by id after the three counts."""
    designation, participant = _quote(BoardDesignation._meta.db_table), _quote(Participant._meta.db_table)
    return _total_upsert(
        f"SELECT d.{_quote('plan_id')}, d.{_quote('year')}, p.{_quote('category')}, {_ADDED} FROM {designation} d "
        f"JOIN {participant} p ON p.{_quote('id')} = d.{_quote('participant_id')} WHERE d.{_quote('id')} = %s"
    )


@cache
def _total_values_sql() -> str:
    return _total_upsert("VALUES (%s, %s, %s, %s, %s, %s)")


def move_totals(moves: dict[tuple[int, int, str], tuple[int, int, int]]) -> None:
    """Add to IssuanceTotal: `moves` maps (plan id, year, category) to (issued shares, issuances, cancellations)
    to add. One statement per key; the caller holds the lock of every plan named."""
    for (plan_id, year, category), added in sorted(moves.items()):
        if any(added):
            _execute(_total_values_sql(), [plan_id, year, category, *added], fetch=False)
