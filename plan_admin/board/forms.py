"""Forms of the resolution pages. They check types and the signer's credentials; the services decide the rest."""

from django import forms
from django.contrib.auth import authenticate, get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from .. import roles, services
from ..forms import DateInput, ServiceForm
from ..models import BoardDesignation, NotificationPreference, Plan, PlanProposal, Resolution


class _Choices(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj) -> str:
        if isinstance(obj, BoardDesignation):
            kind = f", {obj.get_kind_display().lower()}" if obj.is_debt_settlement else ""
            return f"{obj.participant} – {obj.year}: {obj.shares:,} shares{kind}"
        if hasattr(obj, "get_full_name"):
            return obj.get_full_name() or obj.get_username()
        return str(obj)


class ResolutionPrepareForm(ServiceForm):
    kind = forms.ChoiceField(
        choices=Resolution.Kind.choices, widget=forms.RadioSelect, initial=Resolution.Kind.WRITTEN_CONSENT
    )
    designations = _Choices(
        queryset=BoardDesignation.objects.none(), required=False, label="Designations to put to the board"
    )
    proposals = _Choices(
        queryset=PlanProposal.objects.none(), required=False, label="Changes to the plan to put to the board"
    )
    meeting_date = forms.DateField(
        widget=DateInput, required=False, label="Date of the meeting", help_text="For a meeting's record only."
    )
    directors_present = _Choices(
        queryset=get_user_model().objects.none(),
        required=False,
        label="Directors present",
        help_text="For a meeting's record only.",
    )
    title = forms.CharField(
        required=False,
        max_length=300,
        help_text="Leave empty for the usual title (written consent, or the meeting's date).",
    )

    def __init__(self, *args, plan: Plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        pending = {"resolution_items__resolution__status": Resolution.Status.PENDING}
        self.fields["designations"].queryset = (
            BoardDesignation.objects.filter(plan=plan, status=BoardDesignation.Status.PROPOSED, votes__isnull=True)
            .exclude(**pending)
            .select_related("participant")
            .order_by("-year", "participant__name")
            .distinct()
        )
        self.fields["proposals"].queryset = (
            PlanProposal.objects.filter(plan=plan, status=PlanProposal.Status.PROPOSED, votes__isnull=True)
            .exclude(**pending)
            .order_by("proposed_at")
            .distinct()
        )
        self.fields["directors_present"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, groups__name=roles.BOARD)
            .order_by("last_name", "first_name", "username")
            .distinct()
        )

    def submit(self, *, by) -> Resolution:
        data = self.cleaned_data
        return services.resolution_prepare(
            plan=self.plan,
            kind=data["kind"],
            designations=list(data["designations"]),
            proposals=list(data["proposals"]),
            meeting_date=data["meeting_date"],
            directors_present=list(data["directors_present"]),
            title=data["title"],
            by=by,
        )


class SignForm(ServiceForm):
    """The signer re-enters the password, and the authenticator code when a device is enrolled."""

    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}), label="Your password", strip=False
    )
    token = forms.CharField(
        required=False,
        max_length=8,
        label="Code from your authenticator app",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    document_sha256 = forms.CharField(widget=forms.HiddenInput, min_length=64, max_length=64)

    def __init__(self, *args, resolution: Resolution, request, client_address: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.resolution, self.request, self.client_address = resolution, request, client_address
        self.user = request.user
        user = self.user
        self.device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if self.device is None:
            del self.fields["token"]

    def clean(self):
        data = super().clean()
        if "password" in data:
            # Through the authentication backends, so that failed attempts count towards the login lockout (axes).
            again = authenticate(self.request, username=self.user.get_username(), password=data["password"])
            if again is None or again.pk != self.user.pk:
                self.add_error("password", "That is not your password: nothing was signed.")
        if self.device is not None:
            token = (data.get("token") or "").strip()
            if not token or not self.device.verify_token(token):
                self.add_error("token", "That code is not valid: enter the current code from your authenticator app.")
        return data

    def submit(self, *, by):
        return services.resolution_sign(
            resolution=self.resolution,
            signer=by,
            document_sha256=self.cleaned_data["document_sha256"],
            client_address=self.client_address,
            second_factor=self.device is not None,
        )


class DeclineForm(ServiceForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, label="Why you decline to sign")

    def __init__(self, *args, resolution: Resolution, client_address: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.resolution, self.client_address = resolution, client_address

    def submit(self, *, by):
        return services.resolution_decline(
            resolution=self.resolution,
            director=by,
            reason=self.cleaned_data["reason"],
            client_address=self.client_address,
        )


class WithdrawForm(ServiceForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=5000, label="Why the resolution is withdrawn"
    )

    def __init__(self, *args, resolution: Resolution, **kwargs):
        super().__init__(*args, **kwargs)
        self.resolution = resolution

    def submit(self, *, by):
        return services.resolution_withdraw(resolution=self.resolution, reason=self.cleaned_data["reason"], by=by)


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["reminders"]
        labels = {"reminders": "Email me reminders about resolutions I have not yet signed"}
