"""Spreadsheet imports of participants, designations (as proposals) and issuances: all or nothing.

    report = run_import("issuances", uploaded_file, by=request.user, commit=False)   # preview
    report = run_import("issuances", uploaded_file, by=request.user, commit=True)    # for real

Every row goes through the same checks a form's service applies, inside ONE transaction, and the report names
every bad row and why. Issuances are parsed first (plan, participant and designation looked up once per distinct
value), then recorded by ONE call of services.issuance_record_many: it locks the plan once, checks every row
against running totals with the same checker as services.issuance_record, and refuses the whole batch, naming
every bad row, before writing anything; a valid batch is written with bulk inserts. Participants and designations
go row by row through participant_create / designation_propose, whose own atomic block rolls a refused row back.
Then, unless `commit` is true and no row was refused, the whole transaction is rolled back: a preview writes
nothing, and a file with one bad row (one that would exceed the pool, a designation, the plan's term...) writes
nothing either.

The engine is our own, around openpyxl (read-only mode) and the csv module, not django-import-export: that
library skips bad rows and commits the rest by default and validates rows outside the services.

A file that cannot be read (wrong or missing columns, empty, not a spreadsheet, larger than
settings.IMPORT_MAX_BYTES, CSV that is not UTF-8) is refused before anything runs; its error has row None.
Row numbers are the spreadsheet's own: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from . import formatting as fmt
from . import services
from .exceptions import BatchRefused
from .models import BoardDesignation, Issuance, Participant, Plan

KINDS = ("participants", "designations", "issuances")
# An XLSX is a zip; refuse one that would expand to more than this (a "zip bomb").
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_ROWS = 100_000


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    errors: list[tuple[int | None, str]] = field(default_factory=list)
    done: list[tuple[int, str]] = field(default_factory=list)  # (row, what was or would be written)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors and self.rows > 0

    @property
    def file_error(self) -> str | None:
        return next((message for row, message in self.errors if row is None), None)


class FileRejected(Exception):
    """The file as a whole cannot be imported; nothing has run."""


class RowError(Exception):
    """One row's value is not of the type its column needs."""


# --- cell parsers: spreadsheet or CSV value -> the Python type the service takes ------------------------------


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_text(value, label: str) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date):
        raise RowError(f"{label}: expected text, got a date.")
    return str(value).strip()


def parse_whole(value, label: str) -> int:
    if isinstance(value, bool):
        raise RowError(f"{label}: expected a whole number, got {value!r}.")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise RowError(f"{label}: expected a whole number, got {value:g}.")
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if text.lstrip("-").isdigit():
            return int(text)
    raise RowError(f"{label}: expected a whole number, got {str(value)[:40]!r}.")


def parse_money(value, label: str) -> Decimal:
    if isinstance(value, bool) or isinstance(value, datetime.date):
        raise RowError(f"{label}: expected a number of dollars, got {str(value)[:40]!r}.")
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("$", ""))
    except InvalidOperation:
        raise RowError(f"{label}: expected a number of dollars, got {str(value)[:40]!r}.") from None
    if not amount.is_finite():
        raise RowError(f"{label}: expected a number of dollars, got {str(value)[:40]!r}.")
    return amount


def parse_date(value, label: str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise RowError(f"{label}: expected a date as YYYY-MM-DD, got {str(value)[:40]!r}.")


def _choice(choices, noun: str):
    by_key = {}
    for value, label in choices:
        by_key[value.lower()] = value
        by_key[str(label).lower()] = value

    def parse(value, label: str) -> str:
        found = by_key.get(str(value).strip().lower().replace("-", " ")) or by_key.get(
            str(value).strip().lower().replace(" ", "_").replace("-", "_")
        )
        if found is None:
            allowed = ", ".join(value for value, _ in choices)
            raise RowError(f"{label}: {str(value)[:40]!r} is not a {noun}; use one of {allowed}.")
        return found

    return parse


def parse_plan(value, label: str) -> Plan:
    ref = parse_text(value, label)
    if ref.isdigit():
        plan = Plan.objects.filter(pk=int(ref)).first()
        if plan is None:
            raise RowError(f"{label}: there is no plan number {ref}.")
        return plan
    plans = list(Plan.objects.filter(name__iexact=ref)[:2]) or list(
        p for p in Plan.objects.all() if str(p).lower() == ref.lower()
    )[:2]
    if not plans:
        raise RowError(f"{label}: there is no plan named {ref!r}.")
    if len(plans) > 1:
        raise RowError(f"{label}: several plans are named {ref!r}; give the plan's number instead.")
    return plans[0]


def parse_participant(value, label: str) -> Participant:
    ref = parse_text(value, label)
    if ref.startswith("#") and ref[1:].isdigit() or ref.isdigit():
        participant = Participant.objects.filter(pk=int(ref.lstrip("#"))).first()
        if participant is None:
            raise RowError(f"{label}: there is no participant number {ref.lstrip('#')}.")
        return participant
    matches = list(Participant.objects.filter(name=ref)[:2]) or list(Participant.objects.filter(name__iexact=ref)[:2])
    if not matches:
        raise RowError(f"{label}: there is no participant named {ref!r}; import or add them first.")
    if len(matches) > 1:
        raise RowError(f"{label}: several participants are named {ref!r}; give the participant's number instead.")
    return matches[0]


@dataclass(frozen=True)
class ImportColumn:
    name: str
    required: bool
    parse: Callable
    help: str
    example: object = ""


@dataclass(frozen=True)
class Importer:
    kind: str
    title: str
    columns: list[ImportColumn]
    apply: Callable[..., str]  # (values: dict, by) -> a description of what it wrote


def _apply_participant(values: dict, by) -> str:
    participant = services.participant_create(
        name=values["name"], category=values["category"], email=values.get("email") or "",
        notes=values.get("notes") or "", by=by,
    )
    return f"Add participant {participant.name} ({participant.get_category_display().lower()})."


def _apply_designation(values: dict, by) -> str:
    designation = services.designation_propose(
        plan=values["plan"], participant=values["participant"], year=values["year"], shares=values["shares"],
        factors_considered=values["factors_considered"], by=by,
    )
    return (f"Propose {fmt.shares(designation.shares)} shares for {designation.participant} in {designation.year} "
            "(for the board to vote on).")


def _find_designation(*, plan: Plan, participant: Participant, year: int) -> BoardDesignation:
    designations = BoardDesignation.objects.filter(plan=plan, participant=participant, year=year)
    designation = (
        designations.filter(status=BoardDesignation.Status.APPROVED).first()
        or designations.filter(status=BoardDesignation.Status.PROPOSED).first()
        or designations.order_by("-pk").first()
    )
    if designation is None:
        raise RowError(f"{participant} has no {year} designation under {plan.name}: the board must designate them "
                       "first.")
    return designation


def _describe_issuance(*, participant, shares: int, issue_date: datetime.date, price: Decimal, kind: str,
                       debt_amount: Decimal | None) -> str:
    settles = "" if kind == Issuance.Kind.COMPENSATION else f", settling {fmt.money(debt_amount)} of debt"
    return (f"Issue {fmt.shares(shares)} shares to {participant} on {fmt.day(issue_date)}"
            f" at {fmt.money(price)}{settles}.")


def _issuance_row(values: dict, designation: BoardDesignation) -> dict:
    """The parsed row as the keyword arguments of services.issuance_record(_many)."""
    return {
        "designation": designation,
        "issue_date": values["issue_date"],
        "shares": values["shares"],
        "price_per_share": values["price_per_share"],
        "kind": values.get("kind") or Issuance.Kind.COMPENSATION,
        "debt_amount": values.get("debt_amount"),
        "debt_reference": values.get("debt_reference") or "",
        "notes": values.get("notes") or "",
    }


def _apply_issuance(values: dict, by) -> str:
    """One issuance row through services.issuance_record (the engine batches issuances; see _run_issuances)."""
    year = values.get("year") or values["issue_date"].year
    designation = _find_designation(plan=values["plan"], participant=values["participant"], year=year)
    issuance = services.issuance_record(plan=values["plan"], by=by, **_issuance_row(values, designation))
    return _describe_issuance(participant=values["participant"], shares=issuance.shares,
                              issue_date=issuance.issue_date, price=issuance.price_per_share, kind=issuance.kind,
                              debt_amount=issuance.debt_amount)


_category = _choice(Participant.Category.choices, "participant category")
_kind = _choice(Issuance.Kind.choices, "kind of issuance")
_PLAN_HELP = "The plan's name (as in the admin) or its number."
_PARTICIPANT_HELP = "The participant's name exactly as recorded, or their number (e.g. 42 or #42)."

IMPORTERS: dict[str, Importer] = {
    "participants": Importer("participants", "Participants", [
        ImportColumn("name", True, parse_text, "Full name.", "Dana Whitfield"),
        ImportColumn("category", True, _category,
                     "key_employee, consultant or non_employee_director (or Key employee, Consultant, "
                     "Non-employee director).", "key_employee"),
        ImportColumn("email", False, parse_text, "Email address.", "dana@example.com"),
        ImportColumn("notes", False, parse_text, "Free text.", ""),
    ], _apply_participant),
    "designations": Importer("designations", "Designations (proposals)", [
        ImportColumn("plan", True, parse_plan, _PLAN_HELP, "2002 Stock Incentive Plan"),
        ImportColumn("participant", True, parse_participant, _PARTICIPANT_HELP, "Dana Whitfield"),
        ImportColumn("year", True, parse_whole, "The designation year.", 2024),
        ImportColumn("shares", True, parse_whole, "Shares to designate (whole number).", 100000),
        ImportColumn("factors_considered", True, parse_text, "The factors the board is asked to consider.",
                     "Performance and retention."),
    ], _apply_designation),
    "issuances": Importer("issuances", "Issuances", [
        ImportColumn("plan", True, parse_plan, _PLAN_HELP, "2002 Stock Incentive Plan"),
        ImportColumn("participant", True, parse_participant, _PARTICIPANT_HELP, "Dana Whitfield"),
        ImportColumn("year", False, parse_whole,
                     "The year of the approved designation issued against; defaults to the issue date's year.", 2024),
        ImportColumn("issue_date", True, parse_date, "Date issued, YYYY-MM-DD (or a date cell).",
                     datetime.date(2024, 6, 30)),
        ImportColumn("shares", True, parse_whole, "Shares issued (whole number).", 1000),
        ImportColumn("price_per_share", True, parse_money, "Dollars per share, not below par.", Decimal("0.15")),
        ImportColumn("kind", False, _kind, "compensation (the default) or debt_settlement.", "compensation"),
        ImportColumn("debt_amount", False, parse_money, "Debt settlements only: dollars of debt settled.", ""),
        ImportColumn("debt_reference", False, parse_text, "Debt settlements only: invoice or note reference.", ""),
        ImportColumn("notes", False, parse_text, "Free text.", ""),
    ], _apply_issuance),
}


# --- reading files ------------------------------------------------------------------------------------------


def _normalize_header(value) -> str:
    return "_".join(str(value or "").strip().lower().replace("-", " ").split())


def _file_size(uploaded_file) -> int:
    size = getattr(uploaded_file, "size", None)
    if isinstance(size, int):
        return size
    position = uploaded_file.tell()
    uploaded_file.seek(0, io.SEEK_END)
    size = uploaded_file.tell()
    uploaded_file.seek(position)
    return size


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def _read_csv(uploaded_file) -> Iterator[list]:
    data = uploaded_file.read()
    if isinstance(data, str):
        data = data.encode()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileRejected(
            f"The CSV file is not UTF-8 text (byte {error.start + 1} cannot be read). Save it as “CSV UTF-8” and "
            "upload it again."
        ) from None
    if "\x00" in text:
        raise FileRejected("The file does not look like CSV text. Upload a .csv or .xlsx spreadsheet.")
    first_line = text.split("\n", 1)[0]
    # Excel saves "CSV" with semicolons where the comma is the decimal separator, and tabs as "Text".
    delimiter = max([",", ";", "\t"], key=first_line.count) if first_line else ","
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as error:
        raise FileRejected(f"The CSV file cannot be read: {error}.") from None


def _read_xlsx(uploaded_file) -> Iterator[list]:
    import openpyxl  # imported here: the CSV path does not need it

    if not zipfile.is_zipfile(uploaded_file):
        raise FileRejected("The file is not an XLSX spreadsheet. Upload a .xlsx (Excel) or .csv file.")
    uploaded_file.seek(0)
    try:
        with zipfile.ZipFile(uploaded_file) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED_BYTES:
                raise FileRejected("The spreadsheet expands to more data than an import may hold.")
        uploaded_file.seek(0)
        workbook = openpyxl.load_workbook(uploaded_file, read_only=True, data_only=True)
    except FileRejected:
        raise
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise FileRejected("The XLSX file cannot be read as a spreadsheet; is it damaged?") from None
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    except FileRejected:
        raise
    except Exception:
        raise FileRejected("The XLSX file cannot be read as a spreadsheet; is it damaged?") from None
    finally:
        workbook.close()


def read_rows(importer: Importer, uploaded_file) -> Iterator[tuple[int, dict]]:
    """Check the file and its header, then yield (spreadsheet row number, {column: raw value}) per non-blank row."""
    name = str(getattr(uploaded_file, "name", "") or "").lower()
    if name.endswith(".csv"):
        reader = _read_csv
    elif name.endswith(".xlsx"):
        reader = _read_xlsx
    else:
        raise FileRejected("Upload a .csv or .xlsx file (the file name must end in .csv or .xlsx).")
    size = _file_size(uploaded_file)
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise FileRejected(f"The file is {_megabytes(size)}; the largest file accepted is {_megabytes(limit)}.")
    if size == 0:
        raise FileRejected("The file is empty.")
    if hasattr(uploaded_file, "seek"):
        uploaded_file.seek(0)

    rows = enumerate(reader(uploaded_file), start=1)
    header = None
    for number, raw in rows:
        if any(not _blank(cell) for cell in raw):
            header = (number, raw)
            break
    if header is None:
        raise FileRejected("The file is empty: it has no header row and no rows to import.")
    header_row, raw_header = header
    while raw_header and _blank(raw_header[-1]):
        raw_header = raw_header[:-1]
    names = [_normalize_header(cell) for cell in raw_header]
    known = {column.name for column in importer.columns}
    expected = ", ".join(column.name for column in importer.columns)
    unknown = [str(cell) for cell, name in zip(raw_header, names) if name not in known]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    missing = [column.name for column in importer.columns if column.required and column.name not in names]
    problems = []
    if missing:
        problems.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)}")
    if duplicates:
        problems.append(f"repeated column{'s' if len(duplicates) > 1 else ''} {', '.join(duplicates)}")
    if problems:
        raise FileRejected(
            f"The header row (row {header_row}) has {'; '.join(problems)}. The columns of an import of "
            f"{importer.kind} are: {expected} (see the template)."
        )
    width = len(names)
    count = 0
    for number, raw in rows:
        if all(_blank(cell) for cell in raw):
            continue
        extra = [cell for cell in raw[width:] if not _blank(cell)]
        count += 1
        if count > MAX_ROWS:
            raise FileRejected(f"The file has more than {MAX_ROWS:,} rows; split it into smaller files.")
        values = dict(zip(names, list(raw[:width]) + [None] * (width - len(raw))))
        if extra:
            values["__extra__"] = extra
        yield number, values
    if count == 0:
        raise FileRejected("The file has a header row but no rows to import.")


def parse_row(importer: Importer, raw: dict, parsers: dict[str, Callable] | None = None) -> dict:
    """Parse one row's raw values; `parsers` replaces a column's parser (the engine passes caching lookups)."""
    if "__extra__" in raw:
        raise RowError("This row has values beyond the last column of the header.")
    values, problems = {}, []
    for column in importer.columns:
        value = raw.get(column.name)
        if _blank(value):
            if column.required:
                problems.append(f"{column.name} is empty.")
            values[column.name] = None
            continue
        try:
            values[column.name] = (parsers or {}).get(column.name, column.parse)(value, column.name)
        except RowError as error:
            problems.append(str(error))
    if problems:
        raise RowError(" ".join(problems))
    return values


# --- the engine ----------------------------------------------------------------------------------------------


def _cached(parse: Callable) -> Callable:
    """`parse` (a lookup that queries) run once per distinct cell value of an import; refusals are cached too."""
    cache: dict[tuple, tuple[object, str | None]] = {}

    def lookup(value, label: str):
        key = (label, parse_text(value, label))
        if key not in cache:
            try:
                cache[key] = (parse(value, label), None)
            except RowError as error:
                cache[key] = (None, str(error))
        result, error = cache[key]
        if error is not None:
            raise RowError(error)
        return result

    return lookup


def _lookups() -> dict[str, Callable]:
    return {"plan": _cached(parse_plan), "participant": _cached(parse_participant)}


def _run_rows(importer: Importer, uploaded_file, *, by, report: ImportReport) -> None:
    """Participants and designations: each row through its service. The service's own atomic block is the row's
    savepoint (it refuses before writing), so a refused row leaves the rows after it to be tried."""
    lookups = _lookups()
    for number, raw in read_rows(importer, uploaded_file):
        report.rows += 1
        try:
            values = parse_row(importer, raw, lookups)
            description = importer.apply(values, by)
        except RowError as error:
            report.errors.append((number, str(error)))
        except ValidationError as error:  # PlanRuleViolation and friends: the service's own words
            report.errors.append((number, " ".join(error.messages)))
        except DatabaseError as error:  # a constraint the services did not foresee
            report.errors.append((number, f"The database refused this row ({error.__class__.__name__})."))
        else:
            report.done.append((number, description))


def _run_issuances(importer: Importer, uploaded_file, *, by, report: ImportReport) -> None:
    """Parse and look up every row, then record the parsed rows with one services.issuance_record_many call."""
    lookups = _lookups()
    designations: dict[tuple[int, int, int], BoardDesignation | str] = {}
    parsed: list[tuple[int, dict]] = []  # (spreadsheet row, issuance_record_many row)
    for number, raw in read_rows(importer, uploaded_file):
        report.rows += 1
        try:
            values = parse_row(importer, raw, lookups)
            plan, participant = values["plan"], values["participant"]
            year = values.get("year") or values["issue_date"].year
            key = (plan.pk, participant.pk, year)
            if key not in designations:
                try:
                    designations[key] = _find_designation(plan=plan, participant=participant, year=year)
                    designations[key].participant = participant  # the same row: no query to describe it
                except RowError as error:
                    designations[key] = str(error)
            designation = designations[key]
            if isinstance(designation, str):
                raise RowError(designation)
        except RowError as error:
            report.errors.append((number, str(error)))
        else:
            parsed.append((number, _issuance_row(values, designation)))
    if not parsed:
        return

    def describe(row: dict) -> str:
        return _describe_issuance(participant=row["designation"].participant, shares=row["shares"],
                                  issue_date=row["issue_date"], price=row["price_per_share"], kind=row["kind"],
                                  debt_amount=row["debt_amount"])

    try:
        issuances = services.issuance_record_many(rows=[row for _, row in parsed], by=by)
    except BatchRefused as refused:
        bad = dict(refused.row_errors)
        for index, (number, row) in enumerate(parsed):
            if index in bad:
                report.errors.append((number, bad[index]))
            else:
                report.done.append((number, describe(row)))
    except DatabaseError as error:  # a constraint the services did not foresee; the batch's savepoint rolled back
        report.errors.append((None, f"The database refused the issuances ({error.__class__.__name__}); nothing was "
                                    "written."))
    else:
        for (number, row), issuance in zip(parsed, issuances):
            report.done.append((number, _describe_issuance(
                participant=row["designation"].participant, shares=issuance.shares, issue_date=issuance.issue_date,
                price=issuance.price_per_share, kind=issuance.kind, debt_amount=issuance.debt_amount,
            )))


def run_import(kind: str, uploaded_file, *, by, commit: bool) -> ImportReport:
    """Import `uploaded_file` (.csv or .xlsx) of `kind`, all or nothing. See the module docstring."""
    if kind not in IMPORTERS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    importer = IMPORTERS[kind]
    report = ImportReport(kind=kind)
    run = _run_issuances if kind == "issuances" else _run_rows
    try:
        with transaction.atomic():
            try:
                run(importer, uploaded_file, by=by, report=report)
            except FileRejected as error:
                report.errors.insert(0, (None, str(error)))
            report.errors.sort(key=lambda error: -1 if error[0] is None else error[0])
            if commit and report.ok:
                report.committed = True
            else:
                transaction.set_rollback(True)
    except DatabaseError:
        report.committed = False
        report.errors.append((None, "The database refused the import; nothing was written."))
    return report


# --- templates -----------------------------------------------------------------------------------------------


def template_rows(kind: str) -> tuple[list[str], list]:
    importer = IMPORTERS[kind]
    header = [column.name for column in importer.columns]
    example = [column.example for column in importer.columns]
    if kind in ("designations", "issuances"):
        plan = Plan.objects.order_by("pk").first()
        if plan is not None:
            example[0] = plan.name
    return header, example


def template_csv(kind: str) -> bytes:
    header, example = template_rows(kind)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerow([value.isoformat() if isinstance(value, datetime.date) else value for value in example])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(kind: str) -> bytes:
    import xlsxwriter

    header, example = template_rows(kind)
    helps = [column.help for column in IMPORTERS[kind].columns]
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet(IMPORTERS[kind].title[:31])
    bold = workbook.add_format({"bold": True})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for col, (name, value, text) in enumerate(zip(header, example, helps)):
        sheet.set_column(col, col, max(14, len(name) + 2))
        sheet.write_string(0, col, name, bold)
        if isinstance(value, datetime.date):
            sheet.write_datetime(1, col, value, date)
        elif isinstance(value, int | Decimal):
            sheet.write_number(1, col, float(value) if isinstance(value, Decimal) else value)
        elif value:
            sheet.write_string(1, col, value)
        sheet.write_comment(0, col, text)
    sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()
