"""Login protection (django-axes) that works behind the TLS proxy, and a limit per client address.

Behind the proxy every request comes from the proxy's address (REMOTE_ADDR): locking on it would let anyone lock
out any user, everywhere. With BEHIND_TLS_PROXY on, the client's address is read from X-Forwarded-For, counting
TRUSTED_PROXY_COUNT entries from the right: each trusted proxy appends the address it received the request from,
so that entry was written by our own proxy and cannot be forged by the client (entries further left can).
axes calls `client_ip_address` through its AXES_CLIENT_IP_CALLABLE setting.

Besides axes' lockout of one username from one address, `AddressLimitHandler` blocks an address after
LOGIN_FAILURES_PER_ADDRESS failed logins, whatever the usernames (password spraying), for AXES_COOLOFF_TIME.
"""

import ipaddress

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Sum


def _valid_address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip_address(request) -> str | None:
    """The address of the client that sent `request`: REMOTE_ADDR, or behind the proxy the trusted
    X-Forwarded-For entry. A missing or malformed header falls back to REMOTE_ADDR (the proxy)."""
    remote = request.META.get("REMOTE_ADDR")
    if not settings.BEHIND_TLS_PROXY:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    count = settings.TRUSTED_PROXY_COUNT
    if count < 1 or len(hops) < count:
        return remote
    return _valid_address(hops[-count]) or remote


class AddressLimitHandler(AxesDatabaseHandler):
    """axes' database handler, plus a lockout of an address after LOGIN_FAILURES_PER_ADDRESS failures."""

    @staticmethod
    def address_failures(request) -> int:
        address = getattr(request, "axes_ip_address", None)
        if not address:
            return 0
        attempts = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=get_cool_off_threshold(request))
        return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0

    def is_locked(self, request, credentials=None) -> bool:
        if super().is_locked(request, credentials):
            return True
        return self.address_failures(request) >= settings.LOGIN_FAILURES_PER_ADDRESS

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if self.address_failures(request) >= settings.LOGIN_FAILURES_PER_ADDRESS:
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes", request=request, username=credentials.get("username"), ip_address=request.axes_ip_address
            )
