"""Builders for test data. They write through the services, as users do, so fixtures obey the rules too."""

import contextlib
import datetime
import functools
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from plan_admin import roles, services
from plan_admin.models import Participant

PASSWORD = "correct horse battery staple 42"  # tests only; demo users get random passwords


def make_user(username: str, *, role: str | None, superuser: bool = False, password: str = PASSWORD):
    user = get_user_model().objects.create_user(
        username=username,
        password=password,
        is_staff=True,
        is_superuser=superuser,
        email=f"{username}@example.com",
    )
    if role:
        if not Group.objects.filter(name=role).exists():  # a transactional test's flush removed the groups
            roles.sync_role_groups(Group, Permission)
        user.groups.add(Group.objects.get(name=role))
    return user


def make_plan(
    *,
    by,
    shares: int = 10_000_000,
    effective_date=datetime.date(2002, 3, 1),
    required_approvals: int = 1,
    name: str = "2002 Stock Incentive Plan",
):
    return services.plan_create(
        company_name="American Technologies Group, Inc.",
        name=name,
        par_value=Decimal("0.001"),
        initial_shares=shares,
        board_approval_date=datetime.date(2002, 1, 15),
        effective_date=effective_date,
        required_approvals=required_approvals,
        by=by,
    )


def make_participant(name: str, *, by, category: str = Participant.Category.KEY_EMPLOYEE, user=None):
    return services.participant_create(name=name, category=category, user=user, by=by)


@contextlib.contextmanager
def on_day(day: datetime.date | None, hour: int = 10):
    """Run the block as if it were `day` (the services date the board's decisions today); None: the real today."""
    if day is None:
        yield
        return
    moment = datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=True):
        yield


def default_decision_day(year: int) -> datetime.date | None:
    """When the board decides a test designation of `year`: January 2 of that year, or today for this year."""
    today = datetime.date.today()
    return None if year >= today.year else datetime.date(year, 1, 2)


_DEFAULT = object()


def make_designation(
    *,
    plan,
    participant,
    year: int,
    shares: int,
    staff,
    approver=None,
    factors: str = "Performance and retention.",
    decided_on=_DEFAULT,
    **terms,
):
    """Propose as `staff`; when `approver` is given, approve with their vote (plans needing one approval).

    The proposal and the vote happen on `decided_on` (default: January 2 of the designation's year, or today for
    this year's), so that issuances dated later in the year follow the board's decision, as the rules require.
    """
    day = default_decision_day(year) if decided_on is _DEFAULT else decided_on
    with on_day(day):
        designation = services.designation_propose(
            plan=plan,
            participant=participant,
            year=year,
            shares=shares,
            factors_considered=factors,
            by=staff,
            **terms,
        )
        if approver is not None:
            services.designation_vote(designation=designation, voter=approver, decision="approve")
            designation.refresh_from_db()
    return designation


def make_debt_designation(
    *,
    plan,
    participant,
    year: int,
    shares: int,
    staff,
    approver=None,
    debt_amount=Decimal("1000000.00"),
    debt_reference: str = "Creditor claims",
    price_per_share=Decimal("0.001"),
    **kwargs,
):
    """A debt-settlement designation (the creditor's debt, the price per share), approved by `approver`'s vote."""
    return make_designation(
        plan=plan,
        participant=participant,
        year=year,
        shares=shares,
        staff=staff,
        approver=approver,
        factors="Settles the company's debt to it in stock (plan 1.1).",
        kind="debt_settlement",
        debt_amount=Decimal(debt_amount),
        debt_reference=debt_reference,
        price_per_share=Decimal(price_per_share),
        **kwargs,
    )


def settle_debt_in_full(*, plan, creditor, staff, approver, year: int = 2024):
    """A debt-settlement designation of 2,500 shares for `creditor`'s $375.00 invoice INV-1, approved, and the
    issuance that settles it in full (at $0.15 a share)."""
    settlement = make_debt_designation(
        plan=plan,
        participant=creditor,
        year=year,
        shares=2_500,
        staff=staff,
        approver=approver,
        debt_amount="375.00",
        debt_reference="INV-1",
        price_per_share="0.15",
    )
    return issue(
        settlement, by=staff, shares=2_500, kind="debt_settlement", debt_amount="375.00", debt_reference="INV-1"
    )


def issue(designation, *, by, shares: int, on=None, price=Decimal("0.15"), **extra):
    return services.issuance_record(
        designation=designation,
        issue_date=on or datetime.date(designation.year, 6, 30),
        shares=shares,
        price_per_share=price,
        by=by,
        **extra,
    )


@functools.cache
def _snapshot_tables() -> dict[str, str]:
    """The tables ledger_snapshot counts, by name (read once: `Model.history` builds a manager class on each use)."""
    from plan_admin import models

    counted = {}
    for model in (
        models.Plan,
        models.ShareReserveChange,
        models.Participant,
        models.BoardDesignation,
        models.DesignationVote,
        models.Issuance,
        models.IssuanceCancellation,
        models.PlanProposal,
        models.PlanProposalVote,
        models.DesignationLapse,
        models.PlanYearClosing,
        models.RecordConfirmation,
        models.Resolution,
        models.ResolutionItem,
        models.ResolutionSignatory,
        models.ResolutionSignature,
        models.ResolutionDecline,
        models.ResolutionWithdrawal,
        models.ResolutionDocument,
        models.ResolutionNotice,
        models.NotificationPreference,
        models.OcfObject,
    ):
        counted[model.__name__] = model._meta.db_table
        if hasattr(model, "history"):
            counted[f"{model.__name__} history"] = model.history.model._meta.db_table
    counted["ImportRecord"] = models.ImportRecord._meta.db_table
    return counted


def ledger_snapshot() -> dict:
    """Every row count and counter of the ledger, history included: equal before and after means nothing written."""
    from django.db import connection

    from plan_admin import models

    # Every count in one statement (the snapshot is taken twice per refusal asserted: one query, not forty).
    counted = _snapshot_tables()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(table)})" for table in counted.values()))
        snapshot = dict(zip(counted, cursor.fetchone(), strict=True))
    snapshot["plans"] = list(
        models.Plan.objects.order_by("pk").values_list(
            "pk",
            "authorized_shares",
            "issued_shares",
            "committed_shares",
            "effective_date",
            "termination_date",
            "ledger_start_date",
        )
    )
    snapshot["designations"] = list(
        models.BoardDesignation.objects.order_by("pk").values_list("pk", "status", "issued_shares", "decided_on")
    )
    snapshot["proposals"] = list(models.PlanProposal.objects.order_by("pk").values_list("pk", "status"))
    snapshot["issuance totals"] = list(
        models.IssuanceTotal.objects.order_by("pk").values_list("pk", "issued_shares", "issuances", "cancellations")
    )
    snapshot["designation totals"] = list(
        models.DesignationTotal.objects.order_by("pk").values_list("pk", "designations")
    )
    snapshot["resolutions"] = list(models.Resolution.objects.order_by("pk").values_list("pk", "status", "effective_on"))
    return snapshot


def change_reserve(
    plan,
    *,
    shares: int,
    staff,
    approver,
    on: datetime.date | None = None,
    explanation: str = "The board is asked to change the reserve.",
):
    """Staff propose a reserve change and `approver` approves it by vote on `on`; returns the ShareReserveChange."""
    with on_day(on):
        proposal = services.reserve_change_propose(plan=plan, shares=shares, explanation=explanation, by=staff)
        services.plan_proposal_vote(proposal=proposal, voter=approver, decision="approve")
    plan.refresh_from_db()
    return proposal.reserve_change


def terminate(plan, *, termination_date: datetime.date, staff, approver, on: datetime.date | None = None):
    """Staff propose the plan's termination and `approver` approves it by vote on `on` (default: the real today)."""
    with on_day(on):
        proposal = services.termination_propose(
            plan=plan, termination_date=termination_date, explanation="The board is asked to end the plan.", by=staff
        )
        services.plan_proposal_vote(proposal=proposal, voter=approver, decision="approve")
    plan.refresh_from_db()
    return proposal


def board_group():
    if not Group.objects.filter(name=roles.BOARD).exists():
        roles.sync_role_groups(Group, Permission)
    return Group.objects.get(name=roles.BOARD)


def sign(resolution, director, *, address: str = "127.0.0.1"):
    """`director` signs `resolution`'s document for signature, as the signing page does after the password."""
    document = resolution.documents.get(kind="for_signature")
    return services.resolution_sign(
        resolution=resolution, signer=director, document_sha256=document.sha256, client_address=address
    )


def resolution_records(*, plan, staff, directors):
    """A row in every resolution table: a written consent signed by every director in `directors` (in effect), one
    declined, one withdrawn, the invitations emailed, and a reminder preference. Returns the effective one."""
    from plan_admin import models
    from plan_admin.notifications import resolutions as notices

    year = datetime.date.today().year
    people = [make_participant(f"Resolution participant {n}", by=staff) for n in range(3)]
    designations = [
        make_designation(plan=plan, participant=person, year=year, shares=1_000, staff=staff) for person in people
    ]
    effective = services.resolution_prepare(plan=plan, kind="written_consent", designations=designations[:1], by=staff)
    declined = services.resolution_prepare(plan=plan, kind="written_consent", designations=designations[1:2], by=staff)
    withdrawn = services.resolution_prepare(plan=plan, kind="written_consent", designations=designations[2:], by=staff)
    for resolution in (effective, declined, withdrawn):
        notices.send_invitations(resolution.pk)
    for director in directors:
        sign(effective, director)
    services.resolution_decline(resolution=declined, director=directors[0], reason="Not this year.")
    services.resolution_withdraw(resolution=withdrawn, reason="Prepared by mistake.", by=staff)
    models.NotificationPreference.objects.create(user=directors[0], reminders=False)
    effective.refresh_from_db()
    return effective


def assert_refused(exception_type, message: str, action):
    """Run `action`, expect `exception_type` with exactly `message`, and prove nothing was written."""
    before = ledger_snapshot()
    with pytest.raises(exception_type) as caught:
        action()
    assert caught.value.messages == [message]
    assert ledger_snapshot() == before
    return caught.value
