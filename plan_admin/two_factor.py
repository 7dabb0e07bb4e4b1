"""A second factor (TOTP, django-otp) for board members, when BOARD_REQUIRES_SECOND_FACTOR is on.

A board member who has logged in with a password but not yet with a code is sent to /account/two-factor/ for
every page: there they enrol an authenticator app (a QR code and the secret) the first time, and enter a code
every session after.
"""

from base64 import b32encode
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import roles
from .security.inputs import local_redirect_target

EXEMPT_URL_NAMES = ("two-factor", "logout", "login")


def _needs_second_factor(user) -> bool:
    return (
        settings.BOARD_REQUIRES_SECOND_FACTOR
        and user.is_authenticated
        and not user.is_verified()
        and user.groups.filter(name=roles.BOARD).exists()
    )


class BoardSecondFactorMiddleware:
    """Send a board member without a verified second factor to the two-factor page (after OTPMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        exempt = {reverse(name) for name in EXEMPT_URL_NAMES}
        static_prefix = "/" + settings.STATIC_URL.lstrip("/")
        if request.path not in exempt and not request.path.startswith(static_prefix):
            if _needs_second_factor(request.user):
                return redirect(f"{reverse('two-factor')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


class TokenForm(forms.Form):
    token = forms.CharField(label="Code from your authenticator app", min_length=6, max_length=8,
                            widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    return local_redirect_target(request, target) or reverse("home")


def two_factor(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app (first time) or check a code from it (every session)."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device, _ = TOTPDevice.objects.get_or_create(user=request.user, confirmed=False,
                                                     defaults={"name": "Authenticator app"})
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, "Second factor verified.")
            return redirect(_next_url(request))
        form.add_error("token", "That code is not valid. Enter the current code from your authenticator app.")
    context = {"form": form, "enrolling": enrolling, "next": _next_url(request)}
    if enrolling:
        context["secret"] = b32encode(device.bin_key).decode()
        context["qr_svg"] = mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=4))  # noqa: S308
    return render(request, "registration/two_factor.html", context)
