"""The hot path's SQL: recording one issuance with as few statements as the rules allow, on PostgreSQL and SQLite.

Why it leaves the ORM: the plan lock serializes every writer of a plan, so the rate of issuances is about one over
the time the lock is held. Through the ORM and django-simple-history, recording one issuance held it for several
milliseconds of statement building, model instantiation and signals. Here, under the lock, the service sends:

1. one SELECT that locks the plan row (`FOR UPDATE` on PostgreSQL; SQLite's IMMEDIATE transaction already holds the
   write lock) and reads, with it, any issuance already recorded with the form's submission key; one SELECT of the
   designation's changing fields (status, counter, decision date);
2. (the service checks the rules in Python: services.issuances.check_issuance, the one place they are written)
3. one INSERT of the issuance (`ON CONFLICT (submission_key) DO NOTHING ... RETURNING id`: a concurrent duplicate
   of the form yields one row and no error) and of its history row (what django-simple-history would write: every
   tracked field, "+", the user) - one statement on PostgreSQL, through a data-modifying CTE, two on SQLite;
4. one UPDATE of the designation's counter and the plan's counters (again one statement on PostgreSQL, two on
   SQLite, where a statement is a function call and costs no round trip).

Nothing here decides a rule; values are converted with each model field's own `get_db_prep_save`, so they are
stored exactly as the ORM stores them. tests/test_ledger_sql.py checks the rows against the ORM's, on both
databases.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cache

from django.db import connection

from ..models import BoardDesignation, Issuance, Plan

PLAN_COLUMNS = ("authorized_shares", "issued_shares", "committed_shares", "par_value", "effective_date",
                "termination_date", "ledger_start_date")
DESIGNATION_COLUMNS = ("status", "issued_shares", "decided_on")


@dataclass(frozen=True)
class Locked:
    """What the locking SELECT read: the plan (as a Plan instance), the designation's changing fields, and the id of
    an issuance already recorded with the submission key (None if there is none)."""

    plan: Plan
    designation: dict
    existing_issuance_id: int | None


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _execute(sql: str, params, *, fetch: bool):
    """Run one statement in the current transaction; return its first row when `fetch`.

    On PostgreSQL the statement goes straight to psycopg with server-side binding and is prepared once per
    connection (`prepare=True`): no client-side quoting of every value, no planning on each call. Django's query
    log (and CaptureQueriesContext) does not see these statements. Elsewhere, through Django's cursor.
    """
    if connection.vendor == "postgresql":
        import psycopg

        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, params, prepare=True)
            return cursor.fetchone() if fetch else None
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() if fetch else None


def _db_value(field, value):
    """A Python value as the database takes it: psycopg adapts dates, decimals and UUIDs itself (server-side
    binding); SQLite gets the ORM's own conversion."""
    if connection.vendor == "postgresql":
        return value
    return field.get_db_prep_save(value, connection)


@cache
def _lock_sql(vendor: str, with_key: bool) -> str:
    plan, issuance = _quote(Plan._meta.db_table), _quote(Issuance._meta.db_table)
    columns = [_quote(column) for column in PLAN_COLUMNS]
    key = (f"(SELECT i.{_quote('id')} FROM {issuance} i WHERE i.{_quote('submission_key')} = %s)"
           if with_key else "NULL")
    lock = " FOR UPDATE" if vendor == "postgresql" else ""
    return f"SELECT {', '.join(columns)}, {key} FROM {plan} WHERE {_quote('id')} = %s{lock}"


@cache
def _designation_sql() -> str:
    columns = ", ".join(_quote(column) for column in DESIGNATION_COLUMNS)
    return (f"SELECT {columns} FROM {_quote(BoardDesignation._meta.db_table)} WHERE {_quote('id')} = %s "
            f"AND {_quote('plan_id')} = %s")


def _from_db(model, column: str, value):
    """A value as the ORM would read it (SQLite returns dates as text, decimals as numbers or text)."""
    return None if value is None else model._meta.get_field(column).to_python(value)


def lock_and_read(*, plan_id: int, designation_id: int, submission_key=None) -> Locked | None:
    """Lock the plan row, then read what the checks need. None when the designation is not in that plan.

    The designation is read by a second statement, after the lock: every writer of its status and counter holds the
    plan's lock, so this read sees their latest commit. (Read in the locking statement, through a join, PostgreSQL
    would recheck only the locked plan row after waiting, and could return the designation as it was before.)
    """
    key_param = ([_db_value(Issuance._meta.get_field("submission_key"), submission_key)]
                 if submission_key is not None else [])
    plan_row = _execute(_lock_sql(connection.vendor, submission_key is not None), key_param + [plan_id], fetch=True)
    designation_row = _execute(_designation_sql(), [designation_id, plan_id], fetch=True)
    if plan_row is None or designation_row is None:
        return None
    plan = Plan(id=plan_id, **{column: _from_db(Plan, column, value) for column, value in zip(PLAN_COLUMNS, plan_row)})
    plan._state.adding = False
    designation = {column: _from_db(BoardDesignation, column, value)
                   for column, value in zip(DESIGNATION_COLUMNS, designation_row)}
    return Locked(plan=plan, designation=designation, existing_issuance_id=plan_row[-1])


@cache
def _issuance_fields() -> tuple:
    return tuple(field for field in Issuance._meta.concrete_fields if not field.primary_key)


@cache
def _insert_sql(vendor: str) -> str:
    fields = _issuance_fields()
    return (f"INSERT INTO {_quote(Issuance._meta.db_table)} ({', '.join(_quote(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT ({_quote('submission_key')}) DO NOTHING "
            f"RETURNING {_quote('id')}")


def insert_issuance(issuance: Issuance, *, by, when: datetime.datetime) -> int | None:
    """Insert `issuance` (unsaved, every field set) and its "+" history row; return its new id, or None (and write
    nothing) when its submission key is already taken.

    On PostgreSQL both rows go in one statement (a data-modifying CTE), one round trip fewer under the lock.
    """
    values = [_db_value(field, getattr(issuance, field.attname)) for field in _issuance_fields()]
    if connection.vendor == "postgresql":
        row = _execute(_insert_with_history_sql(), values + _history_extra(by=by, when=when), fetch=True)
    else:
        row = _execute(_insert_sql(connection.vendor), values, fetch=True)
    if row is None:
        return None
    issuance.pk = row[0]
    issuance._state.adding = False
    issuance._state.db = connection.alias
    if connection.vendor != "postgresql":
        insert_issuance_history(issuance, by=by, when=when)
    return row[0]


@cache
def _history_model():
    # Reading `Issuance.history` builds a new manager class on every access (django-simple-history): done once.
    return Issuance.history.model


@cache
def _history_fields() -> tuple:
    history = _history_model()
    return tuple((field.attname, history._meta.get_field(field.attname)) for field in history.tracked_fields)


@cache
def _history_columns() -> tuple[str, ...]:
    return tuple(name for name, _ in _history_fields())


@cache
def _history_sql() -> str:
    history = _history_model()
    columns = [history._meta.get_field(name).column for name in _history_columns()]
    columns += ["history_date", "history_change_reason", "history_type", "history_user_id"]
    return (f"INSERT INTO {_quote(history._meta.db_table)} ({', '.join(_quote(c) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})")


def _history_extra(*, by, when: datetime.datetime) -> list:
    """The values of the history columns that are not the issuance's own: date, change reason, type, user."""
    return [_db_value(_history_model()._meta.get_field("history_date"), when), None, "+", getattr(by, "pk", None)]


def insert_issuance_history(issuance: Issuance, *, by, when: datetime.datetime) -> None:
    """The "+" history row django-simple-history writes for a new issuance, with `by` as its user."""
    values = [_db_value(field, getattr(issuance, name)) for name, field in _history_fields()]
    _execute(_history_sql(), values + _history_extra(by=by, when=when), fetch=False)


@cache
def _insert_with_history_sql() -> str:
    """PostgreSQL: the issuance and its history row in one statement; the history is copied from the row inserted,
    so that both hold exactly the same values."""
    history = _history_model()
    own = [history._meta.get_field(name).column for name in _history_columns()]
    insert = _insert_sql("postgresql").replace(f"RETURNING {_quote('id')}", "RETURNING *")
    columns = own + ["history_date", "history_change_reason", "history_type", "history_user_id"]
    return (f"WITH i AS ({insert}) INSERT INTO {_quote(history._meta.db_table)} "
            f"({', '.join(_quote(c) for c in columns)}) "
            f"SELECT {', '.join('i.' + _quote(c) for c in own)}, %s, %s, %s, %s FROM i RETURNING {_quote('id')}")


@cache
def _counter_sql() -> tuple[str, str]:
    designation, plan = _quote(BoardDesignation._meta.db_table), _quote(Plan._meta.db_table)
    issued, committed, pk = _quote("issued_shares"), _quote("committed_shares"), _quote("id")
    return (f"UPDATE {designation} SET {issued} = {issued} + %s WHERE {pk} = %s",
            f"UPDATE {plan} SET {issued} = {issued} + %s, {committed} = {committed} + %s WHERE {pk} = %s")


def move_counters(*, plan_id: int, designation_id: int, issued: int, committed: int) -> None:
    """Add `issued` to the designation's and the plan's issued shares and `committed` to the plan's committed.

    On PostgreSQL, one statement (a data-modifying CTE) moves both rows.
    """
    designation_sql, plan_sql = _counter_sql()
    if connection.vendor == "postgresql":
        _execute(f"WITH d AS ({designation_sql} RETURNING 1) {plan_sql}",
                 [issued, designation_id, issued, committed, plan_id], fetch=False)
    else:
        _execute(designation_sql, [issued, designation_id], fetch=False)
        _execute(plan_sql, [issued, committed, plan_id], fetch=False)
