"""What every decision of the board and every vote has in common.

The board decides designations, changes to the share reserve and the plan's termination (DESIGN rule 5). Each such
proposal records who proposed it and when, and, once decided, the date the board acted (`decided_on`), the document
that records it (`decision_reference`: minutes, a written consent, or the votes in this app) and how the decision
reached the ledger (`decision_source`), besides the moment it was recorded (`decided_at`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

MIN_YEAR = 1900
MAX_YEAR = 2999


class DecisionSource(models.TextChoices):
    VOTES = "votes", "Votes of the board in plan-admin"
    RECORDS = "records", "Entered from the board's records"
    RESOLUTION = "resolution", "A resolution of the board signed in plan-admin"


class VoteDecision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class BoardDecision(models.Model):
    """A proposal the board decides. Subclasses define `status` with at least proposed, approved, rejected."""

    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_on = models.DateField(null=True, blank=True, help_text="The date the board acted.")
    decision_reference = models.CharField(
        max_length=300, blank=True, help_text="The minutes, written consent or votes that record the decision."
    )
    decision_source = models.CharField(max_length=16, choices=DecisionSource.choices, blank=True)
    decided_at = models.DateTimeField(
        null=True, blank=True, help_text="When the decision (or withdrawal) was recorded."
    )

    class Meta:
        abstract = True

    @property
    def is_from_records(self) -> bool:
        return self.decision_source == DecisionSource.RECORDS

    @classmethod
    def decided_has_date(cls, name: str) -> models.CheckConstraint:
        """Decided proposals carry the date the board acted and how the decision was recorded."""
        return models.CheckConstraint(
            condition=Q(status__in=["proposed", "withdrawn"]) | (Q(decided_on__isnull=False) & ~Q(decision_source="")),
            name=name,
        )


class BoardVote(models.Model):
    """One board member's vote on one proposal; never edited."""

    Decision = VoteDecision

    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=8, choices=VoteDecision.choices)
    comment = models.TextField(blank=True)
    cast_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
