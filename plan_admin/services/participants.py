"""Participants: the people and firms the board may designate. Not counted against any plan."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from ..exceptions import InvalidInput
from ..models import Issuance, Participant, Plan
from . import _common, ledger_sql


def clean_participant_fields(*, name, category, email, notes) -> dict:
    if category not in Participant.Category.values:
        raise InvalidInput("Choose a category: key employee, consultant or non-employee director.", field="category")
    return {
        "name": _common.text(name, field="name", label="name", required=True, max_length=200),
        "category": category,
        "email": _common.text(email, field="email", label="email", max_length=254),
        "notes": _common.text(notes, field="notes", label="notes"),
    }


@transaction.atomic
def participant_create(
    *, name: str, category: str, email: str = "", notes: str = "", user=None, by: AbstractBaseUser | None
) -> Participant:
    """Add a participant. Locks nothing: participants are not counted against any plan."""
    participant = Participant(
        **clean_participant_fields(name=name, category=category, email=email, notes=notes), user=user
    )
    _common.save(participant, by=by)
    return participant


@transaction.atomic
def participant_update(
    *,
    participant: Participant,
    name: str,
    category: str,
    email: str = "",
    notes: str = "",
    user=None,
    by: AbstractBaseUser | None,
) -> Participant:
    """Change a participant's details, their login included. Locks every plan (in pk order, the one lock order),
    then the participant row: a new category moves the participant's issuance totals in each plan, and whether the
    category changes is known only once the row is locked (another update may have changed it meanwhile).

    The change is kept in the participant's history. It changes no designation: each records the participant's
    login as it was when proposed (BoardDesignation.designated_user), and that user still may not vote on it.
    """
    cleaned = clean_participant_fields(name=name, category=category, email=email, notes=notes)
    list(Plan.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
    locked = Participant.objects.select_for_update().get(pk=participant.pk)
    if locked.category != cleaned["category"]:
        _move_totals_to(locked, cleaned["category"])
    for field, value in cleaned.items():
        setattr(locked, field, value)
    locked.user = user
    _common.save(locked, by=by)
    return locked


def _move_totals_to(participant: Participant, category: str) -> None:
    """Move the participant's issuances in the issuance totals from their category to `category`. The caller
    holds every plan's lock, so no issuance of theirs is being recorded or cancelled meanwhile."""
    moves: dict[tuple[int, int, str], tuple[int, int, int]] = {}
    rows = (
        Issuance.objects.filter(designation__participant=participant)
        .values_list("designation__plan_id", "designation__year")
        .annotate(
            standing=Coalesce(Sum("shares", filter=Q(cancellation__isnull=True)), 0),
            recorded=Count("pk"),
            cancelled=Count("cancellation"),
        )
        .order_by()
    )
    for plan_id, year, standing, recorded, cancelled in rows:
        moves[(plan_id, year, participant.category)] = (-standing, -recorded, -cancelled)
        moves[(plan_id, year, category)] = (standing, recorded, cancelled)
    ledger_sql.move_totals(moves)
