"""`make run`'s demo data: the reference plan, fictional participants and grants, demo users with fresh passwords."""

import datetime
import io
import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from plan_admin.models import BoardDesignation, Issuance, Plan, PlanProposal
from plan_admin.reconcile import reconcile
from plan_admin.selectors import committed_by_year, unconfirmed_count

pytestmark = pytest.mark.django_db


def load() -> dict[str, str]:
    out = io.StringIO()
    call_command("load_reference_plan", stdout=out)
    return dict(re.findall(r"^  (\w+)\s+(\S+)\s+\w", out.getvalue(), re.M))


def test_loads_the_reference_plan_with_a_ledger(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    passwords = load()

    plan = Plan.objects.get()
    assert (plan.company_name, plan.name) == ("American Technologies Group, Inc.", "2002 Stock Incentive Plan")
    # 10,000,000 initially authorized, +2,000,000 by a past board decision entered from records; a further
    # increase waits for the board's vote.
    assert plan.authorized_shares == 12_000_000 and str(plan.par_value) == "0.001000"
    assert plan.history.earliest().effective_date is None  # "effective as of ?" until the demo records one
    assert BoardDesignation.objects.filter(status="proposed").count() == 2
    assert PlanProposal.objects.get().status == "proposed"
    assert Issuance.objects.filter(kind="debt_settlement").count() == 1
    assert Issuance.objects.filter(cancellation__isnull=False).count() == 1
    # Earlier years come from the board's records, with the board's own dates; this year's decisions are today's.
    today = datetime.date.today()
    start = plan.ledger_start_date
    assert start == datetime.date(today.year, 1, 1)
    for designation in BoardDesignation.objects.exclude(status="proposed"):
        assert designation.decided_on.year == designation.year, designation
        assert (designation.decision_source == "records") == (designation.decided_on < start), designation
    assert not Issuance.objects.filter(issue_date__gt=today).exists()
    assert all(i.issue_date >= i.designation.decided_on for i in Issuance.objects.select_related("designation"))
    # Most past records are confirmed; two wait for a board member.
    assert unconfirmed_count() == 2
    assert BoardDesignation.objects.filter(status="lapsed").exists()  # the earliest year was closed
    assert plan.committed_shares > 0 and len(committed_by_year(plan_id=plan.pk)) == 2  # last year's and this year's
    assert reconcile().ok
    assert set(passwords) == {"admin", "board", "director", "staff", "auditor"}
    request = RequestFactory().post("/accounts/login/")
    for username, password in passwords.items():
        assert authenticate(request, username=username, password=password) is not None, username


def test_running_again_keeps_the_ledger_and_changes_every_password(settings, client):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    first = load()
    issued = Plan.objects.get().issued_shares
    second = load()

    assert Plan.objects.count() == 1 and Plan.objects.get().issued_shares == issued
    assert all(first[user] != second[user] for user in first)
    response = client.post(reverse("login"), {"username": "board", "password": second["board"]})
    assert response.status_code == 302
    assert client.get(reverse("board-dashboard")).status_code == 200
