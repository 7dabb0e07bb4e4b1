"""Every service that writes ledger state asks for the plan row's lock before its first write, on both databases.

On SQLite an IMMEDIATE transaction serialises writers whether or not the service asks for the row lock, so a
service that forgot it would pass every race test there; PostgreSQL's runs of tests/test_concurrency.py would
catch it. This test catches it on SQLite too: it records when the plan is locked (Django's `select_for_update()`
on a Plan queryset, or the hot path's locking read in services/ledger_sql.py) and when the first INSERT, UPDATE or
DELETE is sent, and requires the lock first.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models.query import QuerySet

from plan_admin import services
from plan_admin.models import Plan
from plan_admin.services import ledger_sql
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(monkeypatch):
    """A list of "lock" and "write" events, in the order the services produce them."""
    seen: list[str] = []
    original_select_for_update = QuerySet.select_for_update

    def select_for_update(self, *args, **kwargs):
        if self.model is Plan:
            seen.append("lock")
        return original_select_for_update(self, *args, **kwargs)

    original_lock_statement = ledger_sql._lock_statement

    def lock_statement(*args, **kwargs):
        statement = original_lock_statement(*args, **kwargs)
        locks.add(statement[0])
        return statement

    locks: set[str] = set()
    original_execute_in_order = ledger_sql._execute_in_order

    def execute_in_order(statements, **kwargs):
        for sql, _ in statements:
            if sql in locks:
                seen.append("lock")
            elif sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "WITH")):
                seen.append("write")
        return original_execute_in_order(statements, **kwargs)

    def record_writes(execute_sql, sql, params, many, context):
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            seen.append("write")
        return execute_sql(sql, params, many, context)

    monkeypatch.setattr(QuerySet, "select_for_update", select_for_update)
    monkeypatch.setattr(ledger_sql, "_lock_statement", lock_statement)
    monkeypatch.setattr(ledger_sql, "_execute_in_order", execute_in_order)
    with connection.execute_wrapper(record_writes):
        yield seen


def assert_locked_before_writing(seen: list[str], what: str) -> None:
    assert "write" in seen, f"{what} wrote nothing: nothing to check"
    assert "lock" in seen and seen.index("lock") < seen.index("write"), f"{what} wrote before locking the plan"


@pytest.fixture
def ledger(plan, participant, staff_user, board_member, superuser):
    approved = factories.make_designation(
        plan=plan, participant=participant, year=2024, shares=10_000, staff=staff_user, approver=board_member
    )
    issuance = factories.issue(approved, by=staff_user, shares=100)
    other = factories.make_participant("Lee Chen", by=staff_user)
    return {"approved": approved, "issuance": issuance, "other": other}


def service_calls(ledger, plan, staff_user, board_member, superuser):
    """(name, call) for every service that writes ledger state; each call is valid, so each writes."""
    approved, issuance, other = ledger["approved"], ledger["issuance"], ledger["other"]

    def proposal():
        return services.designation_propose(
            plan=plan, participant=other, year=2025, shares=5, factors_considered="x", by=staff_user
        )

    def reserve_proposal():
        return services.reserve_change_propose(plan=plan, shares=5, explanation="x", by=staff_user)

    return [
        ("issuance_record", lambda: factories.issue(approved, by=staff_user, shares=1)),
        (
            "issuance_record_many",
            lambda: services.issuance_record_many(
                rows=[
                    {
                        "designation": approved,
                        "issue_date": datetime.date(2024, 6, 30),
                        "shares": 1,
                        "price_per_share": Decimal("0.15"),
                    }
                ],
                by=staff_user,
            ),
        ),
        (
            "issuance_cancel",
            lambda: services.issuance_cancel(
                issuance=issuance, cancelled_on=datetime.date(2024, 7, 1), reason="x", by=staff_user
            ),
        ),
        ("designation_propose", proposal),
        ("designation_withdraw", lambda: services.designation_withdraw(designation=proposal(), by=staff_user)),
        (
            "designation_vote",
            lambda: services.designation_vote(designation=proposal(), voter=board_member, decision="reject"),
        ),
        ("designation_lapse", lambda: services.designation_lapse(designation=approved, reason="x", by=staff_user)),
        ("plan_year_close", lambda: services.plan_year_close(plan=plan, year=2023, reason="x", by=staff_user)),
        ("reserve_change_propose", reserve_proposal),
        (
            "termination_propose",
            lambda: services.termination_propose(
                plan=plan, termination_date=datetime.date(2030, 1, 1), explanation="x", by=staff_user
            ),
        ),
        ("plan_proposal_withdraw", lambda: services.plan_proposal_withdraw(proposal=reserve_proposal(), by=staff_user)),
        (
            "plan_proposal_vote",
            lambda: services.plan_proposal_vote(proposal=reserve_proposal(), voter=board_member, decision="approve"),
        ),
        (
            "plan_set_effective_date",
            lambda: services.plan_set_effective_date(
                plan=plan, effective_date=datetime.date(2002, 2, 1), by=staff_user
            ),
        ),
        (
            "plan_update_details",
            lambda: services.plan_update_details(
                plan=plan,
                company_name="Co",
                name="Plan",
                purpose="",
                stock_class="Common Stock",
                required_approvals=1,
                by=superuser,
            ),
        ),
        (
            "plan_set_ledger_start",
            lambda: services.plan_set_ledger_start(
                plan=plan, ledger_start_date=datetime.date(2020, 1, 1), by=superuser
            ),
        ),
    ]


SERVICES = [
    name for name, _ in service_calls({"approved": None, "issuance": None, "other": None}, None, None, None, None)
]


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_locks_the_plan_before_writing(name, ledger, plan, staff_user, board_member, superuser, request):
    call = dict(service_calls(ledger, plan, staff_user, board_member, superuser))[name]
    seen = request.getfixturevalue("events")
    seen.clear()
    call()
    assert_locked_before_writing(seen, name)


def test_past_records_lock_the_plan_before_writing(plan, participant, staff_user, board_member, superuser, events):
    services.plan_set_ledger_start(plan=plan, ledger_start_date=datetime.date(2020, 1, 1), by=superuser)
    for name, call in [
        (
            "past_designation_record",
            lambda: services.past_designation_record(
                plan=plan,
                participant=participant,
                year=2010,
                shares=10,
                factors_considered="x",
                decision="approve",
                decided_on=datetime.date(2010, 2, 1),
                decision_reference="Minutes",
                by=staff_user,
            ),
        ),
        (
            "past_reserve_change_record",
            lambda: services.past_reserve_change_record(
                plan=plan,
                shares=10,
                board_approval_date=datetime.date(2010, 2, 1),
                resolution_reference="Minutes",
                by=staff_user,
            ),
        ),
    ]:
        events.clear()
        record = call()
        assert_locked_before_writing(events, name)
    events.clear()
    services.past_record_confirm(record=record, by=board_member)
    assert_locked_before_writing(events, "past_record_confirm")


def test_the_hot_paths_locking_read_locks_the_row_on_postgresql():
    """SQLite needs no row lock (its IMMEDIATE transaction holds the database's); PostgreSQL does."""
    assert ledger_sql._lock_sql("postgresql", True).rstrip().endswith("FOR UPDATE")
    assert ledger_sql._lock_sql("postgresql", False).rstrip().endswith("FOR UPDATE")
    from django.conf import settings

    if connection.vendor == "sqlite":
        assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
