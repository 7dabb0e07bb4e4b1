"""What plan-admin keeps of the Open Cap Format (OCF) for a plan.

OCF asks for facts plan-admin's ledger does not hold (the company's date and country of formation, a stakeholder's
type, security ids, legends, documents...), and a plan imported from an OCF package must export again with the
package's own ids. Each such object is one OcfObject row: the issuer's details recorded for OCF, or an object of an
imported package with the ledger row it became (`local_id`). Append-only, like the ledger: a correction is a new
row, and the newest row of a kind and local row counts.
"""

from django.conf import settings
from django.db import models

from .plan import Plan


class OcfObject(models.Model):
    class Kind(models.TextChoices):
        ISSUER = "issuer", "Issuer details"
        STOCK_CLASS = "stock_class", "Stock class"
        STOCK_PLAN = "stock_plan", "Stock plan"
        STAKEHOLDER = "stakeholder", "Stakeholder (participant)"
        STOCK_LEGEND_TEMPLATE = "stock_legend_template", "Stock legend template"
        DOCUMENT = "document", "Document"
        RESERVE_CHANGE = "reserve_change", "Reserve change"
        DESIGNATION = "designation", "Designation"
        YEAR_CLOSING = "year_closing", "Year closing"
        LAPSE = "lapse", "Designation lapse"
        ISSUANCE = "issuance", "Issuance"
        CANCELLATION = "cancellation", "Cancellation"
        PACKAGE = "package", "Imported package"

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="ocf_objects")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    local_id = models.BigIntegerField(null=True, blank=True, help_text="The pk of the ledger row it is, if any.")
    ocf_id = models.CharField(max_length=300, blank=True, help_text="Its OCF id; empty: plan-admin derives it.")
    data = models.JSONField(default=dict, blank=True, help_text="The OCF fields plan-admin does not hold itself.")
    content = models.BinaryField(null=True, blank=True, help_text="A kept document's file, as it was imported.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "kind", "pk"]
        indexes = [models.Index(fields=["plan", "kind", "local_id"], name="ocf_object_lookup")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=[
                        "issuer",
                        "stock_class",
                        "stock_plan",
                        "stakeholder",
                        "stock_legend_template",
                        "document",
                        "reserve_change",
                        "designation",
                        "year_closing",
                        "lapse",
                        "issuance",
                        "cancellation",
                        "package",
                    ]
                ),
                name="ocf_object_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"OCF {self.get_kind_display().lower()} {self.ocf_id or self.local_id or ''}".strip()
