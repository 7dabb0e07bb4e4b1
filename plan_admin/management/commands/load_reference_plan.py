"""Load the reference plan (American Technologies Group, Inc. 2002 Stock Incentive Plan) as demo data.

Every ledger row is written through plan_admin.services, as a user would. Demo users get fresh random
passwords on every run, printed once; nothing secret is kept in code. Running it again keeps the ledger and only
resets the demo users' passwords.
"""

import datetime
import secrets
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from plan_admin import roles, services
from plan_admin.models import Participant, Plan

COMPANY = "American Technologies Group, Inc."
PLAN_NAME = "2002 Stock Incentive Plan"
PURPOSE = (
    "To assist in attracting, retaining and compensating highly competent key employees, non-employee directors "
    "and consultants and to act as an incentive in motivating selected key employees, non-employee directors and "
    "consultants of American Technologies Group, Inc. to achieve long-term corporate objectives, as well as to "
    "reduce debts of the Company through the issuance of Common Stock rather than the payment of cash."
)

# username -> (role group or None for the superuser, full name)
DEMO_USERS = {
    "admin": (None, "Site Administrator"),
    "board": (roles.BOARD, "Beatrice Moreau"),
    "director": (roles.BOARD, "Elena Sorokina"),
    "staff": (roles.STAFF, "Sam Okafor"),
    "auditor": (roles.AUDITORS, "Ava Lindqvist"),
}

# Fictional participants: (name, category, email, username of their login if they are a board member)
PARTICIPANTS = [
    ("Dana Whitfield", Participant.Category.KEY_EMPLOYEE, "dana.whitfield@example.com", None),
    ("Marcus Oyelaran", Participant.Category.KEY_EMPLOYEE, "marcus.oyelaran@example.com", None),
    ("Priya Raman", Participant.Category.CONSULTANT, "priya.raman@example.com", None),
    ("Halvorsen Engineering LLC", Participant.Category.CONSULTANT, "billing@halvorsen.example.com", None),
    ("Elena Sorokina", Participant.Category.NON_EMPLOYEE_DIRECTOR, "elena.sorokina@example.com", "director"),
    ("Tomás Ibarra", Participant.Category.NON_EMPLOYEE_DIRECTOR, "tomas.ibarra@example.com", None),
]


class Command(BaseCommand):
    help = "Load the reference plan with fictional participants, designations and issuances, and demo users."

    def handle(self, *args, **options):
        users = self._demo_users()
        if Plan.objects.filter(company_name=COMPANY, name=PLAN_NAME).exists():
            self.stdout.write("The reference plan is already loaded; demo passwords were reset.")
        else:
            with transaction.atomic():
                self._load_ledger(users)
            self.stdout.write(self.style.SUCCESS(f"Loaded {COMPANY} {PLAN_NAME}."))
        self._print_users(users)

    def _demo_users(self) -> dict:
        User = get_user_model()
        users = {}
        for username, (role, full_name) in DEMO_USERS.items():
            user, _ = User.objects.get_or_create(username=username)
            first, _, last = full_name.partition(" ")
            user.first_name, user.last_name = first, last
            user.email = f"{username}@example.com"
            user.is_staff = True
            user.is_superuser = role is None
            user.password_plain = secrets.token_urlsafe(12)
            user.set_password(user.password_plain)
            user.save()
            if role:
                user.groups.set([Group.objects.get(name=role)])
            users[username] = user
        return users

    def _print_users(self, users) -> None:
        self.stdout.write("\nDemo users (passwords are new on every run):")
        for username, user in users.items():
            role = DEMO_USERS[username][0] or "Superuser"
            self.stdout.write(f"  {username:<9} {user.password_plain:<18} {role}")
        self.stdout.write("")

    def _load_ledger(self, users) -> None:
        admin, board, staff = users["admin"], users["board"], users["staff"]
        plan = services.plan_create(
            company_name=COMPANY,
            name=PLAN_NAME,
            purpose=PURPOSE,
            stock_class="Common Stock",
            par_value=Decimal("0.001"),
            initial_shares=10_000_000,
            board_approval_date=datetime.date(2002, 1, 15),
            resolution_reference="Action of the Sole Director (demo date: the exhibit gives none)",
            effective_date=None,  # the plan says "effective as of ?"
            required_approvals=1,
            by=admin,
        )
        people = {
            name: services.participant_create(
                name=name, category=category, email=email, user=users.get(login) if login else None, by=staff
            )
            for name, category, email, login in PARTICIPANTS
        }
        # The exhibit leaves the effective date blank; the demo records a fictional one so issuances can be shown.
        services.plan_set_effective_date(plan=plan, effective_date=datetime.date(2002, 3, 1), by=staff)

        today = timezone.localdate()
        this_year, last_year = today.year, today.year - 1

        def this_year_on(month: int, day: int) -> datetime.date:
            """A date this year, but never in the future (the demo may be loaded in January)."""
            return min(datetime.date(this_year, month, day), today)

        def designate(name, year, shares, factors, approve=True):
            designation = services.designation_propose(
                plan=plan, participant=people[name], year=year, shares=shares, factors_considered=factors, by=staff
            )
            if approve:
                services.designation_vote(designation=designation, voter=board, decision="approve",
                                          comment="Approved at the regular board meeting.")
            return designation

        dana = designate("Dana Whitfield", last_year, 400_000, "Led the refinancing; retention through next year.")
        priya = designate("Priya Raman", last_year, 150_000, "Product strategy engagement, 12 months.")
        halvorsen = designate("Halvorsen Engineering LLC", last_year, 300_000,
                              "Settles unpaid engineering invoices in stock rather than cash (plan 1.1).")
        marcus = designate("Marcus Oyelaran", this_year, 250_000, "Promotion to VP Operations; market comparables.")
        tomas = designate("Tomás Ibarra", this_year, 50_000, "Annual non-employee director grant.")
        designate("Dana Whitfield", this_year, 300_000, "Continued retention; delivered the audit on time.",
                  approve=False)
        designate("Elena Sorokina", this_year, 50_000, "Annual non-employee director grant.", approve=False)

        price = Decimal("0.15")
        services.issuance_record(designation=dana, issue_date=datetime.date(last_year, 3, 31), shares=200_000,
                                 price_per_share=price, by=staff)
        services.issuance_record(designation=dana, issue_date=datetime.date(last_year, 9, 30), shares=200_000,
                                 price_per_share=price, by=staff)
        services.issuance_record(designation=priya, issue_date=datetime.date(last_year, 6, 30), shares=150_000,
                                 price_per_share=price, by=staff)
        services.issuance_record(
            designation=halvorsen, issue_date=datetime.date(last_year, 11, 15), shares=300_000,
            kind="debt_settlement", price_per_share=price, debt_amount=Decimal("45000.00"),
            debt_reference="Invoices HE-118 to HE-124", by=staff,
        )
        mistaken = services.issuance_record(designation=marcus, issue_date=this_year_on(2, 27),
                                            shares=25_000, price_per_share=Decimal("0.18"), by=staff)
        services.issuance_cancel(issuance=mistaken, cancelled_on=this_year_on(3, 2),
                                 reason="Recorded against the wrong certificate; re-issued below.", by=staff)
        services.issuance_record(designation=marcus, issue_date=this_year_on(3, 2), shares=125_000,
                                 price_per_share=Decimal("0.18"), by=staff)
        services.issuance_record(designation=tomas, issue_date=this_year_on(6, 30), shares=50_000,
                                 price_per_share=Decimal("0.20"), by=staff)
