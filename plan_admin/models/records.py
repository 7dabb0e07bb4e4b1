"""The board's confirmation of history entered from records.

A plan adopted before plan-admin keeps its earlier history: staff enter past designations, reserve changes,
issuances and cancellations from the board's records, dated before the plan's ledger start date. Each waits on the
board's page until a board member confirms it against its source document; the confirmation is this row. Until a
past designation is confirmed, no new issuance may be made against it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .designations import BoardDesignation
from .issuances import Issuance, IssuanceCancellation
from .plan import ShareReserveChange

RECORD_FIELDS = ("designation", "reserve_change", "issuance", "cancellation")


def _exactly_one_record() -> Q:
    condition = Q()
    for field in RECORD_FIELDS:
        only_this = Q(**{f"{field}__isnull": False})
        for other in RECORD_FIELDS:
            if other != field:
                only_this &= Q(**{f"{other}__isnull": True})
        condition |= only_this
    return condition


class RecordConfirmation(models.Model):
    """A board member's confirmation of one row entered from records. Never updated or deleted."""

    designation = models.OneToOneField(
        BoardDesignation, on_delete=models.PROTECT, null=True, blank=True, related_name="confirmation"
    )
    reserve_change = models.OneToOneField(
        ShareReserveChange, on_delete=models.PROTECT, null=True, blank=True, related_name="confirmation"
    )
    issuance = models.OneToOneField(
        Issuance, on_delete=models.PROTECT, null=True, blank=True, related_name="confirmation"
    )
    cancellation = models.OneToOneField(
        IssuanceCancellation, on_delete=models.PROTECT, null=True, blank=True, related_name="confirmation"
    )
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(auto_now_add=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-confirmed_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=_exactly_one_record(), name="confirmation_of_exactly_one_record"),
        ]

    def __str__(self) -> str:
        return f"Confirmation by {self.confirmed_by} at {self.confirmed_at:%Y-%m-%d %H:%M}"

    @property
    def record(self):
        return next(getattr(self, field) for field in RECORD_FIELDS if getattr(self, f"{field}_id"))
