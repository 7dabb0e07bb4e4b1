"""Shares issued against an approved designation, and their cancellations. Both are append-only."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from .designations import BoardDesignation


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
        max_digits=16, decimal_places=2, null=True, blank=True, help_text="The amount of debt the shares settled."
    )
    debt_reference = models.CharField(max_length=200, blank=True)
    reference = models.CharField(  # db_default: raw inserts (benchmarks, past tools) that omit it stay valid
        max_length=100,
        blank=True,
        default="",
        db_default="",
        help_text="The company's own grant number; unique within the plan. Makes a re-imported row record once.",
    )
    notes = models.TextField(blank=True)
    entered_from_records = models.BooleanField(
        default=False, help_text="Entered from the company's records, dated before the plan's ledger start date."
    )
    source_reference = models.CharField(
        max_length=300, blank=True, help_text="For history entered from records: the document it comes from."
    )
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
            models.Index(
                fields=["debt_reference"], name="issuance_debt_reference", condition=~Q(debt_reference="")
            ),  # the admin's search
            models.Index(  # the board's list of history entered from records, awaiting confirmation
                fields=["issue_date"], name="issuance_from_records", condition=Q(entered_from_records=True)
            ),
            models.Index(  # the admin's list of debt settlements (a few among a million issuances), newest first
                fields=["-issue_date", "-id"], name="issuance_debt_newest_first", condition=Q(kind="debt_settlement")
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(shares__gt=0), name="issuance_shares_positive"),
            models.CheckConstraint(condition=Q(price_per_share__gte=0), name="issuance_price_not_negative"),
            models.CheckConstraint(
                condition=Q(kind="compensation", debt_amount__isnull=True)
                | Q(kind="debt_settlement", debt_amount__gt=0),
                name="issuance_debt_amount_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(entered_from_records=False) | ~Q(source_reference=""),
                name="issuance_from_records_has_source",
            ),
            # The rule is "unique within the plan" (the services check it under the plan lock); a constraint cannot
            # reach the plan through the designation, so the database's backstop is per designation.
            models.UniqueConstraint(
                fields=["designation", "reference"],
                condition=~Q(reference=""),
                name="issuance_reference_unique_per_designation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shares:,} shares to {self.designation.participant} on {self.issue_date}"

    def get_absolute_url(self) -> str:
        return reverse("designation-detail", args=[self.designation_id]) + f"#issuance-{self.pk}"

    @property
    def consideration(self) -> Decimal:
        return self.shares * self.price_per_share


class IssuanceCancellation(models.Model):
    """Cancels one issuance in full and returns its shares to the pool; never edited or deleted."""

    issuance = models.OneToOneField(Issuance, on_delete=models.PROTECT, related_name="cancellation")
    cancelled_on = models.DateField()
    reason = models.TextField()
    entered_from_records = models.BooleanField(default=False)
    source_reference = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-cancelled_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="cancellation_reason_required"),
            models.CheckConstraint(
                condition=Q(entered_from_records=False) | ~Q(source_reference=""),
                name="cancellation_from_records_has_source",
            ),
        ]

    def __str__(self) -> str:
        return f"Cancellation of issuance #{self.issuance_id} on {self.cancelled_on}"


class IssuanceTotal(models.Model):
    """The issuances of one plan, designation year and participant category, counted: how many were recorded, how
    many of those are cancelled, and the shares of those standing.

    A counter table, not part of the record: the services move it with the other counters, under the plan lock
    (services/ledger_sql.py), so that the board's charts and the admin's list counts read a few rows instead of
    every designation or issuance; `manage.py reconcile` recomputes it from the ledger. The category is the
    participant's current one: changing it moves the participant's totals (services.participant_update).
    """

    plan = models.ForeignKey("plan_admin.Plan", on_delete=models.PROTECT, related_name="issuance_totals")
    year = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=32)
    issued_shares = models.BigIntegerField(default=0, help_text="Net of cancellations.")
    issuances = models.BigIntegerField(default=0, help_text="Issuances recorded, cancelled ones included.")
    cancellations = models.BigIntegerField(default=0)

    class Meta:
        # No CHECK on the counts: the services add to a row with an upsert, whose proposed row (a cancellation's
        # negative amounts) the databases check before they find the row to add to. reconcile checks the counts.
        constraints = [
            models.UniqueConstraint(fields=["plan", "year", "category"], name="issuance_total_one_per_key"),
        ]

    def __str__(self) -> str:
        return f"Plan #{self.plan_id}, {self.year}, {self.category}: {self.issued_shares:,} shares issued"
