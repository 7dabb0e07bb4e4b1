"""Participants: the people and firms the board may designate. Not counted against any plan."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ..exceptions import InvalidInput
from ..models import Participant
from . import _common


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
    """Change a participant's details, their login included. Locks the participant row.

    The change is kept in the participant's history. It changes no designation: each records the participant's
    login as it was when proposed (BoardDesignation.designated_user), and that user still may not vote on it.
    """
    locked = Participant.objects.select_for_update().get(pk=participant.pk)
    for field, value in clean_participant_fields(name=name, category=category, email=email, notes=notes).items():
        setattr(locked, field, value)
    locked.user = user
    _common.save(locked, by=by)
    return locked
