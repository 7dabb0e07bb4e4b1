"""The issuer's details OCF requires and the ledger does not hold: the company's date and country of formation
(and, optionally, the class's authorized shares and votes per share). Recorded once per plan by a superuser,
appended as OcfObject rows (a correction is a new row; an imported plan keeps what its package said)."""

from __future__ import annotations

import datetime
import re

from django.db import transaction

from ..exceptions import InvalidInput
from ..models import OcfObject, Plan
from ..services import _common
from .ocf_ids import Kind


@transaction.atomic
def issuer_details_record(
    *,
    plan: Plan,
    formation_date: datetime.date,
    country_of_formation: str,
    country_subdivision: str = "",
    class_authorized_shares: int | None = None,
    votes_per_share: str = "",
    by,
) -> OcfObject:
    """Record the company's formation date and country (ISO 3166-1 alpha-2) for the plan's OCF exports.

    Raises InvalidInput for a date in the future, a country that is not two capital letters, a subdivision longer
    than 3 characters (ISO 3166-2, e.g. NV), a class reserve below one share or a votes count that is not a number.
    """
    locked = _common.lock_plan(plan.pk)
    formation_date = _common.date(formation_date, field="formation_date", label="date of formation")
    _common.not_in_future(formation_date, field="formation_date", what="The company's formation")
    country = (country_of_formation or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise InvalidInput(
            "Enter the country of formation as its two-letter ISO code, e.g. US.", field="country_of_formation"
        )
    subdivision = (country_subdivision or "").strip().upper()
    if subdivision and not re.fullmatch(r"[A-Z0-9]{1,3}", subdivision):
        raise InvalidInput("Enter the state or province as its ISO 3166-2 code, e.g. NV.", field="country_subdivision")
    previous = OcfObject.objects.filter(plan=locked, kind=Kind.ISSUER).order_by("-pk").first()
    data = dict(previous.data) if previous else {}
    data.update(formation_date=formation_date.isoformat(), country_of_formation=country)
    if subdivision:
        data["country_subdivision_of_formation"] = subdivision
    else:
        data.pop("country_subdivision_of_formation", None)
    row = OcfObject.objects.create(
        plan=locked, kind=Kind.ISSUER, ocf_id=previous.ocf_id if previous else "", data=data, recorded_by=by
    )
    if class_authorized_shares is not None or votes_per_share:
        previous_class = (
            OcfObject.objects.filter(plan=locked, kind=Kind.STOCK_CLASS, local_id=locked.pk).order_by("-pk").first()
        )
        class_data = dict(previous_class.data) if previous_class else {}
        if class_authorized_shares is not None:
            class_data["initial_shares_authorized"] = str(
                _common.whole_shares(class_authorized_shares, field="class_authorized_shares")
            )
        if votes_per_share:
            text = str(votes_per_share).strip()
            if not re.fullmatch(r"[0-9]+(\.[0-9]{1,10})?", text):
                raise InvalidInput("Enter the votes per share as a number, e.g. 1.", field="votes_per_share")
            class_data["votes_per_share"] = text
        OcfObject.objects.create(
            plan=locked,
            kind=Kind.STOCK_CLASS,
            local_id=locked.pk,
            ocf_id=previous_class.ocf_id if previous_class else "",
            data=class_data,
            recorded_by=by,
        )
    return row


def issuer_details(plan: Plan) -> dict:
    row = OcfObject.objects.filter(plan=plan, kind=Kind.ISSUER).order_by("-pk").first()
    return dict(row.data) if row else {}
