"""The import engine: every row checked, then all written or nothing.

Every row goes through the same checks a form's service applies, inside ONE transaction, and the report names
every bad row and why. Issuances are parsed first (plan, participant and designation looked up once per distinct
value), then recorded by ONE call of services.issuance_record_many: it locks the plan once, checks every row
against running totals with the same checker as services.issuance_record, and refuses the whole batch, naming
every bad row, before writing anything. Participants and designations go row by row through participant_create /
designation_propose, whose own atomic block rolls a refused row back. Then, unless `commit` is true and no row was
refused, the whole transaction is rolled back: a preview writes nothing, and a file with one bad row writes nothing.

Duplicates, never imported twice:
- two identical rows in one file (the same values once read) are both named and the file is refused;
- the file's SHA-256 is kept in an ImportRecord when an import commits; the same file again is refused, saying
  when and by whom it was imported (the unique sha256 column is the backstop against two concurrent uploads);
- an issuance row may carry `reference` (the company's own grant number, unique within the plan) and, as in an
  export of the ledger, `issuance_no`. A row whose reference or number is already recorded with the same values
  is reported as already recorded and skipped; with other values it is refused (an import never changes a
  recorded issuance). A row with a cancellation date is never recorded as a standing issuance.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from .. import formatting as fmt
from .. import services
from ..exceptions import BatchRefused
from ..models import BoardDesignation, ImportRecord, Issuance, Participant, Plan
from .cells import (
    CellProblem,
    ReadOptions,
    choice,
    is_blank,
    parse_date,
    parse_money,
    parse_text,
    parse_whole,
)
from .files import Deadline, FileRejected, file_size, open_upload

KINDS = ("participants", "designations", "issuances")
REFERENCE_MAX_LENGTH = Issuance._meta.get_field("reference").max_length


class RowError(Exception):
    """One row cannot be imported; the message names the cells."""


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    errors: list[tuple[int | None, str]] = field(default_factory=list)
    done: list[tuple[int, str]] = field(default_factory=list)  # (row, what was or would be written)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row, already recorded as ...)
    trailer: list[int] = field(default_factory=list)  # rows that are an export's totals and notes, not data
    ignored_columns: list[str] = field(default_factory=list)
    committed: bool = False
    sha256: str = ""
    decimal_separator: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and self.rows > 0

    @property
    def file_error(self) -> str | None:
        return next((message for row, message in self.errors if row is None), None)


# --- lookups --------------------------------------------------------------------------------------------------


def parse_plan(value, options: ReadOptions) -> Plan:
    ref = parse_text(value, options)
    if ref.isdigit():
        plan = Plan.objects.filter(pk=int(ref)).first()
        if plan is None:
            raise CellProblem(f"there is no plan number {ref}.")
        return plan
    plans = (
        list(Plan.objects.filter(name__iexact=ref)[:2])
        or [p for p in Plan.objects.all() if str(p).lower() == ref.lower()][:2]
    )
    if not plans:
        raise CellProblem(f"there is no plan named {ref!r}.")
    if len(plans) > 1:
        raise CellProblem(f"several plans are named {ref!r}; give the plan's number instead.")
    return plans[0]


def parse_participant(value, options: ReadOptions) -> Participant:
    ref = parse_text(value, options)
    if (ref.startswith("#") and ref[1:].isdigit()) or ref.isdigit():
        participant = Participant.objects.filter(pk=int(ref.lstrip("#"))).first()
        if participant is None:
            raise CellProblem(f"there is no participant number {ref.lstrip('#')}.")
        return participant
    matches = list(Participant.objects.filter(name=ref)[:2]) or list(Participant.objects.filter(name__iexact=ref)[:2])
    if not matches:
        raise CellProblem(f"there is no participant named {ref!r}; import or add them first.")
    if len(matches) > 1:
        raise CellProblem(f"several participants are named {ref!r}; give the participant's number instead.")
    return matches[0]


def parse_reference(value, options: ReadOptions) -> str:
    text = parse_text(value, options)
    if len(text) > REFERENCE_MAX_LENGTH:
        raise CellProblem(f"a reference has at most {REFERENCE_MAX_LENGTH} characters; this one has {len(text)}.")
    return text


def _cached(parse: Callable) -> Callable:
    """`parse` (a lookup that queries) run once per distinct cell value of an import; refusals are cached too."""
    cache: dict[str, tuple[object, str | None]] = {}

    def lookup(value, options: ReadOptions):
        key = parse_text(value, options)
        if key not in cache:
            try:
                cache[key] = (parse(value, options), None)
            except CellProblem as error:
                cache[key] = (None, str(error))
        result, error = cache[key]
        if error is not None:
            raise CellProblem(error)
        return result

    return lookup


def _lookups() -> dict[str, Callable]:
    return {"plan": _cached(parse_plan), "participant": _cached(parse_participant)}


# --- what each import reads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportColumn:
    name: str
    required: bool
    parse: Callable
    help: str
    example: object = ""
    choices: tuple[str, ...] = ()  # offered as a drop-down list in the XLSX template


@dataclass(frozen=True)
class Importer:
    kind: str
    title: str
    columns: list[ImportColumn]  # the template's columns
    apply: Callable[..., str] | None  # (values, by) -> a description of what it wrote; None: batched
    noun: str = "row"
    aliases: dict[str, str] = field(default_factory=dict)  # another header -> the column it is
    round_trip: list[ImportColumn] = field(default_factory=list)  # export columns read for checks, not templated
    ignored: tuple[str, ...] = ()  # export-only columns: accepted in the header, not read

    @property
    def all_columns(self) -> list[ImportColumn]:
        return self.columns + self.round_trip


def _apply_participant(values: dict, by) -> str:
    participant = services.participant_create(
        name=values["name"],
        category=values["category"],
        email=values.get("email") or "",
        notes=values.get("notes") or "",
        by=by,
    )
    return f"Add participant {participant.name} ({participant.get_category_display().lower()})."


def _apply_designation(values: dict, by) -> str:
    """A proposal for the board; or, when the row gives the board's decision, a past designation entered from its
    records (before the plan's ledger start date; it then waits for a board member's confirmation)."""
    terms = {
        "plan": values["plan"],
        "participant": values["participant"],
        "year": values["year"],
        "shares": values["shares"],
        "factors_considered": values["factors_considered"],
    }
    if any(values.get(name) for name in ("decision", "decided_on", "decision_reference")):
        designation = services.past_designation_record(
            **terms,
            decision=values.get("decision"),
            decided_on=values.get("decided_on"),
            decision_reference=values.get("decision_reference") or "",
            by=by,
        )
        return (
            f"Enter from records: {fmt.shares(designation.shares)} shares for {designation.participant} in "
            f"{designation.year}, {designation.get_status_display().lower()} by the board on "
            f"{fmt.day(designation.decided_on)} ({designation.decision_reference})."
        )
    designation = services.designation_propose(**terms, by=by)
    return (
        f"Propose {fmt.shares(designation.shares)} shares for {designation.participant} in {designation.year} "
        "(for the board to vote on)."
    )


_category = choice(Participant.Category.choices, "participant category")
_kind = choice(Issuance.Kind.choices, "kind of issuance")
_decision = choice([("approve", "Approved"), ("reject", "Rejected")], "decision of the board")
_RECORDS_HELP = "History from records only (before the plan's ledger start date): "
_PLAN_HELP = "The plan's name (as in the admin) or its number."
_PARTICIPANT_HELP = "The participant's name exactly as recorded, or their number (e.g. 42 or #42)."

# The issuance ledger's export columns (plan_admin.reports.queries.ISSUANCE_COLUMNS), normalized, that an import
# of issuances accepts and does not read: what the ledger derives or records by itself.
ISSUANCE_EXPORT_ONLY = ("category", "consideration", "recorded_at", "recorded_by", "cancellation_reason")

IMPORTERS: dict[str, Importer] = {
    "participants": Importer(
        "participants",
        "Participants",
        [
            ImportColumn("name", True, parse_text, "Full name.", "Dana Whitfield"),
            ImportColumn(
                "category",
                True,
                _category,
                "key_employee, consultant or non_employee_director (or Key employee, Consultant, "
                "Non-employee director).",
                "Key employee",
                choices=tuple(_category.labels),
            ),
            ImportColumn("email", False, parse_text, "Email address.", "dana@example.com"),
            ImportColumn("notes", False, parse_text, "Free text.", ""),
        ],
        _apply_participant,
        noun="participant",
    ),
    "designations": Importer(
        "designations",
        "Designations (proposals)",
        [
            ImportColumn("plan", True, parse_plan, _PLAN_HELP, "2002 Stock Incentive Plan"),
            ImportColumn("participant", True, parse_participant, _PARTICIPANT_HELP, "Dana Whitfield"),
            ImportColumn("year", True, parse_whole, "The designation year.", 2024),
            ImportColumn("shares", True, parse_whole, "Shares to designate (whole number).", 100000),
            ImportColumn(
                "factors_considered",
                True,
                parse_text,
                "The factors the board is asked to consider.",
                "Performance and retention.",
            ),
            ImportColumn(
                "decision",
                False,
                _decision,
                _RECORDS_HELP + "Approved or Rejected, as the board decided. "
                "Leave the three decision columns empty to propose the designation to the board.",
                "",
                choices=tuple(_decision.labels),
            ),
            ImportColumn(
                "decided_on", False, parse_date, _RECORDS_HELP + "the date the board decided, YYYY-MM-DD.", ""
            ),
            ImportColumn(
                "decision_reference",
                False,
                parse_text,
                _RECORDS_HELP + "the minutes or written consent that record the decision.",
                "",
            ),
        ],
        _apply_designation,
        noun="designation",
    ),
    "issuances": Importer(
        "issuances",
        "Issuances",
        [
            ImportColumn("plan", True, parse_plan, _PLAN_HELP, "2002 Stock Incentive Plan"),
            ImportColumn("participant", True, parse_participant, _PARTICIPANT_HELP, "Dana Whitfield"),
            ImportColumn(
                "year",
                False,
                parse_whole,
                "The year of the approved designation issued against; defaults to the issue date's year.",
                2024,
            ),
            ImportColumn(
                "issue_date", True, parse_date, "Date issued, YYYY-MM-DD (or a date cell).", datetime.date(2024, 6, 30)
            ),
            ImportColumn("shares", True, parse_whole, "Shares issued (whole number).", 1000),
            ImportColumn("price_per_share", True, parse_money, "Dollars per share, not below par.", Decimal("0.15")),
            ImportColumn(
                "kind",
                False,
                _kind,
                "compensation (the default) or debt_settlement (or Compensation, Debt settlement).",
                "Compensation",
                choices=tuple(_kind.labels),
            ),
            ImportColumn("debt_amount", False, parse_money, "Debt settlements only: dollars of debt settled.", ""),
            ImportColumn("debt_reference", False, parse_text, "Debt settlements only: invoice or note reference.", ""),
            ImportColumn(
                "reference",
                False,
                parse_reference,
                "The company's own grant number, unique within the plan. A row whose reference is already "
                "recorded with the same values is skipped, so a file can be imported again safely.",
                "G-2024-001",
            ),
            ImportColumn("notes", False, parse_text, "Free text.", ""),
            ImportColumn(
                "source_reference",
                False,
                parse_text,
                "History from records only: for an issuance dated before the plan's ledger start date, the "
                "document it comes from (stock ledger page, certificate). Such rows are entered from records "
                "and wait for a board member's confirmation.",
                "",
            ),
        ],
        None,
        noun="issuance",
        aliases={"designation_year": "year"},
        round_trip=[
            ImportColumn(
                "issuance_no",
                False,
                parse_whole,
                "From an export: the ledger's number of a recorded issuance. Such a row is checked against the "
                "ledger and skipped, never recorded again.",
            ),
            ImportColumn(
                "cancelled_on",
                False,
                parse_date,
                "From an export: a cancelled issuance is never imported as a standing one.",
            ),
        ],
        ignored=ISSUANCE_EXPORT_ONLY,
    ),
}


# --- rows -----------------------------------------------------------------------------------------------------


def parse_row(
    importer: Importer,
    raw: dict,
    *,
    number: int,
    letters: dict[str, str],
    options: ReadOptions,
    parsers: dict[str, Callable] | None = None,
) -> dict:
    """Parse one row's raw values, naming each bad cell; `parsers` replaces a column's parser (cached lookups)."""
    problems = []
    if "__extra__" in raw:
        problems.append(f"Cell {raw['__extra__']}{number} holds a value right of the header's last column.")
    if "__unnamed__" in raw:
        problems.append(f"Cell {raw['__unnamed__']}{number} holds a value in a column without a header.")
    values = {}
    for column in importer.all_columns:
        if column.name not in letters:
            values[column.name] = None
            continue
        where = f"{column.name} (cell {letters[column.name]}{number})"
        value = raw.get(column.name)
        if is_blank(value):
            if column.required:
                problems.append(f"{where} is empty.")
            values[column.name] = None
            continue
        try:
            values[column.name] = (parsers or {}).get(column.name, column.parse)(value, options)
        except CellProblem as error:
            problems.append(f"{where}: {error}")
    if problems:
        raise RowError(" ".join(problems))
    return values


def _identity(values: dict) -> tuple:
    """A row's values, comparable: two rows with the same identity are the same row twice."""
    return tuple(sorted((name, value.pk if hasattr(value, "pk") else value) for name, value in values.items()))


def _repeats(number: int, first: int, noun: str) -> str:
    return (
        f"This row repeats row {first} exactly: the same {noun} twice. Delete one of them (if both are meant, "
        "tell them apart, e.g. with a reference or a note)."
    )


def _run_rows(importer: Importer, upload, *, by, report: ImportReport) -> None:
    """Participants and designations: each row through its service. The service's own atomic block is the row's
    savepoint (it refuses before writing), so a refused row leaves the rows after it to be tried."""
    lookups = _lookups()
    seen: dict[tuple, int] = {}
    for number, raw in upload.rows():
        report.rows += 1
        try:
            values = parse_row(
                importer, raw, number=number, letters=upload.header.letters, options=upload.options, parsers=lookups
            )
        except RowError as error:
            report.errors.append((number, str(error)))
            continue
        identity = _identity(values)
        if identity in seen:
            report.errors.append((number, _repeats(number, seen[identity], importer.noun)))
            continue
        seen[identity] = number
        try:
            description = importer.apply(values, by)
        except ValidationError as error:  # PlanRuleViolation and friends: the service's own words
            report.errors.append((number, " ".join(error.messages)))
        except DatabaseError as error:  # a constraint the services did not foresee
            report.errors.append((number, f"The database refused this row ({error.__class__.__name__})."))
        else:
            report.done.append((number, description))


# --- issuances ------------------------------------------------------------------------------------------------


def _find_designation(*, plan: Plan, participant: Participant, year: int) -> BoardDesignation:
    designations = BoardDesignation.objects.filter(plan=plan, participant=participant, year=year)
    designation = (
        designations.filter(status=BoardDesignation.Status.APPROVED).first()
        or designations.filter(status=BoardDesignation.Status.PROPOSED).first()
        or designations.order_by("-pk").first()
    )
    if designation is None:
        raise RowError(
            f"{participant} has no {year} designation under {plan.name}: the board must designate them first."
        )
    return designation


def _describe_issuance(
    *,
    participant,
    shares: int,
    issue_date: datetime.date,
    price: Decimal,
    kind: str,
    debt_amount: Decimal | None,
    reference: str = "",
) -> str:
    settles = "" if kind == Issuance.Kind.COMPENSATION else f", settling {fmt.money(debt_amount)} of debt"
    named = f" (reference {reference})" if reference else ""
    return (
        f"Issue {fmt.shares(shares)} shares to {participant} on {fmt.day(issue_date)}"
        f" at {fmt.money(price)}{settles}{named}."
    )


def _issuance_row(values: dict, designation: BoardDesignation) -> dict:
    """The parsed row as a row of services.issuance_record_many."""
    return {
        "designation": designation,
        "issue_date": values["issue_date"],
        "shares": values["shares"],
        "price_per_share": values["price_per_share"],
        "kind": values.get("kind") or Issuance.Kind.COMPENSATION,
        "debt_amount": values.get("debt_amount"),
        "debt_reference": values.get("debt_reference") or "",
        "reference": values.get("reference") or "",
        "notes": values.get("notes") or "",
        # Dated before the plan's ledger start date: history entered from records (the service then requires the
        # source document, and refuses a row on the wrong side of that date).
        "from_records": bool(
            designation.plan.ledger_start_date and values["issue_date"] < designation.plan.ledger_start_date
        ),
        "source_reference": values.get("source_reference") or "",
    }


def _differences(recorded: Issuance, row: dict) -> list[str]:
    """What a file row says differently from the recorded issuance it names (by reference or number)."""
    designation = row["designation"]
    pairs = [
        (
            "designation",
            (recorded.designation.plan_id, recorded.designation.participant_id, recorded.designation.year),
            (designation.plan_id, designation.participant_id, designation.year),
            lambda v: f"{v[2]}",
        ),
        ("issue_date", recorded.issue_date, row["issue_date"], lambda v: f"{v:%Y-%m-%d}"),
        ("shares", recorded.shares, row["shares"], fmt.shares),
        ("price_per_share", recorded.price_per_share, row["price_per_share"], fmt.money),
        ("kind", recorded.kind, row["kind"], str),
        ("debt_amount", recorded.debt_amount, row["debt_amount"], lambda v: fmt.money(v) if v is not None else "none"),
        ("debt_reference", recorded.debt_reference, row["debt_reference"], repr),
        ("notes", recorded.notes, row["notes"], lambda v: repr(v[:40])),
    ]
    if row["reference"]:
        pairs.append(("reference", recorded.reference, row["reference"], repr))
    return [
        f"{name} (ledger {show(ours)}, this row {show(theirs)})" for name, ours, theirs, show in pairs if ours != theirs
    ]


def _check_recorded(number: int, row: dict, recorded: Issuance, cancelled_on, how: str) -> tuple[str, str]:
    """('skip', why) when the row is the recorded issuance, unchanged; ('error', why) otherwise."""
    different = _differences(recorded, row)
    if different:
        return "error", (
            f"{how} is already recorded as issuance #{recorded.pk} with other values: {'; '.join(different)}. An "
            "import never changes a recorded issuance: leave the row as recorded, or cancel the issuance in the "
            "admin and import the grant as a new row (new reference, no issuance number)."
        )
    cancellation = getattr(recorded, "cancellation", None)
    if cancellation is not None and cancelled_on is None:
        return "error", (
            f"{how} is issuance #{recorded.pk}, which was cancelled on {fmt.day(cancellation.cancelled_on)}; this "
            "row has no cancellation date. An import never brings a cancelled issuance back: delete the row."
        )
    if cancellation is None and cancelled_on is not None:
        return "error", (
            f"This row says cancelled on {fmt.day(cancelled_on)}, but issuance #{recorded.pk} ({how}) is standing. "
            "An import never cancels: cancel it in the admin, or delete the cancellation date."
        )
    state = f", cancelled on {fmt.day(cancellation.cancelled_on)}" if cancellation is not None else ""
    return "skip", f"Already recorded as issuance #{recorded.pk}{state} ({how}): skipped."


def _export_trailer(raw: dict) -> bool:
    """Is this row one of the totals or notes an XLSX export of the ledger writes below its table? A total row has
    a total's label in the first (plan) column and nothing but figures in the summed columns; a note row has only
    the note."""
    from ..reports.queries import ISSUANCE_TOTALS, NOTES_START

    first = raw.get("plan")
    if not isinstance(first, str):
        return False
    if first.strip() in {total.label for total in ISSUANCE_TOTALS}:
        return all(is_blank(value) for name, value in raw.items() if name not in ("plan", "shares", "debt_amount"))
    if first.startswith(NOTES_START):
        return all(is_blank(value) for name, value in raw.items() if name != "plan")
    return False


def _run_issuances(importer: Importer, upload, *, by, report: ImportReport) -> None:
    """Parse and look up every row, sort out the rows already recorded, then record the new rows with one
    services.issuance_record_many call."""
    lookups = _lookups()
    designations: dict[tuple[int, int, int], BoardDesignation | str] = {}
    parsed: list[tuple[int, dict, dict]] = []  # (spreadsheet row, issuance_record_many row, values)
    seen: dict[tuple, int] = {}
    for number, raw in upload.rows():
        if _export_trailer(raw):
            report.trailer.append(number)
            continue
        if report.trailer:  # data after what looked like the export's totals: they were data after all
            report.errors.append(
                (
                    number,
                    f"This row comes after rows that look like an export's totals or notes "
                    f"(from row {report.trailer[0]}); put every row above them.",
                )
            )
            continue
        report.rows += 1
        try:
            values = parse_row(
                importer, raw, number=number, letters=upload.header.letters, options=upload.options, parsers=lookups
            )
            identity = _identity(values)
            if identity in seen:
                raise RowError(_repeats(number, seen[identity], importer.noun))
            seen[identity] = number
            plan, participant = values["plan"], values["participant"]
            year = values.get("year") or values["issue_date"].year
            key = (plan.pk, participant.pk, year)
            if key not in designations:
                try:
                    designations[key] = _find_designation(plan=plan, participant=participant, year=year)
                    designations[key].participant = participant  # the same rows: no query to describe it
                    designations[key].plan = plan
                except RowError as error:
                    designations[key] = str(error)
            designation = designations[key]
            if isinstance(designation, str):
                raise RowError(designation)
        except RowError as error:
            report.errors.append((number, str(error)))
        else:
            parsed.append((number, _issuance_row(values, designation), values))
    if not parsed:
        return

    # Lock the plans the rows belong to, in the services' order (ascending pk), before reading what is recorded:
    # no other writer can record a reference in these plans until this import's transaction ends.
    plan_ids = sorted({row["designation"].plan_id for _, row, _ in parsed})
    list(Plan.objects.select_for_update().filter(pk__in=plan_ids).order_by("pk").values_list("pk", flat=True))
    references = {row["reference"] for _, row, _ in parsed if row["reference"]}
    numbers = {values["issuance_no"] for _, _, values in parsed if values.get("issuance_no")}
    recorded = Issuance.objects.select_related("designation", "cancellation")
    by_reference = {
        (issuance.designation.plan_id, issuance.reference): issuance
        for issuance in (
            recorded.filter(designation__plan_id__in=plan_ids, reference__in=references) if references else []
        )
    }
    by_number = {issuance.pk: issuance for issuance in (recorded.filter(pk__in=numbers) if numbers else [])}

    new: list[tuple[int, dict]] = []
    first_use: dict[tuple[int, str], int] = {}
    for number, row, values in parsed:
        plan_id, reference = row["designation"].plan_id, row["reference"]
        cancelled_on, issuance_no = values.get("cancelled_on"), values.get("issuance_no")
        if reference:
            if (plan_id, reference) in first_use:
                report.errors.append(
                    (
                        number,
                        f"reference (cell {upload.header.letters['reference']}{number}): "
                        f"{reference!r} is also the reference of row "
                        f"{first_use[plan_id, reference]}; a reference names one issuance.",
                    )
                )
                continue
            first_use[plan_id, reference] = number
        match, how = None, ""
        if issuance_no:
            match, how = by_number.get(issuance_no), f"Issuance number {issuance_no}"
            if match is None:
                report.errors.append(
                    (
                        number,
                        f"There is no issuance number {issuance_no} in the ledger; leave "
                        "issuance_no empty for a new issuance.",
                    )
                )
                continue
            if reference and by_reference.get((plan_id, reference)) not in (None, match):
                report.errors.append(
                    (
                        number,
                        f"Reference {reference!r} is issuance "
                        f"#{by_reference[plan_id, reference].pk}, not #{issuance_no}.",
                    )
                )
                continue
        elif reference and (plan_id, reference) in by_reference:
            match, how = by_reference[plan_id, reference], f"Reference {reference!r}"
        if match is not None:
            verdict, message = _check_recorded(number, row, match, cancelled_on, how)
            (report.skipped if verdict == "skip" else report.errors).append((number, message))
            continue
        if cancelled_on is not None:
            report.errors.append(
                (
                    number,
                    f"This row has a cancellation date ({fmt.day(cancelled_on)}): an import "
                    "records standing issuances only, and a cancelled issuance is never "
                    "imported. Delete the row.",
                )
            )
            continue
        new.append((number, row))
    if not new:  # rows refused above are named already; the service names its own refusals in the rest
        return

    def describe(row: dict, issuance: Issuance | None = None) -> str:
        source = issuance or row
        get = (lambda name: getattr(issuance, name)) if issuance else (lambda name: source[name])
        return _describe_issuance(
            participant=row["designation"].participant,
            shares=get("shares"),
            issue_date=get("issue_date"),
            price=get("price_per_share"),
            kind=get("kind"),
            debt_amount=get("debt_amount"),
            reference=row["reference"],
        )

    rows = [row for _, row in new]
    try:
        issuances = services.issuance_record_many(rows=rows, by=by)
    except BatchRefused as refused:
        bad = dict(refused.row_errors)
        for index, (number, row) in enumerate(new):
            if index in bad:
                report.errors.append((number, bad[index]))
            else:
                report.done.append((number, describe(row)))
        return
    except DatabaseError as error:  # a constraint the services did not foresee; the batch's savepoint rolled back
        report.errors.append(
            (None, f"The database refused the issuances ({error.__class__.__name__}); nothing was written.")
        )
        return
    for (number, row), issuance in zip(new, issuances, strict=True):
        report.done.append((number, describe(row, issuance)))


# --- the import -----------------------------------------------------------------------------------------------


def file_sha256(uploaded_file) -> str:
    digest = hashlib.sha256()
    uploaded_file.seek(0)
    for chunk in iter(lambda: uploaded_file.read(1 << 20), b""):
        digest.update(chunk if isinstance(chunk, bytes) else chunk.encode())
    uploaded_file.seek(0)
    return digest.hexdigest()


def _already_imported(record: ImportRecord) -> str:
    moment = timezone.localtime(record.imported_at)
    return (
        f"This file was already imported on {fmt.day(moment.date())} at {moment:%H:%M} by "
        f"{record.imported_by_name} ({record.file_name}, {record.rows:,} rows, {record.written:,} written). "
        "The same file is never imported twice."
    )


def run_import(kind: str, uploaded_file, *, by, commit: bool, decimal_separator: str = "") -> ImportReport:
    """Import `uploaded_file` (.csv or .xlsx) of `kind`, all or nothing. See the module docstring.

    `decimal_separator` is what the uploader declared: "" (not declared: ambiguous numbers are refused), "." or ",".
    """
    if kind not in IMPORTERS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    importer = IMPORTERS[kind]
    options = ReadOptions(decimal_separator=decimal_separator)
    report = ImportReport(kind=kind, decimal_separator=decimal_separator)
    deadline = Deadline()
    run = _run_issuances if kind == "issuances" else _run_rows
    try:
        with transaction.atomic():
            try:
                report.sha256 = file_sha256(uploaded_file)
                earlier = ImportRecord.objects.select_related("imported_by").filter(sha256=report.sha256).first()
                if earlier is not None:
                    raise FileRejected(_already_imported(earlier))
                upload = open_upload(importer, uploaded_file, options, deadline)
                report.ignored_columns = upload.header.ignored
                run(importer, upload, by=by, report=report)
            except FileRejected as error:
                report.errors.insert(0, (None, str(error)))
            report.errors.sort(key=lambda error: -1 if error[0] is None else error[0])
            if commit and report.ok:
                _record_import(report, uploaded_file, by=by)
            if commit and report.ok:
                report.committed = True
            else:
                transaction.set_rollback(True)
    except DatabaseError:
        report.committed = False
        report.errors.append((None, "The database refused the import; nothing was written."))
    return report


def _record_import(report: ImportReport, uploaded_file, *, by) -> None:
    """Keep the file's hash; a concurrent import of the same file meets the unique constraint and is refused."""
    try:
        with transaction.atomic():
            ImportRecord.objects.create(
                kind=report.kind,
                sha256=report.sha256,
                file_name=str(getattr(uploaded_file, "name", "") or "")[-255:] or "upload",
                file_size=file_size(uploaded_file),
                rows=report.rows,
                written=len(report.done),
                skipped=len(report.skipped),
                decimal_separator=report.decimal_separator,
                imported_by=by,
            )
    except IntegrityError:
        earlier = ImportRecord.objects.select_related("imported_by").filter(sha256=report.sha256).first()
        report.errors.insert(
            0,
            (None, _already_imported(earlier) if earlier else "This file is being imported by someone else right now."),
        )
