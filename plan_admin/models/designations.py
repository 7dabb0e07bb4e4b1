"""The board's yearly designations (plan 3.1), the votes on them, and their lapses."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from .decisions import MAX_YEAR, MIN_YEAR, BoardDecision, BoardVote
from .participants import Participant
from .plan import Plan, PlanYearClosing


class BoardDesignation(BoardDecision):
    """The board's designation of a participant to receive a number of shares in one year (plan 3.1).

    Lifecycle: proposed -> approved | rejected | withdrawn; approved -> lapsed (a recorded act after its year).
    An approved designation that has not lapsed reserves its unissued shares (Plan.committed_shares). Its plan,
    participant, year, shares, proposer and designated user never change (the database refuses it).
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"
        LAPSED = "lapsed", "Lapsed"

    class Kind(models.TextChoices):
        COMPENSATION = "compensation", "Compensation"
        DEBT_SETTLEMENT = "debt_settlement", "Debt settlement"

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="designations")
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="designations")
    designated_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The participant's login when the designation was proposed: that user does not vote on it.",
    )
    year = models.PositiveSmallIntegerField()
    shares = models.BigIntegerField()
    factors_considered = models.TextField(help_text="The factors the board considered (plan 3.1).")
    # A debt settlement (plan 1.1: "to reduce debts of the Company through the issuance of Common Stock"): the
    # designation names the creditor's debt and the price per share, and the board's approval records its finding
    # that cancelling that debt is adequate consideration for the shares. Fixed once proposed, like the shares.
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.COMPENSATION)
    debt_amount = models.DecimalField(
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="The debt the shares settle.",
    )
    debt_reference = models.CharField(max_length=200, blank=True, help_text="The creditor's invoice, note, claim.")
    price_per_share = models.DecimalField(
        max_digits=14,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="For a debt settlement: the price at which the debt buys shares.",
    )
    consideration_finding = models.TextField(
        blank=True,
        help_text="For an approved debt settlement: the board's finding that cancelling the debt is "
        "adequate consideration for the shares.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    issued_shares = models.BigIntegerField(default=0, editable=False, help_text="Net of cancellations.")

    history = HistoricalRecords()

    class Meta:
        permissions = [
            ("vote_boarddesignation", "Can vote on board designations"),
            ("export_boarddesignation", "Can export designations"),
            ("import_boarddesignation", "Can import designations"),
        ]
        ordering = ["-year", "participant__name", "pk"]
        indexes = [
            models.Index(fields=["plan", "status", "year"]),
            models.Index(fields=["-year", "-id"], name="designation_newest_first"),  # the admin's list order
            models.Index(  # the board's "recent decisions" (decided designations always have decided_at)
                fields=["-decided_at", "-id"],
                name="designation_recent_decisions",
                condition=Q(status__in=["approved", "rejected"]),
            ),
            models.Index(  # the board dashboard's open proposals, a page at a time
                fields=["plan", "-year"], name="designation_open_proposals", condition=Q(status="proposed")
            ),
            models.Index(  # the board's count of designations entered from records awaiting confirmation
                fields=["id"], name="designation_from_records", condition=Q(decision_source="records")
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(shares__gt=0), name="designation_shares_positive"),
            models.CheckConstraint(condition=Q(year__gte=MIN_YEAR, year__lte=MAX_YEAR), name="designation_year_range"),
            models.CheckConstraint(condition=Q(issued_shares__gte=0), name="designation_issued_not_negative"),
            models.CheckConstraint(
                condition=Q(issued_shares__lte=F("shares")), name="designation_issued_within_shares"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["proposed", "approved", "rejected", "withdrawn", "lapsed"]),
                name="designation_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(issued_shares=0) | Q(status__in=["approved", "lapsed"]),
                name="designation_issued_only_if_approved",
            ),
            BoardDecision.decided_has_date("designation_decided_has_date"),
            models.CheckConstraint(
                condition=Q(
                    kind="compensation",
                    debt_amount__isnull=True,
                    price_per_share__isnull=True,
                    debt_reference="",
                    consideration_finding="",
                )
                | (Q(kind="debt_settlement", debt_amount__gt=0, price_per_share__gt=0) & ~Q(debt_reference="")),
                name="designation_debt_terms_match_kind",
            ),
            models.CheckConstraint(  # an approved settlement carries the board's finding on the consideration
                condition=~Q(kind="debt_settlement", status__in=["approved", "lapsed"]) | ~Q(consideration_finding=""),
                name="designation_debt_settlement_has_finding",
            ),
            models.UniqueConstraint(
                fields=["plan", "participant", "year"],
                condition=Q(status__in=["proposed", "approved"]),
                name="designation_one_open_per_participant_year",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant} – {self.year}: {self.shares:,} shares"

    def get_absolute_url(self) -> str:
        return reverse("designation-detail", args=[self.pk])

    @property
    def is_debt_settlement(self) -> bool:
        return self.kind == self.Kind.DEBT_SETTLEMENT

    @property
    def unissued_shares(self) -> int:
        return self.shares - self.issued_shares

    @property
    def committed_shares(self) -> int:
        """What this designation reserves in the pool: its unissued shares while approved and not lapsed."""
        return self.unissued_shares if self.status == self.Status.APPROVED else 0


class DesignationVote(BoardVote):
    """One board member's vote on one designation; never edited."""

    designation = models.ForeignKey(BoardDesignation, on_delete=models.PROTECT, related_name="votes")

    history = HistoricalRecords()

    class Meta:
        ordering = ["designation", "cast_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["designation", "voter"], name="vote_once_per_designation"),
            models.CheckConstraint(condition=Q(decision__in=["approve", "reject"]), name="vote_decision_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.voter} {self.get_decision_display().lower()}s {self.designation}"


class DesignationLapse(models.Model):
    """The recorded act by which an approved designation lapses after its year, releasing its unissued shares."""

    designation = models.OneToOneField(BoardDesignation, on_delete=models.PROTECT, related_name="lapse")
    lapsed_on = models.DateField()
    released_shares = models.BigIntegerField(help_text="The unissued shares the lapse returned to the pool.")
    reason = models.TextField()
    year_closing = models.ForeignKey(
        PlanYearClosing, on_delete=models.PROTECT, null=True, blank=True, related_name="lapses"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-lapsed_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(released_shares__gte=0), name="lapse_releases_no_negative_shares"),
            models.CheckConstraint(condition=~Q(reason=""), name="lapse_reason_required"),
        ]

    def __str__(self) -> str:
        return f"Lapse of {self.designation} on {self.lapsed_on}"


class DesignationTotal(models.Model):
    """How many designations one plan holds for one year in one status (a designation is never deleted, and its
    plan and year never change).

    A counter table, not part of the record: the services move it under the plan lock when they record a
    designation and when its status changes (services/designations.py), so that the admin's designation list and
    the plan page count from a few rows instead of every designation; `manage.py reconcile` recomputes it from
    the ledger.
    """

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="designation_totals")
    year = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=BoardDesignation.Status.choices)
    designations = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "year", "status"], name="designation_total_one_per_key"),
            models.CheckConstraint(condition=Q(designations__gte=0), name="designation_total_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Plan #{self.plan_id}, {self.year}, {self.status}: {self.designations:,} designations"
