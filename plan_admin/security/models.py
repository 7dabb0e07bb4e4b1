"""Second-factor enrolment links: the only way a user enrols an authenticator app.

A superuser issues a link for a named user (in the admin); the link is shown once, is valid for
SECOND_FACTOR_ENROLMENT_HOURS and for one enrolment. Only a hash of its secret part is stored. Each row records who
issued it, for whom, when, until when, and when it was used. Rows are kept, never edited (the admin offers no
change and no delete).
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class EnrolmentLinkQuerySet(models.QuerySet):
    def for_token(self, token: str):
        return self.filter(token_hash=token_hash(token))


class EnrolmentLink(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="enrolment_links",
        help_text="The user who will enrol an authenticator app with this link.",
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)
    issued_at = models.DateTimeField(editable=False)
    expires_at = models.DateTimeField(editable=False)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = EnrolmentLinkQuerySet.as_manager()

    class Meta:
        app_label = "plan_admin"
        ordering = ["-issued_at", "-pk"]
        verbose_name = "second-factor enrolment link"

    def __str__(self) -> str:
        return f"Enrolment link for {self.user} issued {self.issued_at:%Y-%m-%d %H:%M}"

    @classmethod
    def issue(cls, *, user, by) -> tuple["EnrolmentLink", str]:
        """A new link for `user`, issued by `by`; returns the row and the secret token (shown once, not stored)."""
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        link = cls.objects.create(
            user=user,
            token_hash=token_hash(token),
            issued_by=by,
            issued_at=now,
            expires_at=now + timedelta(hours=settings.SECOND_FACTOR_ENROLMENT_HOURS),
        )
        return link, token

    @property
    def state(self) -> str:
        if self.used_at is not None:
            return "used"
        if timezone.now() >= self.expires_at:
            return "expired"
        return "open"
