"""Resolutions of the board: a written consent in lieu of a meeting, or the record of a meeting's resolutions.

Staff gather open proposals of one plan (designations, a reserve change, a termination) into a Resolution. Its text
is rendered from the ledger rows into a PDF (the "document for signature", a ResolutionDocument), and the directors
entitled to sign (ResolutionSignatory rows, fixed when it goes out, with the recusals by name) sign it in the
browser: each ResolutionSignature records who, when, from where and the SHA-256 of the exact PDF bytes signed, and
chains to the signature before it. A director may decline (ResolutionDecline). When the required signatures are in
the resolution takes effect: its proposals are decided through the same service code as votes, dated that day, and
the signed document (the document for signature, a signature page, the deployment's seal) is stored with its hash.

Lifecycle: pending -> effective | declined | withdrawn. While pending, its proposals are frozen: no vote, no
withdrawal. Signatures, declines, withdrawals, documents and notices are append-only (plan_admin/db/append_only.py).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from .designations import BoardDesignation
from .plan import Plan, PlanProposal


class Resolution(models.Model):
    class Kind(models.TextChoices):
        WRITTEN_CONSENT = "written_consent", "Written consent in lieu of a meeting"
        MEETING = "meeting", "Resolutions adopted at a meeting of the board"

    class Status(models.TextChoices):
        PENDING = "pending", "Out for signature"
        EFFECTIVE = "effective", "In effect"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="resolutions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=300)
    meeting_date = models.DateField(null=True, blank=True, help_text="For a meeting: the day the board met.")
    required_signatures = models.PositiveSmallIntegerField(
        help_text="Every director entitled to sign, for a written consent; the plan's required approvals, for a "
        "meeting."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField(auto_now_add=True)
    effective_on = models.DateField(null=True, blank=True, help_text="The date the board acted.")
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When it took effect, was declined or withdrawn.")

    class Meta:
        permissions = [
            ("sign_resolution", "Can sign or decline resolutions of the board"),
        ]
        ordering = ["-prepared_at", "-pk"]
        indexes = [models.Index(fields=["status", "plan"], name="resolution_status_plan")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "effective", "declined", "withdrawn"]),
                name="resolution_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind="written_consent", meeting_date__isnull=True)
                | Q(kind="meeting", meeting_date__isnull=False),
                name="resolution_meeting_has_date",
            ),
            models.CheckConstraint(condition=Q(required_signatures__gte=1), name="resolution_needs_a_signature"),
            models.CheckConstraint(
                condition=~Q(status="effective") | Q(effective_on__isnull=False), name="resolution_effective_has_date"
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(closed_at__isnull=False), name="resolution_closed_has_moment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("resolution-detail", args=[self.pk])

    @property
    def reference(self) -> str:
        return f"Resolution R-{self.pk}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class ResolutionItem(models.Model):
    """One proposal the resolution decides: a designation, or a proposal to change the plan."""

    resolution = models.ForeignKey(Resolution, on_delete=models.PROTECT, related_name="items")
    position = models.PositiveSmallIntegerField()
    designation = models.ForeignKey(
        BoardDesignation, on_delete=models.PROTECT, null=True, blank=True, related_name="resolution_items"
    )
    proposal = models.ForeignKey(
        PlanProposal, on_delete=models.PROTECT, null=True, blank=True, related_name="resolution_items"
    )

    class Meta:
        ordering = ["resolution", "position"]
        constraints = [
            models.CheckConstraint(
                condition=Q(designation__isnull=False, proposal__isnull=True)
                | Q(designation__isnull=True, proposal__isnull=False),
                name="resolution_item_is_one_proposal",
            ),
            models.UniqueConstraint(fields=["resolution", "position"], name="resolution_item_position_unique"),
            models.UniqueConstraint(fields=["resolution", "designation"], name="resolution_item_designation_once"),
            models.UniqueConstraint(fields=["resolution", "proposal"], name="resolution_item_proposal_once"),
        ]

    def __str__(self) -> str:
        return str(self.designation or self.proposal)

    @property
    def subject(self):
        return self.designation if self.designation_id else self.proposal


class ResolutionSignatory(models.Model):
    """A director named in the resolution, fixed when it goes out: entitled to sign, or recused and why.

    A written consent names every member of the board; a meeting's record the directors present.
    """

    resolution = models.ForeignKey(Resolution, on_delete=models.PROTECT, related_name="signatories")
    director = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    director_name = models.CharField(max_length=300, help_text="The director's name as the document gives it.")
    entitled = models.BooleanField()
    recusal = models.TextField(blank=True, help_text="Why this director does not sign (empty when entitled).")

    class Meta:
        ordering = ["resolution", "director_name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["resolution", "director"], name="resolution_signatory_once"),
            models.CheckConstraint(
                condition=Q(entitled=True, recusal="") | (Q(entitled=False) & ~Q(recusal="")),
                name="resolution_recusal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.director_name


class ResolutionSignature(models.Model):
    """One director's signature: who, when, from where, the SHA-256 of the exact PDF bytes signed, and the chain.

    `chain_sha256` = SHA-256 over the previous link (the document's hash for the first signature) and this
    signature's fields (see plan_admin.services.resolutions.chain_link): changing or removing any signature breaks
    every link after it.
    """

    resolution = models.ForeignKey(Resolution, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=300)
    signed_at = models.DateTimeField()
    client_address = models.GenericIPAddressField(null=True, blank=True)
    document_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the PDF bytes the director signed.")
    second_factor = models.BooleanField(default=False, help_text="Whether an authenticator code was entered.")
    previous_sha256 = models.CharField(max_length=64)
    chain_sha256 = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["resolution", "signed_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["resolution", "signer"], name="resolution_signed_once"),
        ]

    def __str__(self) -> str:
        return f"{self.signer_name} signed {self.resolution.reference}"


class ResolutionDecline(models.Model):
    """A director's refusal to sign, with the reason."""

    resolution = models.ForeignKey(Resolution, on_delete=models.PROTECT, related_name="declines")
    director = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    declined_at = models.DateTimeField(auto_now_add=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["resolution", "declined_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["resolution", "director"], name="resolution_declined_once"),
            models.CheckConstraint(condition=~Q(reason=""), name="resolution_decline_has_reason"),
        ]

    def __str__(self) -> str:
        return f"Declined by {self.director}"


class ResolutionWithdrawal(models.Model):
    """The recorded act by which staff withdraw a whole resolution; its proposals are open again."""

    resolution = models.OneToOneField(Resolution, on_delete=models.PROTECT, related_name="withdrawal")
    reason = models.TextField()
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="resolution_withdrawal_has_reason")]

    def __str__(self) -> str:
        return f"Withdrawal of {self.resolution.reference}"


class ResolutionDocument(models.Model):
    """A PDF kept with the resolution, and the SHA-256 of its bytes: the document for signature, or the signed,
    sealed document. The file lives in the "resolutions" storage (settings.STORAGES)."""

    class Kind(models.TextChoices):
        FOR_SIGNATURE = "for_signature", "Document for signature"
        SIGNED = "signed", "Signed and sealed document"

    resolution = models.ForeignKey(Resolution, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    file_name = models.CharField(max_length=300, help_text="The file's name in the resolutions storage.")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    chain_sha256 = models.CharField(
        max_length=64,
        blank=True,
        help_text="For the signed document: the last link of the signatures' hash chain, which the document states.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["resolution", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["resolution", "kind"], name="resolution_document_once_per_kind"),
            models.CheckConstraint(
                condition=Q(kind__in=["for_signature", "signed"]), name="resolution_document_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.resolution.reference}"

    def get_absolute_url(self) -> str:
        return reverse("resolution-document", args=[self.resolution_id, self.kind])


class ResolutionNotice(models.Model):
    """One email sent about a resolution: to a director (the invitation to sign, a reminder) or to staff."""

    class Kind(models.TextChoices):
        INVITATION = "invitation", "Invitation to sign"
        REMINDER = "reminder", "Reminder"
        EFFECTIVE = "effective", "Resolution in effect"
        DECLINED = "declined", "Resolution declined"

    resolution = models.ForeignKey(Resolution, on_delete=models.PROTECT, related_name="notices")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["resolution", "sent_at", "pk"]
        indexes = [models.Index(fields=["resolution", "recipient", "kind"], name="resolution_notice_lookup")]
        constraints = [
            # One invitation per director per resolution; reminders are spaced by the reminder interval.
            models.UniqueConstraint(
                fields=["resolution", "recipient"],
                condition=Q(kind="invitation"),
                name="resolution_one_invitation_per_director",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} about {self.resolution.reference}"


class NotificationPreference(models.Model):
    """A user's choice about reminder emails (invitations to sign and staff notices are always sent)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notification_preference"
    )
    reminders = models.BooleanField(default=True, help_text="Send me reminders about resolutions I have not signed.")
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: reminders {'on' if self.reminders else 'off'}"
