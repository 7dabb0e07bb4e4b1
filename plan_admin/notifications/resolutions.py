"""Emails about resolutions: the invitation to sign (once per entitled director), reminders (`manage.py
send_reminders`, at most one per RESOLUTION_REMINDER_DAYS per director, unless they turned reminders off), and the
notice to staff when a resolution takes effect or is declined.

Each email names the company, the resolution's reference and kind, and the link; never a participant's shares or
any other figure. A failed send is logged and not recorded, so the next run of send_reminders tries again.
"""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .. import roles
from ..models import NotificationPreference, Resolution, ResolutionNotice

logger = logging.getLogger(__name__)
Kind = ResolutionNotice.Kind


def link(resolution: Resolution) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("resolution-detail", args=[resolution.pk])


def wants_reminders(user) -> bool:
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference is None or preference.reminders


def _send(resolution: Resolution, recipient, kind: str, connection, *, now=None) -> bool:
    """Send one email and record it; False when it could not be sent (logged) or was sent already."""
    context = {
        "resolution": resolution,
        "plan": resolution.plan,
        "recipient": recipient,
        "kind": kind,
        "link": link(resolution),
        "reminder_days": settings.RESOLUTION_REMINDER_DAYS,
        "preferences_link": settings.SITE_URL.rstrip("/") + reverse("notification-preferences"),
    }
    subject = " ".join(render_to_string("plan_admin/emails/resolution_subject.txt", context).split())
    body = render_to_string("plan_admin/emails/resolution_body.txt", context)
    message = EmailMessage(subject=subject, body=body, to=[recipient.email], connection=connection)
    try:
        with transaction.atomic():
            ResolutionNotice.objects.create(
                resolution=resolution, recipient=recipient, kind=kind, sent_at=now or timezone.now()
            )
            message.send()
    except IntegrityError:
        return False  # the invitation was sent already
    except Exception:
        logger.exception("Could not send the %s about %s to %s", kind, resolution.reference, recipient.email)
        return False
    return True


def _entitled_without_answer(resolution: Resolution):
    answered = set(resolution.signatures.values_list("signer_id", flat=True))
    answered |= set(resolution.declines.values_list("director_id", flat=True))
    return [
        seat.director
        for seat in resolution.signatories.select_related("director").filter(entitled=True)
        if seat.director_id not in answered and seat.director.is_active and seat.director.email
    ]


def send_invitations(resolution_id: int) -> int:
    """Email each entitled director the link to the resolution, once. Returns how many were sent."""
    resolution = Resolution.objects.select_related("plan").get(pk=resolution_id)
    connection = get_connection()
    return sum(
        _send(resolution, director, Kind.INVITATION, connection) for director in _entitled_without_answer(resolution)
    )


def send_reminders(*, now: datetime.datetime | None = None) -> int:
    """Remind each entitled director who has not answered a pending resolution, at most once per interval since
    the last email about it (invitation or reminder), unless they turned reminders off. Returns how many."""
    now = now or timezone.now()
    interval = datetime.timedelta(days=settings.RESOLUTION_REMINDER_DAYS)
    connection = get_connection()
    sent = 0
    for resolution in Resolution.objects.filter(status=Resolution.Status.PENDING).select_related("plan"):
        for director in _entitled_without_answer(resolution):
            if not wants_reminders(director):
                continue
            last = (
                ResolutionNotice.objects.filter(
                    resolution=resolution, recipient=director, kind__in=[Kind.INVITATION, Kind.REMINDER]
                )
                .order_by("-sent_at")
                .values_list("sent_at", flat=True)
                .first()
            )
            since = last or resolution.prepared_at
            if now - since >= interval:
                sent += _send(resolution, director, Kind.REMINDER, connection, now=now)
    return sent


def notify_staff(resolution_id: int, kind: str) -> int:
    """Tell every active member of plan staff with an email address that a resolution took effect or was
    declined."""
    resolution = Resolution.objects.select_related("plan").get(pk=resolution_id)
    staff = get_user_model().objects.filter(is_active=True, groups__name=roles.STAFF).exclude(email="").distinct()
    connection = get_connection()
    return sum(_send(resolution, user, kind, connection) for user in staff)
