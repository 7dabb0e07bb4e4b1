"""Sessions end after SESSION_IDLE_SECONDS of inactivity and SESSION_ABSOLUTE_SECONDS after login, whatever
the activity in between.

Django computes a session's expiry when the session is saved, so a session that is only read (most pages) used
to end SESSION_COOKIE_AGE after its last write, however active its user (Django's expiry is now a backstop set a
few minutes after SESSION_IDLE_SECONDS). Here every request of a logged-in user
records its time in the session (a write at most once per SESSION_ACTIVITY_RESOLUTION seconds, which also moves
Django's own expiry), and a request after too long a pause, or past the absolute lifetime, logs the user out and
sends them to the login page with a message.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone

STARTED = "_plan_admin_session_started"
LAST_SEEN = "_plan_admin_last_seen"


def _now() -> float:
    return timezone.now().timestamp()


@receiver(user_logged_in, dispatch_uid="plan_admin_session_started")
def _stamp_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = _now()
        request.session[STARTED] = now
        request.session[LAST_SEEN] = now


def session_end_reason(session, now: float) -> str | None:
    """Why the session of a logged-in user has ended at `now`, or None while it lasts."""
    started = session.get(STARTED)
    last_seen = session.get(LAST_SEEN)
    if started is None or last_seen is None:
        return None  # a session from before this check: stamped below
    if now - started >= settings.SESSION_ABSOLUTE_SECONDS:
        hours = settings.SESSION_ABSOLUTE_SECONDS / 3600
        return f"Your session ended {hours:g} hours after you logged in. Log in again to continue."
    if now - last_seen >= settings.SESSION_IDLE_SECONDS:
        minutes = settings.SESSION_IDLE_SECONDS / 60
        return f"Your session ended after {minutes:g} minutes without activity. Log in again to continue."
    return None


class SessionLifetimeMiddleware:
    """After AuthenticationMiddleware and MessageMiddleware, before LoginRequiredMiddleware (which then sends the
    logged-out user to the login page) and the second-factor check."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = _now()
            reason = session_end_reason(request.session, now)
            if reason:
                logout(request)
                messages.warning(request, reason)
            else:
                request.session.setdefault(STARTED, now)
                last_seen = request.session.get(LAST_SEEN)
                if last_seen is None or now - last_seen >= settings.SESSION_ACTIVITY_RESOLUTION:
                    request.session[LAST_SEEN] = now
        return self.get_response(request)
