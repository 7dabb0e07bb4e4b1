"""Builders for test data. They write through the services, as users do, so fixtures obey the rules too."""

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from plan_admin import roles, services
from plan_admin.models import Participant

PASSWORD = "correct horse battery staple 42"  # tests only; demo users get random passwords


def make_user(username: str, *, role: str | None, superuser: bool = False, password: str = PASSWORD):
    user = get_user_model().objects.create_user(
        username=username, password=password, is_staff=True, is_superuser=superuser,
        email=f"{username}@example.com",
    )
    if role:
        if not Group.objects.filter(name=role).exists():  # a transactional test's flush removed the groups
            roles.sync_role_groups(Group, Permission)
        user.groups.add(Group.objects.get(name=role))
    return user


def make_plan(*, by, shares: int = 10_000_000, effective_date=datetime.date(2002, 3, 1), required_approvals: int = 1,
              name: str = "2002 Stock Incentive Plan"):
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


def make_designation(*, plan, participant, year: int, shares: int, staff, approver=None,
                     factors: str = "Performance and retention."):
    """Propose as `staff`; when `approver` is given, approve with their vote (plans needing one approval)."""
    designation = services.designation_propose(
        plan=plan, participant=participant, year=year, shares=shares, factors_considered=factors, by=staff
    )
    if approver is not None:
        services.designation_vote(designation=designation, voter=approver, decision="approve")
        designation.refresh_from_db()
    return designation


def issue(designation, *, by, shares: int, on=None, price=Decimal("0.15"), **extra):
    return services.issuance_record(
        designation=designation,
        issue_date=on or datetime.date(designation.year, 6, 30),
        shares=shares,
        price_per_share=price,
        by=by,
        **extra,
    )


def ledger_snapshot() -> dict:
    """Every row count and counter of the ledger, history included: equal before and after means nothing written."""
    from plan_admin import models

    snapshot = {}
    for model in (models.Plan, models.ShareReserveChange, models.Participant, models.BoardDesignation,
                  models.DesignationVote, models.Issuance, models.IssuanceCancellation):
        snapshot[model.__name__] = model.objects.count()
        snapshot[f"{model.__name__} history"] = model.history.count()
    snapshot["ImportRecord"] = models.ImportRecord.objects.count()
    snapshot["plans"] = list(
        models.Plan.objects.order_by("pk").values_list("pk", "authorized_shares", "issued_shares", "effective_date",
                                                       "termination_date")
    )
    snapshot["designations"] = list(
        models.BoardDesignation.objects.order_by("pk").values_list("pk", "status", "issued_shares")
    )
    return snapshot
