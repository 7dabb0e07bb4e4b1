"""Stable OCF ids, and what plan-admin keeps of OCF for a plan (plan_admin.models.OcfObject).

A row recorded in plan-admin gets an id derived from its primary key in a namespace of its plan:
"pa-<namespace>-<kind>-<pk>", the namespace being 12 hex digits of a UUID 5 of the plan's pk and the moment the plan
was created (e.g. "pa-3cac0b955b67-issuance-123"). The same row has the same
id in every export; two plans (even in two databases, or a plan re-imported from its own export) never share a
namespace. A row imported from an OCF package keeps the package's id (its OcfObject row), so that exporting it
again gives the ids the package had.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from ..models import OcfObject, Plan

GENERATED_PREFIX = "plan-admin: "  # comments plan-admin writes; an import does not keep them (they are re-derived)

Kind = OcfObject.Kind


def plan_namespace(plan: Plan) -> uuid.UUID:
    created = plan.created_at.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%S%f")
    return uuid.uuid5(uuid.NAMESPACE_URL, f"plan-admin/plan/{plan.pk}/{created}")


@dataclass
class Kept:
    """The OcfObject rows of one plan, newest first per (kind, local row)."""

    plan: Plan
    namespace: uuid.UUID
    by_local: dict[str, dict[int, OcfObject]] = field(default_factory=lambda: defaultdict(dict))
    unattached: dict[str, list[OcfObject]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def load(cls, plan: Plan, *, kinds=None) -> Kept:
        kept = cls(plan=plan, namespace=plan_namespace(plan))
        rows = OcfObject.objects.filter(plan=plan).order_by("pk")
        if kinds is not None:
            rows = rows.filter(kind__in=kinds)
        for row in rows.iterator(chunk_size=5000):
            if row.local_id is None:
                kept.unattached[row.kind].append(row)
            else:
                kept.by_local[row.kind][row.local_id] = row  # a later row replaces an earlier one
        return kept

    def row(self, kind: str, local_id: int) -> OcfObject | None:
        return self.by_local[kind].get(local_id)

    def mapped(self, kind: str, local_id: int) -> bool:
        return local_id in self.by_local[kind]

    def data(self, kind: str, local_id: int) -> dict:
        row = self.row(kind, local_id)
        return dict(row.data) if row is not None else {}

    def derived_id(self, kind: str, local_id: int | str) -> str:
        """A readable id unique to this plan: "pa-<12 hex of the plan's namespace>-<kind>-<pk>"."""
        return f"{self.prefix}{kind.replace('_', '-')}-{local_id}"

    @property
    def prefix(self) -> str:
        return f"pa-{self.namespace.hex[:12]}-"

    def id(self, kind: str, local_id: int) -> str:
        """The OCF id of a ledger row: the package's id if it was imported, else derived."""
        row = self.row(kind, local_id)
        if row is not None and row.ocf_id:
            return row.ocf_id
        return self.derived_id(kind, local_id)

    def latest(self, kind: str) -> OcfObject | None:
        rows = self.unattached.get(kind) or []
        attached = list(self.by_local[kind].values())
        candidates = rows + attached
        return max(candidates, key=lambda row: row.pk) if candidates else None


def own_comments(comments) -> list[str]:
    """The comments of an imported object that plan-admin did not write itself."""
    if not isinstance(comments, list):
        return []
    return [text for text in comments if isinstance(text, str) and not text.startswith(GENERATED_PREFIX)]


def merge(*, defaults: dict, kept: dict, derived: dict, comments: list[str]) -> dict:
    """An OCF object: plan-admin's defaults, then the fields an import kept, then what the ledger says (which wins);
    comments are the imported ones followed by plan-admin's. Keys are sorted when the object is written."""
    obj = {**defaults, **{key: value for key, value in kept.items() if key != "comments"}, **derived}
    all_comments = own_comments(kept.get("comments")) + [GENERATED_PREFIX + text for text in comments]
    if all_comments:
        obj["comments"] = all_comments
    else:
        obj.pop("comments", None)
    return obj


# OCF's relationship of a stakeholder to the issuer -> the plan's participant category (plan 2: key employees,
# consultants, non-employee directors). Anything else (an investor, "OTHER", none) is no participant of the plan.
CATEGORY_OF_RELATIONSHIP = {
    "EMPLOYEE": "key_employee",
    "EX_EMPLOYEE": "key_employee",
    "NON_US_EMPLOYEE": "key_employee",
    "EXECUTIVE": "key_employee",
    "OFFICER": "key_employee",
    "FOUNDER": "key_employee",
    "CONSULTANT": "consultant",
    "EX_CONSULTANT": "consultant",
    "ADVISOR": "consultant",
    "EX_ADVISOR": "consultant",
    "BOARD_MEMBER": "non_employee_director",
}


def category_of(relationship) -> str | None:
    return CATEGORY_OF_RELATIONSHIP.get(relationship) if isinstance(relationship, str) else None
