"""A second factor (TOTP, django-otp) for every privileged role, when REQUIRE_SECOND_FACTOR is on.

Privileged: board members (they decide), plan staff (they write the ledger) and superusers. A privileged user who
has logged in with a password but not yet with a code is sent to /account/two-factor/ for every page:

- with a confirmed authenticator device, they enter its code (once per session);
- without one, they are told to ask an administrator for an enrolment link. Nobody enrols on first login: whoever
  had the password would own the factor. A superuser issues a one-time link for a named user in the admin
  (plan_admin.security: EnrolmentLink); at /account/enrol/<token>/, logged in as that user, they scan the QR code
  and confirm a code, which replaces any device they had and uses up the link.
"""

from base64 import b32encode
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import roles
from .security.inputs import local_redirect_target
from .security.models import EnrolmentLink

EXEMPT_URL_NAMES = ("two-factor", "logout", "login", "admin:logout", "favicon")
PRIVILEGED_GROUPS = (roles.BOARD, roles.STAFF)


def is_privileged(user) -> bool:
    """Whether `user` can change the ledger or decide: a superuser, a board member or plan staff."""
    return user.is_superuser or user.groups.filter(name__in=PRIVILEGED_GROUPS).exists()


def needs_second_factor(user) -> bool:
    return settings.REQUIRE_SECOND_FACTOR and user.is_authenticated and not user.is_verified() and is_privileged(user)


class SecondFactorMiddleware:
    """Send a privileged user without a verified second factor to the two-factor page (after OTPMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if settings.REQUIRE_SECOND_FACTOR and not self._exempt(request) and needs_second_factor(request.user):
            return redirect(f"{reverse('two-factor')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _exempt(request: HttpRequest) -> bool:
        static_prefix = "/" + settings.STATIC_URL.lstrip("/")
        enrol_prefix = reverse("two-factor-enrol", args=["x"])[: -len("x/")]
        return request.path in {reverse(name) for name in EXEMPT_URL_NAMES} or request.path.startswith(
            (static_prefix, enrol_prefix)
        )


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code from your authenticator app",
        min_length=6,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    return local_redirect_target(request, target) or reverse("home")


def two_factor(request: HttpRequest) -> HttpResponse:
    """Check a code from the user's confirmed device; without one, say how to get an enrolment link."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None:
        return render(
            request, "registration/two_factor_no_device.html", {"required": needs_second_factor(request.user)}
        )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            otp_login(request, device)
            messages.success(request, "Second factor verified.")
            return redirect(_next_url(request))
        form.add_error("token", "That code is not valid. Enter the current code from your authenticator app.")
    return render(request, "registration/two_factor.html", {"form": form, "next": _next_url(request)})


def enrol(request: HttpRequest, token: str) -> HttpResponse:
    """Enrol an authenticator app with a one-time link issued for this user."""
    link = EnrolmentLink.objects.for_token(token).select_related("user").first()
    if link is None or link.user_id != request.user.pk:
        raise Http404("This enrolment link does not exist or was issued for another user.")
    if link.state != "open":
        return render(request, "registration/two_factor_link_spent.html", {"link": link}, status=410)
    device, _ = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": "Authenticator app"}
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            with transaction.atomic():
                locked = EnrolmentLink.objects.select_for_update().get(pk=link.pk)
                if locked.state != "open":
                    return render(request, "registration/two_factor_link_spent.html", {"link": locked}, status=410)
                TOTPDevice.objects.filter(user=request.user).exclude(pk=device.pk).delete()
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                locked.used_at = timezone.now()
                locked.save(update_fields=["used_at"])
            otp_login(request, device)
            messages.success(request, "Your authenticator app is set up; it will ask you for a code each session.")
            return redirect("home")
        form.add_error("token", "That code is not valid. Enter the current code from your authenticator app.")
    context = {
        "form": form,
        "link": link,
        "secret": b32encode(device.bin_key).decode(),
        "qr_svg": mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=4)),  # noqa: S308
    }
    return render(request, "registration/two_factor_enrol.html", context)
