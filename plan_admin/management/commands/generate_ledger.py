"""`manage.py generate_ledger`: a large, realistic ledger for ONE plan, for benchmarks and load tests.

    manage.py generate_ledger --issuances 100000 --participants 5000 --years 20 --seed 1
    call_command("generate_ledger", issuances=100_000, participants=5_000, years=20, seed=1)

The plan runs `--years` years up to this year. Participants come in the three categories (key employees,
consultants, non-employee directors). Every year the board approves designations for some of them (each with its
approving vote), rejects a few and sees a few withdrawn; this year's also has proposals awaiting a vote. Issuances
are compensation or debt settlements (with the debt amount and an invoice reference), dated in their designation's
year, and about 2% are cancelled. The share reserve starts at 10,000,000 or more and is increased by the board
every five years so that the plan never committed more than it authorized.

Speed: the rows are built in memory and written with bulk_create (batches of 5,000), with their history rows, in
one transaction; the services are not called row by row. The counters (Plan.authorized_shares,
Plan.issued_shares, BoardDesignation.issued_shares) are set to the exact sums of the rows written, and the command
ends by running the reconcile check on the new plan: it fails loudly if they ever disagree.
"""

import datetime
import math
import random
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from plan_admin import roles, services
from plan_admin.models import (
    BoardDesignation,
    DecisionSource,
    DesignationLapse,
    DesignationTotal,
    DesignationVote,
    Issuance,
    IssuanceCancellation,
    IssuanceTotal,
    Participant,
    Plan,
    PlanYearClosing,
    ShareReserveChange,
)
from plan_admin.reconcile import reconcile

BATCH_SIZE = 5_000
PAR_VALUE = Decimal("0.001")
INITIAL_RESERVE = 10_000_000
RESERVE_STEP_YEARS = 5
CANCELLED_FRACTION = 0.02
ISSUANCES_PER_DESIGNATION = 3  # on average

FIRST_NAMES = [
    "Ada",
    "Adrian",
    "Aisha",
    "Alan",
    "Alba",
    "Amir",
    "Ana",
    "Anders",
    "Anika",
    "Arjun",
    "Beatriz",
    "Ben",
    "Bianca",
    "Boris",
    "Camila",
    "Carlos",
    "Chen",
    "Chloe",
    "Dana",
    "Daniel",
    "Dara",
    "David",
    "Diego",
    "Elena",
    "Eli",
    "Emma",
    "Erik",
    "Esther",
    "Farah",
    "Felix",
    "Fiona",
    "Gabriel",
    "Grace",
    "Hana",
    "Hugo",
    "Ines",
    "Ivan",
    "Jamal",
    "Jana",
    "Javier",
    "Jin",
    "Joao",
    "Jonas",
    "Julia",
    "Kai",
    "Kamala",
    "Karin",
    "Kenji",
    "Laila",
    "Lars",
    "Leah",
    "Lena",
    "Liam",
    "Lucia",
    "Luis",
    "Maya",
    "Mateo",
    "Mei",
    "Miguel",
    "Mira",
    "Nadia",
    "Nikhil",
    "Noah",
    "Nora",
    "Olga",
    "Omar",
    "Paula",
    "Pedro",
    "Priya",
    "Rafael",
    "Rania",
    "Ravi",
    "Rosa",
    "Samir",
    "Sara",
    "Sofia",
    "Tariq",
    "Teresa",
    "Tomas",
    "Uma",
    "Victor",
    "Wei",
    "Yara",
    "Yusuf",
    "Zoe",
]
LAST_NAMES = [
    "Abara",
    "Adeyemi",
    "Almeida",
    "Andersen",
    "Bauer",
    "Becker",
    "Bianchi",
    "Brennan",
    "Castillo",
    "Chen",
    "Costa",
    "Dalton",
    "Dimitrov",
    "Dubois",
    "Eriksen",
    "Farouk",
    "Ferreira",
    "Fischer",
    "Garcia",
    "Gupta",
    "Haddad",
    "Hansen",
    "Hartmann",
    "Ibarra",
    "Ivanova",
    "Jensen",
    "Kapoor",
    "Kim",
    "Kowalski",
    "Larsen",
    "Lindqvist",
    "Lopez",
    "Mahmoud",
    "Marino",
    "Moreau",
    "Murphy",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Okafor",
    "Oyelaran",
    "Park",
    "Patel",
    "Petrov",
    "Quinn",
    "Raman",
    "Reyes",
    "Rossi",
    "Sato",
    "Schmidt",
    "Silva",
    "Sorokina",
    "Suzuki",
    "Tanaka",
    "Torres",
    "Varga",
    "Vasquez",
    "Wagner",
    "Walsh",
    "Whitfield",
    "Wong",
    "Yamada",
    "Yilmaz",
    "Zhang",
    "Zimmermann",
]
FIRM_SUFFIXES = ["Consulting LLC", "Advisors", "Engineering LLC", "Partners", "Legal PLLC", "Analytics Inc."]
FACTORS = [
    "Performance against the year's objectives; retention.",
    "Promotion and market comparables.",
    "Annual non-employee director grant.",
    "Consulting engagement; settles invoices in stock rather than cash (plan 1.1).",
    "Critical hire; sign-on grant.",
    "Delivered the product launch on time.",
]
CANCEL_REASONS = [
    "Recorded against the wrong designation; re-issued.",
    "Share count mistyped.",
    "Certificate returned unissued.",
    "Duplicate entry.",
]


@contextmanager
def _keep_given_timestamps(*models):
    """Let bulk_create write the timestamps we set, instead of auto_now_add's "now"."""
    fields = [f for model in models for f in model._meta.concrete_fields if getattr(f, "auto_now_add", False)]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


def _random_day(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randint(0, max((end - start).days, 0)))


class Command(BaseCommand):
    help = "Generate a large realistic ledger for one plan (bulk writes; counters equal to the ledger sums)."

    def add_arguments(self, parser):
        parser.add_argument("--issuances", type=int, default=100_000)
        parser.add_argument("--participants", type=int, default=5_000)
        parser.add_argument("--years", type=int, default=20)
        parser.add_argument("--seed", type=int, default=None, help="Random seed; the same seed gives the same ledger.")
        parser.add_argument("--plan-name", default="Generated Stock Incentive Plan")

    def handle(self, *args, **options):
        issuances = options["issuances"]
        participants = options["participants"]
        years = options["years"]
        if issuances < 0 or participants < 1 or years < 1:
            raise CommandError("Give at least one participant and one year, and no negative number of issuances.")
        seed = options["seed"] if options["seed"] is not None else random.SystemRandom().randrange(2**31)
        started = time.perf_counter()
        _TIMINGS.clear()
        _TIMINGS["_start"] = started
        with transaction.atomic():
            plan, counts = _Generator(
                rng=random.Random(seed),
                issuances=issuances,
                participants=participants,
                years=years,
                plan_name=options["plan_name"],
            ).run()
        _TIMINGS["committed at"] = time.perf_counter() - started
        if connection.vendor == "postgresql":
            # As after any bulk load: fresh statistics, so the planner knows the tables' new size, and, outside a
            # transaction (VACUUM cannot run in one; tests hold one), the visibility map VACUUM sets, without which
            # an index-only count reads every row it counts. Autovacuum would do the same some minutes later.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            with connection.cursor() as cursor:
                for model in (
                    Participant,
                    BoardDesignation,
                    DesignationVote,
                    Issuance,
                    IssuanceCancellation,
                    IssuanceTotal,
                    DesignationTotal,
                ):
                    cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")
        _TIMINGS["analyzed at"] = time.perf_counter() - started
        report = reconcile(plan=plan)
        if not report.ok:
            raise CommandError("The generated ledger does not reconcile:\n" + "\n".join(report.problems))
        elapsed = time.perf_counter() - started
        if options["verbosity"] > 1:
            self.stdout.write("Seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in _TIMINGS.items() if k != "_start"))
        self.stdout.write(
            f'Generated plan #{plan.pk} "{plan.name}" (seed {seed}) in {elapsed:.1f} s: '
            + ", ".join(f"{n:,} {what}" for what, n in counts.items())
            + f"; {plan.issued_shares:,} of {plan.authorized_shares:,} authorized shares issued. {report.summary()}"
        )


class _Generator:
    def __init__(self, *, rng: random.Random, issuances: int, participants: int, years: int, plan_name: str):
        self.rng = rng
        self.n_issuances = issuances
        self.n_participants = participants
        self.today = timezone.localdate()
        self.years = list(range(self.today.year - years + 1, self.today.year + 1))
        self.plan_name = plan_name

    # --- users and plan -----------------------------------------------------------------------------------------

    def _user(self, username: str, role: str):
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "email": f"{username}@example.com"}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=role))
        return user

    def run(self) -> tuple[Plan, dict]:
        self.staff = self._user("ledger-staff", roles.STAFF)
        self.board = self._user("ledger-board", roles.BOARD)
        first_year = self.years[0]
        plan = services.plan_create(
            company_name="Generated Holdings, Inc.",
            name=self.plan_name,
            purpose="A generated plan for benchmarks: key employees, consultants, non-employee directors, debts.",
            par_value=PAR_VALUE,
            initial_shares=INITIAL_RESERVE,  # replaced below by the reserve the generated ledger needs
            board_approval_date=datetime.date(first_year - 1, 12, 1),
            effective_date=datetime.date(first_year, 1, 1),
            required_approvals=1,
            resolution_reference="Board resolution (generated)",
            by=self.staff,
        )
        self.plan = plan
        people = self._participants()
        designations, issuances = self._designations_and_issuances(people)
        cancellations = self._cancellations(issuances)
        self._reserve(designations)

        # Votes are cast on approved designations; the years before this one are then closed (their approved
        # designations lapse, releasing what was not issued), as staff close each year after it ends.
        votes = self._votes(designations)
        closings, lapses = self._close_past_years(designations)
        with _keep_given_timestamps(
            BoardDesignation, DesignationVote, Issuance, IssuanceCancellation, PlanYearClosing, DesignationLapse
        ):
            _bulk(BoardDesignation, designations, user=self.staff)
            _bulk(PlanYearClosing, closings, user=self.staff)
            for lapse in lapses:
                lapse.designation_id = lapse.designation.pk
                lapse.year_closing_id = lapse.year_closing.pk
            _bulk(DesignationLapse, lapses, user=self.staff)
            for vote in votes:
                vote.designation_id = vote.designation.pk
            _bulk(DesignationVote, votes, user=self.board)
            for issuance in issuances:
                issuance.designation_id = issuance.designation.pk
            _bulk(Issuance, issuances, user=self.staff)
            for cancellation in cancellations:
                cancellation.issuance_id = cancellation.issuance.pk
            _bulk(IssuanceCancellation, cancellations, user=self.staff)

        authorized = sum(plan.reserve_changes.values_list("shares", flat=True))
        issued = sum(d.issued_shares for d in designations)
        committed = sum(
            d.shares - d.issued_shares for d in designations if d.status == BoardDesignation.Status.APPROVED
        )
        Plan.objects.filter(pk=plan.pk).update(
            authorized_shares=authorized, issued_shares=issued, committed_shares=committed
        )
        IssuanceTotal.objects.bulk_create(_issuance_totals(plan, designations, issuances, cancellations))
        DesignationTotal.objects.bulk_create(
            DesignationTotal(plan=plan, year=year, status=status, designations=count)
            for (year, status), count in sorted(Counter((d.year, d.status) for d in designations).items())
        )
        plan.refresh_from_db()
        counts = {
            "participants": len(people),
            "designations": len(designations),
            "votes": len(votes),
            "lapses": len(lapses),
            "issuances": len(issuances),
            "cancellations": len(cancellations),
            "reserve changes": plan.reserve_changes.count(),
        }
        return plan, counts

    # --- rows ---------------------------------------------------------------------------------------------------

    def _participants(self) -> list[Participant]:
        rng = self.rng
        combos = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
        rng.shuffle(combos)
        people = []
        for i in range(self.n_participants):
            first, last = combos[i % len(combos)]
            roll = rng.random()
            if roll < 0.6:
                category, name = Participant.Category.KEY_EMPLOYEE, f"{first} {last}"
            elif roll < 0.9:
                category = Participant.Category.CONSULTANT
                name = f"{last} {rng.choice(FIRM_SUFFIXES)}" if rng.random() < 0.4 else f"{first} {last}"
            else:
                category, name = Participant.Category.NON_EMPLOYEE_DIRECTOR, f"{first} {last}"
            if i >= len(combos):
                name = f"{name} ({i // len(combos) + 1})"
            email = f"{first}.{last}.{i}@example.com".lower()
            people.append(Participant(name=name, category=category, email=email))
        return _bulk(Participant, people, user=self.staff)

    def _year_window(self, year: int) -> tuple[datetime.date, datetime.date]:
        return datetime.date(year, 1, 1), min(datetime.date(year, 12, 31), self.today)

    def _designations_and_issuances(self, people):
        rng, plan = self.rng, self.plan
        per_year, extra = divmod(self.n_issuances, len(self.years))
        designations: list[BoardDesignation] = []
        issuances: list[Issuance] = []
        price = Decimal("0.15")
        for index, year in enumerate(self.years):
            start, end = self._year_window(year)
            n_issuances = per_year + (1 if index < extra else 0)
            n_approved = max(1, min(len(people), math.ceil(n_issuances / ISSUANCES_PER_DESIGNATION)))
            is_current = year == self.today.year
            n_proposed = min(len(people) - n_approved, max(1, n_approved // 20)) if is_current else 0
            chosen = rng.sample(people, n_approved + n_proposed)
            decision_end = min(end, start + datetime.timedelta(days=max(1, (end - start).days // 6)))

            def designation(participant, status, shares, start=start, decision_end=decision_end, year=year):
                proposed = _random_day(rng, start, decision_end)
                decided = None
                if status != BoardDesignation.Status.PROPOSED:
                    decided = _at(_random_day(rng, proposed, decision_end), 15)
                decision = {}
                if status in (BoardDesignation.Status.APPROVED, BoardDesignation.Status.REJECTED):
                    decision = {
                        "decided_on": decided.date(),
                        "decision_source": DecisionSource.VOTES,
                        "decision_reference": "Votes of the board in plan-admin",
                    }
                return BoardDesignation(
                    plan=plan,
                    participant=participant,
                    year=year,
                    shares=shares,
                    status=status,
                    factors_considered=rng.choice(FACTORS),
                    proposed_by=self.staff,
                    proposed_at=_at(proposed, 9),
                    decided_at=decided,
                    **decision,
                )

            approved = [designation(p, BoardDesignation.Status.APPROVED, 0) for p in chosen[:n_approved]]
            debt_designations = {
                id(d)
                for d in approved
                if (d.participant.category == Participant.Category.CONSULTANT and rng.random() < 0.4)
                or rng.random() < 0.03
            }
            debt_terms = defaultdict(lambda: [Decimal(0), None])  # designation -> [debt settled, lowest price]
            for p in chosen[n_approved:]:
                designations.append(designation(p, BoardDesignation.Status.PROPOSED, rng.randrange(5, 200) * 1_000))
            for _ in range(max(1, n_approved // 30)):  # rejected and withdrawn: not open, any participant
                status = rng.choice([BoardDesignation.Status.REJECTED, BoardDesignation.Status.WITHDRAWN])
                designations.append(designation(rng.choice(people), status, rng.randrange(5, 200) * 1_000))

            # The year's stock price drifts; every issuance is priced at or above par.
            price = max(Decimal("0.01"), (price * Decimal(str(rng.uniform(0.8, 1.3)))).quantize(Decimal("0.0001")))
            gross = defaultdict(int)
            for _ in range(n_issuances):
                d = rng.choice(approved)
                shares = rng.randrange(5, 500) * 100
                on = _random_day(rng, d.decided_at.date(), end)
                each = max(PAR_VALUE, (price * Decimal(str(rng.uniform(0.9, 1.1)))).quantize(Decimal("0.0001")))
                # A debt settlement is issued against a designation for a debt settlement (check_issuance).
                debt = id(d) in debt_designations
                issuance = Issuance(
                    designation=d,
                    issue_date=on,
                    shares=shares,
                    price_per_share=each,
                    kind=Issuance.Kind.DEBT_SETTLEMENT if debt else Issuance.Kind.COMPENSATION,
                    debt_amount=(shares * each).quantize(Decimal("0.01")) if debt else None,
                    debt_reference=f"INV-{year}-{len(issuances) + 1:06d}" if debt else "",
                    recorded_by=self.staff,
                    recorded_at=_at(on, 11),
                )
                issuance._history_date = issuance.recorded_at
                issuances.append(issuance)
                gross[id(d)] += shares
                if debt:
                    terms = debt_terms[id(d)]
                    terms[0] += issuance.debt_amount
                    terms[1] = each if terms[1] is None else min(terms[1], each)
            for d in approved:
                # Past years are issued close to the designation; this year keeps room to issue.
                headroom = 1.5 if is_current else 1.0 + rng.random() * 0.1
                d.shares = max(1_000, math.ceil(gross[id(d)] * headroom / 1_000) * 1_000)
                if id(d) in debt_designations:
                    settled, lowest = debt_terms[id(d)]
                    d.kind = BoardDesignation.Kind.DEBT_SETTLEMENT
                    d.price_per_share = lowest or PAR_VALUE
                    # The debt named covers every share designated at that price, so the terms are consistent.
                    d.debt_amount = max(
                        settled, (d.shares * d.price_per_share).quantize(Decimal("0.01"), rounding="ROUND_UP")
                    )
                    d.debt_reference = f"Creditor claim {year}-{len(designations) + 1:06d}"
                    d.consideration_finding = (
                        f"The board finds that the cancellation of ${d.debt_amount:,} of debt is adequate "
                        f"consideration for up to {d.shares:,} shares at ${d.price_per_share} per share."
                    )
            designations.extend(approved)
        for d in designations:
            d._history_date = d.decided_at or d.proposed_at
        return designations, issuances

    def _cancellations(self, issuances) -> list[IssuanceCancellation]:
        rng = self.rng
        cancelled = rng.sample(issuances, int(len(issuances) * CANCELLED_FRACTION))
        rows = []
        for issuance in cancelled:
            on = min(issuance.issue_date + datetime.timedelta(days=rng.randint(0, 30)), self.today)
            row = IssuanceCancellation(
                issuance=issuance,
                cancelled_on=on,
                reason=rng.choice(CANCEL_REASONS),
                recorded_by=self.staff,
                recorded_at=_at(on, 16),
            )
            row._history_date = row.recorded_at
            rows.append(row)
            issuance.cancelled = True
        for issuance in issuances:
            if not getattr(issuance, "cancelled", False):
                issuance.designation.issued_shares += issuance.shares
        return rows

    def _reserve(self, designations) -> None:
        """Reserve increases every RESERVE_STEP_YEARS so that each year's approvals fit (rule 3), with room."""
        approved_by_year = defaultdict(int)
        for d in designations:
            if d.status == BoardDesignation.Status.APPROVED:
                approved_by_year[d.year] += d.shares
        authorized = INITIAL_RESERVE
        changes = []
        for step_start in self.years[::RESERVE_STEP_YEARS]:
            step_end = step_start + RESERVE_STEP_YEARS - 1
            needed = sum(total for year, total in approved_by_year.items() if year <= step_end)
            target = math.ceil(needed * 1.25 / 1_000_000) * 1_000_000
            if target > authorized:
                changes.append(
                    ShareReserveChange(
                        plan=self.plan,
                        shares=target - authorized,
                        board_approval_date=datetime.date(step_start - 1, 12, 15),
                        resolution_reference=f"Board resolution {step_start - 1}-R{len(changes) + 1}",
                        note="Reserve increase for the coming years' designations.",
                        recorded_by=self.staff,
                    )
                )
                authorized = target
        _bulk(ShareReserveChange, changes, user=self.staff)

    def _close_past_years(self, designations) -> tuple[list, list]:
        """Close every year before this one on January 15 of the next: its approved designations lapse."""
        closings = {
            year: PlanYearClosing(
                plan=self.plan,
                year=year,
                closed_on=datetime.date(year + 1, 1, 15),
                reason="Designations are for one year only (plan 3.1).",
                recorded_by=self.staff,
                recorded_at=_at(datetime.date(year + 1, 1, 15), 10),
            )
            for year in self.years
            if year < self.today.year
        }
        lapses = []
        for d in designations:
            closing = closings.get(d.year)
            if closing is not None and d.status == BoardDesignation.Status.APPROVED:
                lapses.append(
                    DesignationLapse(
                        designation=d,
                        lapsed_on=closing.closed_on,
                        released_shares=d.shares - d.issued_shares,
                        reason=f"The plan's year {d.year} was closed: {closing.reason}",
                        year_closing=closing,
                        recorded_by=self.staff,
                        recorded_at=closing.recorded_at,
                    )
                )
                d.status = BoardDesignation.Status.LAPSED
        return list(closings.values()), lapses

    def _votes(self, designations) -> list[DesignationVote]:
        votes = []
        for d in designations:
            if d.status in (BoardDesignation.Status.APPROVED, BoardDesignation.Status.REJECTED):
                decision = "approve" if d.status == BoardDesignation.Status.APPROVED else "reject"
                vote = DesignationVote(
                    designation=d,
                    voter=self.board,
                    decision=decision,
                    cast_at=d.decided_at,
                    comment="Approved at the board meeting." if decision == "approve" else "",
                )
                vote._history_date = d.decided_at
                votes.append(vote)
        return votes


def _issuance_totals(plan: Plan, designations: list, issuances: list, cancellations: list) -> list:
    """The plan's IssuanceTotal rows for the issuances and cancellations written (what the services would have
    moved one by one). Reads ids only: a row's related object is no longer cached once its id was set."""
    cancelled = {cancellation.issuance_id for cancellation in cancellations}
    categories = dict(Participant.objects.values_list("pk", "category"))
    key_of = {d.pk: (d.year, categories[d.participant_id]) for d in designations}
    totals: dict[tuple[int, str], IssuanceTotal] = {}
    for issuance in issuances:
        key = key_of[issuance.designation_id]
        total = totals.get(key)
        if total is None:
            total = totals[key] = IssuanceTotal(plan=plan, year=key[0], category=key[1])
        total.issuances += 1
        if issuance.pk in cancelled:
            total.cancellations += 1
        else:
            total.issued_shares += issuance.shares
    return list(totals.values())


def _bulk(model, rows: list, *, user) -> list:
    """Insert `rows` with one history row each ("+", by `user`, dated `_history_date` when set); return them with pks.

    On PostgreSQL the rows go in with COPY (ids taken from the table's sequence first), several times faster than
    bulk_create at 100,000 rows; elsewhere with bulk_create and simple-history's bulk_history_create, in batches.
    """
    if not rows:
        return rows
    started = time.perf_counter()
    try:
        return _insert(model, rows, user=user)
    finally:
        _TIMINGS[model.__name__] = time.perf_counter() - started


_TIMINGS: dict[str, float] = {}


def _insert(model, rows: list, *, user) -> list:
    if connection.vendor != "postgresql":
        created = model.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        if hasattr(model, "history"):
            model.history.bulk_history_create(created, batch_size=BATCH_SIZE, default_user=user)
        return created
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    for f in fields:
        if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
            for row in rows:
                if getattr(row, f.attname) is None:
                    setattr(row, f.attname, now)
    for row in rows:  # foreign keys to rows saved earlier in this run
        for f in fields:
            if f.is_relation and getattr(row, f.attname) is None and f.is_cached(row):
                setattr(row, f.attname, getattr(row, f.name).pk)
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, model._meta.pk.column, len(rows)],
        )
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk
        _copy(
            cursor,
            table,
            [model._meta.pk.column] + [f.column for f in fields],
            ([row.pk] + [getattr(row, f.attname) for f in fields] for row in rows),
        )
        if not hasattr(model, "history"):  # append-only rows with no history of their own
            for row in rows:
                row._state.adding = False
            return rows
        history = model.history.model
        tracked = [f.attname for f in history.tracked_fields]
        history_columns = [history._meta.get_field(name).column for name in tracked]
        _copy(
            cursor,
            history._meta.db_table,
            history_columns + ["history_date", "history_change_reason", "history_type", "history_user_id"],
            (
                [getattr(row, name) for name in tracked]
                + [getattr(row, "_history_date", None) or now, None, "+", user.pk if user else None]
                for row in rows
            ),
        )
    for row in rows:
        row._state.adding = False
    return rows


def _copy(cursor, table: str, columns: list[str], values) -> None:
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with cursor.cursor.copy(sql) as copy:
        for row in values:
            copy.write_row(row)
