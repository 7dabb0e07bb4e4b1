"""The record of committed spreadsheet imports."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ImportRecord(models.Model):
    """One spreadsheet import that was committed: the file's SHA-256 (the same file is never imported twice), what
    it held, who imported it and when. Written by plan_admin.imports in the import's own transaction; never
    updated or deleted."""

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
            models.CheckConstraint(
                condition=Q(kind__in=["participants", "designations", "issuances"]), name="import_record_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.file_name} ({self.imported_at:%Y-%m-%d %H:%M})"

    @property
    def imported_by_name(self) -> str:
        user = self.imported_by
        return (user.get_full_name() or user.get_username()) if user else "an unknown user"
