"""The plan ledger: a plan, its share reserve, participants, yearly board designations and issuances.

Every write goes through plan_admin.services; the constraints below are the backstop that holds even if a
service is wrong. Counters (Plan.authorized_shares, Plan.issued_shares, BoardDesignation.issued_shares) are kept
in step by the services and checked against the ledger rows by `manage.py reconcile`.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

MIN_YEAR = 1900
MAX_YEAR = 2999


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
    termination_resolution = models.CharField(max_length=200, blank=True)
    required_approvals = models.PositiveSmallIntegerField(
        default=1, help_text="Approving board votes a designation needs (1 for a sole director)."
    )
    authorized_shares = models.BigIntegerField(default=0, editable=False)
    issued_shares = models.BigIntegerField(default=0, editable=False, help_text="Net of cancellations.")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["authorized_shares", "issued_shares"])

    class Meta:
        permissions = [
            ("record_plan_term", "Can record the plan's effective date and termination"),
            ("export_plan", "Can export plan reports"),
        ]
        ordering = ["company_name", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(authorized_shares__gte=0), name="plan_authorized_not_negative"),
            models.CheckConstraint(condition=Q(issued_shares__gte=0), name="plan_issued_not_negative"),
            models.CheckConstraint(
                condition=Q(issued_shares__lte=F("authorized_shares")), name="plan_issued_within_authorized"
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


class ShareReserveChange(models.Model):
    """One board-approved change to the plan's share reserve; the first row is the initial authorization."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="reserve_changes")
    shares = models.BigIntegerField(help_text="Shares added (positive) or removed (negative).")
    board_approval_date = models.DateField()
    resolution_reference = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
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
        ]

    def __str__(self) -> str:
        return f"{self.shares:+,} shares ({self.board_approval_date})"


class Participant(models.Model):
    class Category(models.TextChoices):
        KEY_EMPLOYEE = "key_employee", "Key employee"
        CONSULTANT = "consultant", "Consultant"
        NON_EMPLOYEE_DIRECTOR = "non_employee_director", "Non-employee director"

    name = models.CharField(max_length=200)
    category = models.CharField(max_length=32, choices=Category.choices)
    email = models.EmailField(blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="participant",
        help_text="The login of a participant who is also a board member, so they cannot vote on themselves.",
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        permissions = [
            ("export_participant", "Can export participants"),
            ("import_participant", "Can import participants"),
        ]
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["category"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=["key_employee", "consultant", "non_employee_director"]),
                name="participant_category_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("participant-detail", args=[self.pk])


class BoardDesignation(models.Model):
    """The board's designation of a participant to receive a number of shares in one year (plan 3.1)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="designations")
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="designations")
    year = models.PositiveSmallIntegerField()
    shares = models.BigIntegerField()
    factors_considered = models.TextField(help_text="The factors the board considered (plan 3.1).")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    issued_shares = models.BigIntegerField(default=0, editable=False, help_text="Net of cancellations.")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

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
                fields=["-decided_at", "-id"], name="designation_recent_decisions",
                condition=Q(status__in=["approved", "rejected"]),
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
                condition=Q(status__in=["proposed", "approved", "rejected", "withdrawn"]),
                name="designation_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(issued_shares=0) | Q(status="approved"), name="designation_issued_only_if_approved"
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
    def unissued_shares(self) -> int:
        return self.shares - self.issued_shares


class DesignationVote(models.Model):
    """One board member's vote on one designation; never edited."""

    class Decision(models.TextChoices):
        APPROVE = "approve", "Approve"
        REJECT = "reject", "Reject"

    designation = models.ForeignKey(BoardDesignation, on_delete=models.PROTECT, related_name="votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="designation_votes")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    comment = models.TextField(blank=True)
    cast_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["designation", "cast_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["designation", "voter"], name="vote_once_per_designation"),
            models.CheckConstraint(condition=Q(decision__in=["approve", "reject"]), name="vote_decision_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.voter} {self.get_decision_display().lower()}s {self.designation}"


class IssuanceQuerySet(models.QuerySet):
    # NOT EXISTS rather than `cancellation__isnull=True`: PostgreSQL estimates Django's LEFT JOIN ... IS NULL on
    # the cancellation's id at one row and picks a plan that is hundreds of times slower on a large ledger.
    def standing(self) -> "IssuanceQuerySet":
        """Issuances not cancelled."""
        return self.filter(~models.Exists(IssuanceCancellation.objects.filter(issuance=models.OuterRef("pk"))))

    def cancelled(self) -> "IssuanceQuerySet":
        return self.filter(models.Exists(IssuanceCancellation.objects.filter(issuance=models.OuterRef("pk"))))


class Issuance(models.Model):
    """Shares issued against an approved designation; never edited or deleted, only cancelled."""

    class Kind(models.TextChoices):
        COMPENSATION = "compensation", "Compensation"
        DEBT_SETTLEMENT = "debt_settlement", "Debt settlement"

    designation = models.ForeignKey(BoardDesignation, on_delete=models.PROTECT, related_name="issuances")
    issue_date = models.DateField()
    shares = models.BigIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.COMPENSATION)
    price_per_share = models.DecimalField(max_digits=14, decimal_places=6)
    debt_amount = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, help_text="Debt settled, for a debt settlement."
    )
    debt_reference = models.CharField(max_length=200, blank=True)
    reference = models.CharField(  # db_default: raw inserts (benchmarks, past tools) that omit it stay valid
        max_length=100, blank=True, default="", db_default="",
        help_text="The company's own grant number; unique within the plan. Makes a re-imported row record once.",
    )
    notes = models.TextField(blank=True)
    submission_key = models.UUIDField(
        null=True, blank=True, unique=True, editable=False, help_text="Makes a resubmitted form record once."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = IssuanceQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        permissions = [
            ("export_issuance", "Can export issuances"),
            ("import_issuance", "Can import issuances"),
        ]
        ordering = ["-issue_date", "-pk"]
        # Serves the default ordering, so that the newest page of a 100,000-row ledger is an index scan.
        indexes = [
            models.Index(fields=["-issue_date", "-id"], name="issuance_newest_first"),
            models.Index(fields=["debt_reference"], name="issuance_debt_reference",
                         condition=~Q(debt_reference="")),  # the admin's search
        ]
        constraints = [
            models.CheckConstraint(condition=Q(shares__gt=0), name="issuance_shares_positive"),
            models.CheckConstraint(condition=Q(price_per_share__gte=0), name="issuance_price_not_negative"),
            models.CheckConstraint(
                condition=Q(kind="compensation", debt_amount__isnull=True)
                | Q(kind="debt_settlement", debt_amount__gt=0),
                name="issuance_debt_amount_matches_kind",
            ),
            # The rule is "unique within the plan" (checked under the plan lock); a constraint cannot reach the
            # plan through the designation, so the database backstop is per designation.
            models.UniqueConstraint(
                fields=["designation", "reference"], condition=~Q(reference=""),
                name="issuance_reference_unique_per_designation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shares:,} shares to {self.designation.participant} on {self.issue_date}"

    def get_absolute_url(self) -> str:
        return reverse("admin:plan_admin_issuance_change", args=[self.pk])

    @property
    def consideration(self) -> Decimal:
        return self.shares * self.price_per_share


class IssuanceCancellation(models.Model):
    """Cancels one issuance in full and returns its shares to the pool."""

    issuance = models.OneToOneField(Issuance, on_delete=models.PROTECT, related_name="cancellation")
    cancelled_on = models.DateField()
    reason = models.TextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-cancelled_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="cancellation_reason_required"),
        ]

    def __str__(self) -> str:
        return f"Cancellation of issuance #{self.issuance_id} on {self.cancelled_on}"


class ImportRecord(models.Model):
    """One spreadsheet import that was committed: the file's SHA-256 (the same file is never imported twice), what
    it held, who imported it and when. Written by plan_admin.imports in the import's own transaction."""

    class Kind(models.TextChoices):
        PARTICIPANTS = "participants", "Participants"
        DESIGNATIONS = "designations", "Designations"
        ISSUANCES = "issuances", "Issuances"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    sha256 = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the uploaded file, in hex.")
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveBigIntegerField()
    rows = models.PositiveIntegerField(help_text="Rows read from the file.")
    written = models.PositiveIntegerField(help_text="Rows that wrote to the ledger.")
    skipped = models.PositiveIntegerField(default=0, help_text="Rows already recorded (same reference and values).")
    decimal_separator = models.CharField(max_length=1, blank=True, help_text="As declared at upload; empty if not.")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-imported_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["participants", "designations", "issuances"]),
                                   name="import_record_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.file_name} ({self.imported_at:%Y-%m-%d %H:%M})"

    @property
    def imported_by_name(self) -> str:
        user = self.imported_by
        return (user.get_full_name() or user.get_username()) if user else "an unknown user"
