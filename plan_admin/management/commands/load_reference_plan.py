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
from plan_admin.interop.issuer import issuer_details_record
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
        """The plan's history before this year is entered from records (as a company moving an existing plan in
        would), confirmed by a board member but for two records left waiting; this year's is recorded here."""
        admin, board, director, staff = users["admin"], users["board"], users["director"], users["staff"]
        today = timezone.localdate()
        this_year, last_year, first_year = today.year, today.year - 1, today.year - 4
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
            ledger_start_date=datetime.date(this_year, 1, 1),
            by=admin,
        )
        # OCF exports name the company with its date and country of formation, which the plan text does not give:
        # fictional values for the demo (Nevada, as an "Inc." of the period might well be).
        issuer_details_record(
            plan=plan,
            formation_date=datetime.date(1988, 6, 1),
            country_of_formation="US",
            country_subdivision="NV",
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

        # --- history before the ledger start date, entered from the board's records ---------------------------
        def minutes(day: datetime.date) -> str:
            return f"Minutes of the board meeting of {day:%B %-d, %Y}"

        def past_designation(name, year, shares, factors, decided_on, reference=None, **debt_terms):
            return services.past_designation_record(
                plan=plan,
                participant=people[name],
                year=year,
                shares=shares,
                factors_considered=factors,
                decision="approve",
                decided_on=decided_on,
                decision_reference=reference or minutes(decided_on),
                by=staff,
                **debt_terms,
            )

        def past_issuance(designation, on, shares, price=Decimal("0.15"), source="Stock ledger", **extra):
            return services.issuance_record(
                designation=designation,
                issue_date=on,
                shares=shares,
                price_per_share=price,
                from_records=True,
                source_reference=f"{source}, entry of {on:%B %-d, %Y}",
                by=staff,
                **extra,
            )

        early_meeting = datetime.date(first_year, 3, 15)
        dana_early = past_designation(
            "Dana Whitfield",
            first_year,
            400_000,
            "Led the refinancing; retention through the next year.",
            early_meeting,
        )
        priya_early = past_designation(
            "Priya Raman", first_year, 150_000, "Product strategy engagement, 12 months.", early_meeting
        )
        past_issuance(dana_early, datetime.date(first_year, 3, 31), 200_000)
        past_issuance(dana_early, datetime.date(first_year, 9, 30), 200_000)
        past_issuance(priya_early, datetime.date(first_year, 6, 30), 100_000)
        services.plan_year_close(
            plan=plan,
            year=first_year,
            closed_on=datetime.date(first_year + 1, 1, 15),
            reason="Designations are for one year only (plan 3.1).",
            by=staff,
        )
        increase = services.past_reserve_change_record(
            plan=plan,
            shares=2_000_000,
            board_approval_date=datetime.date(first_year + 2, 6, 1),
            resolution_reference=minutes(datetime.date(first_year + 2, 6, 1)),
            note="Increase for the consultants' program.",
            by=staff,
        )
        dana = past_designation(
            "Dana Whitfield",
            last_year,
            400_000,
            "Continued retention; delivered the audit on time.",
            datetime.date(last_year, 2, 10),
        )
        halvorsen = past_designation(
            "Halvorsen Engineering LLC",
            last_year,
            300_000,
            "Settles unpaid engineering invoices in stock rather than cash (plan 1.1).",
            datetime.date(last_year, 10, 20),
            reference=f"Unanimous written consent of the board dated {datetime.date(last_year, 10, 20):%B %-d, %Y}",
            kind="debt_settlement",
            debt_amount=Decimal("45000.00"),
            debt_reference="Invoices HE-118 to HE-124",
            price_per_share=Decimal("0.15"),
        )
        dana_first = past_issuance(dana, datetime.date(last_year, 3, 31), 200_000)
        dana_second = past_issuance(dana, datetime.date(last_year, 9, 30), 100_000)
        settlement = past_issuance(
            halvorsen,
            datetime.date(last_year, 11, 15),
            300_000,
            kind="debt_settlement",
            debt_amount=Decimal("45000.00"),
            debt_reference="Invoices HE-118 to HE-124",
            source="Share certificate 118",
        )
        # A board member checks the entered history against the minutes; two records still wait for it.
        for record in [
            dana_early,
            priya_early,
            dana,
            halvorsen,
            *dana_early.issuances.all(),
            *priya_early.issuances.all(),
            dana_first,
            dana_second,
        ]:
            services.past_record_confirm(record=record, by=board, comment="Checked against the source document.")
        del increase, settlement  # left awaiting confirmation on the board's page

        # --- this year, recorded here: proposed by staff, decided by the board's votes today ------------------
        def designate(name, shares, factors, approve=True):
            designation = services.designation_propose(
                plan=plan,
                participant=people[name],
                year=this_year,
                shares=shares,
                factors_considered=factors,
                by=staff,
            )
            if approve:
                services.designation_vote(
                    designation=designation,
                    voter=board,
                    decision="approve",
                    comment="Approved at today's board meeting.",
                )
            return designation

        marcus = designate("Marcus Oyelaran", 250_000, "Promotion to VP Operations; market comparables.")
        tomas = designate("Tomás Ibarra", 50_000, "Annual non-employee director grant.")
        designate("Dana Whitfield", 300_000, "Continued retention; the refinancing closed.", approve=False)
        designate("Elena Sorokina", 50_000, "Annual non-employee director grant.", approve=False)

        mistaken = services.issuance_record(
            designation=marcus, issue_date=today, shares=25_000, price_per_share=Decimal("0.18"), by=staff
        )
        services.issuance_cancel(
            issuance=mistaken,
            cancelled_on=today,
            reason="Recorded against the wrong certificate; re-issued below.",
            by=staff,
        )
        services.issuance_record(
            designation=marcus, issue_date=today, shares=125_000, price_per_share=Decimal("0.18"), by=staff
        )
        services.issuance_record(
            designation=tomas, issue_date=today, shares=50_000, price_per_share=Decimal("0.20"), by=staff
        )
        services.reserve_change_propose(
            plan=plan,
            shares=1_000_000,
            explanation="Room for next year's key-employee grants: about 1,000,000 shares are expected.",
            by=staff,
        )
        del director  # a participant too (Elena Sorokina): she may not vote on her own designation
