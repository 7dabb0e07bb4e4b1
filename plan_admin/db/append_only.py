"""The append-only record, enforced by the database itself (DESIGN rule 6).

Triggers refuse, on PostgreSQL and on SQLite alike:

- any UPDATE or DELETE of an APPEND_ONLY table: issuances, cancellations, votes, reserve changes, lapses, year
  closings, confirmations and every history table;
- any DELETE of a ledger table (plans, participants, designations, proposals, resolutions): nothing recorded is
  removed;
- on a GUARDED table (designations, plan proposals, resolutions), an UPDATE that changes what was proposed,
  moves the status backwards, or changes a decision once made. Counters (`issued_shares`) may move: the services
  move them.

Migration 0007 installs the triggers; `install()` runs again after every `migrate` (a post_migrate handler), so
that a later migration which rebuilds a table (SQLite does that for most ALTERs) cannot silently drop them. A
flush of the whole database (tests, `manage.py flush`) is not a change to the record: PostgreSQL's TRUNCATE does not
fire row triggers, and on SQLite plan_admin.db.sqlite3 drops and reinstalls them around its DELETEs.

Refusals surface as django.db.IntegrityError ("plan_admin: ... is append-only").
"""

from dataclasses import dataclass, field

APPEND_ONLY_TABLES: tuple[str, ...] = (
    "plan_admin_sharereservechange",
    "plan_admin_designationvote",
    "plan_admin_planproposalvote",
    "plan_admin_issuance",
    "plan_admin_issuancecancellation",
    "plan_admin_designationlapse",
    "plan_admin_planyearclosing",
    "plan_admin_recordconfirmation",
    "plan_admin_importrecord",
    "plan_admin_ocfobject",
    "plan_admin_historicalplan",
    "plan_admin_historicalsharereservechange",
    "plan_admin_historicalparticipant",
    "plan_admin_historicalboarddesignation",
    "plan_admin_historicaldesignationvote",
    "plan_admin_historicalissuance",
    "plan_admin_historicalissuancecancellation",
    "plan_admin_historicalplanproposal",
    # Resolutions of the board (plan_admin/models/resolutions.py): what was put to the board, who was named, each
    # signature, decline and withdrawal, the documents and their hashes, the emails sent.
    "plan_admin_resolutionitem",
    "plan_admin_resolutionsignatory",
    "plan_admin_resolutionsignature",
    "plan_admin_resolutiondecline",
    "plan_admin_resolutionwithdrawal",
    "plan_admin_resolutiondocument",
    "plan_admin_resolutionnotice",
)

NO_DELETE_TABLES: tuple[str, ...] = (
    "plan_admin_plan",
    "plan_admin_participant",
    "plan_admin_boarddesignation",
    "plan_admin_planproposal",
    "plan_admin_resolution",
    "plan_admin_notificationpreference",  # a user's reminder choice changes; the row stays
)

_DECISION_COLUMNS = ("decided_on", "decision_reference", "decision_source", "decided_at")


@dataclass(frozen=True)
class Guard:
    """What may change in an UPDATE of a guarded table."""

    immutable: tuple[str, ...]
    transitions: dict[str, tuple[str, ...]]  # status -> the statuses it may move to
    set_once: tuple[str, ...] = field(default=_DECISION_COLUMNS)  # may change only while the status is open_status
    open_status: str = "proposed"


GUARDED_TABLES: dict[str, Guard] = {
    "plan_admin_boarddesignation": Guard(
        immutable=(
            "id",
            "plan_id",
            "participant_id",
            "designated_user_id",
            "year",
            "shares",
            "factors_considered",
            "proposed_by_id",
            "proposed_at",
            "kind",
            "debt_amount",
            "debt_reference",
            "price_per_share",
        ),
        transitions={"proposed": ("approved", "rejected", "withdrawn"), "approved": ("lapsed",)},
        set_once=_DECISION_COLUMNS + ("consideration_finding",),
    ),
    "plan_admin_planproposal": Guard(
        immutable=(
            "id",
            "plan_id",
            "kind",
            "shares",
            "termination_date",
            "explanation",
            "proposed_by_id",
            "proposed_at",
        ),
        transitions={"proposed": ("approved", "rejected", "withdrawn")},
    ),
    "plan_admin_resolution": Guard(
        immutable=(
            "id",
            "plan_id",
            "kind",
            "title",
            "meeting_date",
            "required_signatures",
            "prepared_by_id",
            "prepared_at",
        ),
        transitions={"pending": ("effective", "declined", "withdrawn")},
        set_once=("effective_on", "closed_at"),
        open_status="pending",
    ),
}

ALL_TABLES: tuple[str, ...] = APPEND_ONLY_TABLES + NO_DELETE_TABLES


def _differs(vendor: str, column: str) -> str:
    operator = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"
    return f"NEW.{column} {operator} OLD.{column}"


def _quoted(values) -> str:
    return ", ".join(f"'{value}'" for value in values)


def guard_condition(vendor: str, guard: Guard) -> str:
    """An SQL condition on OLD and NEW that is true when the UPDATE must be refused."""
    refused = [_differs(vendor, column) for column in guard.immutable]
    allowed = ["NEW.status = OLD.status"] + [
        f"(OLD.status = '{old}' AND NEW.status IN ({_quoted(new)}))" for old, new in guard.transitions.items()
    ]
    refused.append(f"NOT ({' OR '.join(allowed)})")
    refused += [f"(OLD.status <> '{guard.open_status}' AND {_differs(vendor, column)})" for column in guard.set_once]
    return " OR ".join(refused)


# --- PostgreSQL: one function raising the trigger's first argument as an integrity error ---------------------------

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION plan_admin_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = TG_ARGV[0];
END
$$
"""


def _trigger_names(table: str) -> list[str]:
    return [f"{table}_no_update", f"{table}_no_delete", f"{table}_guard"]


def _guard_for(table: str, columns: dict[str, set[str]] | None) -> Guard:
    """The table's guard, limited to the columns it has now: a migration that installs the triggers before a later
    migration adds a guarded column (0007 before 0009's debt terms) guards what exists, and the later one
    reinstalls them whole."""
    guard = GUARDED_TABLES[table]
    if columns is None or table not in columns:
        return guard
    present = columns[table]
    return Guard(
        immutable=tuple(c for c in guard.immutable if c in present),
        transitions=guard.transitions,
        set_once=tuple(c for c in guard.set_once if c in present),
        open_status=guard.open_status,
    )


def _postgresql_statements(table: str, columns=None) -> list[str]:
    statements = [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name in _trigger_names(table)]
    if table in APPEND_ONLY_TABLES:
        statements.append(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} FOR EACH ROW "
            f"EXECUTE FUNCTION plan_admin_refuse('plan_admin: {table} is append-only: UPDATE refused')"
        )
    statements.append(
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} FOR EACH ROW "
        f"EXECUTE FUNCTION plan_admin_refuse('plan_admin: {table} is append-only: DELETE refused')"
    )
    if table in GUARDED_TABLES:
        condition = guard_condition("postgresql", _guard_for(table, columns))
        statements.append(
            f"CREATE TRIGGER {table}_guard BEFORE UPDATE ON {table} FOR EACH ROW WHEN ({condition}) "
            f"EXECUTE FUNCTION plan_admin_refuse('plan_admin: {table}: a recorded proposal or decision cannot be "
            f"changed')"
        )
    return statements


def _sqlite_statements(table: str, columns=None) -> list[str]:
    def trigger(name: str, event: str, message: str, when: str = "") -> str:
        when_clause = f" WHEN {when}" if when else ""
        return (
            f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW{when_clause} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )

    statements = []
    if table in APPEND_ONLY_TABLES:
        statements.append(
            trigger(f"{table}_no_update", "UPDATE", f"plan_admin: {table} is append-only: UPDATE refused")
        )
    statements.append(trigger(f"{table}_no_delete", "DELETE", f"plan_admin: {table} is append-only: DELETE refused"))
    if table in GUARDED_TABLES:
        statements.append(
            trigger(
                f"{table}_guard",
                "UPDATE",
                f"plan_admin: {table}: a recorded proposal or decision cannot be changed",
                when=guard_condition("sqlite", _guard_for(table, columns)),
            )
        )
    return statements


def create_statements(vendor: str, tables, columns: dict[str, set[str]] | None = None) -> list[str]:
    """The SQL that (re)creates the triggers of `tables`, idempotently. `columns` (table -> its column names), when
    given, limits each guard to the columns the table has."""
    if vendor == "postgresql":
        return [_PG_FUNCTION] + [sql for table in tables for sql in _postgresql_statements(table, columns)]
    if vendor == "sqlite":
        return drop_statements(vendor, tables) + [sql for table in tables for sql in _sqlite_statements(table, columns)]
    raise NotImplementedError(f"plan_admin's append-only triggers support PostgreSQL and SQLite, not {vendor}")


def drop_statements(vendor: str, tables) -> list[str]:
    suffix = {"postgresql": " ON {table}", "sqlite": ""}[vendor]
    return [
        f"DROP TRIGGER IF EXISTS {name}{suffix.format(table=table)}"
        for table in tables
        for name in _trigger_names(table)
    ]


def install(connection, tables=ALL_TABLES) -> list[str]:
    """Create the triggers of those `tables` that exist in the database; return the tables guarded."""
    existing = set(connection.introspection.table_names())
    present = [table for table in tables if table in existing]
    with connection.cursor() as cursor:
        columns = {
            table: {column.name for column in connection.introspection.get_table_description(cursor, table)}
            for table in present
            if table in GUARDED_TABLES
        }
        for sql in create_statements(connection.vendor, present, columns):
            cursor.execute(sql)
    return present


def uninstall(connection, tables=ALL_TABLES) -> None:
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for sql in drop_statements(connection.vendor, [table for table in tables if table in existing]):
            cursor.execute(sql)
