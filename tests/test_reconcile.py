"""`manage.py reconcile`: counters recomputed from the ledger rows; drift reported in words, exit status non-zero."""

import datetime
import importlib
from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from plan_admin import services
from plan_admin.exceptions import ShareLimitExceeded
from plan_admin.models import BoardDesignation, DesignationTotal, IssuanceTotal, Plan
from plan_admin.reconcile import reconcile
from tests import factories


def run_reconcile(*args) -> str:
    out, err = StringIO(), StringIO()
    call_command("reconcile", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def run_reconcile_expecting_drift(*args) -> tuple[str, CommandError]:
    err = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("reconcile", *args, stdout=StringIO(), stderr=err)
    assert failure.value.returncode != 0  # manage.py exits with this status
    return err.getvalue() + str(failure.value), failure.value


@pytest.fixture
def ledger(plan, approved_designation, staff_user, board_member):
    """Two issuances on the approved 2024 designation (one of them cancelled), a debt settlement against a 2024
    debt-settlement designation, and a reserve increase."""
    factories.issue(approved_designation, by=staff_user, shares=1_000)
    creditor = factories.make_participant("Halvorsen Engineering LLC", by=staff_user, category="consultant")
    factories.settle_debt_in_full(plan=plan, creditor=creditor, staff=staff_user, approver=board_member)
    mistaken = factories.issue(approved_designation, by=staff_user, shares=400)
    services.issuance_cancel(issuance=mistaken, cancelled_on=datetime.date(2024, 7, 1), reason="Typo.", by=staff_user)
    factories.change_reserve(
        plan, shares=500_000, staff=staff_user, approver=board_member, on=datetime.date(2010, 1, 1)
    )
    return plan


@pytest.mark.django_db
def test_clean_ledger_passes_with_one_line_summary(ledger):
    output = run_reconcile()
    assert output.strip().splitlines() == [
        "No drift: the counters of 1 plan(s), 2 designation(s), 3 issuance(s) (1 cancelled) agree with the ledger."
    ]
    report = reconcile()
    assert report.ok and report.issuances == 3 and report.cancellations == 1


@pytest.mark.django_db
def test_empty_database_passes():
    assert "No drift" in run_reconcile()


@pytest.mark.django_db
def test_plan_issued_counter_drift_is_reported(ledger):
    Plan.objects.filter(pk=ledger.pk).update(issued_shares=F("issued_shares") + 7)
    output, _ = run_reconcile_expecting_drift()
    assert "the issued-shares counter says 3,507 but its issuances not cancelled add up to 3,500 (off by +7)" in output
    assert "1 problem(s) found" in output


@pytest.mark.django_db
def test_plan_authorized_counter_drift_is_reported(ledger):
    Plan.objects.filter(pk=ledger.pk).update(authorized_shares=F("authorized_shares") - 1_000)
    output, _ = run_reconcile_expecting_drift()
    assert (
        "the authorized-shares counter says 10,499,000 but its share reserve changes add up to 10,500,000 "
        "(off by -1,000)" in output
    )


@pytest.mark.django_db
def test_designation_counter_drift_is_reported(ledger, approved_designation):
    BoardDesignation.objects.filter(pk=approved_designation.pk).update(issued_shares=F("issued_shares") + 100)
    output, _ = run_reconcile_expecting_drift()
    assert f"Designation #{approved_designation.pk} (Dana Whitfield, 2024, plan #{ledger.pk})" in output
    assert "counter says 1,100 but its issuances not cancelled add up to 1,000 (off by +100)" in output


@pytest.mark.django_db
def test_issuances_on_a_designation_that_is_not_approved_are_reported(ledger, approved_designation):
    from django.db import IntegrityError, connection, transaction

    from plan_admin.db import append_only

    # The database refuses to move a decision backwards; someone with the database's owner rights could still
    # drop the trigger first, and reconcile must see what they did.
    with pytest.raises(IntegrityError), transaction.atomic():
        BoardDesignation.objects.filter(pk=approved_designation.pk).update(status="withdrawn")
    append_only.uninstall(connection, ["plan_admin_boarddesignation"])
    try:
        BoardDesignation.objects.filter(pk=approved_designation.pk).update(status="withdrawn", issued_shares=0)
    finally:
        append_only.install(connection, ["plan_admin_boarddesignation"])
    output, _ = run_reconcile_expecting_drift()
    assert "is withdrawn, not approved, yet 1 issuance(s) of 1,000 shares stand against it" in output


@pytest.mark.django_db
def test_only_the_chosen_plan_is_checked(ledger, superuser):
    other = factories.make_plan(by=superuser, name="2010 Plan")
    Plan.objects.filter(pk=other.pk).update(issued_shares=5)
    assert "No drift" in run_reconcile("--plan", str(ledger.pk))
    run_reconcile_expecting_drift("--plan", str(other.pk))
    with pytest.raises(CommandError, match="no plan #999999"):
        call_command("reconcile", "--plan", "999999", stdout=StringIO())


@pytest.mark.django_db
def test_demo_data_reconciles():
    call_command("load_reference_plan", stdout=StringIO())
    output = run_reconcile()
    assert output.startswith("No drift")
    assert reconcile().issuances > 0


@pytest.mark.django_db
def test_query_count_does_not_grow_with_the_ledger(
    ledger, approved_designation, staff_user, participant, plan, board_member
):
    with CaptureQueriesContext(connection) as small:
        reconcile()
    for year in (2020, 2021, 2022):
        designation = factories.make_designation(
            plan=plan, participant=participant, year=year, shares=10_000, staff=staff_user, approver=board_member
        )
        for _ in range(3):
            factories.issue(designation, by=staff_user, shares=100)
    with CaptureQueriesContext(connection) as larger:
        report = reconcile()
    assert report.ok and report.issuances == 12
    assert len(larger.captured_queries) == len(small.captured_queries)


def totals(plan) -> dict:
    return {
        (year, category): (issued, issuances, cancellations)
        for year, category, issued, issuances, cancellations in IssuanceTotal.objects.filter(plan=plan).values_list(
            "year", "category", "issued_shares", "issuances", "cancellations"
        )
    }


@pytest.mark.django_db
def test_issuance_totals_follow_the_single_and_batch_paths_and_cancellations(ledger, approved_designation, staff_user):
    """The ledger fixture records through issuance_record and issuance_cancel; a batch adds to the same keys."""
    assert totals(ledger) == {(2024, "key_employee"): (1_000, 2, 1), (2024, "consultant"): (2_500, 1, 0)}
    row = {"designation": approved_designation, "issue_date": datetime.date(2024, 8, 1), "price_per_share": "0.15"}
    services.issuance_record_many(rows=[row | {"shares": 10}, row | {"shares": 20}], by=staff_user)
    assert totals(ledger)[(2024, "key_employee")] == (1_030, 4, 1)
    assert reconcile().ok


@pytest.mark.django_db
def test_issuance_totals_move_with_a_participants_category(ledger, approved_designation, staff_user):
    dana = approved_designation.participant
    services.participant_update(
        participant=dana, name=dana.name, category="consultant", email=dana.email, by=staff_user
    )
    assert totals(ledger) == {(2024, "key_employee"): (0, 0, 0), (2024, "consultant"): (3_500, 3, 1)}
    assert reconcile().ok
    # The same category again moves nothing.
    services.participant_update(
        participant=dana, name="Dana W.", category="consultant", email=dana.email, by=staff_user
    )
    assert totals(ledger)[(2024, "consultant")] == (3_500, 3, 1)


@pytest.mark.django_db
def test_issuance_total_drift_is_reported(ledger):
    IssuanceTotal.objects.filter(plan=ledger, category="consultant").update(issued_shares=F("issued_shares") + 9)
    output, _ = run_reconcile_expecting_drift()
    assert (
        f"Plan #{ledger.pk}, 2024, consultants: the issuance totals say 2,509 shares standing of 1 issuance(s) "
        "(0 cancelled), but the ledger's rows say 2,500 of 1 (0 cancelled)." in output
    )
    IssuanceTotal.objects.filter(plan=ledger, category="consultant").delete()
    output, _ = run_reconcile_expecting_drift()
    assert (
        "the issuance totals say 0 shares standing of 0 issuance(s) (0 cancelled), but the ledger's rows say 2,500"
        in output
    )


@pytest.mark.django_db
def test_the_migration_fills_the_totals_of_a_ledger_recorded_before_it(ledger):
    from django.apps import apps

    backfill = importlib.import_module("plan_admin.migrations.0012_issuance_totals").backfill
    expected = totals(ledger)
    IssuanceTotal.objects.all().delete()
    backfill(apps, None)
    assert totals(ledger) == expected
    assert reconcile().ok


def designation_totals() -> dict:
    rows = DesignationTotal.objects.values_list("plan_id", "year", "status", "designations")
    return {(plan_id, year, status): count for plan_id, year, status, count in rows if count}


@pytest.mark.django_db
def test_designation_totals_count_every_designation_recorded_whatever_becomes_of_it(
    ledger, approved_designation, staff_user, board_member, superuser
):
    """Proposed through the services, entered from records, then withdrawn, rejected, approved or lapsed: each
    counts once, in its plan's year and its status as it is now; a refused proposal counts nothing. Another plan's
    designations of the same year and status are counted apart, untouched."""
    lee = factories.make_participant("Lee Chen", by=staff_user)
    mia = factories.make_participant("Mia Park", by=staff_user)
    kai = factories.make_participant("Kai Moreno", by=staff_user)
    other_plan = factories.make_plan(by=superuser, name="Another plan")
    for withdraw in (True, False):  # one withdrawn, one open: statuses the plan's own 2023 designations reach
        kais = services.designation_propose(
            plan=other_plan, participant=kai, year=2023, shares=100, factors_considered="Sales.", by=staff_user
        )
        if withdraw:
            services.designation_withdraw(designation=kais, by=staff_user)
    withdrawn = services.designation_propose(
        plan=ledger, participant=lee, year=2023, shares=100, factors_considered="Sales.", by=staff_user
    )
    services.designation_withdraw(designation=withdrawn, by=staff_user)
    factories.make_designation(
        plan=ledger, participant=lee, year=2023, shares=200, staff=staff_user, approver=board_member
    )
    services.plan_set_ledger_start(plan=ledger, ledger_start_date=datetime.date(2009, 1, 1), by=superuser)
    services.past_designation_record(
        plan=ledger,
        participant=mia,
        year=2005,
        shares=100,
        factors_considered="From the minutes.",
        decision="reject",
        decided_on=datetime.date(2005, 2, 1),
        decision_reference="Minutes of February 1, 2005",
        by=staff_user,
    )
    rejected = services.designation_propose(
        plan=ledger, participant=mia, year=2023, shares=100, factors_considered="Sales.", by=staff_user
    )
    services.designation_vote(designation=rejected, voter=board_member, decision="reject")
    services.plan_year_close(plan=ledger, year=2023, reason="Year over.", by=staff_user)  # lapses Lee's 2023
    expected = Counter(BoardDesignation.objects.values_list("plan_id", "year", "status"))
    assert designation_totals() == expected
    assert {status for (plan_id, year, status) in expected if (plan_id, year) == (ledger.pk, 2023)} == {
        "withdrawn",
        "lapsed",
        "rejected",
    }
    assert expected[(ledger.pk, 2005, "rejected")] == 1
    assert (expected[(other_plan.pk, 2023, "proposed")], expected[(other_plan.pk, 2023, "withdrawn")]) == (1, 1)
    before = factories.ledger_snapshot()
    with pytest.raises(ShareLimitExceeded):
        services.designation_propose(
            plan=ledger, participant=mia, year=2024, shares=10**12, factors_considered="Too many.", by=staff_user
        )
    assert factories.ledger_snapshot() == before
    assert reconcile().ok


@pytest.mark.django_db
def test_designation_total_drift_is_reported_and_the_migration_fills_them(ledger):
    from django.apps import apps

    expected = designation_totals()
    DesignationTotal.objects.filter(plan=ledger, year=2024).update(designations=F("designations") + 2)
    output, _ = run_reconcile_expecting_drift()
    said = f"Plan #{ledger.pk}, 2024, approved: the designation totals say"
    assert f"{said} 4 designation(s), but the ledger holds 2." in output
    DesignationTotal.objects.all().delete()
    output, _ = run_reconcile_expecting_drift()
    assert f"{said} 0 designation(s), but the ledger holds 2." in output
    importlib.import_module("plan_admin.migrations.0014_designation_totals").backfill(apps, None)
    assert designation_totals() == expected
    assert reconcile().ok
