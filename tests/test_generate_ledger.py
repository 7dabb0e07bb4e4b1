"""`manage.py generate_ledger`: a realistic ledger written in bulk whose counters reconcile exactly."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Q

from plan_admin.models import (
    BoardDesignation,
    DesignationLapse,
    DesignationVote,
    Issuance,
    IssuanceCancellation,
    Participant,
    Plan,
    PlanYearClosing,
)
from plan_admin.reconcile import reconcile


def generate(**options) -> str:
    out = StringIO()
    call_command("generate_ledger", stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_small_ledger_reconciles_and_looks_real():
    output = generate(issuances=600, participants=80, years=5, seed=7, plan_name="Bench Plan")
    assert "No drift" in output
    plan = Plan.objects.get(name="Bench Plan")
    report = reconcile(plan=plan)
    assert report.ok, report.problems
    assert report.issuances == 600

    # Counters equal the ledger sums.
    standing = Issuance.objects.filter(designation__plan=plan, cancellation__isnull=True)
    assert plan.issued_shares == sum(standing.values_list("shares", flat=True))
    assert plan.authorized_shares == sum(plan.reserve_changes.values_list("shares", flat=True))
    assert plan.issued_shares <= plan.authorized_shares
    assert plan.reserve_changes.count() >= 1

    # Participants of the three categories; designations over five years in several states.
    assert Participant.objects.count() == 80
    assert set(Participant.objects.values_list("category", flat=True)) == set(Participant.Category.values)
    years = set(BoardDesignation.objects.filter(plan=plan).values_list("year", flat=True))
    assert len(years) == 5
    statuses = set(BoardDesignation.objects.filter(plan=plan).values_list("status", flat=True))
    assert {"approved", "proposed"} <= statuses and statuses & {"rejected", "withdrawn"}
    # Each decided designation has its board vote and decision date; the years before this one are closed, so
    # their approved designations have lapsed; issuances only on approved (or since lapsed) ones, in their year,
    # on or after the board's decision.
    decided = BoardDesignation.objects.filter(plan=plan, status__in=["approved", "rejected", "lapsed"])
    assert DesignationVote.objects.filter(designation__plan=plan).count() == decided.count()
    assert not decided.filter(decided_on__isnull=True).exists()
    assert set(BoardDesignation.objects.filter(plan=plan, status="approved").values_list("year", flat=True)) == {
        datetime.date.today().year
    }
    assert DesignationLapse.objects.count() == BoardDesignation.objects.filter(status="lapsed").count() > 0
    assert PlanYearClosing.objects.filter(plan=plan).count() == 4
    assert (
        not Issuance.objects.filter(designation__plan=plan)
        .exclude(designation__status__in=["approved", "lapsed"])
        .exists()
    )
    assert all(
        i.issue_date.year == i.designation.year and i.issue_date >= i.designation.decided_on
        for i in Issuance.objects.select_related("designation")
    )
    assert plan.issued_shares + plan.committed_shares <= plan.authorized_shares

    # Both kinds, debt settlements with their amount and reference, and some cancellations.
    kinds = Issuance.objects.aggregate(
        debt=Count("pk", filter=Q(kind="debt_settlement")),
        debt_complete=Count("pk", filter=Q(kind="debt_settlement", debt_amount__gt=0) & ~Q(debt_reference="")),
        compensation=Count("pk", filter=Q(kind="compensation", debt_amount__isnull=True)),
    )
    assert kinds["debt"] > 0 and kinds["debt"] == kinds["debt_complete"]
    assert kinds["compensation"] + kinds["debt"] == 600
    assert IssuanceCancellation.objects.count() == 12
    assert all(c.cancelled_on >= c.issuance.issue_date for c in IssuanceCancellation.objects.select_related("issuance"))

    # History rows are written with the ledger, as the services would.
    assert Issuance.history.count() == 600
    assert BoardDesignation.history.filter(plan_id=plan.pk).count() == BoardDesignation.objects.count()


@pytest.mark.django_db
def test_same_seed_gives_the_same_ledger_and_a_second_plan_reconciles_too():
    generate(issuances=200, participants=30, years=3, seed=3, plan_name="A")
    generate(issuances=200, participants=30, years=3, seed=3, plan_name="B")
    a, b = Plan.objects.get(name="A"), Plan.objects.get(name="B")
    assert (a.issued_shares, a.authorized_shares) == (b.issued_shares, b.authorized_shares)
    assert list(
        Issuance.objects.filter(designation__plan=a).order_by("pk").values_list("shares", "issue_date")
    ) == list(Issuance.objects.filter(designation__plan=b).order_by("pk").values_list("shares", "issue_date"))
    assert reconcile().ok
    call_command("reconcile", stdout=StringIO())


@pytest.mark.django_db
def test_the_call_the_export_benchmark_makes_is_accepted():
    """call_command("generate_ledger", issuances=..., participants=..., years=..., seed=...) with small numbers."""
    call_command("generate_ledger", issuances=50, participants=10, years=2, seed=1, stdout=StringIO())
    assert Issuance.objects.count() == 50


@pytest.mark.django_db
def test_refuses_nonsense():
    with pytest.raises(CommandError):
        generate(issuances=10, participants=0, years=1)


@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_the_issuances():
    """A million issuances in a few minutes: no query per row (a related object read per issuance took the
    million-issuance step from 3 minutes to over 20)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(issuances: int, seed: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            call_command("generate_ledger", issuances=issuances, participants=20, years=2, seed=seed, stdout=StringIO())
        return len(captured.captured_queries)

    small, large = queries(100, 1), queries(400, 2)
    assert large - small < 20, f"{small} queries for 100 issuances, {large} for 400"
