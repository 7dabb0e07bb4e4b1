"""Export a plan's ledger as an OCF 1.2.0 package, exactly as the ledger stands. Reads only.

    result = export_plan(plan, "out/")            # a directory
    result = export_plan(plan, "plan.ocf.zip")    # a zip (also: an open binary file)

What goes where (README.md, "Open Cap Format", says the same for users):

- Manifest.ocf.json: the issuer (the plan's company, with the formation date and country recorded for OCF), as_of
  (today), generated_at, and every file with its md5.
- StockClasses.ocf.json: the plan's class of stock, with its par value.
- StockPlans.ocf.json: the plan; initial_shares_reserved is the first reserve change (the initial authorization);
  the purpose, effective date and number of approvals a decision needs are in its comments.
- Stakeholders.ocf.json: every participant with a designation in the plan; key employee -> EMPLOYEE, consultant ->
  CONSULTANT, non-employee director -> BOARD_MEMBER (the category is also in a comment).
- Transactions.ocf.json, in the order of the ledger (date; on one day: reserve increases, issuances,
  cancellations, reserve decreases): a TX_STOCK_PLAN_POOL_ADJUSTMENT per later reserve change (shares_reserved is
  the running total after it), a TX_STOCK_ISSUANCE per issuance (board_approval_date: its designation's decision
  date; a debt settlement described in consideration_text; the designation in a comment), and per cancellation a
  TX_STOCK_CANCELLATION and a TX_STOCK_PLAN_RETURN_TO_POOL (a cancellation returns the shares to the pool).
- StockLegends.ocf.json: the legend templates an import kept (plan-admin has none of its own).
- Documents.ocf.json: the documents an import kept, and the plan-admin board record (board_record.py) with its md5.

Every object is validated against the official schemas as it is written (ocf_schema.check_object); the first
invalid one stops the export with the file, the object and the field named (OcfExportRefused). Transactions and
the board record are streamed from the database in chunks: memory does not grow with the ledger.
"""

from __future__ import annotations

import heapq
import json
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from .. import formatting as fmt
from ..models import BoardDesignation, Issuance, IssuanceCancellation, Participant, Plan
from . import board_record, ocf_schema
from .ocf_ids import Kept, Kind, category_of, merge
from .package import PackageWriter

FILES = {
    "stock_classes_files": ("StockClasses.ocf.json", "OCF_STOCK_CLASSES_FILE"),
    "stock_plans_files": ("StockPlans.ocf.json", "OCF_STOCK_PLANS_FILE"),
    "stakeholders_files": ("Stakeholders.ocf.json", "OCF_STAKEHOLDERS_FILE"),
    "stock_legend_templates_files": ("StockLegends.ocf.json", "OCF_STOCK_LEGEND_TEMPLATES_FILE"),
    "transactions_files": ("Transactions.ocf.json", "OCF_TRANSACTIONS_FILE"),
    "documents_files": ("Documents.ocf.json", "OCF_DOCUMENTS_FILE"),
}
MANIFEST = "Manifest.ocf.json"
CURRENCY = "USD"

RELATIONSHIP = {
    Participant.Category.KEY_EMPLOYEE: "EMPLOYEE",
    Participant.Category.CONSULTANT: "CONSULTANT",
    Participant.Category.NON_EMPLOYEE_DIRECTOR: "BOARD_MEMBER",
}

# On one day: what adds room first, then what uses it, then what removes it (the import replays in this order).
PHASE_RESERVE_INCREASE, PHASE_ISSUANCE, PHASE_CANCELLATION, PHASE_RESERVE_DECREASE = 0, 3, 4, 5


class OcfExportRefused(Exception):
    """The plan cannot be exported: the issuer's details are missing, or an object does not validate."""


@dataclass
class ExportResult:
    files: dict[str, str] = field(default_factory=dict)  # file name -> md5
    counts: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        parts = ", ".join(f"{count:,} {name}" for name, count in sorted(self.counts.items()))
        return f"Exported {len(self.files)} files: {parts}."


def numeric(value) -> str:
    """An OCF Numeric: a plain decimal numeral without trailing zeros ("0.15", "10000000")."""
    number = Decimal(value)
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def money(value) -> dict:
    return {"amount": numeric(value), "currency": CURRENCY}


def _dump(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()


class _Export:
    def __init__(self, plan: Plan, writer: PackageWriter, *, as_of, generated_at):
        self.plan = Plan.objects.get(pk=plan.pk)
        self.writer = writer
        self.as_of = as_of or timezone.localdate()
        self.generated_at = generated_at or timezone.now().replace(microsecond=0)
        self.kept = Kept.load(self.plan)
        self.result = ExportResult()
        self.users = dict(get_user_model().objects.values_list("pk", "username"))

    # --- validation -----------------------------------------------------------------------------------------------

    def _checked(self, filename: str, obj: dict, index: int | None = None) -> dict:
        errors = ocf_schema.check_object(obj)
        if errors:
            raise OcfExportRefused(
                f"{filename}: {ocf_schema.name_of(obj, index)} does not validate against OCF {ocf_schema.OCF_VERSION}: "
                + "; ".join(errors)
                + ". Nothing was exported."
            )
        return obj

    def _write_ocf_file(self, key: str, objects) -> None:
        filename, file_type = FILES[key]
        errors = ocf_schema.wrapper_errors({"file_type": file_type, "items": []})
        if errors:
            raise OcfExportRefused(f"{filename}: " + "; ".join(errors))

        def chunks():
            yield b'{"file_type": ' + json.dumps(file_type).encode() + b', "items": ['
            for index, obj in enumerate(objects):
                self._checked(filename, obj, index)
                self.result.counts[obj["object_type"]] += 1
                yield (b"\n" if index == 0 else b",\n") + _dump(obj)
            yield b"\n]}\n"

        self.writer.write_file(filename, _buffered(chunks()))

    # --- the plan's objects ---------------------------------------------------------------------------------------

    def ids(self) -> None:
        plan, kept = self.plan, self.kept
        self.stock_plan_id = kept.id(Kind.STOCK_PLAN, plan.pk)
        self.stock_class_id = kept.id(Kind.STOCK_CLASS, plan.pk)
        issuer_row = kept.latest(Kind.ISSUER)
        if (
            issuer_row is None
            or not issuer_row.data.get("formation_date")
            or not issuer_row.data.get("country_of_formation")
        ):
            raise OcfExportRefused(
                f"OCF needs the company's date and country of formation, which are not recorded for {plan}: a "
                'superuser records them on the plan\'s admin page ("OCF issuer details"). Nothing was exported.'
            )
        self.issuer_row = issuer_row

    def issuer(self) -> dict:
        data = dict(self.issuer_row.data)
        issuer_id = self.issuer_row.ocf_id or self.kept.derived_id("issuer", self.plan.pk)
        return merge(
            defaults={},
            kept=data,
            derived={"object_type": "ISSUER", "id": issuer_id, "legal_name": self.plan.company_name},
            comments=[],
        )

    def stock_class(self) -> dict:
        plan = self.plan
        kept = self.kept.data(Kind.STOCK_CLASS, plan.pk)
        defaults = {
            "class_type": "PREFERRED" if "preferred" in plan.stock_class.lower() else "COMMON",
            "default_id_prefix": "CS-",
            "initial_shares_authorized": "NOT APPLICABLE",
            "votes_per_share": "1",
            "seniority": "1",
        }
        derived = {
            "object_type": "STOCK_CLASS",
            "id": self.stock_class_id,
            "name": plan.stock_class,
            "par_value": money(plan.par_value),
        }
        authorized = kept.get("initial_shares_authorized", defaults["initial_shares_authorized"])
        comments = []
        if authorized == "NOT APPLICABLE":
            comments.append(
                "The company's authorized shares of this class are not recorded in plan-admin; the "
                "plan's own reserve is its StockPlan's."
            )
        return merge(defaults=defaults, kept=kept, derived=derived, comments=comments)

    def stock_plan(self, initial) -> dict:
        plan = self.plan
        derived = {
            "object_type": "STOCK_PLAN",
            "id": self.stock_plan_id,
            "plan_name": plan.name,
            "initial_shares_reserved": numeric(initial.shares if initial else 0),
            "default_cancellation_behavior": "RETURN_TO_POOL",
            "stock_class_ids": [self.stock_class_id],
        }
        if plan.board_approval_date:
            derived["board_approval_date"] = plan.board_approval_date.isoformat()
        comments = []
        if plan.purpose:
            comments.append(f"Purpose: {plan.purpose}")
        comments.append(
            "Effective date: "
            + (
                plan.effective_date.isoformat()
                if plan.effective_date
                else "not recorded (no shares may be issued until it is)."
            )
        )
        if plan.termination_date:
            comments.append(f"Terminated on {plan.termination_date.isoformat()}: {plan.termination_resolution}")
        comments.append(f"A decision of the board needs {plan.required_approvals} approving vote(s).")
        if initial is not None:
            comments.append(
                f"Initial reserve of {fmt.shares(initial.shares)} shares, approved by the board on "
                f"{initial.board_approval_date.isoformat()}"
                + (f" ({initial.resolution_reference})." if initial.resolution_reference else ".")
            )
        comments.append(
            "The board's designations (with the factors it considered), its votes, lapses, year closings "
            "and proposals to change the plan are in the plan-admin board record Document of this "
            "package."
        )
        kept = self.kept.data(Kind.STOCK_PLAN, plan.pk)
        kept.pop("stock_class_id", None)
        return merge(defaults={}, kept=kept, derived=derived, comments=comments)

    def stakeholders(self) -> list[dict]:
        mapped = list(self.kept.by_local[Kind.STAKEHOLDER])
        participants = Participant.objects.filter(Q(designations__plan=self.plan) | Q(pk__in=mapped)).distinct()
        self.stakeholder_ids = {}
        objects = []
        for participant in participants.order_by("pk"):
            stakeholder_id = self.kept.id(Kind.STAKEHOLDER, participant.pk)
            self.stakeholder_ids[participant.pk] = stakeholder_id
            objects.append(self.stakeholder(participant, stakeholder_id))
        return objects

    def stakeholder(self, participant: Participant, stakeholder_id: str) -> dict:
        kept = self.kept.data(Kind.STAKEHOLDER, participant.pk)
        derived = {"object_type": "STAKEHOLDER", "id": stakeholder_id}
        name = kept.get("name")
        if not (isinstance(name, dict) and name.get("legal_name") == participant.name):
            derived["name"] = {"legal_name": participant.name}
        if category_of(kept.get("current_relationship")) != participant.category:
            derived["current_relationship"] = RELATIONSHIP[participant.category]
        contact = kept.get("contact_info") if isinstance(kept.get("contact_info"), dict) else {}
        emails = [email.get("email_address") for email in contact.get("emails", []) if isinstance(email, dict)]
        if participant.email and participant.email not in emails:
            derived["contact_info"] = {
                **contact,
                "emails": [{"email_type": "OTHER", "email_address": participant.email}],
            }
        elif not participant.email and emails:
            rest = {key: value for key, value in contact.items() if key != "emails"}
            if rest:
                derived["contact_info"] = rest
            else:
                kept.pop("contact_info", None)
        comments = [f"Category under the plan: {participant.get_category_display()}."]
        if participant.notes:
            comments.append(f"Notes: {participant.notes}")
        return merge(
            defaults={"stakeholder_type": "INDIVIDUAL", "issuer_assigned_id": f"PA-P-{participant.pk}"},
            kept=kept,
            derived=derived,
            comments=comments,
        )

    # --- transactions ---------------------------------------------------------------------------------------------

    def transactions(self, changes) -> tuple:
        plan = self.plan
        # Tuples with shared strings: a large plan has tens of thousands of designations, most of them decided by
        # the same reference ("Votes of the board in plan-admin") for a few thousand participants.
        self.designations = {
            pk: (participant_id, sys.intern(name), year, shares, decided_on, sys.intern(reference))
            for pk, participant_id, name, year, shares, decided_on, reference in BoardDesignation.objects.filter(
                plan=plan
            )
            .values_list(
                "pk", "participant_id", "participant__name", "year", "shares", "decided_on", "decision_reference"
            )
            .iterator(chunk_size=5000)
        }
        reserve_events = []
        running = changes[0].shares if changes else 0
        for change in sorted(changes[1:], key=lambda change: (change.board_approval_date, change.pk)):
            running += change.shares
            phase = PHASE_RESERVE_INCREASE if change.shares > 0 else PHASE_RESERVE_DECREASE
            reserve_events.append((change.board_approval_date, phase, change.pk, ("reserve", change, running)))
        cancellations = [
            (row["cancelled_on"], PHASE_CANCELLATION, row["pk"], ("cancellation", row, None))
            for row in IssuanceCancellation.objects.filter(issuance__designation__plan=plan)
            .order_by("cancelled_on", "pk")
            .values("pk", "issuance_id", "issuance__shares", "cancelled_on", "reason")
        ]
        issuances = (
            (row[2], PHASE_ISSUANCE, row[0], ("issuance", row, None))
            for row in Issuance.objects.filter(designation__plan=plan)
            .order_by("issue_date", "pk")
            .values_list(
                "pk",
                "designation_id",
                "issue_date",
                "shares",
                "kind",
                "price_per_share",
                "debt_amount",
                "debt_reference",
                "notes",
            )
            .iterator(chunk_size=5000)
        )
        for _, _, _, (kind, row, extra) in heapq.merge(
            reserve_events, issuances, cancellations, key=lambda event: event[:3]
        ):
            if kind == "reserve":
                yield self.pool_adjustment(row, extra)
            elif kind == "issuance":
                yield self.issuance(row)
            else:
                yield from self.cancellation(row)

    def pool_adjustment(self, change, running: int) -> dict:
        day = change.board_approval_date.isoformat()
        derived = {
            "object_type": "TX_STOCK_PLAN_POOL_ADJUSTMENT",
            "id": self.kept.id(Kind.RESERVE_CHANGE, change.pk),
            "date": day,
            "board_approval_date": day,
            "stock_plan_id": self.stock_plan_id,
            "shares_reserved": numeric(running),
        }
        text = f"Reserve change of {change.shares:+,} shares"
        if change.resolution_reference:
            text += f", resolution: {change.resolution_reference}"
        comments = [text + "."]
        if change.note:
            comments.append(f"Note: {change.note}")
        return merge(
            defaults={}, kept=self.kept.data(Kind.RESERVE_CHANGE, change.pk), derived=derived, comments=comments
        )

    def security_id(self, issuance_pk: int) -> str:
        kept = self.kept.data(Kind.ISSUANCE, issuance_pk)
        return kept.get("security_id") or self.kept.derived_id("security", issuance_pk)

    def issuance(self, row) -> dict:
        pk, designation_id, issue_date, shares, kind, price, debt_amount, debt_reference, notes = row
        participant_id, name, year, designated, decided_on, reference = self.designations[designation_id]
        derived = {
            "object_type": "TX_STOCK_ISSUANCE",
            "id": self.kept.id(Kind.ISSUANCE, pk),
            "date": issue_date.isoformat(),
            "stakeholder_id": self.stakeholder_ids[participant_id],
            "stock_class_id": self.stock_class_id,
            "stock_plan_id": self.stock_plan_id,
            "share_price": money(price),
            "quantity": numeric(shares),
        }
        kept = self.kept.data(Kind.ISSUANCE, pk)
        if decided_on and "board_approval_date" not in kept:  # an import keeps the package's own
            derived["board_approval_date"] = decided_on.isoformat()
        if kind == Issuance.Kind.DEBT_SETTLEMENT:
            derived["consideration_text"] = (
                f"Settlement of {fmt.money(debt_amount)} of debt owed by the company ({debt_reference}), in shares "
                "rather than cash."
            )
        defaults = {
            "security_id": self.kept.derived_id("security", pk),
            "custom_id": f"PA-{pk}",
            "security_law_exemptions": [],
            "stock_legend_ids": [],
            "consideration_text": "Compensation under the plan.",
        }
        comments = [
            f"Issued against designation {self.kept.id(Kind.DESIGNATION, designation_id)}: the {year} designation of "
            f"{name} for {fmt.shares(designated)} shares, approved by the board on "
            f"{decided_on.isoformat() if decided_on else '?'}" + (f" ({reference})." if reference else ".")
        ]
        if notes:
            comments.append(f"Notes: {notes}")
        return merge(defaults=defaults, kept=kept, derived=derived, comments=comments)

    def cancellation(self, row):
        kept = self.kept.data(Kind.CANCELLATION, row["pk"])
        security_id = self.security_id(row["issuance_id"])
        day = row["cancelled_on"].isoformat()
        quantity = numeric(row["issuance__shares"])
        yield merge(
            defaults={},
            kept=kept.get("cancellation", {}),
            derived={
                "object_type": "TX_STOCK_CANCELLATION",
                "id": self.kept.id(Kind.CANCELLATION, row["pk"]),
                "security_id": security_id,
                "date": day,
                "quantity": quantity,
                "reason_text": row["reason"],
            },
            comments=["Cancelled in full; the shares return to the plan's pool."],
        )
        to_pool = kept.get("return_to_pool", {})
        yield merge(
            defaults={},
            kept={key: value for key, value in to_pool.items() if key != "id"},
            derived={
                "object_type": "TX_STOCK_PLAN_RETURN_TO_POOL",
                "id": to_pool.get("id") or self.kept.derived_id("return_to_pool", row["pk"]),
                "security_id": security_id,
                "date": day,
                "quantity": quantity,
                "reason_text": row["reason"],
                "stock_plan_id": self.stock_plan_id,
            },
            comments=[],
        )

    # --- documents ------------------------------------------------------------------------------------------------

    def documents(self) -> list[dict]:
        objects = []
        for row in self.kept.unattached.get(Kind.DOCUMENT, []):
            document = {**row.data, "object_type": "DOCUMENT", "id": row.ocf_id}
            if row.content is not None and isinstance(document.get("path"), str):
                self.writer.write_file(document["path"], [bytes(row.content)])
            objects.append(document)
        document_id = self.kept.derived_id("board_record", self.plan.pk)
        path = f"documents/plan-admin-board-record-{document_id[:8]}.json"
        with tempfile.TemporaryFile() as spool:
            wrote = {}
            for chunk in _buffered(
                board_record.write(
                    self.plan,
                    self.kept,
                    stock_plan_id=self.stock_plan_id,
                    stakeholder_ids=self.stakeholder_ids,
                    users=self.users,
                    wrote=wrote,
                )
            ):
                spool.write(chunk)
            if wrote["rows"]:
                spool.seek(0)
                md5 = self.writer.write_file(path, iter(lambda: spool.read(1 << 20), b""))
                objects.append(
                    {
                        "object_type": "DOCUMENT",
                        "id": document_id,
                        "path": f"./{path}",
                        "md5": md5,
                        "related_objects": [{"object_type": "STOCK_PLAN", "object_id": self.stock_plan_id}],
                        "comments": [
                            "plan-admin: The plan's board record in plan-admin: designations and the factors "
                            "the board considered, votes, lapses, year closings, proposals to change the plan, "
                            "and who recorded and confirmed each row (JSON)."
                        ],
                    }
                )
        return objects

    # --- the package ----------------------------------------------------------------------------------------------

    def run(self) -> ExportResult:
        self.ids()
        changes = list(self.plan.reserve_changes.order_by("pk"))
        initial = changes[0] if changes else None
        issuer = self._checked(MANIFEST, self.issuer())
        self._write_ocf_file("stock_classes_files", [self.stock_class()])
        self._write_ocf_file("stock_plans_files", [self.stock_plan(initial)])
        self._write_ocf_file("stakeholders_files", self.stakeholders())
        legends = [
            {**row.data, "object_type": "STOCK_LEGEND_TEMPLATE", "id": row.ocf_id}
            for row in self.kept.unattached.get(Kind.STOCK_LEGEND_TEMPLATE, [])
        ]
        self._write_ocf_file("stock_legend_templates_files", legends)
        self._write_ocf_file("transactions_files", self.transactions(changes))
        self._write_ocf_file("documents_files", self.documents())

        package = self.kept.latest(Kind.PACKAGE)
        comments = list(package.data.get("comments", []) if package else [])
        comments += [
            "plan-admin: Exported by plan-admin from the ledger of the plan, exactly as it stands: issuances, "
            "cancellations and reserve changes as OCF transactions; what OCF has no object for (designations, votes, "
            "lapses, proposals) in the plan-admin board record Document.",
            "plan-admin: plan-admin does not record whether a participant is a person or an entity: a stakeholder "
            "is INDIVIDUAL unless it was imported as an INSTITUTION.",
        ]
        manifest = {
            "ocf_version": ocf_schema.OCF_VERSION,
            "file_type": "OCF_MANIFEST_FILE",
            "issuer": issuer,
            "as_of": self.as_of.isoformat(),
            "generated_at": self.generated_at.isoformat(),
            "comments": comments,
            "vesting_terms_files": [],
            "valuations_files": [],
        }
        for key, (filename, _) in FILES.items():
            manifest[key] = [{"filepath": f"./{filename}", "md5": self.writer.md5s[filename]}]
        errors = ocf_schema.wrapper_errors(manifest)  # the whole manifest, its issuer included
        if errors:
            raise OcfExportRefused(f"{MANIFEST}: " + "; ".join(errors) + ". Nothing was exported.")
        self.writer.write_file(
            MANIFEST, [json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False).encode() + b"\n"]
        )
        self.result.files = dict(self.writer.md5s)
        return self.result


def _buffered(chunks, size: int = 1 << 16):
    """Join small chunks into writes of about `size` bytes."""
    buffer, length = [], 0
    for chunk in chunks:
        buffer.append(chunk)
        length += len(chunk)
        if length >= size:
            yield b"".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield b"".join(buffer)


def export_plan(plan: Plan, destination, *, as_of=None, generated_at=None) -> ExportResult:
    """Write `plan` as an OCF 1.2.0 package to `destination` (a directory, a path ending in .zip, or an open
    binary file for a zip). Raises OcfExportRefused (issuer details missing, an object that does not validate) and
    ocf_schema.OcfSchemaMissing; what was written before the refusal is incomplete and must be discarded."""
    ocf_schema.schema_dir()
    writer = PackageWriter(destination)
    try:
        return _Export(plan, writer, as_of=as_of, generated_at=generated_at).run()
    finally:
        writer.close()
