"""plan_admin/services/ledger_sql.py, the hot path's SQL, on PostgreSQL and SQLite: the rows it writes read back
exactly as the ORM's would, and its locking read sees what the checks need."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from plan_admin import services
from plan_admin.models import Issuance, IssuanceTotal, Plan
from plan_admin.services import ledger_sql
from tests import factories

pytestmark = pytest.mark.django_db


def issuance_for(designation, by, **extra) -> Issuance:
    values = {
        "issue_date": datetime.date(2024, 6, 30),
        "shares": 1_234,
        "kind": "debt_settlement",
        "price_per_share": Decimal("0.015"),
        "debt_amount": Decimal("18.51"),
        "debt_reference": "INV-7 «ü»",
        "notes": "Line one\nline two",
        "reference": "G-7",
        "entered_from_records": False,
        "source_reference": "",
        "submission_key": uuid.uuid4(),
        "recorded_by": by,
        "recorded_at": timezone.now(),
    } | extra
    return Issuance(designation=designation, **values)


def comparable(issuance: Issuance) -> dict:
    return {k: v for k, v in model_to_dict(Issuance.objects.get(pk=issuance.pk)).items() if k not in ("id",)}


def test_raw_insert_and_history_read_back_like_the_orms(approved_designation, staff_user):
    now = timezone.now()
    raw = issuance_for(approved_designation, staff_user, recorded_at=now)
    orm = issuance_for(approved_designation, staff_user, recorded_at=now, reference="G-8")
    with transaction.atomic():
        assert ledger_sql.insert_issuance(raw, by=staff_user, when=now) == raw.pk
    orm._history_user = staff_user
    orm.save()
    raw_row, orm_row = comparable(raw), comparable(orm)
    assert {**raw_row, "reference": "", "submission_key": None} == {**orm_row, "reference": "", "submission_key": None}
    assert Issuance.objects.get(pk=raw.pk).price_per_share == Decimal("0.015")
    raw_history = Issuance.history.get(id=raw.pk)
    orm_history = Issuance.history.get(id=orm.pk)
    assert (raw_history.history_type, raw_history.history_user, raw_history.history_date) == ("+", staff_user, now)
    for field in (
        "issue_date",
        "shares",
        "kind",
        "price_per_share",
        "debt_amount",
        "debt_reference",
        "notes",
        "designation_id",
        "recorded_by_id",
        "entered_from_records",
    ):
        assert getattr(raw_history, field) == getattr(orm_history, field), field


def test_a_taken_submission_key_inserts_nothing(approved_designation, staff_user):
    first = issuance_for(approved_designation, staff_user)
    ledger_sql.insert_issuance(first, by=staff_user, when=timezone.now())
    second = issuance_for(approved_designation, staff_user, submission_key=first.submission_key, reference="")
    before = Issuance.history.count()
    assert ledger_sql.insert_issuance(second, by=staff_user, when=timezone.now()) is None
    assert Issuance.objects.count() == 1 and Issuance.history.count() == before


def test_the_locking_read_returns_the_plan_the_designation_and_a_recorded_key(
    approved_designation, staff_user, superuser
):
    plan = approved_designation.plan
    key = uuid.uuid4()
    with transaction.atomic():
        locked, existing, designation = ledger_sql.lock_plan_and_read_designation(
            plan.pk, approved_designation.pk, submission_key=key
        )
    assert isinstance(locked, Plan) and locked.pk == plan.pk and existing is None
    assert locked._state.adding is False  # a row read from the database, as the ORM's own would be
    stored = Plan.objects.get(pk=plan.pk)
    for column in ledger_sql.PLAN_COLUMNS:
        assert getattr(locked, column) == getattr(stored, column), column
    assert designation == {"status": "approved", "issued_shares": 0, "decided_on": approved_designation.decided_on}
    recorded = factories.issue(approved_designation, by=staff_user, shares=5, submission_key=key)
    with transaction.atomic():
        _, existing, designation = ledger_sql.lock_plan_and_read_designation(
            plan.pk, approved_designation.pk, submission_key=key
        )
        assert existing == recorded.pk
        assert designation["issued_shares"] == 5
        locked, status, cancelled = ledger_sql.lock_plan_and_read_cancellation_state(
            plan.pk, issuance_id=recorded.pk, designation_id=approved_designation.pk
        )
        assert (locked.pk, locked.issued_shares, status, cancelled) == (
            plan.pk,
            stored.issued_shares + 5,
            "approved",
            False,
        )
    services.issuance_cancel(
        issuance=recorded, cancelled_on=recorded.issue_date, reason="Entered twice.", by=staff_user
    )
    with transaction.atomic():
        assert ledger_sql.lock_plan_and_read_cancellation_state(
            plan.pk, issuance_id=recorded.pk, designation_id=approved_designation.pk
        )[1:] == ("approved", True)
    other = factories.make_plan(by=superuser, name="Another plan")
    with transaction.atomic():
        _, _, designation = ledger_sql.lock_plan_and_read_designation(other.pk, approved_designation.pk)
        assert designation is None
        assert ledger_sql.lock_plan_and_read_designation(10**9, approved_designation.pk) is None
        assert ledger_sql.lock_plan_and_read_cancellation_state(10**9, issuance_id=1, designation_id=1) is None


def test_a_raw_cancellation_and_history_read_back_like_the_orms(approved_designation, staff_user):
    from plan_admin.models import IssuanceCancellation

    first, second = (factories.issue(approved_designation, by=staff_user, shares=5) for _ in range(2))
    now = timezone.now()
    raw = IssuanceCancellation(
        issuance=first,
        cancelled_on=datetime.date(2024, 7, 1),
        reason="Typo «ü»",
        recorded_by=staff_user,
        recorded_at=now,
    )
    with transaction.atomic():
        ledger_sql.insert_with_history(raw, by=staff_user, when=now)
    orm = IssuanceCancellation(
        issuance=second,
        cancelled_on=datetime.date(2024, 7, 1),
        reason="Typo «ü»",
        recorded_by=staff_user,
        recorded_at=now,
    )
    orm._history_user = staff_user
    orm.save()

    def read(row):
        return {
            k: v
            for k, v in model_to_dict(IssuanceCancellation.objects.get(pk=row.pk)).items()
            if k not in ("id", "issuance")
        }

    assert read(raw) == read(orm)
    assert IssuanceCancellation.history.get(id=raw.pk).history_user == staff_user


def totals_of(plan) -> list[tuple]:
    return list(
        IssuanceTotal.objects.filter(plan=plan)
        .order_by("year", "category")
        .values_list("year", "category", "issued_shares", "issuances", "cancellations")
    )


def test_counters_move_together(approved_designation):
    plan = approved_designation.plan
    category = approved_designation.participant.category
    with transaction.atomic():
        ledger_sql.move_counters(
            ledger_sql.Counters(
                plan_id=plan.pk, designation_id=approved_designation.pk, issued=7, committed=-7, recorded=1
            )
        )
    plan.refresh_from_db()
    approved_designation.refresh_from_db()
    assert (plan.issued_shares, plan.committed_shares, approved_designation.issued_shares) == (7, 999_993, 7)
    assert totals_of(plan) == [(2024, category, 7, 1, 0)]
    with transaction.atomic():  # an existing key is added to, not written anew
        ledger_sql.move_counters(
            ledger_sql.Counters(
                plan_id=plan.pk, designation_id=approved_designation.pk, issued=-7, committed=7, cancelled=1
            )
        )
    plan.refresh_from_db()
    assert (plan.issued_shares, plan.committed_shares) == (0, 1_000_000)
    assert totals_of(plan) == [(2024, category, 0, 1, 1)]


def test_move_totals_adds_to_each_key_given(approved_designation):
    plan = approved_designation.plan
    with transaction.atomic():
        ledger_sql.move_totals({(plan.pk, 2024, "consultant"): (5, 2, 0), (plan.pk, 2023, "consultant"): (0, 0, 0)})
        ledger_sql.move_totals({(plan.pk, 2024, "consultant"): (-5, 0, 1)})
    assert totals_of(plan) == [(2024, "consultant", 0, 2, 1)]  # a move of nothing writes no row


def test_the_row_its_history_and_the_counters_are_written_together(approved_designation, staff_user):
    """One statement on PostgreSQL: the issuance, its history row, and both counters; a taken submission key
    writes none of them."""
    plan = approved_designation.plan
    counters = ledger_sql.Counters(
        plan_id=plan.pk, designation_id=approved_designation.pk, issued=1_234, committed=-1_234, recorded=1
    )
    first = issuance_for(approved_designation, staff_user)
    with transaction.atomic():
        assert ledger_sql.insert_issuance(first, by=staff_user, when=timezone.now(), counters=counters) == first.pk
    plan.refresh_from_db()
    approved_designation.refresh_from_db()
    assert (plan.issued_shares, plan.committed_shares, approved_designation.issued_shares) == (1_234, 998_766, 1_234)
    assert Issuance.history.filter(id=first.pk, history_type="+").count() == 1
    assert totals_of(plan) == [(2024, approved_designation.participant.category, 1_234, 1, 0)]

    again = issuance_for(approved_designation, staff_user, submission_key=first.submission_key, reference="G-9")
    histories = Issuance.history.count()
    with transaction.atomic():
        assert ledger_sql.insert_issuance(again, by=staff_user, when=timezone.now(), counters=counters) is None
    plan.refresh_from_db()
    approved_designation.refresh_from_db()
    assert (plan.issued_shares, plan.committed_shares, approved_designation.issued_shares) == (1_234, 998_766, 1_234)
    assert (Issuance.objects.count(), Issuance.history.count()) == (1, histories)
    assert totals_of(plan) == [(2024, approved_designation.participant.category, 1_234, 1, 0)]


@pytest.mark.parametrize("together", [1, 2], ids=["alone", "behind another statement"])
def test_a_refused_statement_raises_djangos_error(approved_designation, staff_user, together):
    """The import engine and the views catch django.db.IntegrityError: the hot path's statements raise it too, not
    the driver's own class, whether they run alone or together (PostgreSQL's pipeline)."""
    issuance = factories.issue(approved_designation, by=staff_user, shares=5)
    delete = (f"DELETE FROM {Issuance._meta.db_table} WHERE id = %s", [issuance.pk])
    statements = [("SELECT 1", [])] * (together - 1) + [delete]
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        ledger_sql._execute_in_order(statements, fetch=False)
    assert Issuance.objects.filter(pk=issuance.pk).exists()


def test_the_hot_paths_statements_are_prepared_once_per_connection_on_postgresql(approved_designation, staff_user):
    """Parsing and planning the write statement cost more than running it: on PostgreSQL the connection keeps it
    prepared (config/settings.py turns psycopg's prepared statements on; Django leaves them off)."""
    from django.conf import settings
    from django.db import connection

    factories.issue(approved_designation, by=staff_user, shares=5)
    options = settings.DATABASES["default"].get("OPTIONS", {})
    if connection.vendor != "postgresql":
        assert "prepare_threshold" not in options
        return
    assert options["prepare_threshold"] is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    table = Issuance._meta.db_table
    assert any(statement.startswith(f'WITH i AS (INSERT INTO "{table}"') for statement in prepared), prepared
    assert any("FOR UPDATE" in statement for statement in prepared), prepared
