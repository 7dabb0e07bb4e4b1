"""The plan-admin board record: what the ledger holds that OCF has no object for, as a Document of the package.

OCF 1.2.0 knows issuances, cancellations and pool adjustments, but not the board's yearly designations and the
factors it considered, its votes, the lapse of a designation, the closing of a year, the board's proposals to change
the plan, nor who recorded each row and whether it was entered from the board's records and confirmed. The export
writes all of it as one JSON file (`documents/plan-admin-board-record-<id>.json`), listed in Documents.ocf.json
with its md5 and related to the StockPlan; every object in it is named by its OCF id, so that it reads together
with the OCF files. An import of a package that has one takes the designations, lapses, year closings, the plan's
terms and each issuance's kind, debt and notes from it, and keeps the file itself (OcfObject, a DOCUMENT): a plan
imported from a package exports that same file again.

Only rows that did not come from an imported package are written: what came from one is in that package's record.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal

from django.db.models import Prefetch

from ..models import (
    BoardDesignation,
    DesignationLapse,
    DesignationVote,
    Issuance,
    IssuanceCancellation,
    Plan,
    PlanProposal,
    PlanProposalVote,
    PlanYearClosing,
    RecordConfirmation,
)
from .ocf_ids import Kept, Kind

FORMAT = "plan-admin board record"
VERSION = 1


def _day(value):
    return value.isoformat() if value else None


def _moment(value):
    return value.isoformat() if value else None


def _user(user_id, users: dict):
    return users.get(user_id) if user_id else None


def _money(value):
    if value is None:
        return None
    return format(Decimal(value).normalize(), "f")


def _dump(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()


def _confirmations(field: str, ids) -> dict:
    if not ids:
        return {}
    rows = RecordConfirmation.objects.filter(**{f"{field}__in": ids}).values(
        f"{field}_id", "confirmed_by__username", "confirmed_at", "comment"
    )
    return {
        row[f"{field}_id"]: {
            "confirmed_by": row["confirmed_by__username"],
            "confirmed_at": _moment(row["confirmed_at"]),
            "comment": row["comment"],
        }
        for row in rows
    }


def write(
    plan: Plan, kept: Kept, *, stock_plan_id: str, stakeholder_ids: dict[int, str], users: dict[int, str], wrote: dict
):
    """Yield the board record's bytes for the rows of `plan` not imported from a package; `wrote["rows"]` counts
    what it held (none: the caller drops it). Designations and issuances are read in chunks: the record of a large
    ledger is never held in memory."""
    sections: list[tuple[str, list]] = []
    header = {"format": FORMAT, "version": VERSION, "stock_plan_id": stock_plan_id}
    if not kept.mapped(Kind.STOCK_PLAN, plan.pk):
        header["plan"] = {
            "company_name": plan.company_name,
            "plan_name": plan.name,
            "purpose": plan.purpose,
            "stock_class": plan.stock_class,
            "par_value": _money(plan.par_value),
            "board_approval_date": _day(plan.board_approval_date),
            "effective_date": _day(plan.effective_date),
            "termination_date": _day(plan.termination_date),
            "termination_resolution": plan.termination_resolution,
            "required_approvals": plan.required_approvals,
            "ledger_start_date": _day(plan.ledger_start_date),
        }

    changes = [
        change for change in plan.reserve_changes.order_by("pk") if not kept.mapped(Kind.RESERVE_CHANGE, change.pk)
    ]
    first_pk = plan.reserve_changes.order_by("pk").values_list("pk", flat=True).first()
    confirmed = _confirmations("reserve_change", [change.pk for change in changes])
    sections.append(
        (
            "reserve_changes",
            [
                {
                    "id": stock_plan_id if change.pk == first_pk else kept.id(Kind.RESERVE_CHANGE, change.pk),
                    "initial": change.pk == first_pk,
                    "shares": change.shares,
                    "board_approval_date": _day(change.board_approval_date),
                    "resolution_reference": change.resolution_reference,
                    "note": change.note,
                    "proposal_id": kept.derived_id("proposal", change.proposal_id) if change.proposal_id else None,
                    "entered_from_records": change.entered_from_records,
                    "recorded_by": _user(change.recorded_by_id, users),
                    "recorded_at": _moment(change.recorded_at),
                    "confirmation": confirmed.get(change.pk),
                }
                for change in changes
            ],
        )
    )

    closings = [
        closing
        for closing in PlanYearClosing.objects.filter(plan=plan).order_by("year", "pk")
        if not kept.mapped(Kind.YEAR_CLOSING, closing.pk)
    ]
    sections.append(
        (
            "year_closings",
            [
                {
                    "id": kept.id(Kind.YEAR_CLOSING, closing.pk),
                    "year": closing.year,
                    "closed_on": _day(closing.closed_on),
                    "reason": closing.reason,
                    "recorded_by": _user(closing.recorded_by_id, users),
                    "recorded_at": _moment(closing.recorded_at),
                }
                for closing in closings
            ],
        )
    )

    sections.append(("designations", _designation_entries(plan, kept, stakeholder_ids, users)))

    proposals = (
        PlanProposal.objects.filter(plan=plan)
        .prefetch_related(Prefetch("votes", queryset=PlanProposalVote.objects.order_by("cast_at", "pk")))
        .order_by("proposed_at", "pk")
    )
    sections.append(
        (
            "proposals",
            [
                {
                    "id": kept.derived_id("proposal", proposal.pk),
                    "kind": proposal.kind,
                    "shares": proposal.shares,
                    "termination_date": _day(proposal.termination_date),
                    "explanation": proposal.explanation,
                    "status": proposal.status,
                    "proposed_by": _user(proposal.proposed_by_id, users),
                    "proposed_at": _moment(proposal.proposed_at),
                    "decided_on": _day(proposal.decided_on),
                    "decision_reference": proposal.decision_reference,
                    "decision_source": proposal.decision_source,
                    "decided_at": _moment(proposal.decided_at),
                    "votes": [
                        {
                            "voter": _user(vote.voter_id, users),
                            "decision": vote.decision,
                            "comment": vote.comment,
                            "cast_at": _moment(vote.cast_at),
                        }
                        for vote in proposal.votes.all()
                    ],
                }
                for proposal in proposals
            ],
        )
    )

    cancellations = [
        row
        for row in IssuanceCancellation.objects.filter(issuance__designation__plan=plan)
        .order_by("cancelled_on", "pk")
        .values("pk", "issuance_id", "entered_from_records", "source_reference", "recorded_by_id", "recorded_at")
        if not kept.mapped(Kind.CANCELLATION, row["pk"])
    ]
    confirmed = _confirmations("cancellation", [row["pk"] for row in cancellations])
    cancellation_entries = [
        {
            "id": kept.id(Kind.CANCELLATION, row["pk"]),
            "issuance_id": kept.id(Kind.ISSUANCE, row["issuance_id"]),
            "entered_from_records": row["entered_from_records"],
            "source_reference": row["source_reference"],
            "recorded_by": _user(row["recorded_by_id"], users),
            "recorded_at": _moment(row["recorded_at"]),
            "confirmation": confirmed.get(row["pk"]),
        }
        for row in cancellations
    ]

    wrote["rows"] = 0
    yield b'{"format": ' + json.dumps(FORMAT).encode() + b', "version": ' + str(VERSION).encode()
    yield b', "stock_plan_id": ' + json.dumps(stock_plan_id).encode()
    if "plan" in header:
        wrote["rows"] += 1
        yield b',\n"plan": ' + _dump(header["plan"])
    for name, rows in sections:
        yield from _list(name, rows, wrote)
    yield from _list("issuances", _issuance_entries(plan, kept, users), wrote)
    yield from _list("cancellations", cancellation_entries, wrote)
    yield b"\n}\n"


def _list(name: str, rows, wrote: dict):
    yield b',\n"' + name.encode() + b'": ['
    for index, row in enumerate(rows):
        wrote["rows"] += 1
        yield (b"\n" if index == 0 else b",\n") + _dump(row)
    yield b"\n]"


def _designation_entries(plan: Plan, kept: Kept, stakeholder_ids: dict, users: dict):
    """The designations not imported, one at a time, with their votes, lapse and confirmation (read as values,
    not model instances: a large plan has tens of thousands)."""
    mapped = kept.by_local[Kind.DESIGNATION]
    votes: dict[int, list] = {}
    for designation_id, voter, decision, comment, cast_at in (
        DesignationVote.objects.filter(designation__plan=plan)
        .order_by("designation_id", "cast_at", "pk")
        .values_list("designation_id", "voter_id", "decision", "comment", "cast_at")
        .iterator(chunk_size=5000)
    ):
        votes.setdefault(designation_id, []).append((voter, sys.intern(decision), sys.intern(comment), cast_at))
    lapses = {
        row[0]: (row[1], row[2], sys.intern(row[3]), *row[4:])
        for row in DesignationLapse.objects.filter(designation__plan=plan)
        .values_list(
            "designation_id",
            "lapsed_on",
            "released_shares",
            "reason",
            "year_closing_id",
            "recorded_by_id",
            "recorded_at",
        )
        .iterator(chunk_size=5000)
    }
    confirmed = {
        row[0]: {"confirmed_by": row[1], "confirmed_at": _moment(row[2]), "comment": row[3]}
        for row in RecordConfirmation.objects.filter(designation__plan=plan).values_list(
            "designation_id", "confirmed_by__username", "confirmed_at", "comment"
        )
    }
    rows = (
        BoardDesignation.objects.filter(plan=plan)
        .order_by("year", "pk")
        .values_list(
            "pk",
            "participant_id",
            "year",
            "shares",
            "factors_considered",
            "status",
            "proposed_by_id",
            "proposed_at",
            "designated_user_id",
            "decided_on",
            "decision_reference",
            "decision_source",
            "decided_at",
            "kind",
            "debt_amount",
            "debt_reference",
            "price_per_share",
            "consideration_finding",
        )
        .iterator(chunk_size=5000)
    )
    for (
        pk,
        participant_id,
        year,
        shares,
        factors,
        status,
        proposed_by,
        proposed_at,
        designated_user,
        decided_on,
        reference,
        source,
        decided_at,
        kind,
        debt_amount,
        debt_reference,
        price,
        finding,
    ) in rows:
        if pk in mapped:
            continue
        lapse = lapses.get(pk)
        yield {
            "id": kept.id(Kind.DESIGNATION, pk),
            "stakeholder_id": stakeholder_ids.get(participant_id),
            "year": year,
            "shares": shares,
            "factors_considered": factors,
            "status": status,
            "kind": kind,
            **(
                {}
                if kind == BoardDesignation.Kind.COMPENSATION
                else {
                    "debt_amount": str(debt_amount),
                    "debt_reference": debt_reference,
                    "price_per_share": str(price),
                    "consideration_finding": finding,
                }
            ),
            "proposed_by": _user(proposed_by, users),
            "proposed_at": _moment(proposed_at),
            "designated_user": _user(designated_user, users),
            "decided_on": _day(decided_on),
            "decision_reference": reference,
            "decision_source": source,
            "decided_at": _moment(decided_at),
            "votes": [
                {"voter": _user(voter, users), "decision": decision, "comment": comment, "cast_at": _moment(cast_at)}
                for voter, decision, comment, cast_at in votes.get(pk, [])
            ],
            "lapse": None
            if lapse is None
            else {
                "lapsed_on": _day(lapse[0]),
                "released_shares": lapse[1],
                "reason": lapse[2],
                "year_closing_id": kept.id(Kind.YEAR_CLOSING, lapse[3]) if lapse[3] else None,
                "recorded_by": _user(lapse[4], users),
                "recorded_at": _moment(lapse[5]),
            },
            "confirmation": confirmed.get(pk),
        }


def _issuance_entries(plan: Plan, kept: Kept, users: dict):
    mapped = kept.by_local[Kind.ISSUANCE]
    rows = (
        Issuance.objects.filter(designation__plan=plan)
        .order_by("issue_date", "pk")
        .values_list(
            "pk",
            "designation_id",
            "kind",
            "debt_amount",
            "debt_reference",
            "notes",
            "entered_from_records",
            "source_reference",
            "recorded_by_id",
            "recorded_at",
        )
        .iterator(chunk_size=5000)
    )
    pending: list[dict] = []
    for pk, designation_id, kind, debt, debt_reference, notes, from_records, source, recorder, at in rows:
        if pk in mapped:
            continue
        entry = {
            "id": kept.id(Kind.ISSUANCE, pk),
            "designation_id": kept.id(Kind.DESIGNATION, designation_id),
            "kind": kind,
            "recorded_by": _user(recorder, users),
            "recorded_at": _moment(at),
        }
        if kind == Issuance.Kind.DEBT_SETTLEMENT:
            entry["debt_amount"] = _money(debt)
            entry["debt_reference"] = debt_reference
        if notes:
            entry["notes"] = notes
        if from_records:
            entry["entered_from_records"] = True
            entry["source_reference"] = source
            entry["_pk"] = pk
        pending.append(entry)
        if len(pending) >= 2000:
            yield from _flush(pending)
            pending = []
    yield from _flush(pending)


def _flush(pending: list[dict]):
    """A batch of entries; those entered from records get their confirmations (one query a batch)."""
    confirmed = _confirmations("issuance", [entry["_pk"] for entry in pending if "_pk" in entry])
    for entry in pending:
        if "_pk" in entry:
            entry["confirmation"] = confirmed.get(entry.pop("_pk"))
        yield entry


def parse(content: bytes) -> dict | None:
    """The board record in a document's bytes, or None if the document is not one."""
    if not content.lstrip().startswith(b"{") or FORMAT.encode() not in content[:200]:
        return None
    try:
        record = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        return None
    return record
