"""A small ledger with a row on every page, shared by the accessibility, formatting and phone browser tests.

Four users with full names (staff, two board members, an auditor) and a director who is also a participant; a plan
at par $0.001; this year's proposals (one of them the director's own), approved designations with compensation
and debt-settlement issuances at $0.15 and $0.001, a cancellation, a reserve proposal, and a resolution out for
signature.
"""

import datetime
from decimal import Decimal

from django.urls import reverse
from playwright.sync_api import expect

from plan_admin import services
from tests import factories

NAMES = {
    "root": ("Site", "Admin"),
    "staff": ("Sam", "Okafor"),
    "board": ("Beatrice", "Moreau"),
    "board2": ("Tomás", "Ibarra"),
    "director": ("Nora", "Lindqvist"),
    "auditor": ("Ada", "Reyes"),
}
ROLES = {
    "root": None,
    "staff": factories.roles.STAFF,
    "board": factories.roles.BOARD,
    "board2": factories.roles.BOARD,
    "director": factories.roles.BOARD,
    "auditor": factories.roles.AUDITORS,
}


def build_ledger(*, with_resolution: bool = True) -> dict:
    users = {}
    for username, (first, last) in NAMES.items():
        user = factories.make_user(username, role=ROLES[username], superuser=username == "root")
        user.first_name, user.last_name = first, last
        user.save(update_fields=["first_name", "last_name"])
        users[username] = user
    staff, board = users["staff"], users["board"]
    plan = factories.make_plan(by=users["root"])
    year = datetime.date.today().year
    dana = factories.make_participant("Dana Whitfield", by=staff)
    lee = factories.make_participant("Lee Park", by=staff, category="consultant")
    creditor = factories.make_participant("Harbor Capital LLC", by=staff, category="consultant")
    nora = factories.make_participant(
        "Nora Lindqvist", by=staff, category="non_employee_director", user=users["director"]
    )
    approved = factories.make_designation(
        plan=plan, participant=dana, year=year - 1, shares=400_000, staff=staff, approver=board
    )
    compensation = factories.issue(approved, by=staff, shares=150_000, on=datetime.date(year - 1, 6, 30))
    mistaken = factories.issue(approved, by=staff, shares=1_000, on=datetime.date(year - 1, 7, 1))
    cancellation = services.issuance_cancel(
        issuance=mistaken, cancelled_on=datetime.date(year - 1, 7, 2), reason="Entered twice.", by=staff
    )
    debt = factories.make_debt_designation(
        plan=plan,
        participant=creditor,
        year=year - 1,
        shares=500_000,
        staff=staff,
        approver=board,
        debt_amount=Decimal("500.00"),
        debt_reference="Note 2019-4",
    )
    debt_issuance = factories.issue(
        debt,
        by=staff,
        shares=500_000,
        price=Decimal("0.001"),
        on=datetime.date(year - 1, 8, 1),
        kind="debt_settlement",
        debt_amount=Decimal("500.00"),
        debt_reference="Note 2019-4",
    )
    proposal = factories.make_designation(
        plan=plan,
        participant=lee,
        year=year,
        shares=250_000,
        staff=staff,
        factors="Consulting on the patent portfolio.",
    )
    own = factories.make_designation(
        plan=plan, participant=nora, year=year, shares=60_000, staff=staff, factors="Director's annual grant."
    )
    reserve = services.reserve_change_propose(
        plan=plan, shares=500_000, explanation="Room for next year's grants.", by=staff
    )
    ledger = {
        "users": users,
        "plan": plan,
        "year": year,
        "approved": approved,
        "compensation": compensation,
        "cancellation": cancellation,
        "debt": debt,
        "debt_issuance": debt_issuance,
        "proposal": proposal,
        "own": own,
        "reserve": reserve,
        "participant": dana,
        "resolution": None,
    }
    if with_resolution:
        signed = factories.make_designation(
            plan=plan,
            participant=factories.make_participant("Mei Chen", by=staff),
            year=year,
            shares=75_000,
            staff=staff,
            factors="Retention.",
        )
        ledger["resolution"] = services.resolution_prepare(
            plan=plan, kind="written_consent", designations=[signed], by=staff
        )
    return ledger


def log_in(page, username: str, *, landing: str):
    page.goto(reverse("login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=landing)).to_be_visible()
