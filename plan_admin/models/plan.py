"""The plan, its share reserve, the board's proposals to change the plan, and the closing of a plan's year."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from .decisions import MAX_YEAR, MIN_YEAR, BoardDecision, BoardVote


class Plan(models.Model):
    company_name = models.CharField(max_length=200)
    name = models.CharField(max_length=200, help_text="The plan's name, e.g. 2002 Stock Incentive Plan.")
    purpose = models.TextField(blank=True)
    stock_class = models.CharField(max_length=100, default="Common Stock")
    par_value = models.DecimalField(max_digits=12, decimal_places=6, help_text="Par value per share, in dollars.")
    board_approval_date = models.DateField(null=True, blank=True)
    effective_date = models.DateField(
        null=True, blank=True, help_text="Left empty while the plan's effective date is not known."
    )
    termination_date = models.DateField(
        null=True, blank=True, help_text="The date the board terminated the plan; empty while it is in effect."
    )
    termination_resolution = models.CharField(max_length=300, blank=True)
    required_approvals = models.PositiveSmallIntegerField(
        default=1, help_text="Approving board votes a decision needs (1 for a sole director)."
    )
    ledger_start_date = models.DateField(
        null=True,
        blank=True,
        help_text="From this date on, plan-admin is the book of record. Earlier history is entered from the board's "
        "records and confirmed by a board member. Empty: the plan's whole history is recorded here.",
    )
    authorized_shares = models.BigIntegerField(default=0, editable=False)
    issued_shares = models.BigIntegerField(default=0, editable=False, help_text="Net of cancellations.")
    committed_shares = models.BigIntegerField(
        default=0, editable=False, help_text="Unissued balance of every approved designation that has not lapsed."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["authorized_shares", "issued_shares", "committed_shares"])

    class Meta:
        permissions = [
            ("record_plan_term", "Can record the plan's effective date"),
            ("export_plan", "Can export plan reports"),
            ("close_plan_year", "Can close a plan's year, lapsing its designations"),
            ("record_past_records", "Can enter the plan's history from records"),
            ("confirm_past_records", "Can confirm history entered from records"),
        ]
        ordering = ["company_name", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(authorized_shares__gte=0), name="plan_authorized_not_negative"),
            models.CheckConstraint(condition=Q(issued_shares__gte=0), name="plan_issued_not_negative"),
            models.CheckConstraint(condition=Q(committed_shares__gte=0), name="plan_committed_not_negative"),
            models.CheckConstraint(
                condition=Q(issued_shares__lte=F("authorized_shares")), name="plan_issued_within_authorized"
            ),
            # DESIGN rule 3: issued + the unissued balance of every approved, unlapsed designation <= authorized.
            models.CheckConstraint(
                condition=Q(issued_shares__lte=F("authorized_shares") - F("committed_shares")),
                name="plan_issued_and_committed_within_authorized",
            ),
            models.CheckConstraint(condition=Q(par_value__gte=0), name="plan_par_value_not_negative"),
            models.CheckConstraint(condition=Q(required_approvals__gte=1), name="plan_requires_an_approval"),
            models.CheckConstraint(
                condition=Q(effective_date__isnull=True)
                | Q(termination_date__isnull=True)
                | Q(termination_date__gte=F("effective_date")),
                name="plan_terminates_after_effective_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_name} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("plan-detail", args=[self.pk])

    @property
    def is_terminated(self) -> bool:
        return self.termination_date is not None

    @property
    def available_shares(self) -> int:
        """Authorized shares neither issued nor committed to an approved designation."""
        return self.authorized_shares - self.issued_shares - self.committed_shares


class PlanProposal(BoardDecision):
    """A proposal that the board change the plan: its share reserve, or its termination (DESIGN rule 5).

    Staff propose; board members vote as on designations. An approved reserve change writes its ShareReserveChange
    row; an approved termination sets the plan's termination date.
    """

    class Kind(models.TextChoices):
        RESERVE_CHANGE = "reserve_change", "Change to the share reserve"
        TERMINATION = "termination", "Termination of the plan"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="proposals")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    shares = models.BigIntegerField(
        null=True, blank=True, help_text="Shares added (positive) or removed (negative), for a reserve change."
    )
    termination_date = models.DateField(null=True, blank=True, help_text="For a termination: the date it ends.")
    explanation = models.TextField(help_text="Why the board is asked to decide this.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)

    history = HistoricalRecords()

    class Meta:
        permissions = [
            ("vote_planproposal", "Can vote on proposals to change the plan"),
        ]
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="reserve_change", termination_date__isnull=True, shares__isnull=False) & ~Q(shares=0)
                | Q(kind="termination", shares__isnull=True, termination_date__isnull=False),
                name="plan_proposal_fields_match_kind",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["proposed", "approved", "rejected", "withdrawn"]),
                name="plan_proposal_status_valid",
            ),
            BoardDecision.decided_has_date("plan_proposal_decided_has_date"),
            models.CheckConstraint(condition=~Q(explanation=""), name="plan_proposal_explained"),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.RESERVE_CHANGE:
            verb = "Increase" if (self.shares or 0) > 0 else "Decrease"
            return f"{verb} the share reserve by {abs(self.shares or 0):,} shares"
        return f"Terminate the plan on {self.termination_date:%B %-d, %Y}" if self.termination_date else "Terminate"

    def get_absolute_url(self) -> str:
        return reverse("proposal-detail", args=[self.pk])


class PlanProposalVote(BoardVote):
    proposal = models.ForeignKey(PlanProposal, on_delete=models.PROTECT, related_name="votes")

    class Meta:
        ordering = ["proposal", "cast_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "voter"], name="vote_once_per_plan_proposal"),
            models.CheckConstraint(condition=Q(decision__in=["approve", "reject"]), name="plan_vote_decision_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.voter} {self.get_decision_display().lower()}s {self.proposal}"


class ShareReserveChange(models.Model):
    """One change to the plan's share reserve as the board decided it; the first row is the initial authorization.

    Written by the services when the board approves a PlanProposal, when the plan is set up, or when past history
    is entered from records (`entered_from_records`). Never updated or deleted.
    """

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="reserve_changes")
    shares = models.BigIntegerField(help_text="Shares added (positive) or removed (negative).")
    board_approval_date = models.DateField(help_text="The date the board acted.")
    resolution_reference = models.CharField(max_length=300, blank=True)
    note = models.TextField(blank=True)
    proposal = models.OneToOneField(
        PlanProposal, on_delete=models.PROTECT, null=True, blank=True, related_name="reserve_change"
    )
    entered_from_records = models.BooleanField(
        default=False, help_text="Entered from the board's records, dated before the plan's ledger start date."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        permissions = [
            ("export_sharereservechange", "Can export reserve history"),
        ]
        ordering = ["plan", "board_approval_date", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(shares=0), name="reserve_change_not_zero"),
            models.CheckConstraint(
                condition=Q(entered_from_records=False) | ~Q(resolution_reference=""),
                name="reserve_change_from_records_has_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shares:+,} shares ({self.board_approval_date})"


class PlanYearClosing(models.Model):
    """The recorded act that closes a plan's year: its approved designations lapse, releasing unissued shares."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="year_closings")
    year = models.PositiveSmallIntegerField()
    closed_on = models.DateField()
    reason = models.TextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "year"], name="close_a_plan_year_once"),
            models.CheckConstraint(condition=Q(year__gte=MIN_YEAR, year__lte=MAX_YEAR), name="year_closing_year_range"),
            models.CheckConstraint(condition=~Q(reason=""), name="year_closing_reason_required"),
        ]

    def __str__(self) -> str:
        return f"{self.year} closed on {self.closed_on}"
